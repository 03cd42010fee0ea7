"""The cost model: published figures, per-layer rows, nesting, batch size, uncounted layers, latency."""

import keras
import numpy as np
import pytest

from convnas import blocks
from convnas.search import cost

pytestmark = pytest.mark.backends  # also run on JAX and PyTorch (the backend job)


@pytest.mark.parametrize(
    "application, macs, params",
    [
        (keras.applications.MobileNet, 569e6, 4.2e6),  # Howard et al. 2017, Table 4: 569M mult-adds, 4.2M
        (keras.applications.MobileNetV2, 300e6, 3.5e6),  # Sandler et al. 2018, Table 8: 300M, 3.4M
        (keras.applications.ResNet50, 3.86e9, 25.6e6),  # He et al. 2016: 3.8 x 10^9 FLOPs (mult-adds)
    ],
)
def test_published_figures(application, macs, params):
    model = application(weights=None, input_shape=(224, 224, 3))
    counted = cost.count(model)
    assert counted.params == model.count_params()
    assert abs(counted.macs - macs) / macs < 0.01
    assert abs(counted.params - params) / params < 0.03
    assert counted.uncounted == []
    assert counted.weight_bytes == 4 * counted.params


def block_model():
    inputs = keras.Input((16, 16, 3))
    x = blocks.get_block("conv")(8, 3, padding=1)(inputs)
    x = blocks.get_block("residual")(16, strides=2)(x)
    x = blocks.get_block("transposed_conv")(4, 3, strides=2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def test_rows_walk_into_blocks_and_add_up():
    model = block_model()
    counted = cost.count(model)
    names = [row.name for row in counted.layers]
    assert any(name.startswith("residual") and "/conv2d" in name for name in names)
    assert sum(row.params for row in counted.layers) == model.count_params()
    assert counted.macs == sum(row.macs for row in counted.layers)
    assert counted.flops == sum(row.flops for row in counted.layers)
    transposed = next(row for row in counted.layers if row.type == "Conv2DTranspose")
    assert transposed.macs == 8 * 8 * 3 * 3 * 16 * 4  # Hin * Win * F^2 * Cin * Cout, not Hout * Wout ...
    assert transposed.output_shape == (1, 16, 16, 4)
    dense = next(row for row in counted.layers if row.type == "Dense")
    assert (dense.macs, dense.flops) == (4 * 10, 2 * 40 + 10)
    assert counted.activation_bytes == 4 * sum(int(np.prod(row.output_shape)) for row in counted.layers)


@pytest.mark.parametrize("policy, weight_size, activation_size", [("float64", 8, 8), ("mixed_bfloat16", 4, 2)])
def test_memory_counts_the_bytes_of_each_dtype(policy, weight_size, activation_size):
    keras.config.set_dtype_policy(policy)
    try:
        model = block_model()
    finally:
        keras.config.set_dtype_policy("float32")
    counted = cost.count(model)
    assert counted.weight_bytes == weight_size * counted.params
    assert counted.activation_bytes == activation_size * sum(int(np.prod(row.output_shape)) for row in counted.layers)


def test_counting_leaves_no_trace_in_the_model():
    model = block_model()
    residual = model.layers[2]
    before = [(len(s._inbound_nodes), len(s._outbound_nodes)) for s in residual._flatten_layers(include_self=False)]
    first, second = cost.count(model), cost.count(model)
    after = [(len(s._inbound_nodes), len(s._outbound_nodes)) for s in residual._flatten_layers(include_self=False)]
    assert before == after
    assert first == second


def test_batch_size_scales_work_not_weights():
    model = block_model()
    one, four = cost.count(model), cost.count(model, batch_size=4)
    assert four.macs == 4 * one.macs
    assert four.activation_bytes == 4 * one.activation_bytes
    assert (four.params, four.weight_bytes) == (one.params, one.weight_bytes)
    bn_rows = [row for row in one.layers if row.type == "BatchNormalization"]
    # Per-channel folding of BatchNorm statistics does not grow with the batch.
    assert four.flops - 4 * one.flops == -3 * sum(row.flops - 2 * int(np.prod(row.output_shape)) for row in bn_rows)


def test_nested_and_sequential_models_are_walked():
    inner = block_model()
    inputs = keras.Input((16, 16, 3))
    outer = keras.Model(inputs, keras.layers.Dense(2)(inner(inputs)))
    counted, inner_counted = cost.count(outer), cost.count(inner)
    assert counted.macs == inner_counted.macs + 10 * 2
    assert all(row.name.startswith(inner.name + "/") for row in counted.layers[:-1])
    sequential = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.Flatten()])
    assert cost.count(sequential).macs == 6 * 6 * 9 * 3 * 4


class Scale(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2.0


def test_layers_without_a_formula_are_listed_and_warned_never_zero_silently():
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1)(Scale(name="scale")(inputs)))
    with pytest.warns(UserWarning, match=r"No cost formula for 1 layer\(s\): scale \(Scale\)"):
        counted = cost.count(model)
    assert counted.uncounted == ["scale (Scale)"]
    assert [row.type for row in counted.layers] == ["Conv2D"]


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer. Received: batch_size=0"):
        cost.count(block_model(), batch_size=0)

    class Free(keras.Model):
        def call(self, inputs):
            return inputs

    with pytest.raises(ValueError, match=r"`model` must be built"):
        cost.count(Free())


def test_latency_is_a_positive_median_in_milliseconds():
    model = block_model()
    milliseconds = cost.latency(model, batch_size=2, repeats=5)
    assert 0 < milliseconds < 10_000
    with pytest.raises(ValueError, match=r"`repeats` must be a positive integer. Received: repeats=0"):
        cost.latency(model, repeats=0)


def test_keras_ops_in_a_functional_graph_are_listed_as_uncounted():
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.ops.add(inputs, keras.layers.Conv2D(3, 1)(inputs)))
    with pytest.warns(UserWarning, match=r"No cost formula"):
        counted = cost.count(model)
    assert len(counted.uncounted) == 1 and counted.uncounted[0].endswith("(Add)")
    assert counted.macs == 16 * 3 * 3
