"""Bad arguments raise ValueError naming the argument and the value received."""

import inspect

import keras
import numpy as np
import pytest

from convnas import blocks

pytestmark = pytest.mark.backends  # also run on JAX and PyTorch (the backend job)

WITH_FILTERS = [
    n for n in blocks.list_blocks() if "filters" in inspect.signature(blocks.get_block(n).__init__).parameters
]


@pytest.mark.parametrize("name", WITH_FILTERS)
@pytest.mark.parametrize("filters", [0, -3, 2.5])
def test_non_positive_filters(name, filters):
    kwargs = {"filters": filters}
    if name == "pool":
        kwargs["mode"] = "strided_conv"
    with pytest.raises(ValueError, match=rf"`filters` must be a positive integer. Received: filters={filters}"):
        blocks.get_block(name)(**kwargs)


@pytest.mark.parametrize("name", ["grouped_conv", "pointwise_grouped_conv"])
def test_groups_not_dividing_input_channels(name):
    block = blocks.get_block(name)(filters=6, groups=3)
    with pytest.raises(ValueError, match=r"`groups` must divide the input channels \(8\). Received: groups=3"):
        block(np.zeros((1, 5, 5, 8), "float32"))


def test_groups_not_dividing_filters():
    with pytest.raises(ValueError, match=r"`groups` must divide filters \(10\). Received: groups=4"):
        blocks.get_block("grouped_conv")(10, groups=4)


def test_channel_shuffle_and_shuffle_unit_groups():
    with pytest.raises(ValueError, match=r"`groups` must divide the input channels \(10\). Received: groups=3"):
        blocks.get_block("channel_shuffle")(3)(np.zeros((1, 2, 2, 10), "float32"))
    with pytest.raises(ValueError, match=r"`groups` must divide the input channels \(6\). Received: groups=4"):
        blocks.get_block("shuffle_unit")(6, groups=4)(np.zeros((1, 4, 4, 6), "float32"))


@pytest.mark.parametrize("name", ["conv", "true_conv", "im2col_conv", "nin", "spatially_separable_conv"])
def test_kernel_larger_than_padded_input(name):
    block = blocks.get_block(name)(4, kernel_size=5, padding="valid")
    with pytest.raises(
        ValueError, match=r"`kernel_size` must not exceed the padded input size. Received: kernel_size=5"
    ):
        block(np.zeros((1, 3, 3, 2), "float32"))


def test_kernel_larger_than_input_in_a_model_fails_at_construction():
    inputs = keras.Input((3, 3, 2))
    with pytest.raises(ValueError, match=r"`kernel_size` must not exceed the padded input size"):
        blocks.get_block("conv")(4, 5, padding=0)(inputs)


def test_unknown_pooling_mode():
    with pytest.raises(
        ValueError, match=r"`mode` must be one of 'max', 'avg', 'none', 'strided_conv'. Received: mode='median'"
    ):
        blocks.get_block("pool")(mode="median")


def test_unknown_block_name_lists_the_valid_names():
    with pytest.raises(ValueError) as error:
        blocks.get_block("separable")
    message = str(error.value)
    assert "Received: name='separable'" in message
    for name in blocks.list_blocks():
        assert name in message


@pytest.mark.parametrize(
    "name, kwargs, pattern",
    [
        (
            "conv", {"filters": 4, "padding": "full"},
            r"`padding` must be 'same', 'valid' or a non-negative integer. Received: padding='full'",
        ),
        ("conv", {"filters": 4, "padding": -1}, r"Received: padding=-1"),
        (
            "conv", {"filters": 4, "kernel_size": (3, 0)},
            r"`kernel_size` must be a positive integer or a sequence of 2 positive integers. "
            r"Received: kernel_size=\(3, 0\)",
        ),
        (
            "conv", {"filters": 4, "strides": 2, "dilation_rate": 2},
            r"`strides` must be 1 when `dilation_rate` is greater than 1",
        ),
        (
            "conv", {"filters": 4, "activation": "nope"},
            r"`activation` must be None or the name of a Keras activation. Received: activation='nope'",
        ),
        (
            "upsample_conv", {"filters": 4, "interpolation": "cubic"},
            r"`interpolation` must be one of 'nearest', 'bilinear'. Received: interpolation='cubic'",
        ),
        (
            "transposed_conv", {"filters": 4, "strides": 2, "output_padding": 2},
            r"`output_padding` must be smaller than `strides`",
        ),
        (
            "transposed_conv", {"filters": 4, "kernel_size": 4, "output_padding": 0},
            r"`output_padding` must be at least 1 \(or None\) with padding='same' and an even kernel_size",
        ),
        (
            "residual", {"filters": 4, "variant": "wide"},
            r"`variant` must be one of 'basic', 'bottleneck'. Received: variant='wide'",
        ),
        (
            "residual", {"filters": 6, "variant": "bottleneck"},
            r"`expansion` must divide filters \(6\). Received: expansion=4",
        ),
        ("residual", {"filters": 4, "shortcut": "yes"}, r"`shortcut` must be True or False. Received: shortcut='yes'"),
        ("shuffle_unit", {"filters": 8, "strides": 3}, r"`strides` must be one of 1, 2. Received: strides=3"),
        ("highway", {"gate_bias": "low"}, r"`gate_bias` must be a number. Received: gate_bias='low'"),
        ("pool", {"mode": "max", "filters": 8}, r"`filters` applies only to mode='strided_conv'"),
        ("textcnn", {"kernel_sizes": ()}, r"`kernel_sizes` must be a non-empty sequence"),
        (
            "inception", {"filters_3x3_reduce": 0},
            r"`filters_3x3_reduce` must be a positive integer. Received: filters_3x3_reduce=0",
        ),
    ],
)
def test_bad_arguments(name, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        blocks.get_block(name)(**kwargs)


@pytest.mark.parametrize(
    "name, kwargs, shape, pattern",
    [
        ("shuffle_unit", {"filters": 16}, (1, 4, 4, 8), r"`filters` must equal the input channels when strides=1"),
        (
            "shuffle_unit", {"filters": 8, "strides": 2}, (1, 4, 4, 8),
            r"`filters` must exceed the input channels when strides=2",
        ),
        (
            "residual", {"filters": 4, "strides": 2, "shortcut_type": "zero_pad"}, (1, 4, 4, 8),
            r"'zero_pad' needs filters >= the input channels",
        ),
        ("textcnn", {}, (1, 4, 8), r"`kernel_sizes` must not exceed the sequence length"),
        ("conv", {"filters": 4}, (1, 8, 3), r"`input_shape` of conv must have rank 4"),
        ("conv1d", {"filters": 4}, (1, 8, 8, 3), r"`input_shape` of conv1d must have rank 3"),
    ],
)
def test_impossible_input_shapes(name, kwargs, shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        blocks.get_block(name)(**kwargs)(np.zeros(shape, "float32"))
