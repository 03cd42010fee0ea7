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

0. was drawn by the oracle through its screen (search.sampler): a candidate
   that cannot be built (`InvalidCandidate`, raised by convnas's own search
   space) or is over a budget is redrawn before it becomes a trial, and
   only counted; with `prescreen` K > 1 it is the best of K by a proxy;
1. is built (an `InvalidCandidate` then is recorded INVALID);
2. is costed (params, MACs, FLOPs, activation memory) and timed; over the
   latency budget when timed again, it is SKIPPED, never trained;
3. is trained through `HyperModel.fit` (`executions_per_trial` times, the
   metrics averaged) with keras-tuner's TensorBoard/HParams logging; a
   non-finite loss fails it ("non-finite loss"), which keras-tuner alone
   would record as COMPLETED; any other error fails that trial alone;
4. is evaluated on `test_data`, and writes its weights once (keras-tuner's
   checkpoint, which `get_best_models` and Hyperband read), its record
   (`trials.csv`/`.jsonl` in `directory/project_name`), its cost and
   accuracy as HParams metrics, and `best_model.keras` when it is the best.

After a search, `pareto.csv` and `pareto.png` hold the accuracy/cost fronts
of the trials trained for the full epochs, and every record holds the
hypervolume of the front after it (search.hypervolume), also logged as the
TensorBoard scalar "hypervolume".
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
import warnings
from collections.abc import Callable

import keras
import keras_tuner
import numpy as np

from convnas.blocks import validation
from convnas.search import cost, private_api
from convnas.search.common import durable_io
from convnas.search.records import hparams_logging, pareto
from convnas.search.records.hypervolume import Reference, hypervolume, reference_for
from convnas.search.records.trial_records import TrialRecords
from convnas.search.tuners import distributed, sampler
from convnas.search.tuners.budget import Budget
from convnas.search.tuners.evolution import EvolutionTuner
from convnas.search.tuners.rejection import CandidateRejected

NON_FINITE = "non-finite loss"
TRADEOFF = "tradeoff_score"  # val_accuracy - cost_weight * log10(FLOPs): the CLI's `--objective pareto`
COST_WEIGHT = 0.05  # the default cost_weight: accuracy traded per decade of FLOPs
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


PROXY_BATCH = 64  # images in a prescreening proxy's fixed batch


