"""The convnas trial: what every drop-in tuner does with a candidate its oracle draws (`ConvnasTrials`).

Every trial:

0. was drawn by the oracle through its screen (search.tuners.sampler): a
   candidate that cannot be built (`InvalidCandidate`, raised by convnas's own
   search space) or is over a budget is redrawn before it becomes a trial, and
   only counted; with `prescreen` K > 1 it is the best of K by a proxy;
1. is built (an `InvalidCandidate` then is recorded INVALID), in the tuner's
   build-and-fit step (`build_and_fit`: keras-tuner's hook, which a subclass
   may override and call in turn);
2. is costed (params, MACs, FLOPs, activation memory) and timed
   (search.tuners.trial_cost: before training where its input shape is known,
   else once `fit` built it); over the latency budget when timed again, it is
   SKIPPED, never trained;
3. is trained through `HyperModel.fit` (`executions_per_trial` times, the
   metrics averaged) with keras-tuner's TensorBoard/HParams logging and its
   per-trial callbacks (the tuner's epoch hooks, the checkpoint); a
   non-finite loss fails it ("non-finite loss"), which keras-tuner alone
   would record as COMPLETED; any other error fails that trial alone;
4. is evaluated on `test_data`, and writes its weights once as training ends
   (keras-tuner's checkpoint, which `get_best_models` and Hyperband read), its
   record (`trials.csv`/`.jsonl` in `directory/project_name`), its cost and
   accuracy as HParams metrics, and `best_model.keras` when it is the best
   (a model Keras cannot save whole is skipped, said once).

A trial that no Keras model reached convnas in (a subclass's own `run_trial`,
or its own build-and-fit step) is recorded with its metrics and no cost
columns, said once per search. keras-tuner's checks of what `fit` or
`run_trial` returned, and its errors, are its own.

After a search, `pareto.csv` and `pareto.png` hold the accuracy/cost fronts
of the trials trained for the full epochs (pareto.csv, a list of objectives'
own front too), and every record the hypervolume of the front after it
(search.records.hypervolume; the scalar "accuracy_vs_cost/hypervolume"). A
trial's metrics are its last epoch's (keras-tuner keeps the best epoch's):
the recorded score is the saved model's.

Rejected candidates (INVALID, SKIPPED) are reported to keras-tuner with the
objective's worst value, so they never count toward its consecutive-failure
limit; failed ones raise keras-tuner's `FailedTrialError`. A trial is over
once its record is written: a search killed between that and keras-tuner's
own save reports the record's result instead of training again.

`prepare` is what a search sets up before its first trial, `search` and the
distributed chief's `serve` alike (search.tuners.distributed).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings

import keras
import keras_tuner
import numpy as np

from convnas.search import adapter, cost
from convnas.search.choices import TRADEOFF
from convnas.search.common import durable_io
from convnas.search.common.heap import frozen_heap
from convnas.search.records import hparams_logging, pareto
from convnas.search.records.hypervolume import hypervolume
from convnas.search.records.trial_records import TrialRecords
from convnas.search.tuners import distributed, sampler, trial_cost
from convnas.search.tuners.rejection import CandidateRejected
from convnas.search.tuners.screening import BudgetScreen

NON_FINITE = "non-finite loss"
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


def _schedule(values: dict, fit_kwargs: dict) -> dict:
    """A trial's epochs, first epoch, the trial it continues (a Hyperband or ASHA promotion), prescreening score."""
    found = {"epochs": fit_kwargs.get("epochs", 1), "initial_epoch": fit_kwargs.get("initial_epoch", 0),
             "continues": values.get(f"{sampler.HYPERBAND_PREFIX}trial_id")}
    for name, value in values.items():
        if name.startswith(sampler.PRESCREEN_PREFIX):
            found.update(proxy=name[len(sampler.PRESCREEN_PREFIX):], proxy_score=value)
    return found


@dataclasses.dataclass
class TrialRun:
    """The trial `run_trial` runs: its record, the data's input shape, its model once `build_and_fit` built it."""

    record: dict
    input_shape: tuple | None
    model: keras.Model | None = None


class Heartbeat(keras.callbacks.Callback):
    """Tells the chief, at every epoch end, that this worker is still on its trial."""

    def __init__(self, oracle, trial_id: str):
        super().__init__()
        self.oracle, self.trial_id = oracle, trial_id

    def on_epoch_end(self, epoch, logs=None):
        self.oracle.get_trial(self.trial_id)


