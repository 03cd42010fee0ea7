"""Flattened convolution: Jin, Dundar & Culurciello 2014, "Flattened convolutional neural networks
for feedforward acceleration".

Each 3D filter (Cin x F x F) is replaced by a sequence of three 1D filters: a
lateral one across channels (a 1x1 conv, Cin -> Cout), a vertical F x 1 and a
horizontal 1 x F, both applied to each channel on its own (depthwise).
Parameters drop from Cin F^2 Cout to Cout (Cin + 2F).
"""

from __future__ import annotations

import keras

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import SequentialBlock
from convnas.blocks.conv_layers import GroupwiseConv2D, explicit_padding, input_channels, spatial_output_shape
from convnas.blocks.registry import register_block


@register_block("flattened_conv")
class FlattenedConv(SequentialBlock):
    """Lateral 1x1 conv, vertical (F, 1) depthwise conv, horizontal (1, F) depthwise conv.

    Args:
        filters: output channels (set by the lateral conv).
        kernel_size: F of the vertical and horizontal filters.
        strides: S; the vertical filter strides rows, the horizontal one columns.
        padding: "same", "valid" or an integer P (P zeros on every side, first).
        activation: Keras activation name after the horizontal filter, or None.
        use_bias: whether the last (horizontal) filter adds a bias, one per output channel.
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
        k, s, dtype = self.kernel_size, self.strides, self.dtype_policy
        self.chain, mode = explicit_padding(2, self.padding, dtype)
        self.chain += [
            keras.layers.Conv2D(self.filters, 1, use_bias=False, dtype=dtype),
            self._one_dimensional((k, 1), (s, 1), mode, use_bias=False, activation=None),
            self._one_dimensional((1, k), (1, s), mode, use_bias=self.use_bias, activation=self.activation),
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
            lambda shape: arithmetic.conv_cost(shape, filters, 1, 1, padding, use_bias=False),
            lambda shape: arithmetic.conv_cost(shape, filters, (k, 1), (s, 1), following, groups=filters,
                                               use_bias=False),
            lambda shape: arithmetic.conv_cost(shape, filters, (1, k), (1, s), following, groups=filters,
                                               use_bias=use_bias, activation=activation),
        )

    def _one_dimensional(self, kernel_size, strides, padding, use_bias, activation) -> keras.layers.Layer:
        """A per-channel filter: a DepthwiseConv2D, or with a stride, the same filter as a conv per channel.

        TensorFlow's own CPU depthwise kernel (used where oneDNN is off, as on
        CPUs without AVX-512) refuses unequal row and column strides; an
        ordinary conv per channel (`GroupwiseConv2D`, groups = channels) has
        the same weights count and MACs and takes any strides.
        """
        if strides == (1, 1):
            return keras.layers.DepthwiseConv2D(kernel_size, padding=padding, use_bias=use_bias, activation=activation,
                                                dtype=self.dtype_policy)
        return GroupwiseConv2D(self.filters, kernel_size, strides=strides, padding=padding, groups=self.filters,
                               use_bias=use_bias, activation=activation, dtype=self.dtype_policy)

    def compute_output_shape(self, input_shape):
        input_channels(self.block_name, input_shape)
        k, s = self.kernel_size, self.strides
        return spatial_output_shape(input_shape, self.filters, (k, k), (s, s), self.padding)
