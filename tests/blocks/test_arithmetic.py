"""Conv arithmetic: closed forms, textbook examples, and agreement with real Keras layers."""

import itertools

import keras
import numpy as np
import pytest

from convnas.blocks import arithmetic
from convnas.blocks.arithmetic import ConvLayer

pytestmark = pytest.mark.backends  # also run on JAX and PyTorch (the backend job)


@pytest.mark.parametrize(
    "size, kernel, strides, padding, expected",
    [
        (7, 3, 1, 0, 5),  # CS231n: 7x7 input, 3x3 filter, stride 1, pad 0 -> 5x5
        (7, 3, 2, 0, 3),  # ... stride 2 -> 3x3
        (227, 11, 4, 0, 55),  # AlexNet conv1
        (224, 7, 2, 3, 112),  # ResNet conv1
        (32, 5, 1, 2, 32),  # LeNet-style "same" by padding (F - 1) / 2
        (5, 3, 2, "same", 3),  # Keras "same": ceil(W / S)
        (5, 5, 1, "valid", 1),
    ],
)
def test_conv_output_size_textbook_examples(size, kernel, strides, padding, expected):
    assert arithmetic.conv_output_size(size, kernel, strides, padding) == expected


def test_conv_output_size_is_the_floor_formula_and_matches_keras():
    for size, kernel, strides, pad, dilation in itertools.product(
        (5, 8, 11), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2)
    ):
        if dilation > 1 and strides > 1:
            continue
        extent = dilation * (kernel - 1) + 1
        if extent > size + 2 * pad:
            continue
        expected = (size + 2 * pad - extent) // strides + 1
        assert arithmetic.conv_output_size(size, kernel, strides, pad, dilation) == expected
        layer = keras.layers.Conv2D(1, kernel, strides=strides, dilation_rate=dilation)
        padded = np.zeros((1, size + 2 * pad, size + 2 * pad, 1), "float32")
        assert layer(padded).shape[1] == expected


def test_pool_output_size_is_the_seed_formula():
    # W2 = (W1 - F) / S + 1
    assert arithmetic.pool_output_size(224, 2) == 112
    assert arithmetic.pool_output_size(55, 3, 2) == 27  # AlexNet overlapping pooling
    assert arithmetic.pool_output_size(7, 7) == 1


def test_transposed_output_size_matches_keras_for_every_mode():
    for size, kernel, strides, padding in itertools.product((3, 4, 7), (1, 2, 3, 4, 5), (1, 2, 3), ("same", "valid")):
        for output_padding in (None, *range(strides)):
            if padding == "same" and kernel % 2 == 0 and output_padding == 0:
                continue  # TensorFlow cannot run this case (see test_errors)
            layer = keras.layers.Conv2DTranspose(
                1, kernel, strides=strides, padding=padding, output_padding=output_padding
            )
            actual = layer(np.zeros((1, size, size, 1), "float32")).shape[1]
            assert arithmetic.transposed_conv_output_size(size, kernel, strides, padding, output_padding) == actual


def test_transposed_output_size_integer_padding_formula():
    assert arithmetic.transposed_conv_output_size(4, 4, 2, 1) == (4 - 1) * 2 + 4 - 2  # DCGAN-style doubling
    assert arithmetic.transposed_conv_output_size(4, 3, 2, 1, output_padding=1) == 8


def test_parameter_and_mac_closed_forms():
    assert arithmetic.conv_params(3, 64, 128) == 3 * 3 * 64 * 128 + 128
    assert arithmetic.conv_params(3, 64, 128, groups=4, use_bias=False) == 3 * 3 * 16 * 128
    assert arithmetic.conv_params((5,), 16, 8) == 5 * 16 * 8 + 8
    assert arithmetic.batch_norm_params(32) == 128
    assert arithmetic.dense_params(4096, 1000) == 4096 * 1000 + 1000
    assert arithmetic.conv_macs((14, 14), 3, 512, 512) == 14 * 14 * 9 * 512 * 512
    assert arithmetic.conv_macs((7, 7), 3, 32, 64, groups=8) == 49 * 9 * 4 * 64
    assert arithmetic.transposed_conv_macs((8, 8), 4, 16, 32) == 64 * 16 * 16 * 32


