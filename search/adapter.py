"""The one adapter to keras-tuner, Keras and TensorFlow internals: private hooks, private state, message texts.

convnas builds on these libraries' public classes. Where no public API does the job, the code that
reaches in lives here, and the rest of convnas uses only the public names below. Every private name
used here is listed in `search.private_api`, whose test fails naming any the installed versions lack;
the library messages matched here are named where they are matched. Nothing is patched at import time.

- keras-tuner's oracles: `OracleAdapter` (and `GridOracleAdapter`), listed right before a keras-tuner
  oracle class among a convnas oracle's bases, turn its private hooks into public methods
  (`save_trial`, `random_values`, `next_grid_point`) and its private state into methods.
- keras-tuner's tuners: `construct_tuner` makes a drop-in tuner with its own oracle from the
  arguments of the keras-tuner tuner it replaces; `TunerAdapter` declares a space through
  `declare_space` and offers the tuner's private helpers as methods; `OracleService` serves an
  oracle to distributed workers; `hparams_columns`, `stopped_by_failures`.
- Keras: `flatten_layers`, a model's graph (`functional_graph`, `graph_calls`, `sublayer_calls`), the
  download cache (`keras_home`) and `get_file`'s notices and errors (`DownloadNotices`,
  `fetch_failure`), convolutions traced as one op (`plain_tensorflow_convolutions`).
- TensorFlow: `frozen_graph`, `silenced_deprecations`.

TensorFlow, Keras and keras-tuner are imported inside the functions that use them: importing this
module imports none of them.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator

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


def construct_tuner(tuner, tuner_class: type, args: tuple, kwargs: dict, make_oracle: Callable[..., object]) -> None:
    """Initializes `tuner` as `tuner_class(*args, **kwargs)` would, but with the oracle `make_oracle(**arguments)`.

    keras-tuner's tuners (and convnas's `EvolutionTuner`) make their oracle from every named argument
    of their constructor but `hypermodel`, defaults included, and pass the rest to `keras_tuner.Tuner`.
    So a drop-in tuner takes the same arguments, positional ones included, and makes its own oracle
    (its convnas oracle class) from those `arguments`.
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
    keras_tuner.Tuner.__init__(tuner, make_oracle(**arguments), hypermodel, **tuner_arguments)


class TunerAdapter:
    """Tuner mixin, before `keras_tuner.Tuner`: its private hooks call public methods, its private helpers offered.

    Override `declare_space()` (keras-tuner's `_populate_initial_space`).
    """

    def _populate_initial_space(self):
        if not self.declare_space():
            super()._populate_initial_space()

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


# Keras -----------------------------------------------------------------------------------------------


def flatten_layers(layer, include_self: bool = True, recursive: bool = True) -> list:
    """`layer` (if `include_self`) and its sublayers, at every depth (or only the direct ones)."""
    return layer._flatten_layers(include_self=include_self, recursive=recursive)


def functional_graph(layer):
    """The functional model whose graph `layer` runs (a sequential model's inner one), or None if it has no graph."""
    import keras

    if isinstance(layer, keras.Sequential) and layer._functional is not None:
        layer = layer._functional
    return layer if hasattr(layer, "_nodes_by_depth") else None


def graph_calls(model) -> Iterator[tuple[object, list, object]]:
    """(operation, input tensors, first output tensor) of every call in a functional graph, inputs first."""
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            if node.is_input or node.operation is None:
                continue
            yield node.operation, list(node.input_tensors), node.outputs[0]


def sublayer_calls(sublayers: list, call: Callable[[], object]) -> list[tuple[object, list, object]]:
    """(sublayer, input tensors, first output tensor) of each call of one of `sublayers` that `call()` makes.

    `call` runs on symbolic tensors; the graph nodes it records on the sublayers are removed afterwards,
    so that the layers are left as they were.
    """
    marks = [(sub, len(sub._inbound_nodes), len(sub._outbound_nodes)) for sub in sublayers]
    try:
        call()
        return [(sub, list(node.input_tensors), node.outputs[0])
                for sub, inbound, _ in marks for node in sub._inbound_nodes[inbound:]]
    finally:
        for sub, inbound, outbound in marks:
            del sub._inbound_nodes[inbound:]
            del sub._outbound_nodes[outbound:]


def keras_home() -> str:
    """Keras's home folder, where `keras.utils.get_file` caches: KERAS_HOME as it was when Keras was imported,
    else ~/.keras (not expanded)."""
    from keras.src.backend import config

    return config.keras_home()


class DownloadNotices(io.TextIOBase):
    """Stands in for stdout while a `keras.datasets` loader runs: Keras's notices before a download are held back.

    `keras.utils.get_file` prints "Downloading data from URL" (after "A local file was found, but ..."
    for a cached file with the wrong hash) before it connects. Those lines are held; anything else
    written (the progress bar: the download is under way) writes them out and passes through.
    `release()` writes out what is still held; a loader that fails can drop it, and say what the
    notices said (`origin()`).
    """

    NOTICES = ("Downloading data from ", "A local file was found")

    def __init__(self, target):
        super().__init__()
        self.target, self.held = target, []

    def write(self, text: str) -> int:
        if self.held is not None and text.startswith(self.NOTICES):
            self.held.append(text)
        else:
            self.release()
            self.target.write(text)
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:  # Keras's progress bar redraws in place on a terminal
        return self.target.isatty()

    @property
    def encoding(self) -> str | None:
        return getattr(self.target, "encoding", None)

    def release(self) -> None:
        for text in self.held or ():
            self.target.write(text)
        self.held = None

    def origin(self) -> str | None:
        """The URL of the download Keras announced, if one was."""
        found = re.search(r"Downloading data from (\S+)", "".join(self.held or ()))
        return found.group(1) if found else None


def fetch_failure(error: BaseException) -> tuple[str, str] | None:
    """(URL, reason) when `error` is `get_file`'s "URL fetch failure on URL: ..." (offline, say), else None.

    The reason is urllib's last part: "None -- [Errno 111] Connection refused" gives the errno and reason.
    """
    fetch = re.fullmatch(r"URL fetch failure on (\S+): (.*)", " ".join(str(error).split()))
    if fetch is None:
        return None
    return fetch.group(1), fetch.group(2).split(" -- ")[-1]


@contextlib.contextmanager
def plain_tensorflow_convolutions() -> Iterator[None]:
    """While active, Keras's TensorFlow `conv` traces as a single Conv2D (or Conv1D) op, grouped or dilated."""
    import tensorflow as tf
    from keras.src.backend.tensorflow import nn as tensorflow_nn

    original = tensorflow_nn.conv

    def plain_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
        rank = len(inputs.shape) - 2
        data_format = tensorflow_nn._convert_data_format(data_format, len(inputs.shape))
        if rank in (1, 2):
            plain = tf.nn.conv2d if rank == 2 else tf.nn.conv1d
            return plain(inputs, kernel, strides, padding.upper(), data_format=data_format, dilations=dilation_rate)
        return original(inputs, kernel, strides, padding, data_format, dilation_rate)

    tensorflow_nn.conv = plain_conv
    try:
        yield
    finally:
        tensorflow_nn.conv = original


# TensorFlow ------------------------------------------------------------------------------------------


def frozen_graph(concrete_function):
    """The graph of a concrete function with its variables frozen to constants."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    return convert_variables_to_constants_v2(concrete_function).graph


def silenced_deprecations():
    """A context in which TensorFlow's deprecation warnings are not printed."""
    from tensorflow.python.util import deprecation

    return deprecation.silence()
