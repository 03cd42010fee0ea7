"""Pointwise group convolution: Zhang et al. 2017 (ShuffleNet).

A 1x1 conv split into `groups` groups, cutting the cost of the 1x1 layers that
dominate MobileNet-style networks by a factor `groups`.
"""

from __future__ import annotations

from convnas.blocks import arithmetic
from convnas.blocks.conv import Conv
from convnas.blocks.registry import register_block


@register_block("pointwise_grouped_conv")
class PointwiseGroupedConv(Conv):
    """1x1 Conv2D with `groups` channel groups.

    Args:
        filters: output channels, divisible by `groups`.
        groups: number of groups; must divide input channels and `filters`.
        activation: Keras activation name or None.
        use_bias: whether the conv adds a bias.
    """

    def __init__(
        self,
        filters: int,
        groups: int = 2,
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(
            filters, 1, padding="valid", groups=groups, activation=activation, use_bias=use_bias, **kwargs
        )

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        groups: int = 2,
        activation: str | None = None,
        use_bias: bool = True,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        return Conv.cost(input_shape, filters, 1, padding="valid", groups=groups, activation=activation,
                         use_bias=use_bias)
