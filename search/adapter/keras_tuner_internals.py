"""keras-tuner's internals: its oracles' and tuners' private hooks and state, its message texts, its gRPC service.

Part of the one adapter (search.adapter, whose docstring lists what each part offers); the private
names used here are listed in `search.private_api`. keras-tuner is imported inside the functions.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import threading
import time
import warnings
from collections.abc import Callable

# keras-tuner's oracles -------------------------------------------------------------------------------


class OracleAdapter:
    """Oracle mixin, listed right before a keras-tuner oracle class: its private hooks call public methods.

    Override `save_trial(trial)` (keras-tuner's `_save_trial`) and `random_values()` (keras-tuner's
    `_random_values`, a random draw); `fresh_random_values()` is keras-tuner's own draw. The other
    methods read or change the oracle's private state.
    """

    def _save_trial(self, trial):
        self.save_trial(trial)

    def save_trial(self, trial) -> None:
        """Writes trial.json of `trial` (keras-tuner's way, unless overridden)."""
        super()._save_trial(trial)

    def _random_values(self):
        return self.random_values()

    def random_values(self) -> dict | None:
        """The values of a randomly drawn candidate, None when the space is exhausted (keras-tuner's draw, unless
        overridden)."""
        return self.fresh_random_values()

    def fresh_random_values(self) -> dict | None:
        """keras-tuner's own random draw: values never tried before, None after too many collisions."""
        return super()._random_values()

    def reload(self):
        """keras-tuner's reload, then every trial left running that oracle.json never heard of queued to run again.

        keras-tuner writes a new trial's trial.json before oracle.json: a chief killed between the two leaves a
        trial that counts toward `max_trials` but is neither ongoing nor queued, so it would never run.
        """
        super().reload()
        queued = set(self._retry_queue)
        for trial_id, trial in self.trials.items():
            if trial.status == "RUNNING" and trial_id not in queued:
                self._retry_queue.append(trial_id)
                if trial_id not in self.start_order:
                    self.start_order.append(trial_id)
                self.mark_tried(self.values_hash(trial.hyperparameters.values))

    def oracle_file(self) -> str:
        """Where keras-tuner keeps the oracle's state (oracle.json)."""
        return self._get_oracle_fname()

    def trial_file(self, trial_id: str) -> str:
        """Where keras-tuner keeps a trial's state (trial_<id>/trial.json)."""
        return os.path.join(self._get_trial_dir(trial_id), "trial.json")

    def values_hash(self, values: dict) -> str:
        """The fingerprint keras-tuner tells candidates apart by."""
        return self._compute_values_hash(values)

    def mark_tried(self, fingerprint: str) -> None:
        """Counts the candidate with this `values_hash` as tried: keras-tuner never draws it again."""
        self._tried_so_far.add(fingerprint)

    def tried_before(self, values: dict) -> bool:
        """Whether a candidate with these values was drawn before."""
        return self._duplicate(values)

    def started_trial_ids(self) -> list[str]:
        """The trials created so far, in order."""
        return list(self.start_order)

    def ended_trial_ids(self) -> list[str]:
        """The trials ended so far, in the order they ended."""
        return list(self.end_order)

    def ongoing(self) -> dict:
        """tuner id -> the trial that tuner is running."""
        return dict(self.ongoing_trials)

    def has_tuners(self) -> bool:
        """Whether any tuner (worker) has asked for a trial and not yet been told to stop."""
        return bool(self.tuner_ids)

    def fail_lost_trial(self, tuner_id: str, trial, reason: str) -> None:
        """Ends the trial of a lost worker as FAILED with `reason`, and forgets that worker."""
        from keras_tuner.src.engine import trial as trial_module

        trial.status, trial.message = trial_module.TrialStatus.FAILED, reason
        self.end_trial(trial)
        self.tuner_ids.discard(tuner_id)


class GridOracleAdapter(OracleAdapter):
    """`OracleAdapter` for keras-tuner's grid search: override `next_grid_point` (keras-tuner's
    `_get_next_combination`); `grid_successor` is keras-tuner's own."""

    def _get_next_combination(self, values):
        return self.next_grid_point(values)

    def next_grid_point(self, values: dict) -> dict | None:
        """The grid point after `values`, None past the last (keras-tuner's walk, unless overridden)."""
        return self.grid_successor(values)

    def grid_successor(self, values: dict) -> dict | None:
        """keras-tuner's next grid point after `values`."""
        return super()._get_next_combination(values)


# keras-tuner's tuners --------------------------------------------------------------------------------


def construct_tuner(tuner, tuner_class: type, args: tuple, kwargs: dict, make_oracle: Callable[..., object],
                    needs_hypermodel: bool) -> None:
    """Initializes `tuner` as `tuner_class(*args, **kwargs)` would, but with the oracle `make_oracle(**arguments)`.

    keras-tuner's tuners (and convnas's `EvolutionTuner`) make their oracle from every named argument
    of their constructor but `hypermodel`, defaults included, and pass the rest to `keras_tuner.Tuner`.
    So a drop-in tuner takes the same arguments, positional ones included, and makes its own oracle
    (its convnas oracle class) from those `arguments`. Without a hypermodel, a tuner that `needs_hypermodel`
    (its `run_trial` is not a subclass's own) raises keras-tuner's ValueError, word for word.
    """
    import keras_tuner

    signature = inspect.signature(tuner_class.__init__)
    bound = signature.bind(tuner, *args, **kwargs)
    bound.apply_defaults()
    arguments, tuner_arguments = dict(bound.arguments), {}
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            tuner_arguments = arguments.pop(name)
    del arguments[next(iter(signature.parameters))]  # the tuner itself
    hypermodel = arguments.pop("hypermodel")
    if hypermodel is None and needs_hypermodel:  # keras-tuner's own check sees convnas's run_trial as overridden
        raise ValueError(
            "Received `hypermodel=None`. We only allow not specifying `hypermodel` if the user defines the search "
            "space in `Tuner.run_trial()` by subclassing a `Tuner` class without using a `HyperModel` instance."
        )
    keras_tuner.Tuner.__init__(tuner, make_oracle(**arguments), hypermodel, **tuner_arguments)


class TunerAdapter:
    """Tuner mixin, before `keras_tuner.Tuner`: its private hooks call public methods, its private helpers offered.

    Override `declare_space()` (keras-tuner's `_populate_initial_space`) and `build_and_fit()` (keras-tuner's
    `_build_and_fit_model`, which AutoKeras and users override in turn: `fit_candidate` calls it).
    """

    def _populate_initial_space(self):
        if not self.declare_space():
            super()._populate_initial_space()

    def _build_and_fit_model(self, trial, *args, **kwargs):
        return self.build_and_fit(trial, *args, **kwargs)

    def build_and_fit(self, trial, *args, **kwargs):
        """Builds and fits the model of `trial`, returns what `HyperModel.fit` returned (keras-tuner's way, unless
        overridden)."""
        return super()._build_and_fit_model(trial, *args, **kwargs)

    def fit_candidate(self, trial, *args, **kwargs):
        """One execution of `trial` through keras-tuner's `_build_and_fit_model`, as a subclass overrides it."""
        return self._build_and_fit_model(trial, *args, **kwargs)

    def trial_callbacks(self, trial, save_weights: Callable[[object], None]) -> list:
        """keras-tuner's per-trial callbacks: its `TunerCallback` (the tuner's `on_epoch_end` & co. hooks) and its
        checkpoint callback `SaveBestEpoch`, here saving as convnas scores a trial: `save_weights(model)` once as
        training ends (the last epoch's weights, whose metrics the trial reports), never after a non-finite loss."""
        import math

        from keras_tuner.src.engine import tuner_utils

        class SaveBestEpoch(tuner_utils.SaveBestEpoch):
            def on_epoch_end(self, epoch, logs=None):
                self.last_logs = logs or {}

            def on_train_end(self, logs=None):
                losses = [value for name, value in getattr(self, "last_logs", {}).items() if name.endswith("loss")]
                if all(math.isfinite(float(value)) for value in losses):
                    save_weights(self.model)

        return [tuner_utils.TunerCallback(self, trial),
                SaveBestEpoch(self.oracle.objective, self._get_checkpoint_fname(trial.trial_id))]

    def declare_space(self) -> bool:
        """Declares the search space on the oracle without building a model and returns True, or returns False
        for keras-tuner's way (building the hypermodel once per branch)."""
        return False

    def build_candidate(self, hp):
        """The model of `hp`, built as keras-tuner builds it (Hyperband loads the weights of the trial it continues)."""
        with warnings.catch_warnings():
            # Hyperband builds a promoted candidate from the checkpoint of the trial it continues: the weights
            # load, the state of a stateful optimizer (Adam) is skipped, and Keras warns of it.
            warnings.filterwarnings("ignore", "Skipping variable loading for optimizer", UserWarning)
            return self._try_build(hp)

    def execution_callbacks(self, callbacks: list, trial, execution: int, session_extras: dict | None = None,
                            session_run: str | None = None) -> list:
        """Copies of `callbacks` for one execution of `trial`, TensorBoard's pointed at its own session folder.

        Given `session_extras` (name: value), they join the trial's hyperparameters in the HParams session
        (the architecture in short, say), and `session_run` names the subfolder of the execution's folder the
        session goes to (the validation run Keras writes: no folder of its own). keras-tuner's own session
        callback is then not made at all: it would open an empty event file, a run of its own, as it is made."""
        copies = self._deepcopy_callbacks(callbacks)
        if session_extras is None:
            self._configure_tensorboard_dir(copies, trial, execution)
            return copies
        import keras

        boards = [c for c in copies if c.__class__.__name__ == "TensorBoard"]  # as keras-tuner finds them
        for board in boards:
            board.log_dir = self._get_tensorboard_dir(board.log_dir, trial.trial_id, execution)
        if keras.backend.backend() != "tensorflow":  # TensorBoard's HParams callback runs on TensorFlow alone
            return copies
        from tensorboard.plugins.hparams import api as hparams_api

        values = {**hparams_api_values(trial.hyperparameters), **session_extras}
        return copies + [hparams_api.KerasCallback(writer=os.path.join(board.log_dir, session_run or ""),
                                                   hparams=values, trial_id=trial.trial_id) for board in boards]

    def checkpoint_file(self, trial_id: str) -> str:
        """The weights file keras-tuner reads for a trial (`get_best_models`, Hyperband's continued trials)."""
        return self._get_checkpoint_fname(trial_id)

    def build_config_file(self, trial_id: str) -> str:
        """The build configuration keras-tuner keeps beside that checkpoint."""
        return self._get_build_config_fname(trial_id)

    def tuner_file(self) -> str:
        """Where keras-tuner keeps the tuner's state."""
        return self._get_tuner_fname()

    def runs_as_worker(self) -> bool:
        """Whether this tuner is a distributed worker (its oracle is the chief's)."""
        return self._is_worker()


def validate_fit_results(results, objective) -> None:
    """keras-tuner's check of what `HyperModel.fit` returned: its FatalTypeError or FatalValueError if unusable."""
    from keras_tuner.src.engine import tuner_utils

    tuner_utils.validate_trial_results(results, objective, "HyperModel.fit()")


def stopped_by_failures(error: BaseException) -> bool:
    """Whether `error` is keras-tuner stopping a search after `max_consecutive_failed_trials` failed trials."""
    return isinstance(error, RuntimeError) and "consecutive failures" in str(error)


def hparams_api_values(hyperparameters) -> dict:
    """The trial's values keyed by TensorBoard's `hparams_api.HParam`, as keras-tuner gives them to its session."""
    from keras_tuner.src.engine import tuner_utils
    from tensorboard.plugins.hparams import api as hparams_api

    return dict(tuner_utils.convert_hyperparams_to_hparams(hyperparameters, hparams_api))


def hparams_columns(hyperparameters) -> list:
    """TensorBoard's `hparams_api.HParam` of every hyperparameter of `hyperparameters` (keras-tuner's conversion)."""
    return list(hparams_api_values(hyperparameters))


class OracleService:
    """keras-tuner's gRPC oracle service for the workers of a distributed search, started at `address`.

    `heard` maps each worker's tuner id to when (time.monotonic) it was last heard from: asking for
    a trial, reporting on one, or asking for it at an epoch's end. keras-tuner 1.4.8 prints the first
    value of every hyperparameter condition whenever it sends a trial or the space (a `print` in
    `conditions.Parent.to_proto`): hundreds of bare values per search. The handlers run with stdout
    sent to os.devnull, under `console`, so that the chief's own lines, written under `console`,
    are never sent there.
    """

    def __init__(self, oracle, address: str, console: threading.Lock):
        from concurrent import futures

        import grpc
        from keras_tuner.src import protos
        from keras_tuner.src.distribute import oracle_chief

        service = self

        class Servicer(oracle_chief.OracleServicer):
            def GetSpace(self, request, context):
                return service._quietly(super().GetSpace, request, context)

            def CreateTrial(self, request, context):
                service._hear(tuner_id=request.tuner_id)
                return service._quietly(super().CreateTrial, request, context)

            def UpdateTrial(self, request, context):
                service._hear(trial_id=request.trial_id)
                return service._quietly(super().UpdateTrial, request, context)

            def GetTrial(self, request, context):
                service._hear(trial_id=request.trial_id)
                return service._quietly(super().GetTrial, request, context)

            def GetBestTrials(self, request, context):
                return service._quietly(super().GetBestTrials, request, context)

        self.oracle, self.console, self.heard = oracle, console, {}
        self.servicer = Servicer(oracle)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        protos.get_service_grpc().add_OracleServicer_to_server(self.servicer, self.server)
        self.server.add_insecure_port(address)
        self.server.start()

    def _hear(self, tuner_id: str | None = None, trial_id: str | None = None) -> None:
        if tuner_id is None:
            tuner_id = next((t for t, trial in self.oracle.ongoing().items() if trial.trial_id == trial_id), None)
        if tuner_id is not None:
            self.heard[tuner_id] = time.monotonic()

    def _quietly(self, handler, request, context):
        with self.console, open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere):
            return handler(request, context)

    def stop_requested(self) -> bool:
        """Whether the oracle has told a worker that the search is over."""
        return self.servicer.stop_triggered

    def stop(self, grace: float = 1) -> None:
        self.server.stop(grace=grace)
