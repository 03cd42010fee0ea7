"""Channel shuffle: Zhang et al. 2017 (ShuffleNet), Fig. 1.

With C = g * n channels from g groups, reshape to (g, n), transpose to (n, g)
and flatten: channel i * n + j moves to position j * g + i, so that the next
group conv sees channels from every group. Parameter- and MAC-free.
"""

from __future__ import annotations

from keras import ops

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import Block
from convnas.blocks.registry import register_block


@register_block("channel_shuffle")
class ChannelShuffle(Block):
    """Reshape-transpose-reshape permutation of the channels of a (batch, H, W, C) tensor.

    Args:
        groups: g, the number of groups; must divide C.
    """

    def __init__(self, groups: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.groups = validation.positive_int("groups", groups)

    @staticmethod
    def cost(input_shape: tuple[int, ...], groups: int = 2) -> arithmetic.BlockCost:
        """The block's output shape and cost (none: a permutation) on an (H, W, C) input, from its arguments."""
        validation.divides("groups", groups, "the input channels", input_shape[-1])
        return arithmetic.BlockCost(tuple(input_shape))

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        _, height, width, channels = inputs.shape
        batch = ops.shape(inputs)[0]
        grouped = ops.reshape(inputs, (batch, height, width, self.groups, channels // self.groups))
        return ops.reshape(ops.transpose(grouped, (0, 1, 2, 4, 3)), (batch, height, width, channels))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                f"`input_shape` of channel_shuffle must be (batch, H, W, C). Received: input_shape={tuple(input_shape)}"
            )
        validation.divides("groups", self.groups, "the input channels", input_shape[-1])
        return tuple(input_shape)
