"""ShuffleNet unit: Zhang et al. 2017, "ShuffleNet: an extremely efficient convolutional neural
network for mobile devices", Fig. 2(b) and 2(c).

1x1 group conv (BN, ReLU), channel shuffle, 3x3 depthwise conv (BN), 1x1 group
conv (BN); then an identity addition (stride 1), or, when strided, a
concatenation with a 3x3 average pooling of the input; ReLU last. The
bottleneck width is a quarter of the output channels.
"""

from __future__ import annotations

import keras

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import Block, build_chain, run_chain
from convnas.blocks.channel_shuffle import ChannelShuffle
from convnas.blocks.conv_layers import input_channels, spatial_output_shape
from convnas.blocks.registry import register_block


def widths(filters: int, groups: int, strides: int, bottleneck_ratio: float, channels: int) -> tuple[int, int]:
    """Bottleneck width and branch output width of a unit on `channels` input channels, checked against the
    groups."""
    bottleneck = max(int(round(filters * bottleneck_ratio)), 1)
    branch = filters if strides == 1 else filters - channels
    if strides == 1 and channels != filters:
        raise ValueError(
            "`filters` must equal the input channels when strides=1 (residual addition). "
            f"Received: filters={filters}, input channels={channels}"
        )
    if branch < 1:
        raise ValueError(
            "`filters` must exceed the input channels when strides=2 (concatenation). "
            f"Received: filters={filters}, input channels={channels}"
        )
    validation.divides("groups", groups, "the input channels", channels)
    validation.divides("groups", groups, "the bottleneck width", bottleneck)
    validation.divides("groups", groups, "the branch output channels", branch)
    return bottleneck, branch


@register_block("shuffle_unit")
class ShuffleUnit(Block):
    """ShuffleNet unit.

    Args:
        filters: output channels; equal to the input channels when strides=1,
            larger when strides=2 (the branch then makes filters - Cin).
        groups: g of the two pointwise group convs and of the shuffle.
        strides: 1 (residual addition) or 2 (concatenation with 3x3 avg pooling).
        bottleneck_ratio: bottleneck width as a share of `filters` (1/4 in the paper).
        activation: Keras activation name (ReLU in the paper).
    """

    def __init__(
        self,
        filters: int,
        groups: int = 2,
        strides: int = 1,
        bottleneck_ratio: float = 0.25,
        activation: str = "relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.groups = validation.positive_int("groups", groups)
        self.strides = validation.one_of("strides", strides, (1, 2))
        if isinstance(bottleneck_ratio, bool) or not isinstance(bottleneck_ratio, (int, float)) or not (
            0 < bottleneck_ratio <= 1
        ):
            raise ValueError(f"`bottleneck_ratio` must be in (0, 1]. Received: bottleneck_ratio={bottleneck_ratio!r}")
        self.bottleneck_ratio = float(bottleneck_ratio)
        self.activation = validation.activation("activation", activation)
        self.branch = []
        self.pool = keras.layers.AveragePooling2D(3, strides=2, padding="same", dtype=self.dtype_policy)
        self.merge = keras.layers.Add(dtype=self.dtype_policy) if self.strides == 1 else keras.layers.Concatenate(
            dtype=self.dtype_policy
        )
        self.output_activation = keras.layers.Activation(self.activation, dtype=self.dtype_policy)

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        groups: int = 2,
        strides: int = 1,
        bottleneck_ratio: float = 0.25,
        activation: str = "relu",
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone
        (checked as the block checks them)."""
        bottleneck, branch = widths(filters, groups, strides, bottleneck_ratio, input_shape[-1])
        total = arithmetic.chain_cost(
            input_shape,
            lambda shape: arithmetic.conv_cost(shape, bottleneck, 1, groups=groups, use_bias=False),
            arithmetic.batch_norm_cost,
            lambda shape: arithmetic.activation_cost(shape, activation),  # then the channel shuffle: free
            lambda shape: arithmetic.conv_cost(shape, bottleneck, 3, strides, "same", groups=bottleneck,
                                               use_bias=False),
            arithmetic.batch_norm_cost,
            lambda shape: arithmetic.conv_cost(shape, branch, 1, groups=groups, use_bias=False),
            arithmetic.batch_norm_cost,
        )
        if strides == 1:
            total = total.beside(flops=total.elements)  # the addition
        else:  # the pooled shortcut, concatenated (free)
            pooled = arithmetic.pooling_cost(input_shape, 3, 2, "same")
            total = arithmetic.BlockCost((*pooled.output_shape[:-1], filters)).beside(total).beside(pooled)
        return total.then(arithmetic.activation_cost(total.output_shape, activation))

    def build(self, input_shape):
        output_shape = self.compute_output_shape(input_shape)
        bottleneck, branch = widths(self.filters, self.groups, self.strides, self.bottleneck_ratio, input_shape[-1])
        dtype = self.dtype_policy
        self.branch = [
            keras.layers.Conv2D(bottleneck, 1, groups=self.groups, use_bias=False, dtype=dtype),
            keras.layers.BatchNormalization(dtype=dtype),
            keras.layers.Activation(self.activation, dtype=dtype),
            ChannelShuffle(self.groups, dtype=dtype),
            keras.layers.DepthwiseConv2D(3, strides=self.strides, padding="same", use_bias=False, dtype=dtype),
            keras.layers.BatchNormalization(dtype=dtype),
            keras.layers.Conv2D(branch, 1, groups=self.groups, use_bias=False, dtype=dtype),
            keras.layers.BatchNormalization(dtype=dtype),
        ]
        branch_shape = build_chain(self.branch, input_shape)
        shortcut_shape = tuple(input_shape)
        if self.strides == 2:
            self.pool.build(input_shape)
            shortcut_shape = self.pool.compute_output_shape(input_shape)
        self.merge.build([shortcut_shape, branch_shape])
        self.output_activation.build(output_shape)

    def call(self, inputs, training=None):
        shortcut = inputs if self.strides == 1 else self.pool(inputs)
        branch = run_chain(self.branch, inputs, training)
        return self.output_activation(self.merge([shortcut, branch]))

    def compute_output_shape(self, input_shape):
        channels = input_channels(self.block_name, input_shape)
        widths(self.filters, self.groups, self.strides, self.bottleneck_ratio, channels)
        return spatial_output_shape(input_shape, self.filters, (3, 3), (self.strides,) * 2, "same")
