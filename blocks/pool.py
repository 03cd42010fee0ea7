"""Downsampling: max or average pooling, none, or a strided conv in its place.

Pooling with window F and stride S gives W2 = (W1 - F) / S + 1 and has no
parameters (CS231n). Springenberg et al. 2014 ("Striving for simplicity: the
all convolutional net") replace it by a learned conv with the same F and S;
"none" keeps the resolution, for pooling-removal ablations.
"""

from __future__ import annotations

import keras

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import SequentialBlock
from convnas.blocks.conv_layers import explicit_padding, input_channels, padded_conv, spatial_output_shape
from convnas.blocks.registry import register_block

MODES = ("max", "avg", "none", "strided_conv")


@register_block("pool")
class Pool(SequentialBlock):
    """Downsampling by `mode`.

    Args:
        mode: "max", "avg", "none" (identity) or "strided_conv".
        pool_size: window F (the conv kernel for "strided_conv").
        strides: S; None means S = F.
        padding: "valid", "same" or an integer P.
        filters: output channels of "strided_conv"; None keeps the input
            channels. Pooling modes keep the input channels and reject it.
        activation: Keras activation after the "strided_conv" conv, or None.
    """

    def __init__(
        self,
        mode: str = "max",
        pool_size: int = 2,
        strides: int | None = None,
        padding: str | int = "valid",
        filters: int | None = None,
        activation: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.mode = validation.one_of("mode", mode, MODES)
        self.pool_size = validation.positive_int("pool_size", pool_size)
        self.strides = None if strides is None else validation.positive_int("strides", strides)
        self.padding = validation.padding("padding", padding)
        if filters is not None:
            validation.positive_int("filters", filters)
            if self.mode != "strided_conv":
                raise ValueError(
                    f"`filters` applies only to mode='strided_conv'. Received: filters={filters}, mode={mode!r}"
                )
        self.filters = filters
        self.activation = validation.activation("activation", activation)
        self.chain = []

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        mode: str = "max",
        pool_size: int = 2,
        strides: int | None = None,
        padding: str | int = "valid",
        filters: int | None = None,
        activation: str | None = None,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        step = pool_size if strides is None else strides
        if mode == "none":
            return arithmetic.BlockCost(tuple(input_shape))
        if mode == "strided_conv":
            return arithmetic.conv_cost(input_shape, filters or input_shape[-1], pool_size, step, padding,
                                        activation=activation)
        return arithmetic.pooling_cost(input_shape, pool_size, step, padding)

    def _step(self) -> tuple[int, int]:
        return (self.pool_size if self.strides is None else self.strides,) * 2

    def build(self, input_shape):
        channels = input_channels(self.block_name, input_shape)
        dtype, window, step = self.dtype_policy, (self.pool_size,) * 2, self._step()
        if self.mode == "strided_conv":
            self.chain = padded_conv(
                2, self.filters or channels, window, step, self.padding, activation=self.activation, dtype=dtype
            )
        elif self.mode != "none":
            pooling = keras.layers.MaxPooling2D if self.mode == "max" else keras.layers.AveragePooling2D
            self.chain, mode = explicit_padding(2, self.padding, dtype)
            self.chain.append(pooling(window, strides=step, padding=mode, dtype=dtype))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        channels = input_channels(self.block_name, input_shape)
        if self.mode == "none":
            return tuple(input_shape)
        window, step = (self.pool_size,) * 2, self._step()
        return spatial_output_shape(input_shape, self.filters or channels, window, step, self.padding)
