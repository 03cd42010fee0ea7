"""Replaying searches on the tabular benchmark: the real oracles, with training replaced by a table lookup.

A replay is one search of `trials` trials over a benchmark's sub-space driven by
the oracle of the tuner a search makes — keras-tuner's random search,
Bayesian optimization and Hyperband with convnas's screened sampling, or
convnas's regularized evolution (Real et al. 2019) — made by
`search.tuners.setup.make_tuner` for the CLI's `--objective pareto`: the
oracle the users run. Only training is replaced: a trial's
validation accuracy is read from the benchmark table (`tabular.Table`)
after the epochs the oracle asked for, with one of the table's training
seeds, drawn once per (repetition, architecture), so that Hyperband
continuing a candidate reads on along the same seed's learning curve.

What the oracle is told, per trial, is what a convnas trial reports:
`tradeoff_score` = val_accuracy - `COST_WEIGHT` * log10(FLOPs) (the
objective), `val_accuracy`, `flops` and `params` (evolution's Pareto
tournaments read the last two). Prescreening (`prescreen` K > 1) is the
sampler's own (`search.tuners.sampler`): each random draw and each evolution
mutant is the best of K candidates by the table's score for `proxy`.

The measure is the hypervolume (`search.records.hypervolume`) of the accuracy/FLOPs
front of the trials trained for the full `tabular.EPOCHS` after each trial,
against `REFERENCE`, fixed in advance: chance accuracy on 10 classes and a
ceiling of 1e8 FLOPs, a round number above the sub-space's most expensive
net (two 64-wide stages of two residual blocks: 20,276,380 FLOPs). Hyperband's
shorter trials are left out of the front, as in a convnas search
(`pareto.completed_records`): their accuracy is that of a model trained less.

`run` replays configurations over repetitions and `summarize` turns the
hypervolume curves into medians and interquartile ranges at checkpoints, and
the trials each configuration's median curve needs to reach a target: by
default random search's (without prescreening) median after all its trials.
`paired` compares each configuration with random search repetition by
repetition (the same seeds), with a signed-rank test.

A replay writes nothing: the oracle's project folder is a temporary folder,
it is told not to write its files (`writes_files`: keras-tuner otherwise
rewrites oracle.json and a trial.json at every step, which would dominate the
replay's time), and its console display is silenced. Grid search is not
replayed: it walks the same grid whatever the seed, so its repetitions would
be one replay.
"""

from __future__ import annotations

import math
import random
import tempfile
import weakref
from collections.abc import Callable, Mapping, Sequence

import keras_tuner
import numpy as np
from scipy import stats

from convnas.blocks import validation
from convnas.search import choices
from convnas.search.benchmark import tabular
from convnas.search.choices import COST_WEIGHT, TRADEOFF
from convnas.search.records.hypervolume import Reference, hypervolume
from convnas.search.space.hypermodel import ConvNetHyperModel
from convnas.search.tuners import sampler, setup

TUNERS = tuple(name for name in choices.TUNERS if name != "grid")  # see the module docstring
REFERENCE = Reference(accuracy=0.1, cost="flops", ceiling=1e8)
OBJECTIVE = "pareto"  # tradeoff_score, maximized
TUNER_ID = "replay"


