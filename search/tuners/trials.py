"""The convnas trial: what every drop-in tuner does with a candidate its oracle draws (`ConvnasTrials`).

Every trial:

0. was drawn by the oracle through its screen (search.tuners.sampler): a
   candidate that cannot be built (`InvalidCandidate`, raised by convnas's own
   search space) or is over a budget is redrawn before it becomes a trial, and
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
hypervolume of the front after it (search.records.hypervolume), also logged
as the TensorBoard scalar "hypervolume". A trial's metrics are those of its
last epoch (keras-tuner keeps the best epoch's), so the recorded score is the
score of the model that was saved.

Rejected candidates (INVALID, SKIPPED) are reported to keras-tuner with the
objective's worst value, so they never count toward its consecutive-failure
limit; failed ones raise keras-tuner's `FailedTrialError`. A trial is over
once its record is written: a search killed between that and keras-tuner's
own save reports the record's result instead of training again.

`prepare` is what a search sets up before its first trial, `search` and the
distributed chief's `serve` alike (search.tuners.distributed).
"""

from __future__ import annotations

import math
import os
import time

import keras
import keras_tuner
import numpy as np

from convnas.search import adapter, cost
from convnas.search.choices import PROXIES, TRADEOFF
from convnas.search.common import durable_io
from convnas.search.common.heap import frozen_heap
from convnas.search.records import hparams_logging, pareto
from convnas.search.records.hypervolume import hypervolume
from convnas.search.records.trial_records import TrialRecords
from convnas.search.tuners import distributed, sampler
from convnas.search.tuners.rejection import CandidateRejected

NON_FINITE = "non-finite loss"
BOUNDED_METRICS = ("accuracy", "auc", "precision", "recall")  # scores in [0, 1]
PROXY_BATCH = 64  # images in a prescreening proxy's fixed batch


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
    raise ValueError(
        "the model is not built and its input shape cannot be read from the training data. "
        f"Received: {type(data).__name__}"
    )


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


def _schedule(values: dict, fit_kwargs: dict) -> dict:
    """What a trial trains and from what: total epochs, the epoch it starts at, the trial it continues
    (Hyperband trains a promoted candidate on from an earlier trial's weights), and its prescreening score."""
    found = {"epochs": fit_kwargs.get("epochs", 1), "initial_epoch": fit_kwargs.get("initial_epoch", 0),
             "continues": values.get(f"{sampler.HYPERBAND_PREFIX}trial_id")}
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


