"""keras-tuner's own tuners (random, grid, bayesian, hyperband) running convnas trials.

`TrialRunner` holds what every trial needs (data pipelines, budget, records,
TensorBoard folder); the tuner classes are keras-tuner's, with `run_trial`
replaced by one that, for each candidate:

1. builds it; a candidate that cannot be built is recorded INVALID;
2. counts its cost and measures its latency; over budget, it is SKIPPED;
3. trains it on the tf.data pipelines with keras-tuner's TensorBoard/HParams
   logging; a non-finite loss fails the trial ("non-finite loss"), which
   keras-tuner would otherwise record as COMPLETED when the objective is
   val_accuracy; any other error fails that trial alone, with its reason;
4. evaluates it on the test split when there is one, writes its weights once
   (keras-tuner's per-epoch checkpoint is not used: Hyperband and
   `load_model` read this single file), its record, its HParams metrics, and
   `best_model.keras` when it is the best so far.

A trial is over once its record is written: a search killed between that
and keras-tuner's own save re-runs nothing, it reports the record's result.

Rejected candidates (INVALID, SKIPPED) are reported to keras-tuner as
completed with the worst objective value (`Objective.worst`), so they never
count toward its consecutive-failure limit or abort the search.
`declare_hyperparameters` replaces keras-tuner's discovery of the space by
repeated model builds, so an invalid default never stops the constructor.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import keras
import keras_tuner
import numpy as np
from keras_tuner.src import utils as tuner_utils_io

from convnas.search import cost, distributed, hparams_logging
from convnas.search.budget import Budget
from convnas.search.records import TrialRecords
from convnas.search.rejection import CandidateRejected

TUNERS = ("random", "grid", "bayesian", "hyperband")


def _save_json_atomically(path, obj) -> str:
    """keras-tuner's `utils.save_json`, written to a temporary file and renamed into place.

    keras-tuner rewrites its oracle, tuner and trial files in place; a search
    killed during such a write left an empty oracle.json that the next run
    could not reload. A rename is all or nothing.
    """
    text = json.dumps(obj)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as stream:
        stream.write(text)
    os.replace(temporary, path)
    return text


tuner_utils_io.save_json = _save_json_atomically


class TrialFailed(Exception):
    """A trial trained but failed (non-finite loss); its record is already written."""


@dataclasses.dataclass(frozen=True)
class Objective:
    """What the tuner maximizes or minimizes, and the value a rejected candidate gets."""

    name: str
    direction: str
    worst: float
    cost_weight: float = 0.0

    def keras_tuner(self) -> keras_tuner.Objective:
        return keras_tuner.Objective(self.name, direction=self.direction)

    def score(self, record: dict) -> float | None:
        """The objective value of a completed record."""
        if self.name == "tradeoff_score":
            return record["val_accuracy"] - self.cost_weight * math.log10(max(record["flops"], 1))
        return record.get(self.name)

    def better(self, record: dict, other: dict) -> bool:
        """Whether completed `record` scores strictly better than completed `other`."""
        score, other_score = self.score(record), self.score(other)
        return score > other_score if self.direction == "max" else score < other_score


def make_objective(name: str, cost_weight: float = 0.05) -> Objective:
    """val_accuracy (default), val_loss, or pareto: val_accuracy - cost_weight * log10(FLOPs)."""
    if name == "val_accuracy":
        return Objective("val_accuracy", "max", worst=0.0)
    if name == "val_loss":
        return Objective("val_loss", "min", worst=1e3)
    if name == "pareto":
        # Accuracy 0 at 10^12 FLOPs: below any trained candidate.
        return Objective("tradeoff_score", "max", worst=-12 * cost_weight, cost_weight=cost_weight)
    raise ValueError(f"`objective` must be one of val_accuracy, val_loss, pareto. Received: objective={name!r}")


@dataclasses.dataclass
class TrialRunner:
    """Everything a trial needs besides its hyperparameters."""

    train: object
    validation: object
    test: object | None
    logdir: Path
    budget: Budget
    objective: Objective
    seed: int
    latency_repeats: int = 10
    on_record: Callable[[dict], None] = lambda record: None

    @property
    def tensorboard_dir(self) -> Path:
        return self.logdir / "tensorboard"

    @property
    def records(self) -> TrialRecords:
        return TrialRecords(self.logdir)

    def on_lost(self, trial, reason: str) -> None:
        """Records a trial the chief ended because its worker was lost."""
        record = {"trial_id": trial.trial_id, "status": "FAILED", "reason": reason, **trial.hyperparameters.values}
        self.records.append(record)
        self.on_record(record)


class Heartbeat(keras.callbacks.Callback):
    """Tells the chief, at every epoch end, that this worker is still on its trial."""

    def __init__(self, oracle, trial_id: str):
        super().__init__()
        self.oracle, self.trial_id = oracle, trial_id

    def on_epoch_end(self, epoch, logs=None):
        self.oracle.get_trial(self.trial_id)


class ConvnasTuner:
    """Mixin over a keras-tuner tuner class: convnas trials (see the module docstring)."""

    def __init__(self, *args, runner: TrialRunner, **kwargs):
        self.runner = runner
        super().__init__(*args, **kwargs)

    def _populate_initial_space(self):
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)

    def _try_build(self, hp):
        """keras-tuner's, without its `gc.collect()` (about 0.2 s a trial here, a few % of a small trial)."""
        keras.backend.clear_session()
        return self._build_hypermodel(hp)

    def run_trial(self, trial, *args, **kwargs):
        runner, hp = self.runner, trial.hyperparameters
        recorded = self._recorded(trial)
        if recorded is not None:  # killed after its record, before keras-tuner saved the trial's end
            return self._result(recorded)
        keras.utils.set_random_seed(runner.seed)
        epochs, initial_epoch = kwargs.get("epochs", 1), kwargs.get("initial_epoch", 0)
        if "tuner/epochs" in hp.values:  # Hyperband's schedule (its own run_trial is replaced by this one)
            epochs, initial_epoch = hp.values["tuner/epochs"], hp.values["tuner/initial_epoch"]
        record = {"trial_id": trial.trial_id, "status": None, "reason": "", **hp.values}
        record.update(epochs=epochs - initial_epoch, seed=runner.seed)
        try:
            model = self._try_build(hp)
            counted = cost.count(model)
            record.update(
                params=counted.params, macs=counted.macs, flops=counted.flops, activation_bytes=counted.activation_bytes
            )
            runner.budget.check_cost(counted)
            record["latency_ms"] = cost.latency(model, repeats=runner.latency_repeats)
            runner.budget.check_latency(record["latency_ms"])
        except CandidateRejected as rejection:
            record.update(status=rejection.status, reason=rejection.reason)
            self._finish(record)
            return self._result(record)
        callbacks = self._deepcopy_callbacks(kwargs.get("callbacks", []))
        self._configure_tensorboard_dir(callbacks, trial)
        callbacks.append(keras.callbacks.TerminateOnNaN())
        if distributed.is_worker():
            callbacks.append(Heartbeat(self.oracle, trial.trial_id))
        started = time.perf_counter()
        history = model.fit(
            runner.train,
            validation_data=runner.validation,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            shuffle=False,  # the tf.data pipeline shuffles
            verbose=0,
        )
        record["train_seconds"] = time.perf_counter() - started
        losses = history.history.get("loss", [])
        if not losses or not np.all(np.isfinite(losses)) or not np.isfinite(history.history["val_loss"][-1]):
            record.update(status="FAILED", reason="non-finite loss")
            self._finish(record)
            return self._result(record)
        record.update(val_accuracy=history.history["val_accuracy"][-1], val_loss=history.history["val_loss"][-1])
        if runner.test is not None:
            record["test_accuracy"] = model.evaluate(runner.test, verbose=0, return_dict=True)["accuracy"]
        record["status"] = "COMPLETED"
        self._save_weights(trial.trial_id, model)
        hparams_logging.write_trial_metrics(runner.tensorboard_dir, record)
        self._save_if_best(record, model)
        self._finish(record)
        return self._result(record)

    def _recorded(self, trial) -> dict | None:
        """The final record of this very trial, if one was written (a record is written when its trial ends)."""
        for record in self.runner.records.read():
            if record["trial_id"] != trial.trial_id:
                continue
            final = record["status"] in ("COMPLETED", "INVALID", "SKIPPED") or record.get("reason") == "non-finite loss"
            if final and all(record.get(name) == value for name, value in trial.hyperparameters.values.items()):
                return record
        return None

    def _result(self, record: dict) -> dict:
        """What keras-tuner gets for a finished record: its metrics, the worst score, or TrialFailed."""
        objective = self.runner.objective
        if record["status"] == "FAILED":
            raise TrialFailed(record["reason"])
        if record["status"] != "COMPLETED":
            return {objective.name: objective.worst}
        metrics = {"val_accuracy": record["val_accuracy"], "val_loss": record["val_loss"]}
        if objective.name == "tradeoff_score":
            metrics["tradeoff_score"] = objective.score(record)
        return metrics

    def _try_run_and_update_trial(self, trial, *args, **kwargs):
        """keras-tuner's, without printing a traceback for failed trials; any error fails only its trial."""
        try:
            self._run_and_update_trial(trial, *args, **kwargs)
            trial.status = keras_tuner.engine.trial.TrialStatus.COMPLETED
        except TrialFailed as failure:
            trial.status, trial.message = keras_tuner.engine.trial.TrialStatus.FAILED, str(failure)
        except keras_tuner.errors.FatalError:
            raise
        except Exception as error:  # a candidate that crashes (out of memory, ...) fails alone
            reason = f"error: {type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            trial.status, trial.message = keras_tuner.engine.trial.TrialStatus.FAILED, traceback.format_exc()
            self._finish({"trial_id": trial.trial_id, "status": "FAILED", "reason": reason, **trial.hyperparameters.values})
            print(f"trial {trial.trial_id} failed ({reason}); traceback in {self.get_trial_dir(trial.trial_id)}", file=sys.stderr)

    def _finish(self, record: dict) -> None:
        self.runner.records.append(record)
        self.runner.on_record(record)

    def _save_weights(self, trial_id: str, model: keras.Model) -> None:
        """The trial's one checkpoint, where keras-tuner (Hyperband, load_model) looks for it."""
        os.makedirs(self.get_trial_dir(trial_id), exist_ok=True)
        checkpoint = self._get_checkpoint_fname(trial_id)
        temporary = checkpoint.replace(".weights.h5", f".{os.getpid()}.tmp.weights.h5")
        model.save_weights(temporary)
        os.replace(temporary, checkpoint)  # a kill mid-write never leaves a torn checkpoint
        tuner_utils_io.save_json(self._get_build_config_fname(trial_id), model.get_build_config())

    def _save_if_best(self, record: dict, model: keras.Model) -> None:
        with open(self.runner.logdir / ".best_model.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # workers of a distributed search share LOGDIR
            for earlier in self.runner.records.read():
                if earlier["status"] == "COMPLETED" and earlier["trial_id"] != record["trial_id"]:
                    if not self.runner.objective.better(record, earlier):
                        return
            path = self.runner.logdir / "best_model.keras"
            temporary = path.with_name(f"best_model.{os.getpid()}.tmp.keras")
            model.save(temporary)
            os.replace(temporary, path)


class RandomSearch(ConvnasTuner, keras_tuner.RandomSearch):
    """keras-tuner's RandomSearch running convnas trials."""


class GridSearch(ConvnasTuner, keras_tuner.GridSearch):
    """keras-tuner's GridSearch running convnas trials."""


class BayesianOptimization(ConvnasTuner, keras_tuner.BayesianOptimization):
    """keras-tuner's BayesianOptimization running convnas trials."""


class Hyperband(ConvnasTuner, keras_tuner.Hyperband):
    """keras-tuner's Hyperband running convnas trials (max_epochs = the search's epochs, at most max_trials trials)."""


def make_tuner(
    name: str,
    hypermodel: keras_tuner.HyperModel,
    runner: TrialRunner,
    max_trials: int,
    epochs: int,
    seed: int,
    overwrite: bool,
) -> keras_tuner.Tuner:
    """One of keras-tuner's tuners, with its project in LOGDIR/tuner.

    keras-tuner draws a random seed when given a falsy one (`seed or
    random.randint(...)`), so convnas seed s is passed as s + 1: seed 0 is a
    seed like any other.
    """
    common = dict(
        hypermodel=hypermodel,
        objective=runner.objective.keras_tuner(),
        seed=seed + 1,
        directory=str(runner.logdir),
        project_name="tuner",
        overwrite=overwrite,
        runner=runner,
    )
    if name == "random":
        return RandomSearch(max_trials=max_trials, **common)
    if name == "grid":
        return GridSearch(max_trials=max_trials, **common)
    if name == "bayesian":
        return BayesianOptimization(max_trials=max_trials, **common)
    if name == "hyperband":
        tuner = Hyperband(max_epochs=epochs, factor=3, hyperband_iterations=1, **common)
        tuner.oracle.max_trials = max_trials  # its oracle takes no max_trials argument; the base Oracle honours it
        return tuner
    raise ValueError(f"`tuner` must be one of {', '.join(TUNERS)}. Received: tuner={name!r}")
