"""Keras's and TensorFlow's internals: layers' graphs and calls, the download cache and its notices, traced convs.

Part of the one adapter (search.adapter, whose docstring lists what each part offers); the private
names used here are listed in `search.private_api`. Keras and TensorFlow are imported inside the functions.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator

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
def float64_computation() -> Iterator[None]:
    """While active, Keras ops on float64 tensors compute in float64 on every backend.

    Keras's type promotion turns float64 results into float32 on JAX and PyTorch (to match JAX's
    default, `dtypes.BIT64_TO_BIT32_DTYPE`), and JAX keeps 64-bit types off unless asked: this
    context lifts both, then puts them back.
    """
    import keras
    from keras.src.backend.common import dtypes

    promotion = dtypes.BIT64_TO_BIT32_DTYPE
    saved = promotion.get("float64")
    promotion["float64"] = "float64"
    try:
        if keras.backend.backend() == "jax":
            import jax

            with jax.enable_x64(True):
                yield
        else:
            yield
    finally:
        promotion["float64"] = saved


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
