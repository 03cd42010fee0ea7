"""1x1 (pointwise) convolution: Lin et al. 2014 (Network in Network), Szegedy et al. 2015.

A per-pixel linear map across channels, used to reduce (or expand) the
channel count: parameters Cin * Cout + Cout, no spatial mixing.
"""

from __future__ import annotations

from convnas.blocks import arithmetic
from convnas.blocks.conv import Conv
from convnas.blocks.registry import register_block


@register_block("pointwise")
class Pointwise(Conv):
    """1x1 Conv2D.

    Args:
        filters: output channels.
        strides: S (a strided 1x1 conv subsamples, as in ResNet projections).
        activation: Keras activation name or None.
        use_bias: whether the conv adds a bias.
    """

    def __init__(
        self,
        filters: int,
        strides: int | tuple[int, int] = 1,
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(
            filters, 1, strides=strides, padding="valid", activation=activation, use_bias=use_bias, **kwargs
        )

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        strides: int | tuple[int, int] = 1,
        activation: str | None = None,
        use_bias: bool = True,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        return Conv.cost(input_shape, filters, 1, strides, "valid", activation=activation, use_bias=use_bias)
