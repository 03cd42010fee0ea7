"""keras-tuner's tuners running convnas trials: a drop-in for `keras_tuner.RandomSearch` and the others.

`RandomSearch`, `GridSearch`, `BayesianOptimization` and `Hyperband` take
keras-tuner's constructor arguments (`hypermodel` — a `HyperModel` or a
`build_model(hp)` returning a compiled model —, `objective`, `max_trials`,
`executions_per_trial`, `directory`, `project_name`, `overwrite`, `seed`,
...) and `search(x, y, validation_data=..., epochs=..., callbacks=...)`
behaves like keras-tuner's, with numpy arrays or tf.data datasets. They also
take cost budgets (`max_flops`, `max_params`, `max_latency_ms`), and
`search` takes `test_data` (arrays `(x, y)` or a dataset) to evaluate every
trained trial on. Every trial:

1. is built; a candidate that cannot be built (`InvalidCandidate`, raised by
   convnas's own search space) is recorded INVALID;
2. is costed (params, MACs, FLOPs, activation memory) and timed; over a
   budget, it is SKIPPED, never trained;
3. is trained through `HyperModel.fit` (`executions_per_trial` times, the
   metrics averaged) with keras-tuner's TensorBoard/HParams logging; a
   non-finite loss fails it ("non-finite loss"), which keras-tuner alone
   would record as COMPLETED; any other error fails that trial alone;
4. is evaluated on `test_data`, and writes its weights once (keras-tuner's
   checkpoint, which `get_best_models` and Hyperband read), its record
   (`trials.csv`/`.jsonl` in `directory/project_name`), its cost and
   accuracy as HParams metrics, and `best_model.keras` when it is the best.

After a search, `pareto.csv` and `pareto.png` hold the accuracy/cost fronts.
A trial's metrics are those of its last epoch (keras-tuner keeps the best
epoch's), so the recorded score is the score of the model that was saved.

Rejected candidates (INVALID, SKIPPED) are reported to keras-tuner with the
objective's worst value, so they never count toward its consecutive-failure
limit; failed ones raise keras-tuner's `FailedTrialError`. A trial is over
once its record is written: a search killed between that and keras-tuner's
own save reports the record's result instead of training again. keras-tuner's
oracle, trial and tuner files are written atomically by these tuners only
(a kill mid-write never leaves a torn oracle.json), through keras-tuner's own
file-system layer, so `gs://` directories keep working.

keras-tuner treats a falsy seed as none (`seed or random.randint(...)`):
these tuners pass seed s to keras-tuner as s + 1, so seed 0 is a seed like
any other, and seed every trial's Keras initialization with s.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import keras
import keras_tuner
import numpy as np

from convnas.search import cost, distributed, durable_io, hparams_logging, pareto, private_api
from convnas.search.budget import Budget
from convnas.search.records import TrialRecords
from convnas.search.rejection import CandidateRejected

NON_FINITE = "non-finite loss"
TRADEOFF = "tradeoff_score"  # val_accuracy - cost_weight * log10(FLOPs): the CLI's `--objective pareto`
BOUNDED_METRICS = ("accuracy", "auc", "precision", "recall")  # scores in [0, 1]


def worst_value(objective: keras_tuner.Objective, cost_weight: float = 0.0) -> float:
    """The value a rejected candidate reports for `objective`: no trained candidate scores worse."""
    if objective.name == TRADEOFF:
        return -12 * cost_weight  # accuracy 0 at 10^12 FLOPs
    if objective.name.endswith(BOUNDED_METRICS):
        return 0.0 if objective.direction == "max" else 1.0
    return -1e3 if objective.direction == "max" else 1e3


def objectives(tuner_objective) -> list[keras_tuner.Objective]:
    """The single objectives of a keras-tuner objective (one, or a MultiObjective's list)."""
    return list(getattr(tuner_objective, "objectives", [tuner_objective]))


def _input_shape(fit_args: tuple, fit_kwargs: dict) -> tuple:
    """The batched input shape of the training data `search` was given (arrays or a tf.data dataset)."""
    data = fit_args[0] if fit_args else fit_kwargs.get("x")
    if hasattr(data, "element_spec"):
        spec = data.element_spec
        spec = spec[0] if isinstance(spec, tuple) else spec
        return (None, *spec.shape[1:])
    if hasattr(data, "shape"):
        return (None, *data.shape[1:])
    raise ValueError(f"the model is not built and its input shape cannot be read from the training data. Received: {type(data).__name__}")


class Heartbeat(keras.callbacks.Callback):
    """Tells the chief, at every epoch end, that this worker is still on its trial."""

    def __init__(self, oracle, trial_id: str):
        super().__init__()
        self.oracle, self.trial_id = oracle, trial_id

    def on_epoch_end(self, epoch, logs=None):
        self.oracle.get_trial(self.trial_id)


class _AtomicWrites:
    """Oracle mixin: the oracle and trial files written to a temporary file and renamed into place."""

    def save(self):
        durable_io.write_json(self._get_oracle_fname(), self.get_state())

    def _save_trial(self, trial):
        durable_io.write_json(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"), trial.get_state())


_ATOMIC_ORACLES: dict[type, type] = {}


def _with_atomic_writes(oracle: keras_tuner.Oracle) -> None:
    """Gives this one oracle (not its class, not keras-tuner) atomic writes."""
    cls = type(oracle)
    if cls not in _ATOMIC_ORACLES:
        _ATOMIC_ORACLES[cls] = type(cls.__name__, (_AtomicWrites, cls), {"__module__": cls.__module__})
    oracle.__class__ = _ATOMIC_ORACLES[cls]


class _Options:
    """The convnas arguments of a tuner, taken before keras-tuner sees the rest.

    Args:
        seed: seeds the oracle's sampling (passed as seed + 1, see the
            module docstring) and every trial's Keras initialization.
        max_flops, max_params, max_latency_ms: cost budgets; a candidate over
            one is recorded SKIPPED and never trained.
        cost_weight: accuracy traded per decade of FLOPs by the objective
            "tradeoff_score".
        on_record: called with each trial's record as the trial ends.
        latency_repeats: timed batch-1 predictions per candidate (median).
    """

    def __init__(
        self,
        *args,
        seed: int | None = None,
        max_flops: float | None = None,
        max_params: float | None = None,
        max_latency_ms: float | None = None,
        cost_weight: float = 0.05,
        on_record: Callable[[dict], None] | None = None,
        latency_repeats: int = 10,
        **kwargs,
    ):
        private_api.require()
        self.budget = Budget(max_flops, max_params, max_latency_ms)
        self.trial_seed, self.cost_weight = seed, cost_weight
        self.on_record = on_record or (lambda record: None)
        self.latency_repeats = latency_repeats
        self.test_data = None
        super().__init__(*args, seed=None if seed is None else seed + 1, **kwargs)


class ConvnasTrials(keras_tuner.Tuner):
    """Tuner mixin, below keras-tuner's tuner class: convnas trials (see the module docstring)."""

    def __init__(self, oracle, hypermodel=None, **kwargs):
        _with_atomic_writes(oracle)
        super().__init__(oracle, hypermodel, **kwargs)

    # keras-tuner's hooks -------------------------------------------------------------------

    def _populate_initial_space(self):
        """A hypermodel that declares every branch at once (convnas's space) is never built here."""
        if getattr(self.hypermodel, "declares_every_branch", False):
            hp = self.oracle.get_space()
            self.hypermodel.declare_hyperparameters(hp)
            self.oracle.update_space(hp)
            return
        super()._populate_initial_space()

    def save(self):
        if not self._is_worker():
            self.oracle.save()
        durable_io.write_json(self._get_tuner_fname(), self.get_state())

    def search(self, *fit_args, test_data=None, **fit_kwargs):
        """keras-tuner's `search`; `test_data` ((x, y) or a dataset) is evaluated after each trial.

        Without a `keras.callbacks.TensorBoard` among the callbacks, one is
        added at `directory/project_name/tensorboard`.
        """
        self.test_data = test_data
        callbacks = list(fit_kwargs.pop("callbacks", None) or [])
        if not any(isinstance(callback, keras.callbacks.TensorBoard) for callback in callbacks):
            callbacks.append(keras.callbacks.TensorBoard(self.tensorboard_dir, write_graph=False, profile_batch=0))
        self.tensorboard_dir = next(c for c in callbacks if isinstance(c, keras.callbacks.TensorBoard)).log_dir
        self.write_hparams_config()
        super().search(*fit_args, callbacks=callbacks, **fit_kwargs)
        if not distributed.is_worker():
            self.write_fronts()

    def write_hparams_config(self) -> None:
        """The HParams experiment (every hyperparameter; metrics and cost columns), once per TensorBoard folder."""
        if not os.path.exists(self.tensorboard_dir):
            metrics = [o.name for o in objectives(self.oracle.objective)]
            hparams_logging.write_experiment(self.tensorboard_dir, self.oracle.get_space(), metrics)

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        hp = trial.hyperparameters
        recorded = self._recorded(trial)
        if recorded is not None:  # killed after its record, before keras-tuner saved the trial's end
            return self._result(recorded)
        epochs = fit_kwargs.get("epochs", 1) - fit_kwargs.get("initial_epoch", 0)
        record = {"trial_id": trial.trial_id, "status": None, "reason": "", **hp.values, "epochs": epochs, "seed": self.trial_seed}
        try:
            return self._train(trial, record, *fit_args, **fit_kwargs)
        except (keras_tuner.errors.FatalError, keras_tuner.errors.FailedTrialError):
            raise
        except Exception as error:  # a candidate that crashes (out of memory, ...) fails alone
            message = str(error).strip().splitlines()[0] if str(error).strip() else ""
            record.update(status="FAILED", reason=f"error: {type(error).__name__}: {message}")
            self._finish(record)
            raise keras_tuner.errors.FailedTrialError(record["reason"]) from error

    # One trial ------------------------------------------------------------------------------

    def _train(self, trial, record: dict, *fit_args, **fit_kwargs) -> dict:
        hp = trial.hyperparameters
        callbacks = fit_kwargs.pop("callbacks", [])
        finals, tests, seconds = [], [], 0.0
        for execution in range(self.executions_per_trial):
            if self.trial_seed is not None:
                keras.utils.set_random_seed(self.trial_seed + execution)
            try:
                model = self._try_build(hp)
                if not model.built:  # e.g. a Sequential without an Input: built for the data's shape
                    model.build(_input_shape(fit_args, fit_kwargs))
                if execution == 0:
                    self._check_cost(model, record)
            except CandidateRejected as rejection:
                record.update(status=rejection.status, reason=rejection.reason)
                self._finish(record)
                return self._result(record)
            run_callbacks = self._deepcopy_callbacks(callbacks)
            self._configure_tensorboard_dir(run_callbacks, trial, execution)
            run_callbacks.append(keras.callbacks.TerminateOnNaN())
            if distributed.is_worker():
                run_callbacks.append(Heartbeat(self.oracle, trial.trial_id))
            started = time.perf_counter()
            history = self.hypermodel.fit(hp, model, *fit_args, callbacks=run_callbacks, **fit_kwargs)
            seconds += time.perf_counter() - started
            logs = self._epoch_logs(history)
            if not logs or any(not np.all(np.isfinite(values)) for name, values in logs.items() if name.endswith("loss")):
                record.update(status="FAILED", reason=NON_FINITE, train_seconds=seconds)
                self._finish(record)
                return self._result(record)
            finals.append({name: float(values[-1]) for name, values in logs.items()})
            if self.test_data is not None:
                tests.append(self._evaluate(model, fit_kwargs.get("batch_size")))
        for name in finals[0]:
            record[name] = float(np.mean([final[name] for final in finals]))
        for name in tests[0] if tests else ():
            record[f"test_{name}"] = float(np.mean([test[name] for test in tests]))
        if any(o.name == TRADEOFF for o in objectives(self.oracle.objective)):
            record[TRADEOFF] = record["val_accuracy"] - self.cost_weight * math.log10(max(record["flops"], 1))
        record.update(status="COMPLETED", train_seconds=seconds, executions=self.executions_per_trial)
        self._save_weights(trial.trial_id, model)
        hparams_logging.write_trial_metrics(self.tensorboard_dir, record, [o.name for o in objectives(self.oracle.objective)])
        self._save_if_best(record, model)
        self._finish(record)
        return self._result(record)

    def _check_cost(self, model: keras.Model, record: dict) -> None:
        counted = cost.count(model)
        record.update(params=counted.params, macs=counted.macs, flops=counted.flops, activation_bytes=counted.activation_bytes)
        self.budget.check_cost(counted)
        record["latency_ms"] = cost.latency(model, repeats=self.latency_repeats)
        self.budget.check_latency(record["latency_ms"])

    def _epoch_logs(self, history) -> dict[str, list[float]]:
        """Per-epoch metrics of what `HyperModel.fit` returned: a History, a dict of final values, or a number."""
        if isinstance(history, keras.callbacks.History):
            return {name: list(values) for name, values in history.history.items()}
        if isinstance(history, dict):
            return {name: [value] for name, value in history.items()}
        return {objectives(self.oracle.objective)[0].name: [history]}

    def _evaluate(self, model: keras.Model, batch_size: int | None) -> dict[str, float]:
        data = self.test_data
        if isinstance(data, tuple):
            return model.evaluate(*data, batch_size=batch_size, verbose=0, return_dict=True)
        return model.evaluate(data, verbose=0, return_dict=True)

    def _recorded(self, trial) -> dict | None:
        """The final record of this very trial, if one was written (a record is written when its trial ends)."""
        for record in self.records.read():
            if record["trial_id"] != trial.trial_id:
                continue
            final = record["status"] in ("COMPLETED", "INVALID", "SKIPPED") or record.get("reason") == NON_FINITE
            if final and all(record.get(name) == value for name, value in trial.hyperparameters.values.items()):
                return record
        return None

    def _result(self, record: dict) -> dict:
        """What keras-tuner gets for a finished record: its metrics, the worst score, or FailedTrialError."""
        if record["status"] == "FAILED":
            raise keras_tuner.errors.FailedTrialError(record["reason"])
        wanted = objectives(self.oracle.objective)
        if record["status"] != "COMPLETED":
            return {o.name: worst_value(o, self.cost_weight) for o in wanted}
        names = {o.name for o in wanted} | {"loss", "accuracy", "val_loss", "val_accuracy"}
        return {name: record[name] for name in names if name in record}

    def _finish(self, record: dict) -> None:
        self.records.append(record)
        self.on_record(record)

    def _save_weights(self, trial_id: str, model: keras.Model) -> None:
        """The trial's one checkpoint, where keras-tuner (Hyperband, load_model) looks for it."""
        os.makedirs(self.get_trial_dir(trial_id), exist_ok=True)
        durable_io.write_atomically(self._get_checkpoint_fname(trial_id), model.save_weights)
        durable_io.write_json(self._get_build_config_fname(trial_id), model.get_build_config())

    def _save_if_best(self, record: dict, model: keras.Model) -> None:
        with durable_io.locked(os.path.join(self.project_dir, ".best_model.lock")):  # workers share the folder
            for earlier in self.records.read():
                if earlier["status"] == "COMPLETED" and earlier["trial_id"] != record["trial_id"]:
                    if not self.better(record, earlier):
                        return
            durable_io.write_atomically(self.best_model_path, model.save)

    # What a search leaves behind ------------------------------------------------------------------

    @property
    def records(self) -> TrialRecords:
        return TrialRecords(self.project_dir)

    @property
    def best_model_path(self) -> str:
        return os.path.join(self.project_dir, "best_model.keras")

    @property
    def tensorboard_dir(self) -> str:
        return getattr(self, "_tensorboard_dir", None) or os.path.join(self.project_dir, "tensorboard")

    @tensorboard_dir.setter
    def tensorboard_dir(self, folder: str) -> None:
        self._tensorboard_dir = str(folder)

    def score(self, record: dict) -> float:
        """The objective value of a completed record."""
        objective = self.oracle.objective
        return objective.get_value(record)

    def better(self, record: dict, other: dict) -> bool:
        """Whether completed `record` scores strictly better than completed `other`."""
        return self.oracle.objective.better_than(self.score(record), self.score(other))

    def record_lost(self, trial, reason: str) -> None:
        """Records a trial the chief ended because its worker was lost."""
        self._finish({"trial_id": trial.trial_id, "status": "FAILED", "reason": reason, **trial.hyperparameters.values})

    def front_metric(self) -> str:
        """The accuracy the Pareto fronts use: a maximized objective, else validation accuracy."""
        wanted = objectives(self.oracle.objective)
        if len(wanted) == 1 and wanted[0].direction == "max" and wanted[0].name != TRADEOFF:
            return wanted[0].name
        return "val_accuracy"

    def write_fronts(self) -> dict[str, list[dict]]:
        """pareto.csv and pareto.png in the project folder; returns the fronts."""
        records, accuracy = self.records.read(), self.front_metric()
        fronts = pareto.write_front(records, os.path.join(self.project_dir, "pareto.csv"), accuracy)
        pareto.plot_front(records, os.path.join(self.project_dir, "pareto.png"), accuracy)
        return fronts


class RandomSearch(_Options, keras_tuner.RandomSearch, ConvnasTrials):
    """keras-tuner's RandomSearch running convnas trials."""


class GridSearch(_Options, keras_tuner.GridSearch, ConvnasTrials):
    """keras-tuner's GridSearch running convnas trials."""


class BayesianOptimization(_Options, keras_tuner.BayesianOptimization, ConvnasTrials):
    """keras-tuner's BayesianOptimization running convnas trials."""


class Hyperband(_Options, keras_tuner.Hyperband, ConvnasTrials):
    """keras-tuner's Hyperband running convnas trials (its schedule sets each trial's epochs)."""


TUNER_CLASSES = {"random": RandomSearch, "grid": GridSearch, "bayesian": BayesianOptimization, "hyperband": Hyperband}


def make_tuner(name: str, max_trials: int, epochs: int, **kwargs) -> ConvnasTrials:
    """The tuner called `name` (random, grid, bayesian, hyperband); Hyperband's max_epochs = `epochs`.

    keras-tuner's Hyperband takes no max_trials; its base Oracle honours it once set.
    """
    if name not in TUNER_CLASSES:
        raise ValueError(f"`tuner` must be one of {', '.join(TUNER_CLASSES)}. Received: tuner={name!r}")
    if name == "hyperband":
        tuner = Hyperband(max_epochs=epochs, factor=3, hyperband_iterations=1, **kwargs)
        tuner.oracle.max_trials = max_trials
        return tuner
    return TUNER_CLASSES[name](max_trials=max_trials, **kwargs)
