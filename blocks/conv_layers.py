"""Keras conv layers in the F/S/P convention: explicit integer zero padding, shapes by the arithmetic."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from convnas.blocks import arithmetic, validation


class GroupwiseConv2D(keras.layers.Conv2D):
    """A Conv2D whose channel groups run as one convolution each, concatenated.

    The same layer, weights and result as `keras.layers.Conv2D(groups=g)`;
    only the computation differs: TensorFlow's CPU kernel for a grouped
    convolution is about 100x slower than g ordinary ones
    (benchmarks/grouped_conv_speed.py).
    """

    def convolution_op(self, inputs, kernel):
        axis = -1 if self.data_format == "channels_last" else 1
        parts = zip(keras.ops.split(inputs, self.groups, axis=axis), keras.ops.split(kernel, self.groups, axis=-1))
        return keras.ops.concatenate([super(GroupwiseConv2D, self).convolution_op(x, k) for x, k in parts], axis=axis)


_CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}
_ZERO_PADDING = {1: keras.layers.ZeroPadding1D, 2: keras.layers.ZeroPadding2D}


def explicit_padding(rank: int, padding: str | int, dtype=None) -> tuple[list[keras.layers.Layer], str]:
    """The ZeroPadding layer for an integer padding P (none for P = 0 or a Keras mode),
    and the Keras padding mode the following layer uses."""
    if isinstance(padding, int):
        return ([_ZERO_PADDING[rank](padding, dtype=dtype)] if padding else []), "valid"
    return [], padding


def padded_conv(
    rank: int,
    filters: int,
    kernel_size: Sequence[int],
    strides: Sequence[int],
    padding: str | int,
    dilation_rate: Sequence[int] | None = None,
    groups: int = 1,
    activation: str | None = None,
    use_bias: bool = True,
    dtype=None,
) -> list[keras.layers.Layer]:
    """A Conv1D/Conv2D, preceded by a ZeroPadding layer when `padding` is an integer P > 0."""
    layers, mode = explicit_padding(rank, padding, dtype)
    conv = GroupwiseConv2D if rank == 2 and groups > 1 else _CONV[rank]
    layers.append(
        conv(
            filters,
            kernel_size,
            strides=strides,
            padding=mode,
            dilation_rate=dilation_rate or 1,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            dtype=dtype,
        )
    )
    return layers


def check_dilation_strides(strides: Sequence[int], dilation_rate: Sequence[int]) -> None:
    """Keras convs accept a dilation rate > 1 only with stride 1."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            "`strides` must be 1 when `dilation_rate` is greater than 1. "
            f"Received: strides={tuple(strides)}, dilation_rate={tuple(dilation_rate)}"
        )


def spatial_output_shape(
    input_shape: Sequence[int | None],
    channels: int,
    kernel_size: Sequence[int],
    strides: Sequence[int],
    padding: str | int,
    dilation_rate: Sequence[int] | None = None,
) -> tuple[int | None, ...]:
    """Output shape (batch, *spatial, channels) of a conv or pooling window, by the arithmetic."""
    spatial = input_shape[1:-1]
    dilation_rate = dilation_rate or (1,) * len(spatial)
    sizes = tuple(
        None if size is None else arithmetic.conv_output_size(size, kernel, stride, padding, rate)
        for size, kernel, stride, rate in zip(spatial, kernel_size, strides, dilation_rate)
    )
    return (input_shape[0], *sizes, channels)


def input_channels(block_name: str, input_shape: Sequence[int | None], rank: int = 2) -> int:
    """The channel count of a channels-last input of the given spatial rank, checked."""
    if len(input_shape) != rank + 2:
        raise ValueError(
            f"`input_shape` of {block_name} must have rank {rank + 2} (batch, {'spatial, ' * rank}channels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    return validation.positive_int("input channels", input_shape[-1])
