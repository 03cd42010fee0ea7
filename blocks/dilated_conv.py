"""Dilated (atrous) convolution: Yu & Koltun 2016, "Multi-scale context aggregation by dilated convolutions".

A kernel F with dilation d covers d(F - 1) + 1 pixels with F^2 weights, so a
stack grows its receptive field exponentially with depth at constant cost
(`blocks.arithmetic.receptive_field`).
"""

from __future__ import annotations

from convnas.blocks import arithmetic
from convnas.blocks.conv import Conv
from convnas.blocks.registry import register_block


@register_block("dilated_conv")
class DilatedConv(Conv):
    """Conv2D with dilation rate d (stride 1).

    Args:
        filters: output channels.
        kernel_size: F.
        dilation_rate: d, spacing between kernel taps.
        padding: "same", "valid" or an integer P.
        activation: Keras activation name or None.
        use_bias: whether the conv adds a bias.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        dilation_rate: int | tuple[int, int] = 2,
        padding: str | int = "same",
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            padding=padding,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        dilation_rate: int | tuple[int, int] = 2,
        padding: str | int = "same",
        activation: str | None = None,
        use_bias: bool = True,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        return Conv.cost(input_shape, filters, kernel_size, padding=padding, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias)