STACK = [
    ConvLayer(3, padding=1, filters=16),
    ConvLayer(2, strides=2),  # max pooling
    ConvLayer(3, strides=2, padding=1, filters=32, groups=2, use_bias=False),
    ConvLayer(4, strides=2, padding=1, filters=8, transposed=True),
]


def test_stack_costs_time_and_space_complexity():
    costs = arithmetic.stack_costs((32, 32, 3), STACK)
    assert [c.output_shape for c in costs] == [(32, 32, 16), (16, 16, 16), (8, 8, 32), (16, 16, 8)]
    params = [3 * 3 * 3 * 16 + 16, 0, 3 * 3 * 8 * 32, 4 * 4 * 32 * 8 + 8]
    macs = [32 * 32 * 9 * 3 * 16, 0, 8 * 8 * 9 * 8 * 32, 8 * 8 * 16 * 32 * 8]
    assert [c.params for c in costs] == params
    assert [c.macs for c in costs] == macs
    assert arithmetic.time_complexity((32, 32, 3), STACK) == sum(macs)
    space = arithmetic.space_complexity((32, 32, 3), STACK)
    activations = 32 * 32 * 16 + 16 * 16 * 16 + 8 * 8 * 32 + 16 * 16 * 8
    assert (space.weights, space.activations) == (sum(params), activations)
    assert space.bytes == 4 * (sum(params) + activations)
    assert arithmetic.space_complexity((32, 32, 3), STACK, bytes_per_element=2).bytes == space.bytes // 2


def test_stack_costs_match_a_real_keras_model():
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.ZeroPadding2D(1)(inputs)
    x = keras.layers.Conv2D(16, 3)(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", groups=2, use_bias=False)(x)
    model = keras.Model(inputs, x)
    costs = arithmetic.stack_costs((32, 32, 3), STACK[:3])
    assert costs[-1].output_shape == tuple(model.output.shape[1:])
    assert sum(c.params for c in costs) == model.count_params()


@pytest.mark.parametrize(
    "layers, expected",
    [
        ([ConvLayer(3)] * 2, 5),  # two 3x3 convs see 5x5 (VGG)
        ([ConvLayer(3)] * 3, 7),  # three see 7x7
        ([ConvLayer(3, dilation_rate=d) for d in (1, 2, 4)], 15),  # Yu & Koltun: 2^(i+2) - 1
        ([ConvLayer(3, dilation_rate=d) for d in (1, 2, 4, 8)], 31),
        ([ConvLayer(7, strides=2), ConvLayer(3, strides=2), ConvLayer(3)], 7 + 2 * 2 + 2 * 4),
        # AlexNet conv1-pool1-conv2
        ([ConvLayer(11, strides=4), ConvLayer(3, strides=2), ConvLayer(5)], 11 + 2 * 4 + 4 * 8),
    ],
)
def test_receptive_field(layers, expected):
    assert arithmetic.receptive_field(layers) == expected


def test_receptive_field_rejects_transposed_layers():
    with pytest.raises(ValueError, match="`layers` must be conv or pooling layers"):
        arithmetic.receptive_field([ConvLayer(3, transposed=True)])


def test_kernel_larger_than_padded_input():
    with pytest.raises(
        ValueError, match=r"`kernel_size` must not exceed the padded input size. Received: kernel_size=7"
    ):
        arithmetic.conv_output_size(4, 7, padding=1)
    with pytest.raises(ValueError, match=r"extent 5 with dilation_rate=2"):
        arithmetic.conv_output_size(4, 3, dilation_rate=2)
    assert arithmetic.conv_output_size(4, 5, padding=1) == 2


def test_output_padding_must_be_smaller_than_strides():
    with pytest.raises(
        ValueError, match=r"`output_padding` must be smaller than `strides`. Received: output_padding=2, strides=2"
    ):
        arithmetic.transposed_conv_output_size(4, 3, 2, "same", output_padding=2)
