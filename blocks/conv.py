"""Standard convolution with explicit kernel F, stride S, padding P, dilation and groups.

The layer of LeCun et al. 1998 and the CS231n notes: output size
floor((W + 2P - F) / S) + 1, where P is "valid" (0), "same" (Keras's
ceil(W / S)) or an integer number of zeros added on each side.
"""

from __future__ import annotations

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import SequentialBlock
from convnas.blocks.conv_layers import check_dilation_strides, input_channels, padded_conv, spatial_output_shape
from convnas.blocks.registry import register_block


@register_block("conv")
class Conv(SequentialBlock):
    """Conv2D with integer padding support.

    Args:
        filters: output channels.
        kernel_size: F, an int or one size per spatial axis.
        strides: S, an int or one stride per spatial axis.
        padding: "same", "valid" or an integer P of zeros on each side.
        dilation_rate: d, an int or one rate per spatial axis; needs strides 1 when > 1.
        groups: channel groups (1 for a standard conv); must divide the
            input channels and `filters`.
        activation: name of a Keras activation applied to the output, or None.
        use_bias: whether the conv adds a bias.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...] = 3,
        strides: int | tuple[int, ...] = 1,
        padding: str | int = "same",
        dilation_rate: int | tuple[int, ...] = 1,
        groups: int = 1,
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.kernel_size = validation.size_tuple("kernel_size", kernel_size, self.rank)
        self.strides = validation.size_tuple("strides", strides, self.rank)
        self.padding = validation.padding("padding", padding)
        self.dilation_rate = validation.size_tuple("dilation_rate", dilation_rate, self.rank)
        self.groups = validation.positive_int("groups", groups)
        self.activation = validation.activation("activation", activation)
        self.use_bias = validation.boolean("use_bias", use_bias)
        validation.divides("groups", self.groups, "filters", self.filters)
        check_dilation_strides(self.strides, self.dilation_rate)
        self.chain = padded_conv(
            self.rank,
            self.filters,
            self.kernel_size,
            self.strides,
            self.padding,
            self.dilation_rate,
            groups=self.groups,
            activation=self.activation,
            use_bias=self.use_bias,
            dtype=self.dtype_policy,
        )

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        kernel_size: int | tuple[int, ...] = 3,
        strides: int | tuple[int, ...] = 1,
        padding: str | int = "same",
        dilation_rate: int | tuple[int, ...] = 1,
        groups: int = 1,
        activation: str | None = None,
        use_bias: bool = True,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on a (*spatial, C) input, from its arguments alone
        (checked as the block checks them): no layer is made."""
        rank = len(input_shape) - 1
        validation.divides("groups", groups, "filters", filters)
        check_dilation_strides(
            validation.size_tuple("strides", strides, rank), validation.size_tuple("dilation_rate", dilation_rate, rank)
        )
        validation.divides("groups", groups, "the input channels", input_shape[-1])
        return arithmetic.conv_cost(
            input_shape, filters, kernel_size, strides, padding, dilation_rate, groups, use_bias, activation
        )

    def compute_output_shape(self, input_shape):
        channels = input_channels(self.block_name, input_shape, self.rank)
        validation.divides("groups", self.groups, "the input channels", channels)
        return spatial_output_shape(
            input_shape, self.filters, self.kernel_size, self.strides, self.padding, self.dilation_rate
        )
