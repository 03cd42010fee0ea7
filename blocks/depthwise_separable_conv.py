"""Depthwise separable convolution: Howard et al. 2017 (MobileNet), Chollet 2017 (Xception).

A depthwise F x F conv filters each channel on its own, then a 1x1 conv mixes
channels: Hout * Wout * (F^2 * Cin + Cin * Cout) mult-adds instead of
Hout * Wout * F^2 * Cin * Cout, about 1/Cout + 1/F^2 of the cost. As in
MobileNet (Fig. 3), each of the two convs is followed by BatchNorm and ReLU.
"""

from __future__ import annotations

import keras

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import SequentialBlock
from convnas.blocks.conv_layers import explicit_padding, input_channels, spatial_output_shape
from convnas.blocks.registry import register_block


@register_block("depthwise_separable_conv")
class DepthwiseSeparableConv(SequentialBlock):
    """Depthwise conv, BN, activation, 1x1 conv, BN, activation.

    Args:
        filters: output channels of the 1x1 conv.
        kernel_size: F of the depthwise conv.
        strides: S of the depthwise conv.
        padding: "same", "valid" or an integer P, for the depthwise conv.
        depth_multiplier: depthwise outputs per input channel.
        activation: Keras activation name after each BN (ReLU in MobileNet), or None.
        use_batch_norm: BatchNorm after each conv; without it the convs carry biases.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        strides: int | tuple[int, int] = 1,
        padding: str | int = "same",
        depth_multiplier: int = 1,
        activation: str | None = "relu",
        use_batch_norm: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.kernel_size = validation.size_tuple("kernel_size", kernel_size, 2)
        self.strides = validation.size_tuple("strides", strides, 2)
        self.padding = validation.padding("padding", padding)
        self.depth_multiplier = validation.positive_int("depth_multiplier", depth_multiplier)
        self.activation = validation.activation("activation", activation)
        self.use_batch_norm = validation.boolean("use_batch_norm", use_batch_norm)
        dtype = self.dtype_policy
        self.chain, mode = explicit_padding(2, self.padding, dtype)
        for conv in (
            keras.layers.DepthwiseConv2D(
                self.kernel_size,
                strides=self.strides,
                padding=mode,
                depth_multiplier=self.depth_multiplier,
                use_bias=not self.use_batch_norm,
                dtype=dtype,
            ),
            keras.layers.Conv2D(self.filters, 1, use_bias=not self.use_batch_norm, dtype=dtype),
        ):
            self.chain.append(conv)
            if self.use_batch_norm:
                self.chain.append(keras.layers.BatchNormalization(dtype=dtype))
            if self.activation is not None:
                self.chain.append(keras.layers.Activation(self.activation, dtype=dtype))

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        strides: int | tuple[int, int] = 1,
        padding: str | int = "same",
        depth_multiplier: int = 1,
        activation: str | None = "relu",
        use_batch_norm: bool = True,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        channels = input_shape[-1]

        def normalized(conv):
            after = [arithmetic.batch_norm_cost] * use_batch_norm
            return [conv, *after, lambda shape: arithmetic.activation_cost(shape, activation)]

        return arithmetic.chain_cost(
            input_shape,
            *normalized(lambda shape: arithmetic.conv_cost(shape, channels * depth_multiplier, kernel_size, strides,
                                                           padding, groups=channels, use_bias=not use_batch_norm)),
            *normalized(lambda shape: arithmetic.conv_cost(shape, filters, 1, use_bias=not use_batch_norm)),
        )

    def compute_output_shape(self, input_shape):
        input_channels(self.block_name, input_shape)
        return spatial_output_shape(input_shape, self.filters, self.kernel_size, self.strides, self.padding)
