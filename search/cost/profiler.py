"""TensorFlow's own FLOP count of a Keras model, for cross-checking the cost model.

The model is traced into a concrete function with a fixed batch, its
variables are frozen to constants, and `tf.compat.v1.profiler` with the
float-operation options counts every op (Conv2D, MatMul, BiasAdd, pooling,
element-wise ops, ...). Its per-op counts are summed over the ops with
floating-point outputs: the profiler also counts int32 shape arithmetic, such
as the 2 "FLOPs" of UpSampling2D's size computation.

Two Keras lowerings are replaced while tracing so that one conv becomes one
profiled Conv2D op: Keras runs grouped convolutions through an XLA-compiled
function, which the profiler sees as an opaque call worth 0 FLOPs (with every
op after it), and TensorFlow lowers a dilated conv to SpaceToBatch + Conv2D
on a padded grid, which counts multiplications by padding zeros.

The profiler does not count global max pooling (Max) or bilinear resizing;
`comparable_flops` leaves those layers out of the cost model's total. For a
transposed conv TensorFlow's statistic is 2 Hout Wout F^2 Cin Cout / S^2,
which equals the cost model's Hin Win F^2 Cin Cout count only when
Hout Wout = Hin Win S^2 ("same" padding).

The profiler route takes about 1 s for MobileNet and tens of seconds for
VGG16; `search.cost` computes the same numbers from shapes in milliseconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

from convnas.search.cost import Cost

# Layer types whose operations TensorFlow registers no flops statistic for.
PROFILER_BLIND = frozenset({"GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "UpSampling2D"})


@contextlib.contextmanager
def plain_convolutions() -> Iterator[None]:
    """While active, Keras's TensorFlow `conv` traces as a single Conv2D op, grouped or dilated."""
    import tensorflow as tf
    from keras.src.backend.tensorflow import nn as tensorflow_nn

    original = tensorflow_nn.conv

    def plain_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
        rank = len(inputs.shape) - 2
        data_format = tensorflow_nn._convert_data_format(data_format, len(inputs.shape))
        if rank == 2:
            return tf.nn.conv2d(inputs, kernel, strides, padding.upper(), data_format=data_format, dilations=dilation_rate)
        if rank == 1:
            return tf.nn.conv1d(inputs, kernel, strides, padding.upper(), data_format=data_format, dilations=dilation_rate)
        return original(inputs, kernel, strides, padding, data_format, dilation_rate)

    tensorflow_nn.conv = plain_conv
    try:
        yield
    finally:
        tensorflow_nn.conv = original


def profiler_flops(model: keras.Model, batch_size: int = 1) -> int:
    """Floating-point operations TensorFlow's profiler counts for one inference at `batch_size`."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    from tensorflow.python.util import deprecation

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"The TensorFlow profiler needs the TensorFlow backend. Received: backend={keras.backend.backend()!r}"
        )
    specs = [tf.TensorSpec((batch_size, *t.shape[1:]), t.dtype) for t in model.inputs]

    def forward(*inputs):
        return model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)

    with plain_convolutions():
        concrete = tf.function(forward).get_concrete_function(*specs)
    graph = convert_variables_to_constants_v2(concrete).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    with deprecation.silence():  # the registry's shape helper is a deprecated TF1 API
        profile = tf.compat.v1.profiler.profile(
            graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="scope", options=options
        )
    total, pending = 0, list(profile.children)
    while pending:
        node = pending.pop()
        pending.extend(node.children)
        if node.float_ops and graph.get_operation_by_name(node.name).outputs[0].dtype.is_floating:
            total += node.float_ops
    return total


def comparable_flops(cost: Cost) -> int:
    """The cost model's FLOPs less the layers the profiler does not count (`PROFILER_BLIND`)."""
    return sum(row.flops for row in cost.layers if row.type not in PROFILER_BLIND)
