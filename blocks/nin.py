"""Network in Network mlpconv layer: Lin et al. 2014.

A conv followed by two 1x1 convs, each with a nonlinearity: a small
multilayer perceptron slid over every receptive field in place of a
generalized linear filter.
"""

from __future__ import annotations

import keras

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import SequentialBlock
from convnas.blocks.conv_layers import input_channels, padded_conv, spatial_output_shape
from convnas.blocks.registry import register_block


@register_block("nin")
class NIN(SequentialBlock):
    """mlpconv: F x F conv, 1x1 conv, 1x1 conv, all `filters` wide, each followed by `activation`.

    Args:
        filters: channels of the three convs.
        kernel_size: F of the first conv.
        strides: S of the first conv.
        padding: "same", "valid" or an integer P, for the first conv.
        activation: Keras activation name after each conv (ReLU in the paper).
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        strides: int | tuple[int, int] = 1,
        padding: str | int = "same",
        activation: str = "relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.kernel_size = validation.size_tuple("kernel_size", kernel_size, 2)
        self.strides = validation.size_tuple("strides", strides, 2)
        self.padding = validation.padding("padding", padding)
        self.activation = validation.activation("activation", activation)
        self.chain = [
            *padded_conv(
                2,
                self.filters,
                self.kernel_size,
                self.strides,
                self.padding,
                activation=self.activation,
                dtype=self.dtype_policy,
            ),
            keras.layers.Conv2D(self.filters, 1, activation=self.activation, dtype=self.dtype_policy),
            keras.layers.Conv2D(self.filters, 1, activation=self.activation, dtype=self.dtype_policy),
        ]

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        strides: int | tuple[int, int] = 1,
        padding: str | int = "same",
        activation: str = "relu",
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        pointwise = [lambda shape: arithmetic.conv_cost(shape, filters, 1, activation=activation)] * 2
        return arithmetic.chain_cost(
            input_shape,
            lambda shape: arithmetic.conv_cost(shape, filters, kernel_size, strides, padding, activation=activation),
            *pointwise,
        )

    def compute_output_shape(self, input_shape):
        input_channels(self.block_name, input_shape)
        return spatial_output_shape(input_shape, self.filters, self.kernel_size, self.strides, self.padding)
