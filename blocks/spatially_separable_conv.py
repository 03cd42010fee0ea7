"""Spatially separable convolution: a k x 1 conv then a 1 x k conv (Szegedy et al. 2016, Inception-v3).

2k instead of k^2 weights per channel pair. Exact only for kernels of rank 1
(`blocks.separability.separability` measures how far a kernel is from that).
"""

from __future__ import annotations

import keras

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import SequentialBlock
from convnas.blocks.conv_layers import explicit_padding, input_channels, spatial_output_shape
from convnas.blocks.registry import register_block


@register_block("spatially_separable_conv")
class SpatiallySeparableConv(SequentialBlock):
    """Conv2D (k, 1) with `filters` outputs, then Conv2D (1, k) with `filters` outputs.

    Args:
        filters: output channels of both convs.
        kernel_size: k.
        strides: S; the vertical conv strides rows, the horizontal one columns.
        padding: "same", "valid" or an integer P (P zeros on every side, before the pair).
        activation: Keras activation name applied after the pair, or None.
        use_bias: whether each conv adds a bias.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        strides: int = 1,
        padding: str | int = "same",
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.kernel_size = validation.positive_int("kernel_size", kernel_size)
        self.strides = validation.positive_int("strides", strides)
        self.padding = validation.padding("padding", padding)
        self.activation = validation.activation("activation", activation)
        self.use_bias = validation.boolean("use_bias", use_bias)
        k, s = self.kernel_size, self.strides
        self.chain, mode = explicit_padding(2, self.padding, self.dtype_policy)
        self.chain += [
            keras.layers.Conv2D(
                self.filters, (k, 1), strides=(s, 1), padding=mode, use_bias=self.use_bias, dtype=self.dtype_policy
            ),
            keras.layers.Conv2D(
                self.filters,
                (1, k),
                strides=(1, s),
                padding=mode,
                activation=self.activation,
                use_bias=self.use_bias,
                dtype=self.dtype_policy,
            ),
        ]

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        kernel_size: int = 3,
        strides: int = 1,
        padding: str | int = "same",
        activation: str | None = None,
        use_bias: bool = True,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        k, s, following = kernel_size, strides, arithmetic.padding_after(padding)
        return arithmetic.chain_cost(
            input_shape,
            lambda shape: arithmetic.conv_cost(shape, filters, (k, 1), (s, 1), padding, use_bias=use_bias),
            lambda shape: arithmetic.conv_cost(shape, filters, (1, k), (1, s), following, use_bias=use_bias,
                                               activation=activation),
        )

    def compute_output_shape(self, input_shape):
        input_channels(self.block_name, input_shape)
        k, s = self.kernel_size, self.strides
        return spatial_output_shape(input_shape, self.filters, (k, k), (s, s), self.padding)