class ConvnasTrials(BudgetScreen, adapter.TunerAdapter, keras_tuner.Tuner):
    """Tuner mixin, below keras-tuner's tuner class: convnas trials (see the module docstring).

    The drop-in tuners (search.tuners.tuner) set its options: `budget`, `trial_seed`, `cost_weight`,
    `on_record`, `latency_repeats`, `prescreen`, `proxy`, `max_redraws`, `hypervolume_reference`.
    """

    _running: TrialRun | None = None  # the trial convnas's run_trial runs (or ran last)

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
        self.prepare(fit_kwargs.get("epochs", 1), trial_cost.input_shape(fit_args, fit_kwargs),
                     trial_cost.first_examples(fit_args, fit_kwargs), tested=test_data is not None)
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
        if type(self).run_trial is not ConvnasTrials.run_trial:
            self.say_budgets_unchecked("this tuner's own run_trial trains no model convnas sees")
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

    def write_hparams_config(self, tested: bool) -> None:
        """The HParams experiment (the hyperparameters searched; metrics and cost columns), once per TensorBoard
        folder; `tested`: whether the trials are evaluated on test data."""
        if not os.path.exists(self.tensorboard_dir):
            metrics = [o.name for o in objectives(self.oracle.objective)]
            hparams_logging.write_experiment(self.tensorboard_dir, self.oracle.get_space(), metrics, tested)

    # One trial ------------------------------------------------------------------------------

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        hp = trial.hyperparameters
        record = {"trial_id": trial.trial_id, "status": None, "reason": "", **sampler.space_values(hp.values),
                  **_schedule(hp.values, fit_kwargs), "seed": self.trial_seed}
        self._running = TrialRun(record, trial_cost.input_shape(fit_args, fit_kwargs))
        recorded = self._recorded(trial)
        if recorded is not None:  # killed after its record, before keras-tuner saved the trial's end
            return self._result(recorded)
        try:
            return self._train(trial, record, *fit_args, **fit_kwargs)
        except keras_tuner.errors.FatalError:
            raise
        except Exception as error:  # a candidate that crashes (out of memory, keras-tuner's max_model_size) fails alone
            if record["status"] is None:  # not recorded yet
                message = str(error).strip().splitlines()[0] if str(error).strip() else ""
                record.update(status="FAILED", reason=f"error: {type(error).__name__}: {message}")
                self._finish(record)
            if isinstance(error, keras_tuner.errors.FailedTrialError):
                raise
            raise keras_tuner.errors.FailedTrialError(record["reason"]) from error

    def _train(self, trial, record: dict, *fit_args, **fit_kwargs) -> dict:
        hp, run = trial.hyperparameters, self._running
        callbacks = fit_kwargs.pop("callbacks", None) or []
        per_trial = self.trial_callbacks(trial, lambda model: self._save_weights(trial.trial_id, model))
        finals, tests, seconds = [], [], 0.0
        for execution in range(self.executions_per_trial):
            if self.trial_seed is not None:
                keras.utils.set_random_seed(self.trial_seed + execution)
            run_callbacks = self.execution_callbacks(callbacks, trial, execution, hparams_logging.session_extras(
                hp.values), hparams_logging.session_run(hp.values))
            run_callbacks += [keras.callbacks.TerminateOnNaN(), *per_trial]
            if distributed.is_worker():
                run_callbacks.append(Heartbeat(self.oracle, trial.trial_id))
            started = time.perf_counter()
            try:
                results = self.fit_candidate(trial, *fit_args, callbacks=run_callbacks, **fit_kwargs)
            except CandidateRejected as rejection:
                record.update(status=rejection.status, reason=rejection.reason)
                self._finish(record)
                return self._result(record)
            seconds += time.perf_counter() - started
            logs = self._epoch_logs(results)
            if not logs or any(not np.all(np.isfinite(v)) for name, v in logs.items() if name.endswith("loss")):
                record.update(status="FAILED", reason=NON_FINITE, train_seconds=seconds)
                self._finish(record)
                return self._result(record)
            finals.append({name: float(values[-1]) for name, values in logs.items()})
            if self.test_data is not None and run.model is not None:
                tests.append(self._evaluate(run.model, fit_kwargs.get("batch_size")))
        for name in finals[0]:
            record[name] = float(np.mean([final[name] for final in finals]))
        for name in tests[0] if tests else ():
            record[f"test_{name}"] = float(np.mean([test[name] for test in tests]))
        self._cost_after_training(run)
        if any(o.name == TRADEOFF for o in objectives(self.oracle.objective)) and "flops" in record:
            record[TRADEOFF] = record["val_accuracy"] - self.cost_weight * math.log10(max(record["flops"], 1))
        record.update(status="COMPLETED", train_seconds=seconds, executions=self.executions_per_trial)
        metrics = [o.name for o in objectives(self.oracle.objective)]
        hparams_logging.write_trial_metrics(self.tensorboard_dir, record, metrics)
        if run.model is not None:
            self._save_if_best(record, run.model)
        else:
            self.say_once("no Keras model reached convnas (a subclass builds and fits its own without calling "
                          "super()): such trials are recorded without cost columns, and no best_model.keras")
        self._finish(record)
        return self._result(record)

    def build_and_fit(self, trial, *fit_args, **fit_kwargs):
        """Builds the candidate of `trial` (for the data's input shape if it is not built), counts its cost on the
        first execution (CandidateRejected over a budget) where it can be counted before training, and fits it with
        `HyperModel.fit`, whose result keras-tuner checks."""
        hp, run = trial.hyperparameters, self._running
        model = self.build_candidate(hp)
        trial_cost.build_for(model, run.input_shape)
        if run.model is None:
            self._cost_before_training(model, run.record)
        run.model = model
        results = self.hypermodel.fit(hp, model, *fit_args, **fit_kwargs)
        adapter.validate_fit_results(results, self.oracle.objective)
        return results

    def _cost_before_training(self, model: keras.Model, record: dict) -> None:
        """The cost columns and the budgets' verdict (OverBudget), where the model can be counted before training."""
        try:
            counted_model = trial_cost.countable(model)
        except trial_cost.Uncountable:
            return  # counted after training (`_cost_after_training`)
        counted = cost.count(counted_model)
        record.update(params=counted.params, macs=counted.macs, flops=counted.flops,
                      activation_bytes=counted.activation_bytes)
        self.budget.check_cost(counted)
        record["latency_ms"] = cost.latency(counted_model, repeats=self.latency_repeats)
        self.budget.check_latency(record["latency_ms"])

    def _cost_after_training(self, run: TrialRun) -> None:
        """The cost columns of a model counted only once `fit` built it; the reason where it cannot be counted."""
        if run.model is None or "params" in run.record:
            return
        try:
            counted_model = trial_cost.countable(run.model)
        except trial_cost.Uncountable as why:
            run.record["reason"] = f"cost not counted: {why}"
            return
        counted = cost.count(counted_model)
        run.record.update(params=counted.params, macs=counted.macs, flops=counted.flops,
                          activation_bytes=counted.activation_bytes,
                          latency_ms=cost.latency(counted_model, repeats=self.latency_repeats))

    def _epoch_logs(self, history) -> dict[str, list[float]]:
        """Per-epoch metrics of what `HyperModel.fit` returned: a History, a dict of final values, a number, or a
        list of these (one per fit), averaged."""
        if isinstance(history, list):
            each = [self._epoch_logs(one) for one in history]
            return {name: [float(np.mean([logs[name][-1] for logs in each]))] for name in each[0]} if each else {}
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
        objective = self.oracle.objective
        wanted = objectives(objective)
        if record["status"] != "COMPLETED":
            result = {o.name: worst_value(o, self.cost_weight) for o in wanted}
        else:
            names = {o.name for o in wanted} | {"loss", "accuracy", "val_loss", "val_accuracy", "flops", "params"}
            result = {name: record[name] for name in names if name in record}
        if objective.name not in result:  # a list of objectives: keras-tuner's combined value ("multi_objective")
            result[objective.name] = objective.get_value(result)
        return result

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
        """best_model.keras, if `record` is the best so far; a model Keras cannot save whole is skipped, said once."""
        with durable_io.locked(os.path.join(self.project_dir, ".best_model.lock")):  # workers share the folder
            for earlier in self.records.read():
                if earlier["status"] == "COMPLETED" and earlier["trial_id"] != record["trial_id"]:
                    if not self.better(record, earlier):
                        return
            try:
                durable_io.write_atomically(self.best_model_path, model.save)
            except Exception as error:  # noqa: BLE001 - the checkpoint (get_best_models) is written all the same
                self.say_once(f"best_model.keras not written: {type(model).__name__} cannot be saved whole by Keras "
                              f"({type(error).__name__}); get_best_models() loads the best trial's weights")

    def on_trial_end(self, trial):
        """keras-tuner's end of a trial; a trial that convnas's `run_trial` did not run (a subclass's own) is
        recorded with its metrics, without cost columns (the reason said once)."""
        super().on_trial_end(trial)
        ran = self._running is not None and self._running.record["trial_id"] == trial.trial_id
        if ran or trial.status not in ("COMPLETED", "FAILED", "INVALID"):
            return
        ended = self.oracle.get_trial(trial.trial_id)
        metrics = {name: ended.metrics.get_best_value(name) for name in ended.metrics.metrics}
        reason = (trial.message or "").strip().splitlines()[-1:] if trial.status != "COMPLETED" else []
        self._finish({"trial_id": trial.trial_id, "status": trial.status, "reason": "".join(reason),
                      **sampler.space_values(trial.hyperparameters.values), **metrics})
        self.say_once("this tuner's own run_trial trains no Keras model convnas sees: its trials are recorded "
                      "with their metrics and no cost columns")

    def say_once(self, message: str) -> None:
        """Warns `message` the first time this tuner says it."""
        said = self.__dict__.setdefault("_said", set())
        if message not in said:
            said.add(message)
            warnings.warn(message, stacklevel=2)

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
        """pareto.csv (a list of objectives' own front too) and pareto.png in the project; returns the fronts."""
        records, accuracy = self.records.read(), self.front_metric()
        listed = [(o.name, o.direction) for o in objectives(self.oracle.objective)]  # one: no front of its own
        fronts = pareto.write_front(records, os.path.join(self.project_dir, "pareto.csv"), accuracy, self.full_epochs,
                                    listed)
        pareto.plot_front(records, os.path.join(self.project_dir, "pareto.png"), accuracy, self.full_epochs)
        return fronts
