"""Resize-then-convolve upsampling: Odena et al. 2016, "Deconvolution and checkerboard artifacts".

Nearest-neighbour or bilinear upsampling by a factor S followed by a stride-1
conv: every output pixel sees the same number of input pixels, so no
checkerboard pattern appears, unlike a transposed conv whose kernel size is
not divisible by its stride.
"""

from __future__ import annotations

import keras

from convnas.blocks import validation
from convnas.blocks.base import SequentialBlock
from convnas.blocks.conv_layers import input_channels, padded_conv, spatial_output_shape
from convnas.blocks.registry import register_block

INTERPOLATIONS = ("nearest", "bilinear")


@register_block("upsample_conv")
class UpsampleConv(SequentialBlock):
    """UpSampling2D by `size`, then a conv.

    Args:
        filters: output channels.
        kernel_size: F of the conv.
        size: the upsampling factor S.
        interpolation: "nearest" or "bilinear".
        padding: "same", "valid" or an integer P, for the conv.
        activation: Keras activation name or None.
        use_bias: whether the conv adds a bias.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        size: int = 2,
        interpolation: str = "nearest",
        padding: str | int = "same",
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.kernel_size = validation.size_tuple("kernel_size", kernel_size, 2)
        self.size = validation.positive_int("size", size)
        self.interpolation = validation.one_of("interpolation", interpolation, INTERPOLATIONS)
        self.padding = validation.padding("padding", padding)
        self.activation = validation.activation("activation", activation)
        self.use_bias = validation.boolean("use_bias", use_bias)
        self.chain = [
            keras.layers.UpSampling2D(self.size, interpolation=self.interpolation, dtype=self.dtype_policy),
            *padded_conv(
                2,
                self.filters,
                self.kernel_size,
                (1, 1),
                self.padding,
                activation=self.activation,
                use_bias=self.use_bias,
                dtype=self.dtype_policy,
            ),
        ]

    def compute_output_shape(self, input_shape):
        input_channels(self.block_name, input_shape)
        batch, height, width, channels = input_shape
        upsampled = (batch, *(None if d is None else d * self.size for d in (height, width)), channels)
        return spatial_output_shape(upsampled, self.filters, self.kernel_size, (1, 1), self.padding)
