"""An ablation study over a model of one's own: every variant x seed trained, logged, resumable, tabulated.

    def build(config):
        pool = keras.layers.MaxPooling2D if config["pooling"] == "max" else keras.layers.AveragePooling2D
        return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 16),  # digits are 0..16
                                 keras.layers.Conv2D(config["filters"], 3, activation="relu"), pool(2),
                                 keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])

    study = Study(build=build, base={"filters": 16, "pooling": "max"},
                  variants={"avg_pool": {"pooling": "avg"}, "wide": {"filters": 32}},
                  data="digits", seeds=3, epochs=10, logdir="logs/my_pooling")
    rows = study.run()

A variant's config is the base updated by the variant's substitutions, and
`build(config)` returns its Keras model. The YAML studies of `convnas ablate`
run through this same class (experiments.ablation), so a study written in
Python gets the same LOGDIR:

    study.json          the resolved study (a re-run must match it, seeds aside), with the facts of
                        its runs: the seeds run, a seed plan's outcome (experiments.seed_plan),
                        the command and the software
    runs.jsonl          one record per finished (variant, seed) run: its metrics, costs
                        and per-epoch curves (Keras's History); a classification run also its
                        last epoch's training-mode accuracy and whether its evaluation
                        collapsed (experiments.evaluation)
    tensorboard/        per-epoch scalars of each run under <variant>/seed<k>, and
                        the HParams dashboard (variant, seed; every metric and cost)
    samples/            example outputs of each run (upsampling task), .npz
    table.md/.tex       the compact table (experiments.ablation_table), rebuilt from runs.jsonl
    table.csv           every column of the table, numbers to 10 significant digits
    report.md           the study, its claim, the table, its verdicts and figures
    chart.png           the main metric per variant, mean and 95% CI
    curves.png          per-epoch training loss and accuracy per variant
    samples.png         upsampling task: inputs, outputs and flat-input outputs per variant

Every variant is built and costed before any training, so a variant that
cannot be built stops the study before anything is computed. Every run
trains under the study's protocol (`search.space.training.Protocol`: by
default a linear warmup and a cosine to 0, and BatchNorm statistics
re-estimated with the final weights before the evaluations). Each run seeds
Python, NumPy and TensorFlow with its seed and runs with TensorFlow's op
determinism, so a run's metrics (train time aside) do not depend on what ran
before it: a killed study, re-run, skips its finished runs, redoes the
interrupted one from scratch, and ends with the table an uninterrupted study
gives.

Importing this module loads no TensorFlow: Keras loads with a study's data.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from convnas.blocks import validation
from convnas.experiments import evaluation, seed_plan
from convnas.experiments.ablation_spec import (
    BASELINE,
    DEFAULTS,
    METRICS,
    TASKS,
    check_expect,
    check_seeds,
    check_tested_metric,
    check_variants,
)
from convnas.experiments.ablation_table.report import plan_statement
from convnas.experiments.study_logs import RUNS_FILE, STUDY_FILE, read_runs, read_study, run_name
from convnas.experiments.study_outputs import first_line, write_outputs
from convnas.search.common import backends, durable_io
from convnas.search.common.spec_files import SpecError, refuse_changed
from convnas.search.common.tables import plural, wrap
from convnas.search.records import hparams_logging
from convnas.search.space.training import make_protocol

if TYPE_CHECKING:
    import keras

COSTS = ("params", "macs", "flops")
RUN_FACTS = ("seeds", "planned_seeds", "command", "environment")  # may differ between a study and its resumption


class Study:
    """An ablation study: a base config, named variants of it, and the `build` that makes each one's model.

    Args:
        build: `build(config)` returns the Keras model of a config (a dict).
            A compiled model is trained as it is (it must report a metric
            named `accuracy`); an uncompiled one is compiled with the study's
            defaults (`search.space.training.compile_model`: Adam at
            `learning_rate` on the `schedule`, sparse categorical
            cross-entropy, accuracy, BatchNorm momentum 0.9).
        base: The baseline config, the table's "baseline" row.
        variants: Variant name -> the config entries it replaces, e.g.
            `{"avg_pool": {"pooling": "avg"}}`. Names are words of letters,
            digits, _ . - (not "baseline").
        data: A dataset name as `convnas search --dataset` takes it (digits,
            cluttered_digits, mnist, fashion_mnist, cifar10, cifar100,
            npz:PATH, dir:PATH), a tuple `(x_train, y_train, x_test, y_test)`
            of images (N, H, W, C) and integer labels, or a loaded
            `search.data.datasets.Dataset`. Each run carves its validation set out
            of the training images with its own seed, stratified, as
            `search.data.datasets.load_dataset` carves it; the test set is fixed.
            Images reach the model as the source stores them (digits 0..16,
            8-bit images 0..255, arrays as given): a model rescales them
            itself (`Dataset.scale`), as the study's own designs do.
        seeds: A count N (seeds 0..N-1), a list of distinct seeds, or a seed
            plan (`experiments.seed_plan`): "auto" or a mapping `{"pilot":
            P, "most": M, "effect": E}` (P >= 2, default 5; M from P, default
            10; E optional, in the main metric's units). Every variant runs
            the pilot's seeds 0..P-1; the variants of the claimed comparisons
            then run on to the seeds a side their claims need for 80% power,
            planned from the pilot's spread, at most M; the others keep P.
        epochs: Training epochs of every run.
        logdir: The study's folder (see the module docstring).
        name: The study's name (tables, chart title).
        task: "classification", or "upsampling" (x2 reconstruction, MSE;
            `data` "photos" or a dataset's images).
        metric: The main metric (differences, t-test, bar chart); by default
            test_accuracy (classification) or psnr (upsampling).
        batch_size: Training batch size.
        learning_rate: Adam's learning rate for an uncompiled model (the
            peak of the cosine schedule).
        schedule: The learning-rate schedule of an uncompiled model:
            "cosine" (a linear warmup from 0, then a cosine to 0 at the end
            of the last epoch) or "constant" (`learning_rate` throughout).
        warmup_epochs: Epochs of the cosine schedule's warmup (at most half
            the steps).
        bn_batches: Training batches (at most an epoch's, fixed by the run's
            seed) on which every BatchNorm layer's statistics are
            re-estimated with the final weights before the last epoch's
            validation and the final evaluations ("precise BN", Wu &
            Johnson 2021; `search.space.precise_batch_norm`), compiled
            models included; 0: the moving averages of training, as they are.
        description: What the study compares (the report's first line).
        paper: The paper it reproduces, if any.
        claim: The paper's claim the study checks, if any.
        expect: The claim per variant, which the table's verdicts test:
            variant -> "higher", "lower" or "same" (its main metric against
            the baseline's), or {"direction": ..., "margin": ..., "versus":
            another variant}, directions "no_worse" too, a margin in the
            metric's units (`experiments.ablation_spec.check_expect`).
            Variants left out are compared with the baseline without a
            verdict.
        limits: One sentence on what the study's settings cannot show.

    Attributes:
        task: The task (`experiments.tasks`): the loaded data, the compile
            defaults, the training and the metrics of one run.

    Raises:
        ValueError: On a bad argument, naming it and the value received
            (`search.data.datasets.DatasetError` for data that cannot be loaded).
    """

    def __init__(
        self,
        *,
        build: Callable[[dict], keras.Model],
        base: dict,
        variants: dict[str, dict],
        data,
        seeds: int | list[int] | str | dict,
        epochs: int,
        logdir: str | os.PathLike,
        name: str = "study",
        task: str = "classification",
        metric: str | None = None,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        schedule: str = "cosine",
        warmup_epochs: int = 1,
        bn_batches: int = 100,
        description: str = "",
        paper: str = "",
        claim: str = "",
        expect: dict | None = None,
        limits: str = "",
    ):
        if not callable(build):
            raise ValueError(f"`build` must be a function build(config) -> keras.Model. Received: build={build!r}")
        if not isinstance(base, Mapping):
            raise ValueError(f"`base` must be a dict (the baseline config). Received: base={base!r}")
        self.build, self.base, self.variants = build, dict(base), check_variants(variants)
        seeds = check_seeds(seeds)
        self.seed_plan = seeds if isinstance(seeds, dict) else None  # the settings, `seed_plan.check_plan`
        self.seeds = tuple(range(self.seed_plan["pilot"])) if self.seed_plan else seeds  # a plan: the pilot's
        self.epochs = validation.positive_int("epochs", epochs)
        self.batch_size = validation.positive_int("batch_size", batch_size)
        self.learning_rate = validation.positive_number("learning_rate", learning_rate)
        self.protocol = make_protocol(schedule, warmup_epochs, bn_batches)
        task = validation.one_of("task", task, TASKS)
        self.metric = validation.one_of("metric", DEFAULTS[task]["metric"] if metric is None else metric, METRICS[task])
        texts = (("name", name), ("description", description), ("paper", paper), ("claim", claim), ("limits", limits))
        for field, text in texts:
            if not isinstance(text, str):
                raise ValueError(f"`{field}` must be text. Received: {field}={text!r}")
        self.name, self.description, self.paper, self.claim, self.limits = name, description, paper, claim, limits
        self.expect = check_expect(expect or {}, self.variants)
        check_tested_metric(self.metric, self.expect)
        self.logdir = Path(logdir)
        from convnas.experiments import tasks  # Keras and TensorFlow load with the data

        if isinstance(data, str):
            try:
                data = tasks.load_data(task, data)
            except ValueError as error:
                raise type(error)(f"`data` could not be loaded: {error}") from None
        self.task = tasks.make_task(task, data, self.batch_size, self.learning_rate, self.protocol)

    def variant_names(self) -> list[str]:
        """"baseline", then the variants, in the table's order."""
        return [BASELINE, *self.variants]

    def config(self, variant: str) -> dict:
        """The config `build` receives for `variant`: the base, updated by the variant's substitutions."""
        return dict(self.base) if variant == BASELINE else {**self.base, **self.variants[variant]}

    def receptive_field(self, config: dict) -> int | None:
        """The receptive field of a config's model, a table column where known; None: unknown for one's own model."""
        return None

    def as_dict(self) -> dict:
        """The resolved study, as study.json records it (`build` by its qualified name, data by its name)."""
        return {
            "name": self.name, "description": self.description, "paper": self.paper, "claim": self.claim,
            "expect": self.expect, "limits": self.limits,
            "task": self.task.name, "dataset": self.task.data.name, "build": _qualified_name(self.build),
            "epochs": self.epochs, "batch_size": self.batch_size, "seeds": list(self.seeds),
            "learning_rate": self.learning_rate, "schedule": self.protocol.schedule,
            "warmup_epochs": self.protocol.warmup_epochs, "bn_batches": self.protocol.bn_batches,
            "metric": self.metric, "base": self.base, "variants": self.variants, **self.seed_fields(),
        }

    def seed_fields(self) -> dict:
        """The seeds as the resolved study records them: `seeds` (a plan's: the pilot's), and a plan's `seed_plan`."""
        return {"seeds": list(self.seeds), **({"seed_plan": dict(self.seed_plan)} if self.seed_plan else {})}

    def costs(self) -> dict[str, dict]:
        """Params, MACs, FLOPs and receptive field of every variant; SpecError naming a variant that cannot be built."""
        import keras

        from convnas.search import cost

        costs = {}
        for variant in self.variant_names():
            keras.backend.clear_session()
            try:
                counted = cost.count(self._model(variant))
            except Exception as error:  # whatever a user's build raises: one error that names the variant
                raise SpecError(f"variant {variant!r} cannot be built: {first_line(error)}") from error
            costs[variant] = {"params": counted.params, "macs": counted.macs, "flops": counted.flops,
                              "receptive_field": self.receptive_field(self.config(variant))}
        return costs

    def run(
        self, overwrite: bool = False, write: Callable[[str], None] = print, command: str | None = None
    ) -> list[dict]:
        """Runs (or resumes) every variant x seed in `logdir`; writes the outputs and returns the table rows.

        With a seed plan, every variant runs the pilot's seeds; then the
        variants of the claimed comparisons run on to the count planned from
        the pilot's runs (`experiments.seed_plan`), which study.json records.

        Args:
            overwrite: Start afresh, deleting what `logdir` holds, instead of
                resuming; a resumed study must be the same study (seeds
                aside, but not a seed plan's settings), else SpecError.
            write: Where progress lines and the table go.
            command: How the study was launched, kept in study.json for its
                report; by default this process's command line.

        Returns:
            The table rows (`experiments.ablation_table.build_table`).
        """
        costs = self.costs()  # before anything is written: a variant that cannot be built writes nothing
        if overwrite and self.logdir.exists():
            shutil.rmtree(self.logdir)
        command = shlex.join(["python", *sys.argv]) if command is None else command
        self._write_study(command)
        tensorboard = self.logdir / "tensorboard"
        if not tensorboard.exists():
            self._write_experiment(tensorboard, with_field=costs[BASELINE]["receptive_field"] is not None)
        backends.enable_determinism()
        plan = [(variant, seed) for variant in self.variant_names() for seed in self.seeds]
        then = "" if self.seed_plan is None else (
            f" (a pilot: then up to {self.seed_plan['most']} seeds for the claimed comparisons' variants)")
        seeds = plural(len(self.seeds), "pilot seed" if self.seed_plan else "seed")
        self._train(plan, costs, write, f"ablation {self.name}: {plural(len(self.variant_names()), 'variant')} x "
                    f"{seeds} = {plural(len(plan), 'run')} of {plural(self.epochs, 'epoch')} on "
                    f"{self.task.describe()}{then}")
        if self.seed_plan is not None:
            planned = self.plan_seeds()
            write(wrap(f"seed plan: {plan_statement(planned, done=False)}"))
            self._write_study(command, planned)
            more = [(variant, seed) for variant in planned["variants"] for seed in range(len(self.seeds),
                                                                                         planned["planned"])]
            if more:
                extra = plural(planned["planned"] - len(self.seeds), "more seed")
                self._train(more, costs, write, f"ablation {self.name}: {plural(len(planned['variants']), 'variant')}"
                            f" x {extra} = {plural(len(more), 'run')}")
        return write_outputs(self.logdir, write)

    def plan_seeds(self) -> dict:
        """The seed plan's outcome from the pilot runs in `logdir` (`experiments.seed_plan.plan_seeds`)."""
        values = seed_plan.pilot_values(read_runs(self.logdir), self.variant_names(), len(self.seeds), self.metric)
        return seed_plan.plan_seeds(self.seed_plan, self.expect, self.metric, values)

    def _train(self, plan: list[tuple[str, int]], costs: dict, write: Callable[[str], None], what: str) -> None:
        """Trains the runs of `plan` not yet in runs.jsonl, after a line saying `what` they are."""
        done = {run_name(r["variant"], r["seed"]) for r in read_runs(self.logdir)}
        todo = [(variant, seed) for variant, seed in plan if run_name(variant, seed) not in done]
        write(wrap(f"{what}; {len(plan) - len(todo)} already done; logging to {self.logdir}"))
        started = time.perf_counter()
        for index, (variant, seed) in enumerate(todo):
            record = self._run(variant, seed, costs[variant])
            elapsed = time.perf_counter() - started
            eta = elapsed / (index + 1) * (len(todo) - index - 1)
            write(wrap(f"run {len(plan) - len(todo) + index + 1}/{len(plan)} {variant} seed {seed}: "
                       f"{self.metric} {record[self.metric]:.4f} ({record['train_seconds']:.1f}s) | ETA {eta:.0f}s",
                       indent="    "))
            if record.get("collapsed"):
                write(wrap(collapse_warning(record)))

    def _model(self, variant: str) -> keras.Model:
        """The model of `variant`, checked by the task (which compiles it when it trains if `build` did not)."""
        import keras

        model = self.build(self.config(variant))
        if not isinstance(model, keras.Model):
            raise TypeError(f"`build` must return a keras.Model. Received: {type(model).__name__}")
        self.task.prepare(model)
        return model

    def _write_study(self, command: str, planned: dict | None = None) -> None:
        """Writes study.json; SpecError if `logdir` holds a different study (seeds aside).

        `planned`: a seed plan's outcome, recorded as `planned_seeds` with
        its seeds; without one, an earlier outcome is kept.
        """
        path = self.logdir / STUDY_FILE
        study = {k: v for k, v in self.as_dict().items() if k not in RUN_FACTS}
        resolved = json.loads(json.dumps(study, default=_qualified_name))
        seeds = list(self.seeds) if planned is None else list(range(planned["planned"]))
        if path.exists():
            earlier = read_study(self.logdir)
            refuse_changed(self.logdir, "study", {k: v for k, v in earlier.items() if k not in RUN_FACTS}, resolved)
            seeds = sorted({*earlier.get("seeds", []), *seeds})
            planned = earlier.get("planned_seeds") if planned is None else planned
        self.logdir.mkdir(parents=True, exist_ok=True)
        facts = {"seeds": seeds, **({"planned_seeds": planned} if planned else {}), "command": command,
                 "environment": environment()}
        durable_io.write_json(path, {**resolved, **facts}, indent=2)

    def _write_experiment(self, root: Path, with_field: bool) -> None:
        from tensorboard.plugins.hparams import api as hparams_api

        variant = hparams_api.HParam("variant", hparams_api.Discrete(self.variant_names()))
        hparams = [variant, hparams_api.HParam("seed")]
        metrics = [(m, m.replace("_", " ")) for m in METRICS[self.task.name]] + [(c, c) for c in COSTS]
        if with_field:
            metrics.append(("receptive_field", "receptive field"))
        hparams_logging.write_config(root, hparams, metrics)

    def _run(self, variant: str, seed: int, costs: dict) -> dict:
        """Trains one (variant, seed) run from scratch; logs it and appends its record to runs.jsonl."""
        import keras

        folder = self.logdir / "tensorboard" / variant / f"seed{seed}"
        shutil.rmtree(folder, ignore_errors=True)  # what an interrupted attempt left
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = self._model(variant)
        callback = keras.callbacks.TensorBoard(str(folder), write_graph=False, profile_batch=0)
        metrics, samples = self.task.train(model, seed, self.epochs, [callback])
        curves = {key: [float(value) for value in values] for key, values in model.history.history.items()}
        record = {"run": run_name(variant, seed), "variant": variant, "seed": seed, "status": "COMPLETED", **costs,
                  **{key: float(value) for key, value in metrics.items()}, "epochs": self.epochs, "curves": curves}
        if "train_accuracy" in metrics:  # classification: is its evaluation to be trusted?
            record.update(train_accuracy_training_mode=evaluation.training_mode_accuracy(record),
                          collapsed=evaluation.collapsed(record))
        if samples:
            (self.logdir / "samples").mkdir(exist_ok=True)
            np.savez_compressed(self.logdir / "samples" / f"{variant}-seed{seed}.npz", **samples)
        _write_session(folder, record, [*METRICS[self.task.name], *COSTS, "receptive_field"], samples)
        durable_io.append_json_line(self.logdir / RUNS_FILE, record)
        return record


def collapse_warning(record: dict) -> str:
    """The one line a study prints for a run whose evaluation collapsed (`experiments.evaluation.collapsed`)."""
    return (f"warning: run {record['run']} collapsed: its training accuracy is {100 * record['train_accuracy']:.1f}% "
            f"in inference mode after training, {100 * record['train_accuracy_training_mode']:.1f}% in training "
            "mode in its last epoch; its numbers say nothing about its variant")


def _qualified_name(value) -> str:
    """module.qualname of a function or class (what study.json keeps of `build`), else its repr."""
    if hasattr(value, "__module__") and hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def environment() -> dict:
    """Software versions and machine, as the report shows them."""
    import platform

    return {**backends.versions(), "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"}


def _write_session(folder: Path, record: dict, tags, samples: dict) -> None:
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams_api

    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        hparams_api.hparams({"variant": record["variant"], "seed": record["seed"]}, trial_id=record["run"])
        for name, images in samples.items():
            tf.summary.image(f"samples/{name}", images, step=0, max_outputs=len(images))
    writer.close()
    hparams_logging.write_scalars(folder, record, tags)
