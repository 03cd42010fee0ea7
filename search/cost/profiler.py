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
The replaced lowering, the freezing and TensorFlow's deprecation notices are
`search.adapter`'s (TensorFlow and Keras internals).
"""

from __future__ import annotations

import keras

from convnas.search import adapter
from convnas.search.cost import Cost

# Layer types whose operations TensorFlow registers no flops statistic for.
PROFILER_BLIND = frozenset({"GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "UpSampling2D"})


def profiler_flops(model: keras.Model, batch_size: int = 1) -> int:
    """Floating-point operations TensorFlow's profiler counts for one inference at `batch_size`."""
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"The TensorFlow profiler needs the TensorFlow backend. Received: backend={keras.backend.backend()!r}"
        )
    specs = [tf.TensorSpec((batch_size, *t.shape[1:]), t.dtype) for t in model.inputs]

    def forward(*inputs):
        return model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)

    with adapter.plain_tensorflow_convolutions():
        concrete = tf.function(forward).get_concrete_function(*specs)
    graph = adapter.frozen_graph(concrete)
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    with adapter.silenced_deprecations():  # the registry's shape helper is a deprecated TF1 API
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
