"""Blocks against numpy references and closed forms: im2col, true conv, shuffle, highway, inception, upsampling."""

import keras
import numpy as np
import pytest
from numpy_reference import cross_correlate, true_convolve

from convnas import blocks
from convnas.blocks import arithmetic
from convnas.search import cost

pytestmark = pytest.mark.backends  # also run on JAX and PyTorch (the backend job)


def numpy_of(tensor):
    return keras.ops.convert_to_numpy(tensor)


def conv_pair(name, filters, kernel_size, strides, padding, inputs):
    """A Keras Conv2D (through the `conv` block) and block `name`, sharing one random kernel and bias."""
    reference = blocks.get_block("conv")(filters, kernel_size, strides=strides, padding=padding)
    other = blocks.get_block(name)(filters, kernel_size, strides=strides, padding=padding)
    reference.build(inputs.shape)
    other.build(inputs.shape)
    rng = np.random.default_rng(1)
    kernel, bias = (rng.normal(size=w.shape).astype("float32") for w in reference.get_weights())
    reference.set_weights([kernel, bias])
    return reference, other, kernel, bias


@pytest.mark.parametrize("kernel_size, strides, padding", [(3, 1, 0), (3, 2, 1), (4, 3, 2), (5, 2, 0), (1, 1, 0)])
def test_im2col_and_numpy_equal_keras_conv2d(kernel_size, strides, padding):
    inputs = np.random.default_rng(0).normal(size=(2, 10, 13, 5)).astype("float32")
    reference, im2col, kernel, bias = conv_pair("im2col_conv", 7, kernel_size, strides, padding, inputs)
    im2col.set_weights([kernel, bias])
    keras_out = numpy_of(reference(inputs))
    np.testing.assert_allclose(numpy_of(im2col(inputs)), keras_out, atol=1e-5, rtol=1e-5)
    expected = cross_correlate(inputs, kernel, (strides, strides), padding) + bias
    np.testing.assert_allclose(keras_out, expected, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_im2col_equals_conv_with_keras_padding_modes(padding):
    inputs = np.random.default_rng(2).normal(size=(1, 9, 8, 3)).astype("float32")
    reference, im2col, kernel, bias = conv_pair("im2col_conv", 4, 3, 2, padding, inputs)
    im2col.set_weights([kernel, bias])
    np.testing.assert_allclose(numpy_of(im2col(inputs)), numpy_of(reference(inputs)), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kernel_size, strides, padding", [(3, 1, 1), ((2, 3), 1, 0), (4, 2, 2)])
def test_true_conv_is_cross_correlation_with_flipped_kernel(kernel_size, strides, padding):
    inputs = np.random.default_rng(3).normal(size=(2, 8, 9, 3)).astype("float32")
    reference, true_conv, kernel, bias = conv_pair("true_conv", 4, kernel_size, strides, padding, inputs)
    # True convolution with the flipped kernel equals Keras's cross-correlation with the kernel...
    true_conv.set_weights([kernel[::-1, ::-1], bias])
    np.testing.assert_allclose(numpy_of(true_conv(inputs)), numpy_of(reference(inputs)), atol=1e-5, rtol=1e-5)
    # ... and with the kernel itself it is the signal-processing convolution.
    true_conv.set_weights([kernel, bias])
    expected = true_convolve(inputs, kernel, (strides, strides), padding) + bias
    np.testing.assert_allclose(numpy_of(true_conv(inputs)), expected, atol=1e-4, rtol=1e-5)
    asymmetric = np.abs(numpy_of(true_conv(inputs)) - numpy_of(reference(inputs))).max()
    assert asymmetric > 1e-2  # a random kernel is not flip-symmetric: the two operations differ


@pytest.mark.parametrize("groups, channels", [(2, 8), (3, 12), (4, 8), (1, 5), (6, 6)])
def test_channel_shuffle_is_the_shufflenet_permutation(groups, channels):
    inputs = np.broadcast_to(np.arange(channels, dtype="float32"), (1, 2, 3, channels))
    shuffled = numpy_of(blocks.get_block("channel_shuffle")(groups)(inputs))
    per_group = channels // groups
    # Channel j of group i (index i * n + j) moves to position j * g + i.
    expected = np.array([i * per_group + j for j in range(per_group) for i in range(groups)], dtype="float32")
    np.testing.assert_array_equal(shuffled[0, 1, 2], expected)
    np.testing.assert_array_equal(np.sort(shuffled[0, 0, 0]), np.arange(channels))


def test_highway_with_closed_gate_is_the_identity():
    inputs = np.random.default_rng(4).normal(size=(2, 6, 7, 5)).astype("float32")
    highway = blocks.get_block("highway")(kernel_size=3, gate_bias=-100.0)
    highway.build(inputs.shape)
    gate = highway.transform_gate
    gate.set_weights([np.zeros_like(gate.get_weights()[0]), gate.get_weights()[1]])
    np.testing.assert_array_equal(numpy_of(highway(inputs)), inputs)


def test_highway_gate_starts_mostly_carrying_and_opens_as_the_formula_says():
    inputs = np.random.default_rng(5).normal(size=(1, 5, 5, 4)).astype("float32")
    highway = blocks.get_block("highway")(gate_bias=-2.0)
    highway.build(inputs.shape)
    transformed = numpy_of(highway.transform(inputs))
    gate = numpy_of(highway.transform_gate(inputs))
    np.testing.assert_allclose(numpy_of(highway(inputs)), transformed * gate + inputs * (1 - gate), atol=1e-6)
    assert gate.mean() < 0.5


def test_highway_with_batch_norm_is_relu_of_bn_of_a_biasless_conv():
    """H(x) = ReLU(BN(conv(x))) without a conv bias, the gate a sigmoid conv with its bias: checked in numpy."""
    rng = np.random.default_rng(6)
    inputs = rng.normal(size=(2, 5, 6, 4)).astype("float32")
    highway = blocks.get_block("highway")(kernel_size=3, gate_bias=-2.0, use_batch_norm=True)
    highway.build(inputs.shape)
    k, c = 3, 4
    # no transform bias; BN's 4 per channel
    assert highway.count_params() == (k * k * c * c + 4 * c) + (k * k * c * c + c)
    assert highway.transform.bias is None and highway.transform_gate.get_weights()[1].tolist() == [-2.0] * c
    norm = highway.normalization[0]
    gamma, beta, mean, variance = (rng.uniform(0.5, 1.5, size=c).astype("float32") for _ in range(4))
    norm.set_weights([gamma, beta, mean, variance])
    kernel = highway.transform.get_weights()[0]
    gate_kernel, gate_bias = highway.transform_gate.get_weights()
    transformed = np.maximum(
        (cross_correlate(inputs, kernel, padding=1) - mean) / np.sqrt(variance + norm.epsilon) * gamma + beta, 0
    )
    gate = 1 / (1 + np.exp(-(cross_correlate(inputs, gate_kernel, padding=1) + gate_bias)))
    expected = transformed * gate + inputs * (1 - gate)
    np.testing.assert_allclose(numpy_of(highway(inputs, training=False)), expected, atol=1e-5)


@pytest.mark.parametrize("training", [False, True])
def test_highway_with_batch_norm_and_a_closed_gate_still_carries_its_input(training):
    inputs = np.random.default_rng(7).normal(size=(2, 6, 7, 5)).astype("float32")
    highway = blocks.get_block("highway")(kernel_size=3, gate_bias=-100.0, use_batch_norm=True)
    highway.build(inputs.shape)
    gate = highway.transform_gate
    gate.set_weights([np.zeros_like(gate.get_weights()[0]), gate.get_weights()[1]])
    np.testing.assert_array_equal(numpy_of(highway(inputs, training=training)), inputs)


def test_highway_with_batch_norm_round_trips_its_config():
    highway = blocks.get_block("highway")(kernel_size=5, gate=False, use_batch_norm=True)
    config = highway.get_config()
    assert (config["use_batch_norm"], config["gate"], config["kernel_size"]) == (True, False, 5)
    clone = type(highway).from_config(config)
    clone.build((1, 6, 6, 3))
    assert clone.use_batch_norm and clone.count_params() == 25 * 3 * 3 + 4 * 3


def test_inception_without_reductions_keeps_its_width_and_the_naive_module_widens():
    """Szegedy et al. 2015: dropping the 3x3/5x5 reductions keeps the pool projection (and the width).

    Fig. 2a drops it too.
    """
    widths = {"filters_1x1": 16, "filters_3x3_reduce": 16, "filters_3x3": 32, "filters_5x5_reduce": 8, "filters_5x5": 8,
              "filters_pool_proj": 8}
    inputs, c = np.zeros((1, 6, 6, 24), "float32"), 24
    without = blocks.get_block("inception")(**widths, use_reductions=False)
    naive = blocks.get_block("inception")(**widths, use_reductions=False, use_pool_projection=False)
    assert numpy_of(without(inputs)).shape[-1] == 16 + 32 + 8 + 8
    assert numpy_of(naive(inputs)).shape[-1] == 16 + 32 + 8 + c
    spatial = c * 16 + 16 + 9 * c * 32 + 32 + 25 * c * 8 + 8  # 1x1, 3x3 and 5x5 on every input channel
    assert without.count_params() == spatial + c * 8 + 8 and naive.count_params() == spatial


@pytest.mark.parametrize("kernel_size", [2, 3, 4])
@pytest.mark.parametrize("strides", [1, 2, 3])
@pytest.mark.parametrize("padding", ["same", "valid", 1])
def test_transposed_conv_output_size_follows_the_formula(kernel_size, strides, padding):
    size = 5
    inputs = np.zeros((1, size, size + 1, 2), "float32")
    block = blocks.get_block("transposed_conv")(3, kernel_size, strides=strides, padding=padding)
    shape = numpy_of(block(inputs)).shape
    if padding == "same":
        expected = (size * strides, (size + 1) * strides)
    elif padding == "valid":
        expected = tuple(w * strides + max(kernel_size - strides, 0) for w in (size, size + 1))
    else:  # (W - 1) S + F - 2P
        expected = tuple((w - 1) * strides + kernel_size - 2 * padding for w in (size, size + 1))
    assert shape[1:3] == expected


@pytest.mark.parametrize("output_padding", [0, 1])
def test_transposed_conv_output_padding(output_padding):
    block = blocks.get_block("transposed_conv")(3, 3, strides=2, padding=1, output_padding=output_padding)
    shape = numpy_of(block(np.zeros((1, 4, 4, 2), "float32"))).shape
    assert shape[1] == (4 - 1) * 2 + 3 - 2 * 1 + output_padding


@pytest.mark.parametrize("kernel_size", [2, 3, 4])
@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_upsample_conv_output_size_follows_the_formula(kernel_size, size, interpolation):
    inputs = np.zeros((1, 5, 6, 2), "float32")
    same = blocks.get_block("upsample_conv")(3, kernel_size, size=size, interpolation=interpolation)
    valid = blocks.get_block("upsample_conv")(3, kernel_size, size=size, interpolation=interpolation, padding="valid")
    assert numpy_of(same(inputs)).shape[1:3] == (5 * size, 6 * size)
    assert numpy_of(valid(inputs)).shape[1:3] == (5 * size - kernel_size + 1, 6 * size - kernel_size + 1)


def test_nearest_upsample_conv_of_a_constant_image_is_constant_inside():
    """Resize-then-conv has no checkerboard: a flat input gives a flat output away from the border."""
    block = blocks.get_block("upsample_conv")(2, 3, size=2)
    out = numpy_of(block(np.ones((1, 6, 6, 3), "float32")))[0, 1:-1, 1:-1]
    np.testing.assert_allclose(out, np.broadcast_to(out[0, 0], out.shape), atol=1e-6)


def test_mobilenet_table_3_standard_vs_depthwise_separable():
    """Howard et al. 2017, Table 3: one 14x14x512 layer, 3x3 kernels, 512 -> 512 channels."""
    inputs = keras.Input((14, 14, 512))
    standard = keras.Model(inputs, blocks.get_block("conv")(512, 3, use_bias=False)(inputs))
    separable = keras.Model(
        inputs,
        blocks.get_block("depthwise_separable_conv")(512, 3, use_batch_norm=False, activation=None)(inputs),
    )
    standard_cost, separable_cost = cost.count(standard), cost.count(separable)
    assert round(standard_cost.macs / 1e6) == 462  # paper: 462 million mult-adds
    assert round(standard.count_params() / 1e6, 2) == 2.36  # paper: 2.36 million parameters
    assert round(separable_cost.macs / 1e6, 1) == 52.3  # paper: 52.3 million mult-adds
    assert round(separable.count_params() / 1e6, 2) == 0.27  # paper: 0.27 million parameters
    # The same figures from the pure arithmetic.
    assert arithmetic.conv_macs((14, 14), 3, 512, 512) == standard_cost.macs
    depthwise = arithmetic.conv_macs((14, 14), 3, 512, 512, groups=512)
    assert depthwise + arithmetic.conv_macs((14, 14), 1, 512, 512) == separable_cost.macs


def cifar_resnet(depth):
    """He et al. 2016, section 4.2: 6n + 2 layers, widths 16/32/64, option A shortcuts."""
    n = (depth - 2) // 6
    inputs = keras.Input((32, 32, 3))
    x = blocks.get_block("conv")(16, 3, use_bias=False)(inputs)
    x = keras.layers.Activation("relu")(keras.layers.BatchNormalization()(x))
    for stage, width in enumerate((16, 32, 64)):
        for index in range(n):
            strides = 2 if stage and not index else 1
            x = blocks.get_block("residual")(width, strides=strides, shortcut_type="zero_pad")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


@pytest.mark.parametrize("depth, millions", [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85)])
def test_cifar_resnet_parameters_match_he_et_al(depth, millions):
    model = cifar_resnet(depth)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert round(trainable / 1e6, 2) == millions
