"""Grouped convolution: Krizhevsky et al. 2012 (AlexNet), Xie et al. 2017 (ResNeXt).

The input channels are split into `groups` groups, each convolved with its own
Cout / groups filters: parameters and MACs divide by `groups`.
"""

from __future__ import annotations

from convnas.blocks import arithmetic
from convnas.blocks.conv import Conv
from convnas.blocks.registry import register_block


@register_block("grouped_conv")
class GroupedConv(Conv):
    """Conv2D with `groups` channel groups.

    Args:
        filters: output channels, divisible by `groups`.
        kernel_size: F.
        groups: number of groups; must divide input channels and `filters`.
        strides: S.
        padding: "same", "valid" or an integer P.
        activation: Keras activation name or None.
        use_bias: whether the conv adds a bias.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        groups: int = 2,
        strides: int | tuple[int, int] = 1,
        padding: str | int = "same",
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        groups: int = 2,
        strides: int | tuple[int, int] = 1,
        padding: str | int = "same",
        activation: str | None = None,
        use_bias: bool = True,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        return Conv.cost(input_shape, filters, kernel_size, strides, padding, groups=groups, activation=activation,
                         use_bias=use_bias)