def make_oracle(name: str, max_trials: int, seed: int, benchmark: tabular.Benchmark) -> keras_tuner.Oracle:
    """The oracle of the tuner `name` that `search.tuners.setup.make_tuner` makes for `--objective pareto`.

    It is the oracle of a search of `max_trials` trials of `tabular.EPOCHS` epochs over
    `benchmark`'s sub-space (declared by `ConvNetHyperModel`: nothing is built), seeded with `seed`:
    the objective is `tradeoff_score` (max); keras-tuner receives `seed` + 1 (it treats a falsy
    seed as none); Hyperband runs `max_epochs` = `tabular.EPOCHS`, factor 3, as many iterations
    as `max_trials` allows, and `max_trials` ends it; evolution has the search's population and
    tournaments (20 and 5 from 80 trials up) and Pareto selection on FLOPs.

    To keep replays fast, the project folder is a fresh temporary folder
    (removed with the oracle), the oracle writes no files (`writes_files`)
    and its console display is off. It has no screen yet (see `screen_for`).

    Args:
        name: one of `TUNERS`.
        max_trials: the trials the search may run.
        seed: the search's seed (a repetition's number).
        benchmark: the tabular benchmark whose sub-space it searches.

    Returns:
        The oracle, ready for `create_trial`.
    """
    validation.one_of("name", name, TUNERS)
    validation.positive_int("max_trials", max_trials)
    validation.non_negative_int("seed", seed)
    folder = tempfile.TemporaryDirectory(prefix="convnas-replay-")
    hypermodel = ConvNetHyperModel(benchmark.input_shape, tabular.NUM_CLASSES, benchmark.subspace)
    oracle = setup.make_tuner(name, max_trials, tabular.EPOCHS, objective=OBJECTIVE, hypermodel=hypermodel, seed=seed,
                              directory=folder.name, project_name=name).oracle
    weakref.finalize(oracle, folder.cleanup)  # the folder lives (and is removed) with the oracle
    oracle.writes_files = False
    oracle.verbose = 0
    return oracle


def costs(table: tabular.Table, values: Mapping) -> dict:
    """The table's FLOPs and parameters of the architecture `values` describe (KeyError outside the sub-space)."""
    row = table.row(values)
    return {"flops": row["flops"], "params": row["params"]}


def screen_for(table: tabular.Table, prescreen: int = 1, proxy: str = "synflow") -> sampler.Screen:
    """The screen a replayed oracle draws through: costs from `table`, and with `prescreen` > 1 the table's
    `proxy` score.

    No candidate of the sub-space is rejected (there is no budget); a value
    outside it raises KeyError, an oracle's bug that a replay must not hide.
    """
    validation.positive_int("prescreen", prescreen)
    validation.one_of("proxy", proxy, tabular.PROXY_COLUMNS)
    score = (lambda values: float(table.row(values)[proxy])) if prescreen > 1 else None
    return sampler.Screen(check=lambda values: costs(table, values), budget="", prescreen=prescreen, proxy=proxy,
                          score=score)


def training_seed(repetition: int, architecture: str) -> int:
    """The table's seed whose learning curve repetition `repetition` reads for `architecture` (drawn once, fixed)."""
    return random.Random(f"{repetition}:{architecture}").choice(tabular.SEEDS)