class ConvnasTrials(adapter.TunerAdapter, keras_tuner.Tuner):
    """Tuner mixin, below keras-tuner's tuner class: convnas trials (see the module docstring).

    The drop-in tuners (search.tuners.tuner) set its options: `budget`, `trial_seed`, `cost_weight`,
    `on_record`, `latency_repeats`, `prescreen`, `proxy`, `max_redraws`, `hypervolume_reference`.
    """

    def declare_space(self) -> bool:
        """A hypermodel that declares every branch at once (convnas's space) is never built to declare it."""
        if not getattr(self.hypermodel, "declares_every_branch", False):
            return False
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)
        return True

    def save(self):
        if not self.runs_as_worker():
            self.oracle.save()
        durable_io.write_json(self.tuner_file(), self.get_state())

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
        self.prepare(fit_kwargs.get("epochs", 1), _input_shape(fit_args, fit_kwargs),
                     _first_examples(fit_args, fit_kwargs), tested=test_data is not None)
        with frozen_heap():
            super().search(*fit_args, callbacks=callbacks, **fit_kwargs)
        if not distributed.is_worker():
            self.write_fronts()
            self.raise_if_exhausted()

    def prepare(self, epochs: int, input_shape: tuple, examples: tuple[np.ndarray, np.ndarray] | None,
                tested: bool) -> None:
        """What a search sets up before its first trial: the full epochs (a Hyperband oracle's `max_epochs`, else
        `epochs`), the oracle's screen (`prepare_sampler`) and the HParams experiment (`write_hparams_config`)."""
        self.full_epochs = getattr(self.oracle, "max_epochs", None) or epochs
        self.prepare_sampler(input_shape, examples)
        self.write_hparams_config(tested)

    def serve(self, epochs: int, input_shape: tuple, examples: tuple[np.ndarray, np.ndarray] | None, tested: bool,
              lost_worker_timeout: float, each_poll=lambda: None) -> None:
        """The distributed chief's search: `prepare`d as `search` is, the oracle is saved and served to the
        workers until the search is over (search.tuners.distributed.serve_chief); `each_poll()` runs between."""
        self.prepare(epochs, input_shape, examples, tested)
        self.oracle.verbose = 0  # keras-tuner's per-trial tables
        self.save()
        distributed.serve_chief(self.oracle, lost_worker_timeout, self.record_lost, each_poll)

    # The sampler (search.tuners.sampler) -----------------------------------------------------------

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

            PROXIES.check("proxy", self.proxy)
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
        hp.values = sampler.space_values(values)
        keras.backend.clear_session(free_memory=False)  # the trial's build collects (twice): not once per draw
        model = self.hypermodel.build(hp)
        if not model.built:
            model.build(self._screen_input_shape)
        return model

    def _screen_check(self, values: dict) -> dict:
        """The drawn candidate's cost; CandidateRejected if it is invalid or over a budget.

        Without a latency budget, convnas's space is costed from its layout (`arithmetic_cost`: no model built);
        a user's hypermodel is built and counted."""
        arithmetic_cost = getattr(self.hypermodel, "arithmetic_cost", None)
        if arithmetic_cost is not None and self.budget.max_latency_ms is None:
            counted = arithmetic_cost(sampler.space_values(values))
            self.budget.check_cost(counted)
            return {"flops": counted.flops, "params": counted.params}
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

    def write_hparams_config(self, tested: bool) -> None:
        """The HParams experiment (the hyperparameters searched; metrics and cost columns), once per TensorBoard
        folder; `tested`: whether the trials are evaluated on test data."""
        if not os.path.exists(self.tensorboard_dir):
            metrics = [o.name for o in objectives(self.oracle.objective)]
            hparams_logging.write_experiment(self.tensorboard_dir, self.oracle.get_space(), metrics, tested)

    # One trial ------------------------------------------------------------------------------

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        hp = trial.hyperparameters
        recorded = self._recorded(trial)
        if recorded is not None:  # killed after its record, before keras-tuner saved the trial's end
            return self._result(recorded)
        record = {"trial_id": trial.trial_id, "status": None, "reason": "", **sampler.space_values(hp.values),
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

    def _train(self, trial, record: dict, *fit_args, **fit_kwargs) -> dict:
        hp = trial.hyperparameters
        callbacks = fit_kwargs.pop("callbacks", [])
        finals, tests, seconds = [], [], 0.0
        for execution in range(self.executions_per_trial):
            if self.trial_seed is not None:
                keras.utils.set_random_seed(self.trial_seed + execution)
            try:
                model = self.build_candidate(hp)
                if not model.built:  # e.g. a Sequential without an Input: built for the data's shape
                    model.build(_input_shape(fit_args, fit_kwargs))
                if execution == 0:
                    self._check_cost(model, record)
            except CandidateRejected as rejection:
                record.update(status=rejection.status, reason=rejection.reason)
                self._finish(record)
                return self._result(record)
            run_callbacks = self.execution_callbacks(callbacks, trial, execution, hparams_logging.session_extras(
                hp.values), hparams_logging.session_run(hp.values))
            run_callbacks.append(keras.callbacks.TerminateOnNaN())
            if distributed.is_worker():
                run_callbacks.append(Heartbeat(self.oracle, trial.trial_id))
            started = time.perf_counter()
            history = self.hypermodel.fit(hp, model, *fit_args, callbacks=run_callbacks, **fit_kwargs)
            seconds += time.perf_counter() - started
            logs = self._epoch_logs(history)
            if not logs or any(not np.all(np.isfinite(v)) for name, v in logs.items() if name.endswith("loss")):
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
        metrics = [o.name for o in objectives(self.oracle.objective)]
        hparams_logging.write_trial_metrics(self.tensorboard_dir, record, metrics)
        self._save_if_best(record, model)
        self._finish(record)
        return self._result(record)

    def _check_cost(self, model: keras.Model, record: dict) -> None:
        counted = cost.count(model)
        record.update(params=counted.params, macs=counted.macs, flops=counted.flops,
                      activation_bytes=counted.activation_bytes)
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
        """Hypervolume of the accuracy/cost front of `records` trained for the full epochs (search.records)."""
        reference = self.hypervolume_reference
        completed = pareto.completed_records(records, self.front_metric(), self.full_epochs)
        return hypervolume([(r[self.front_metric()], r[reference.cost]) for r in completed], reference)

    def _save_weights(self, trial_id: str, model: keras.Model) -> None:
        """The trial's one checkpoint, where keras-tuner (Hyperband, load_model) looks for it."""
        os.makedirs(self.get_trial_dir(trial_id), exist_ok=True)
        durable_io.write_atomically(self.checkpoint_file(trial_id), model.save_weights)
        durable_io.write_json(self.build_config_file(trial_id), model.get_build_config())

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
        """Whether completed `record` is better than completed `other`: it scores strictly better, or as well at a
        strictly lower cost (the fronts' cost, `pareto_cost`: FLOPs or parameters). The best model is the best
        record by this order, and the first of equals."""
        objective, mine, theirs = self.oracle.objective, self.score(record), self.score(other)
        if objective.better_than(mine, theirs) or objective.better_than(theirs, mine):
            return objective.better_than(mine, theirs)
        cost = self.hypervolume_reference.cost
        return record.get(cost, math.inf) < other.get(cost, math.inf)

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
