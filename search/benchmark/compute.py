"""Tuners judged by compute: the hypervolume against cumulative training epochs or seconds, and the regret.

A replay (`search.benchmark.replay.replay`) reports, per trial, the
hypervolume after it and what the trial cost: the epochs it trained (a
Hyperband or ASHA promotion trains only the epochs past its parent's) and the
table's training seconds for them. A `Run` keeps the three lists of one
replay and the `optimum` it could reach.

The optimum is known exactly: a replay reads each architecture's accuracy
from one training seed drawn per (repetition, architecture)
(`replay.training_seed`), so the best front any search of that repetition
can find is the front of every architecture of the table with those seeds;
its hypervolume against the same reference is `optimum`. The regret of a
search at a budget is 1 - hypervolume / optimum (0: the whole front found).

At a compute budget B (epochs or seconds), a search's hypervolume is the one
after its last trial whose cumulative cost is at most B (0 before its first
trial ends): the step function of `at_budget`. The cost to reach a fraction
q of the optimum is the cumulative cost of the first trial at which the
hypervolume reaches q x optimum (`first_reaching`; None if it never does
within the replay). `summarize` gives, per configuration, the median and
interquartile range of the hypervolume and of the regret at each budget and
the median cost to reach 95% and 99% of the optimum (None counted as
unreached: the median is None when half the repetitions or more never
reach it); `paired` tests each configuration against random search at one
budget, repetition by repetition (`replay.paired_values`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from convnas.search.benchmark import replay, tabular
from convnas.search.records.hypervolume import hypervolume

AXES = ("epochs", "seconds")
FRACTIONS = (0.95, 0.99)


@dataclasses.dataclass(frozen=True)
class Run:
    """One replay: the hypervolume after each trial, each trial's epochs and seconds, and the optimum it could
    reach."""

    hypervolume: Sequence[float]
    epochs: Sequence[float]
    seconds: Sequence[float]
    optimum: float

    def costs(self, axis: str) -> Sequence[float]:
        """Each trial's cost in `axis`, "epochs" or "seconds"."""
        if axis not in AXES:
            raise ValueError(f"`axis` must be one of {', '.join(AXES)}. Received: axis={axis!r}")
        return self.epochs if axis == "epochs" else self.seconds


def final_points(table: tabular.Table, repetition: int) -> dict[str, tuple[float, float]]:
    """Architecture key -> (validation accuracy after the full epochs, FLOPs), each read with the training seed
    repetition `repetition` draws for it: what a trial of that repetition reports."""
    points = {}
    for key, row in table.rows.items():
        seed = replay.training_seed(repetition, key)
        points[key] = (float(row[tabular.epoch_column(seed, tabular.EPOCHS)]), float(row["flops"]))
    return points


def optimum(table: tabular.Table, repetition: int) -> float:
    """The hypervolume (against `replay.REFERENCE`) of the front of every architecture's `final_points`."""
    return hypervolume(list(final_points(table, repetition).values()), replay.REFERENCE)


def at_budget(curve: Sequence[float], costs: Sequence[float], budget: float) -> float:
    """The hypervolume after the last trial whose cumulative cost is at most `budget` (0 before the first)."""
    spent, reached = 0.0, 0.0
    for value, cost in zip(curve, costs):
        spent += cost
        if spent > budget:
            break
        reached = value
    return reached


def first_reaching(curve: Sequence[float], costs: Sequence[float], target: float) -> float | None:
    """The cumulative cost at the first trial whose hypervolume reaches `target`; None if none does."""
    spent = 0.0
    for value, cost in zip(curve, costs):
        spent += cost
        if value >= target:
            return spent
    return None


def _median_reached(values: Sequence[float | None]) -> float | None:
    """The median of costs to reach a target, an unreached one (None) counting as larger than any."""
    ordered = sorted(np.inf if value is None else value for value in values)
    middle = float(np.median(ordered))
    return None if np.isinf(middle) else middle


def summarize(runs: Mapping[tuple[str, int], Sequence[Run]], budgets: Sequence[float], axis: str,
              fractions: Sequence[float] = FRACTIONS) -> list[dict]:
    """One row per configuration: repetitions; per budget b the hypervolume's `median_b`, `q25_b`, `q75_b` and
    the regret's `regret_b` (median) and `regret_q25_b`, `regret_q75_b`; per fraction q of the optimum
    `reach_q`, the median cost to reach it (None: unreached by half the repetitions or more)."""
    rows = []
    for (name, prescreen), replays in runs.items():
        row = {"tuner": name, "prescreen": prescreen, "repetitions": len(replays)}
        for budget in budgets:
            reached = np.array([at_budget(r.hypervolume, r.costs(axis), budget) for r in replays])
            regret = np.array([1 - value / r.optimum for value, r in zip(reached, replays)])
            row[f"median_{budget:g}"] = float(np.median(reached))
            row[f"q25_{budget:g}"], row[f"q75_{budget:g}"] = (float(v) for v in np.percentile(reached, [25, 75]))
            row[f"regret_{budget:g}"] = float(np.median(regret))
            row[f"regret_q25_{budget:g}"], row[f"regret_q75_{budget:g}"] = (
                float(v) for v in np.percentile(regret, [25, 75]))
        for fraction in fractions:
            row[f"reach_{fraction:g}"] = _median_reached(
                [first_reaching(r.hypervolume, r.costs(axis), fraction * r.optimum) for r in replays])
        rows.append(row)
    return rows


def paired(runs: Mapping[tuple[str, int], Mapping[int, Run]], budget: float, axis: str,
           baseline: tuple[str, int] = ("random", 1)) -> list[dict]:
    """Each configuration against `baseline` at the same `budget` of `axis`, repetition by repetition: the
    Wilcoxon signed-rank test of `replay.paired_values` on the hypervolumes `at_budget`."""
    return replay.paired_values({config: {repetition: at_budget(run.hypervolume, run.costs(axis), budget)
                                          for repetition, run in replays.items()}
                                 for config, replays in runs.items()}, baseline)