def replay(
    name: str,
    table: tabular.Table,
    trials: int = 100,
    prescreen: int = 1,
    proxy: str = "synflow",
    repetition: int = 0,
    on_trial: Callable[[dict], None] | None = None,
    epochs_budget: int | None = None,
) -> list[float]:
    """One search of `trials` trials by tuner `name` on `table`; the hypervolume after each trial.

    Args:
        name: one of `TUNERS`.
        table: the benchmark table.
        trials: the search's `max_trials`.
        prescreen: candidates per random draw or mutant; the best by `proxy` is trained (1: none).
        proxy: the table's proxy column that ranks them.
        repetition: the search's seed and the draw of each architecture's training seed.
        on_trial: called after each trial with what it saw: trial_id, values,
            key, epochs, initial_epoch, trained_epochs (epochs - initial_epoch:
            a promoted trial trains on from its parent's weights),
            train_seconds (the table's seconds for those epochs), seed,
            val_accuracy, flops, params, counted (trained for the full epochs)
            and hypervolume.
        epochs_budget: if given, the search ends once its trials have trained
            this many epochs in all (the last one may pass it), whatever
            `trials` says: the oracle may run up to `epochs_budget` trials.

    Returns:
        The hypervolume (against `REFERENCE`) of the front of the full-epoch
        trials after each trial: `trials` values, fewer if the oracle stopped;
        non-decreasing (a recomputation that rounds a few ulps lower keeps
        the earlier value).
    """
    validation.non_negative_int("repetition", repetition)
    if epochs_budget is not None:
        trials = validation.positive_int("epochs_budget", epochs_budget)  # every trial trains an epoch or more
    oracle = make_oracle(name, trials, seed=repetition, benchmark=table.benchmark)
    oracle.screen = screen_for(table, prescreen, proxy)
    points: list[tuple[float, float]] = []
    curve: list[float] = []
    spent = 0
    for _ in range(trials):
        trial = oracle.create_trial(TUNER_ID)
        if trial.status == "STOPPED":
            break
        if trial.status != "RUNNING":  # IDLE: a sequential replay has no trial running
            raise RuntimeError(f"oracle {name!r} answered {trial.status} with no trial running")
        values = trial.hyperparameters.values
        epochs = int(values.get(f"{sampler.HYPERBAND_PREFIX}epochs", tabular.EPOCHS))
        initial_epoch = int(values.get(f"{sampler.HYPERBAND_PREFIX}initial_epoch", 0))
        architecture = tabular.key(values)
        row = table.row(values)
        seed = training_seed(repetition, architecture)
        accuracy = float(row[tabular.epoch_column(seed, epochs)])
        flops, params = float(row["flops"]), float(row["params"])
        oracle.update_trial(trial.trial_id, {TRADEOFF: accuracy - COST_WEIGHT * math.log10(flops),
                                             "val_accuracy": accuracy, "flops": flops, "params": params})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        counted = epochs == tabular.EPOCHS
        before = curve[-1] if curve else 0.0
        if counted:  # a point never lowers the hypervolume: the running maximum only drops float rounding (~1e-16)
            points.append((accuracy, flops))
            curve.append(max(before, hypervolume(points, REFERENCE)))
        else:
            curve.append(before)
        if on_trial:
            on_trial({"trial_id": trial.trial_id, "values": dict(values), "key": architecture, "epochs": epochs,
                      "initial_epoch": initial_epoch, "trained_epochs": epochs - initial_epoch,
                      "train_seconds": table.train_seconds(values, seed, initial_epoch, epochs), "seed": seed,
                      "val_accuracy": accuracy, "flops": flops, "params": params, "counted": counted,
                      "hypervolume": curve[-1]})
        spent += epochs - initial_epoch
        if epochs_budget is not None and spent >= epochs_budget:
            break
    return curve


def padded(curve: Sequence[float], trials: int) -> list[float]:
    """`curve` extended to `trials` values: a search that stopped early keeps its last hypervolume (0 if it ran
    none)."""
    values = list(curve[:trials])
    return values + [values[-1] if values else 0.0] * (trials - len(values))


def median_curve(curves: Sequence[Sequence[float]], trials: int) -> list[float]:
    """The median over repetitions of the hypervolume after each trial (each curve `padded`)."""
    return [float(value) for value in np.median([padded(curve, trials) for curve in curves], axis=0)]


def trials_to_target(curve: Sequence[float], target: float) -> int | None:
    """The first trial count (1-based) at which `curve` reaches `target`; None if it never does."""
    for count, value in enumerate(curve, start=1):
        if value >= target:
            return count
    return None


def _checkpoints(checkpoints: Sequence[int], trials: int) -> tuple[int, ...]:
    for checkpoint in checkpoints:
        validation.positive_int("checkpoints", checkpoint)
        if checkpoint > trials:
            raise ValueError(
                f"`checkpoints` must not exceed trials ({trials}). Received: checkpoints={tuple(checkpoints)!r}"
            )
    return tuple(checkpoints)


def summarize(
    curves: Mapping[tuple[str, int], Sequence[Sequence[float]]],
    trials: int = 100,
    checkpoints: Sequence[int] = (10, 25, 50, 100),
    target: float | None = None,
) -> list[dict]:
    """One row per configuration: the hypervolume's median and IQR at each checkpoint, and the trials to `target`.

    Args:
        curves: (tuner, prescreen) -> one hypervolume curve per repetition.
        trials: the trials of each search (shorter curves are `padded`).
        checkpoints: trial counts to report.
        target: the hypervolume to reach; by default the median of random
            search without prescreening, ("random", 1), after `trials`
            trials (None when that configuration is absent).

    Returns:
        Rows with tuner, prescreen, repetitions, and per checkpoint n:
        `median_n`, `q25_n`, `q75_n` (25th and 75th percentiles, numpy's
        linear interpolation); `target`; `trials_to_target`, the first trial
        count at which the configuration's MEDIAN curve reaches the target
        (None when it does not within `trials`, or there is no target).
    """
    validation.positive_int("trials", trials)
    checkpoints = _checkpoints(checkpoints, trials)
    if target is None and ("random", 1) in curves:
        target = median_curve(curves[("random", 1)], trials)[-1]
    rows = []
    for (name, prescreen), runs in curves.items():
        matrix = np.array([padded(curve, trials) for curve in runs])
        row = {"tuner": name, "prescreen": prescreen, "repetitions": len(runs)}
        for checkpoint in checkpoints:
            column = matrix[:, checkpoint - 1]
            row[f"median_{checkpoint}"] = float(np.median(column))
            row[f"q25_{checkpoint}"], row[f"q75_{checkpoint}"] = (float(v) for v in np.percentile(column, [25, 75]))
        row["target"] = target
        row["trials_to_target"] = None if target is None else trials_to_target(median_curve(runs, trials), target)
        rows.append(row)
    return rows


