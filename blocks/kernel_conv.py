"""Base of the convs whose arithmetic convnas writes itself: one kernel, one bias, F/S/P padding."""

from __future__ import annotations

import keras
from keras import ops

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import Block
from convnas.blocks.conv_layers import input_channels, spatial_output_shape


class KernelConv(Block):
    """A 2D conv layer holding a (Fh, Fw, Cin, Cout) kernel laid out as Keras's Conv2D.

    Subclasses implement `convolve(inputs, padding)`, the linear map itself;
    integer padding P is applied before it as P zeros on each side, so
    `convolve` only sees "same" or "valid".

    Args:
        filters: output channels.
        kernel_size: F, an int or (Fh, Fw).
        strides: S, an int or (Sh, Sw).
        padding: "same", "valid" or an integer P of zeros on each side.
        activation: Keras activation name or None.
        use_bias: whether a bias is added.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        strides: int | tuple[int, int] = 1,
        padding: str | int = "same",
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.kernel_size = validation.size_tuple("kernel_size", kernel_size, 2)
        self.strides = validation.size_tuple("strides", strides, 2)
        self.padding = validation.padding("padding", padding)
        self.activation = validation.activation("activation", activation)
        self.use_bias = validation.boolean("use_bias", use_bias)

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        strides: int | tuple[int, int] = 1,
        padding: str | int = "same",
        activation: str | None = None,
        use_bias: bool = True,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        return arithmetic.conv_cost(input_shape, filters, kernel_size, strides, padding, use_bias=use_bias,
                                    activation=activation)

    def build(self, input_shape):
        channels = input_channels(self.block_name, input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=(*self.kernel_size, channels, self.filters), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None

    def convolve(self, inputs, padding: str):
        raise NotImplementedError

    def call(self, inputs, training=None):
        padding = self.padding
        if isinstance(padding, int):
            inputs = ops.pad(inputs, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
            padding = "valid"
        outputs = self.convolve(inputs, padding)
        if self.bias is not None:
            outputs = outputs + self.bias
        return keras.activations.get(self.activation)(outputs)

    def compute_output_shape(self, input_shape):
        input_channels(self.block_name, input_shape)
        return spatial_output_shape(input_shape, self.filters, self.kernel_size, self.strides, self.padding)