def _first_examples(fit_args: tuple, fit_kwargs: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """Up to PROXY_BATCH * 4 (images, labels) of the training data (arrays or a tf.data dataset of (x, y) batches)."""
    data = fit_args[0] if fit_args else fit_kwargs.get("x")
    if hasattr(data, "element_spec"):
        images, labels = [], []
        for x, y in data.take(-1).as_numpy_iterator():
            images.append(x)
            labels.append(y)
            if sum(len(batch) for batch in images) >= PROXY_BATCH * 4:
                break
        return (np.concatenate(images), np.concatenate(labels)) if images else None
    labels = fit_args[1] if len(fit_args) > 1 else fit_kwargs.get("y")
    if data is None or labels is None or not hasattr(data, "shape"):
        return None
    return np.asarray(data[: PROXY_BATCH * 4]), np.asarray(labels[: PROXY_BATCH * 4])


def _trial_values(values: dict) -> dict:
    """A trial's hyperparameter values, without the tuner's bookkeeping (Hyperband's tuner/..., prescreen/...)."""
    return {name: value for name, value in values.items() if not name.startswith(("tuner/", sampler.PRESCREEN_PREFIX))}


def _schedule(values: dict, fit_kwargs: dict) -> dict:
    """What a trial trains and from what: total epochs, the epoch it starts at, the trial it continues
    (Hyperband trains a promoted candidate on from an earlier trial's weights), and its prescreening score."""
    found = {"epochs": fit_kwargs.get("epochs", 1), "initial_epoch": fit_kwargs.get("initial_epoch", 0),
             "continues": values.get("tuner/trial_id")}
    for name, value in values.items():
        if name.startswith(sampler.PRESCREEN_PREFIX):
            found.update(proxy=name[len(sampler.PRESCREEN_PREFIX):], proxy_score=value)
    return found


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


_CONVNAS_ORACLES: dict[type, type] = {}


def _screening_mixin(cls: type) -> tuple[type, ...]:
    """The sampler mixin an oracle class needs (none if it screens its draws itself)."""
    if issubclass(cls, sampler.ScreenedSampling):
        return ()
    if issubclass(cls, keras_tuner.oracles.BayesianOptimizationOracle):
        return (sampler.ScreenedBayesian,)
    if issubclass(cls, keras_tuner.oracles.GridSearchOracle):
        return (sampler.ScreenedGrid,)
    return (sampler.ScreenedSampling,)


def convnas_oracle(oracle: keras_tuner.Oracle) -> None:
    """Gives this one oracle (not its class, not keras-tuner) atomic writes and screened draws (search.sampler)."""
    cls = type(oracle)
    if cls not in _CONVNAS_ORACLES:
        _CONVNAS_ORACLES[cls] = type(cls.__name__, (_AtomicWrites, *_screening_mixin(cls), cls), {"__module__": cls.__module__})
    oracle.__class__ = _CONVNAS_ORACLES[cls]


class _Options:
    """The convnas arguments of a tuner, taken before keras-tuner sees the rest.

    Args:
        seed: seeds the oracle's sampling (passed as seed + 1, see the
            module docstring) and every trial's Keras initialization.
        max_flops, max_params, max_latency_ms: cost budgets; a drawn candidate
            over one is redrawn before a trial exists (search.sampler).
        cost_weight: accuracy traded per decade of FLOPs by the objective
            "tradeoff_score".
        on_record: called with each trial's record as the trial ends.
        latency_repeats: timed batch-1 predictions per candidate (median).
        prescreen: feasible candidates drawn per trial; the one `proxy`
            scores best is trained (1: no prescreening).
        proxy: the training-free proxy that ranks them (search.proxies).
        pareto_cost: the cost of the fronts' hypervolume ("flops" or
            "params"); an evolution tuner's Pareto selection uses it too.
        max_redraws: draws per trial (rejected ones redrawn) before the
            search stops for want of a candidate within the budgets.
        hypervolume_reference: the hypervolume's reference point; by default
            accuracy 0 and the budget on `pareto_cost`, else its stated
            ceiling (search.hypervolume).
    """

    def __init__(
        self,
        *args,
        seed: int | None = None,
        max_flops: float | None = None,
        max_params: float | None = None,
        max_latency_ms: float | None = None,
        cost_weight: float = COST_WEIGHT,
        on_record: Callable[[dict], None] | None = None,
        latency_repeats: int = 10,
        prescreen: int = 1,
        proxy: str = "synflow",
        pareto_cost: str = "flops",
        hypervolume_reference: Reference | None = None,
        max_redraws: int = sampler.REDRAWS,
        **kwargs,
    ):
        private_api.require()
        self.budget = Budget(max_flops, max_params, max_latency_ms)
        self.trial_seed, self.cost_weight = seed, cost_weight
        self.on_record = on_record or (lambda record: None)
        self.latency_repeats = latency_repeats
        self.prescreen = validation.positive_int("prescreen", prescreen)
        self.proxy = proxy
        self.max_redraws = validation.positive_int("max_redraws", max_redraws)
        budgets = {"flops": max_flops, "params": max_params}
        self.hypervolume_reference = hypervolume_reference or reference_for(None, pareto_cost, budgets.get(pareto_cost))
        self.test_data = None
        self.full_epochs: int | None = None
        super().__init__(*args, seed=None if seed is None else seed + 1, **kwargs)


class ConvnasTrials(keras_tuner.Tuner):
    """Tuner mixin, below keras-tuner's tuner class: convnas trials (see the module docstring)."""

    def __init__(self, oracle, hypermodel=None, **kwargs):
        convnas_oracle(oracle)
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
        self.full_epochs = getattr(self.oracle, "max_epochs", None) or fit_kwargs.get("epochs", 1)
        self.prepare_sampler(_input_shape(fit_args, fit_kwargs), _first_examples(fit_args, fit_kwargs))
        callbacks = list(fit_kwargs.pop("callbacks", None) or [])
        if not any(isinstance(callback, keras.callbacks.TensorBoard) for callback in callbacks):
            callbacks.append(keras.callbacks.TensorBoard(self.tensorboard_dir, write_graph=False, profile_batch=0))
        self.tensorboard_dir = next(c for c in callbacks if isinstance(c, keras.callbacks.TensorBoard)).log_dir
        self.write_hparams_config()
        super().search(*fit_args, callbacks=callbacks, **fit_kwargs)
        if not distributed.is_worker():
            self.write_fronts()
            self.raise_if_exhausted()

    # The sampler (search.sampler) --------------------------------------------------------------

    def prepare_sampler(self, input_shape: tuple, examples: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Gives the oracle its screen: the budgets checked on each drawn candidate, and the prescreening proxy.

        `examples` (images, labels) supply the proxy's fixed batch. A search that
        stopped because no candidate fitted the budget starts drawing afresh.
        """
        if distributed.is_worker():
            return  # the chief's oracle draws the candidates
        self._screen_input_shape = input_shape
        score = None
        if self.prescreen > 1:
            from convnas.search import proxies

            validation.one_of("proxy", self.proxy, proxies.PROXIES)
            if examples is None:
                raise ValueError("`prescreen` needs training images for the proxy's batch. Received: no training data")
            batch = proxies.fixed_batch(*examples, size=min(PROXY_BATCH, len(examples[0])), seed=0)

            def score(values: dict) -> float:
                keras.utils.set_random_seed(0 if self.trial_seed is None else self.trial_seed)
                return proxies.score(self.proxy, self._screen_build(values), *batch, seed=0)

        self.oracle.screen = sampler.Screen(
            self._screen_check, self.budget.describe(), self.prescreen, self.proxy, score, self.max_redraws
        )
        self.oracle.rejections.exhausted = ""

    def _screen_build(self, values: dict) -> keras.Model:
        hp = self.oracle.get_space()
        hp.values = {name: value for name, value in values.items() if not name.startswith(("tuner/", sampler.PRESCREEN_PREFIX))}
        keras.backend.clear_session()
        model = self.hypermodel.build(hp)
        if not model.built:
            model.build(self._screen_input_shape)
        return model

    def _screen_check(self, values: dict) -> dict:
        """The drawn candidate's cost; CandidateRejected if it is invalid or over a budget."""
        try:
            model = self._screen_build(values)
        except CandidateRejected:
            raise
        except Exception:  # noqa: BLE001 - the trial builds it again, fails, and its record says why
            return {}
        counted = cost.count(model)
        self.budget.check_cost(counted)
        if self.budget.max_latency_ms is not None:
            self.budget.check_latency(cost.latency(model, repeats=self.latency_repeats))
        return {"flops": counted.flops, "params": counted.params}

    def raise_if_exhausted(self) -> None:
        """NoFeasibleCandidate if the sampler stopped the search for want of a candidate within the budgets."""
        if self.oracle.rejections.exhausted:
            raise sampler.NoFeasibleCandidate(self.oracle.rejections.exhausted)

    def write_hparams_config(self, tested: bool | None = None) -> None:
        """The HParams experiment (the hyperparameters searched; metrics and cost columns), once per TensorBoard folder.

        `tested`: whether the trials are evaluated on test data (default: whether `search` was given some).
        """
        if not os.path.exists(self.tensorboard_dir):
            metrics = [o.name for o in objectives(self.oracle.objective)]
            tested = self.test_data is not None if tested is None else tested
            hparams_logging.write_experiment(self.tensorboard_dir, self.oracle.get_space(), metrics, tested)

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        hp = trial.hyperparameters
        recorded = self._recorded(trial)
        if recorded is not None:  # killed after its record, before keras-tuner saved the trial's end
            return self._result(recorded)
        record = {"trial_id": trial.trial_id, "status": None, "reason": "", **_trial_values(hp.values),
                  **_schedule(hp.values, fit_kwargs), "seed": self.trial_seed}
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
                with warnings.catch_warnings():
                    # Hyperband builds a promoted candidate from the checkpoint of the trial it continues: the
                    # weights load, the state of a stateful optimizer (Adam) is skipped, and Keras warns of it.
                    warnings.filterwarnings("ignore", "Skipping variable loading for optimizer", UserWarning)
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
        names = {o.name for o in wanted} | {"loss", "accuracy", "val_loss", "val_accuracy", "flops", "params"}
        return {name: record[name] for name in names if name in record}

    def _finish(self, record: dict) -> None:
        """Appends the record, with the hypervolume of the fronts of every record so far, and reports it."""
        with durable_io.locked(os.path.join(self.project_dir, ".hypervolume.lock")):  # workers share the records
            earlier = self.records.read()
            record["hypervolume"] = self.hypervolume([*earlier, record])
            self.records.append(record)
        hparams_logging.write_hypervolume(self.tensorboard_dir, record["hypervolume"], step=len(earlier) + 1)
        self.on_record(record)

    def hypervolume(self, records: list[dict]) -> float:
        """Hypervolume of the accuracy/cost front of `records` trained for the full epochs (search.hypervolume)."""
        reference = self.hypervolume_reference
        completed = pareto.completed_records(records, self.front_metric(), self.full_epochs)
        return hypervolume([(r[self.front_metric()], r[reference.cost]) for r in completed], reference)

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
        fronts = pareto.write_front(records, os.path.join(self.project_dir, "pareto.csv"), accuracy, self.full_epochs)
        pareto.plot_front(records, os.path.join(self.project_dir, "pareto.png"), accuracy, self.full_epochs)
        return fronts


class RandomSearch(_Options, keras_tuner.RandomSearch, ConvnasTrials):
    """keras-tuner's RandomSearch running convnas trials."""


class GridSearch(_Options, keras_tuner.GridSearch, ConvnasTrials):
    """keras-tuner's GridSearch running convnas trials."""


class BayesianOptimization(_Options, keras_tuner.BayesianOptimization, ConvnasTrials):
    """keras-tuner's BayesianOptimization running convnas trials."""


class Hyperband(_Options, keras_tuner.Hyperband, ConvnasTrials):
    """keras-tuner's Hyperband running convnas trials (its schedule sets each trial's epochs)."""


class Evolution(_Options, EvolutionTuner, ConvnasTrials):
    """Regularized evolution (search.evolution) running convnas trials; `pareto_cost` selects on the accuracy/cost front.

    Its population, tournament and mutation are `EvolutionOracle`'s
    (`population_size`, `sample_size`); given `pareto=True`, its tournaments
    rank by the accuracy/`pareto_cost` front instead of the objective.
    """

    def __init__(self, *args, pareto: bool = False, pareto_cost: str = "flops", population_size: int = 20,
                 sample_size: int = 5, **kwargs):
        super().__init__(*args, pareto_cost=pareto_cost, population_size=population_size, sample_size=sample_size,
                         selection_cost=pareto_cost if pareto else None, **kwargs)


TUNER_CLASSES = {
    "random": RandomSearch,
    "grid": GridSearch,
    "bayesian": BayesianOptimization,
    "hyperband": Hyperband,
    "evolution": Evolution,
}


def make_tuner(name: str, max_trials: int, epochs: int, **kwargs) -> ConvnasTrials:
    """The tuner called `name` (random, grid, bayesian, hyperband, evolution); Hyperband's max_epochs = `epochs`.

    keras-tuner's Hyperband takes no max_trials; its base Oracle honours it once set. Evolution's
    population is 20 with tournaments of 5 (a quarter) from 80 trials up, a quarter of the trials below.
    """
    if name not in TUNER_CLASSES:
        raise ValueError(f"`tuner` must be one of {', '.join(TUNER_CLASSES)}. Received: tuner={name!r}")
    if name == "evolution" and "population_size" not in kwargs:  # Real et al.'s P and S, scaled to short searches
        population = min(20, max(2, max_trials // 4))
        kwargs.update(population_size=population, sample_size=max(2, population // 4))
    if name == "hyperband":  # as many iterations as it takes: max_trials ends the search
        tuner = Hyperband(max_epochs=epochs, factor=3, hyperband_iterations=max_trials, **kwargs)
        tuner.oracle.max_trials = max_trials
        return tuner
    return TUNER_CLASSES[name](max_trials=max_trials, **kwargs)