def paired(
    curves: Mapping[tuple[str, int], Mapping[int, Sequence[float]]],
    baseline: tuple[str, int] = ("random", 1),
    trials: int = 100,
) -> list[dict]:
    """Each configuration against `baseline` after `trials` trials, repetition by repetition.

    Repetition i of every configuration shares the oracle's seed and each
    architecture's training seed, so the replays pair: the differences
    hypervolume(configuration) - hypervolume(baseline) over the repetitions
    both have are tested with the two-sided Wilcoxon signed-rank test
    (scipy.stats.wilcoxon; exact below 50 pairs without tied ranks).
    Differences within 1e-12 — float rounding of equal fronts — are ties:
    counted, and left out of the test as Wilcoxon's own method does.

    Args:
        curves: (tuner, prescreen) -> {repetition: curve}.
        baseline: the configuration compared against; it gets no row.
        trials: where the curves are compared (shorter ones are `padded`).

    Returns:
        One row per other configuration: tuner, prescreen, pairs (the
        repetitions it shares with the baseline), median_difference, wins,
        ties, losses and p (None when every pair ties or none is shared).
    """
    validation.positive_int("trials", trials)
    return paired_values({config: {repetition: padded(curve, trials)[-1] for repetition, curve in runs.items()}
                          for config, runs in curves.items()}, baseline)


def paired_values(
    values: Mapping[tuple[str, int], Mapping[int, float]],
    baseline: tuple[str, int] = ("random", 1),
) -> list[dict]:
    """`paired`'s test on one hypervolume per (configuration, repetition): each configuration against `baseline`
    over the repetitions both have; rows as `paired`'s."""
    if baseline not in values:
        raise ValueError(
            f"`baseline` must be one of the configurations {list(values)}. Received: baseline={baseline!r}"
        )
    reference = values[baseline]
    rows = []
    for (name, prescreen), runs in values.items():
        if (name, prescreen) == baseline:
            continue
        shared = sorted(set(runs) & set(reference))
        differences = np.array([runs[r] - reference[r] for r in shared])
        untied = differences[np.abs(differences) > 1e-12]
        p = float(stats.wilcoxon(untied).pvalue) if len(untied) else None
        rows.append({"tuner": name, "prescreen": prescreen, "pairs": len(shared),
                     "median_difference": float(np.median(differences)) if shared else None,
                     "wins": int(np.sum(untied > 0)), "ties": len(differences) - len(untied),
                     "losses": int(np.sum(untied < 0)), "p": p})
    return rows


def run(
    configs: Sequence[tuple[str, int]],
    table: tabular.Table,
    repetitions: int = 25,
    trials: int = 100,
    checkpoints: Sequence[int] = (10, 25, 50, 100),
    proxy: str = "synflow",
) -> list[dict]:
    """Replays each (tuner, prescreen) configuration `repetitions` times (repetitions 0, 1, ...) and `summarize`s them.

    The target of `trials_to_target` is random search's median without
    prescreening, so `configs` should hold ("random", 1).
    """
    validation.positive_int("repetitions", repetitions)
    checkpoints = _checkpoints(checkpoints, validation.positive_int("trials", trials))
    curves = {
        (name, prescreen): [replay(name, table, trials, prescreen, proxy, repetition)
                            for repetition in range(repetitions)]
        for name, prescreen in configs
    }
    return summarize(curves, trials, checkpoints)
