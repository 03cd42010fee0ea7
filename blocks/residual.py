"""Residual block: He et al. 2016, "Deep residual learning for image recognition".

y = relu(F(x) + shortcut(x)). "basic": two F x F convs (ResNet-18/34 and the
CIFAR ResNets); "bottleneck": 1x1 reduce, F x F, 1x1 expand (ResNet-50+).
Shortcuts when the shape changes: option A ("zero_pad": subsample and pad
channels with zeros, no parameters, the CIFAR ResNets) or option B
("projection": a 1x1 strided conv + BN). `shortcut=False` is the plain
network of the paper's degradation experiments: the same layers, no addition.
"""

from __future__ import annotations

import keras
from keras import ops

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import Block, build_chain, run_chain
from convnas.blocks.conv_layers import input_channels, spatial_output_shape
from convnas.blocks.registry import register_block

VARIANTS = ("basic", "bottleneck")
SHORTCUT_TYPES = ("auto", "projection", "zero_pad")


def _conv_bn(filters: int, size: int, strides: int, dtype) -> list[keras.layers.Layer]:
    conv = keras.layers.Conv2D(filters, size, strides=strides, padding="same", use_bias=False, dtype=dtype)
    return [conv, keras.layers.BatchNormalization(dtype=dtype)]


def shortcut_mode(shortcut: bool, shortcut_type: str, strides: int, filters: int, channels: int) -> str:
    """"none", "identity", "projection" or "zero_pad" for an input with `channels` channels; ValueError for a
    zero-padded shortcut that would have to drop channels."""
    if not shortcut:
        return "none"
    if shortcut_type == "projection":
        return "projection"
    if strides == 1 and channels == filters:
        return "identity"
    if shortcut_type == "zero_pad" and channels > filters:
        raise ValueError(
            "`shortcut_type` 'zero_pad' needs filters >= the input channels. "
            f"Received: shortcut_type='zero_pad', filters={filters}, input channels={channels}"
        )
    return "projection" if shortcut_type == "auto" else "zero_pad"


def _conv_bn_cost(filters: int, size: int, strides: int):
    """The cost, as a function of the input shape, of `_conv_bn`'s layers."""
    def cost(shape):
        conv = arithmetic.conv_cost(shape, filters, size, strides, "same", use_bias=False)
        return conv.then(arithmetic.batch_norm_cost(conv.output_shape))

    return cost


@register_block("residual")
class Residual(Block):
    """Post-activation residual block (ResNet v1), stride on the F x F conv.

    Args:
        filters: output channels.
        kernel_size: F of the spatial conv(s).
        strides: S of the first spatial conv (and of the shortcut).
        variant: "basic" or "bottleneck".
        shortcut: False gives the plain (non-residual) twin.
        shortcut_type: "auto" (identity, or a projection when the shape
            changes: option B), "projection" (always a 1x1 conv + BN: option C)
            or "zero_pad" (identity, or subsampling with zero channels when the
            shape changes: option A).
        expansion: bottleneck width is filters / expansion (4 in ResNet-50).
        activation: Keras activation name.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        strides: int = 1,
        variant: str = "basic",
        shortcut: bool = True,
        shortcut_type: str = "auto",
        expansion: int = 4,
        activation: str = "relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.kernel_size = validation.positive_int("kernel_size", kernel_size)
        self.strides = validation.positive_int("strides", strides)
        self.variant = validation.one_of("variant", variant, VARIANTS)
        self.shortcut = validation.boolean("shortcut", shortcut)
        self.shortcut_type = validation.one_of("shortcut_type", shortcut_type, SHORTCUT_TYPES)
        self.expansion = validation.positive_int("expansion", expansion)
        self.activation = validation.activation("activation", activation)
        dtype = self.dtype_policy
        if self.variant == "basic":
            self.residual = [
                *_conv_bn(self.filters, self.kernel_size, self.strides, dtype),
                keras.layers.Activation(self.activation, dtype=dtype),
                *_conv_bn(self.filters, self.kernel_size, 1, dtype),
            ]
        else:
            validation.divides("expansion", self.expansion, "filters", self.filters)
            width = self.filters // self.expansion
            self.residual = [
                *_conv_bn(width, 1, 1, dtype),
                keras.layers.Activation(self.activation, dtype=dtype),
                *_conv_bn(width, self.kernel_size, self.strides, dtype),
                keras.layers.Activation(self.activation, dtype=dtype),
                *_conv_bn(self.filters, 1, 1, dtype),
            ]
        self.projection = []
        self.add = keras.layers.Add(dtype=dtype)
        self.output_activation = keras.layers.Activation(self.activation, dtype=dtype)

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters: int,
        kernel_size: int = 3,
        strides: int = 1,
        variant: str = "basic",
        shortcut: bool = True,
        shortcut_type: str = "auto",
        expansion: int = 4,
        activation: str = "relu",
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone
        (checked as the block checks them)."""
        def activate(shape):
            return arithmetic.activation_cost(shape, activation)

        if variant == "basic":
            residual = [_conv_bn_cost(filters, kernel_size, strides), activate, _conv_bn_cost(filters, kernel_size, 1)]
        else:
            validation.divides("expansion", expansion, "filters", filters)
            width = filters // expansion
            residual = [_conv_bn_cost(width, 1, 1), activate, _conv_bn_cost(width, kernel_size, strides), activate,
                        _conv_bn_cost(filters, 1, 1)]
        mode = shortcut_mode(shortcut, shortcut_type, strides, filters, input_shape[-1])
        total = arithmetic.chain_cost(input_shape, *residual)
        if mode == "projection":
            total = total.beside(_conv_bn_cost(filters, 1, strides)(input_shape))
        if mode != "none":
            total = total.beside(flops=total.elements)  # the addition
        return total.then(activate(total.output_shape))

    def _shortcut_mode(self, channels: int) -> str:
        """"none", "identity", "projection" or "zero_pad" for an input with `channels` channels."""
        return shortcut_mode(self.shortcut, self.shortcut_type, self.strides, self.filters, channels)

    def build(self, input_shape):
        output_shape = self.compute_output_shape(input_shape)
        build_chain(self.residual, input_shape)
        mode = self._shortcut_mode(input_shape[-1])
        if mode == "projection":
            self.projection = _conv_bn(self.filters, 1, self.strides, self.dtype_policy)
            build_chain(self.projection, input_shape)
        if mode != "none":
            self.add.build([output_shape, output_shape])

    def call(self, inputs, training=None):
        outputs = run_chain(self.residual, inputs, training)
        mode = self._shortcut_mode(inputs.shape[-1])
        if mode == "projection":
            outputs = self.add([outputs, run_chain(self.projection, inputs, training)])
        elif mode == "identity":
            outputs = self.add([outputs, inputs])
        elif mode == "zero_pad":
            subsampled = inputs[:, :: self.strides, :: self.strides, :]
            padded = ops.pad(subsampled, ((0, 0), (0, 0), (0, 0), (0, self.filters - inputs.shape[-1])))
            outputs = self.add([outputs, padded])
        return self.output_activation(outputs)

    def compute_output_shape(self, input_shape):
        self._shortcut_mode(input_channels(self.block_name, input_shape))  # checks a zero-padded shortcut
        size = (self.kernel_size,) * 2
        return spatial_output_shape(input_shape, self.filters, size, (self.strides,) * 2, "same")
