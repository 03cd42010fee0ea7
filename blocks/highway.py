"""Convolutional highway layer: Srivastava, Greff & Schmidhuber 2015, "Training very deep networks".

y = H(x) * T(x) + x * (1 - T(x)), with H a conv transform and T a sigmoid conv
gate. The gate bias starts negative (the paper uses -1 to -3), so at
initialization the layer mostly carries its input; a closed gate (T = 0)
returns the input exactly. `gate=False` gives the plain twin y = H(x).
`use_batch_norm=True` gives H the normalization of the plain and residual
cells it is compared with: H(x) = ReLU(BN(conv(x))), the conv without a bias.
"""

from __future__ import annotations

import keras

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import Block, build_chain, run_chain
from convnas.blocks.conv_layers import input_channels
from convnas.blocks.registry import register_block


@register_block("highway")
class Highway(Block):
    """Highway conv layer; its output has the input's shape.

    Args:
        kernel_size: F of the transform and gate convs ("same" padding).
        activation: Keras activation of the transform H.
        gate_bias: initial bias of the gate T (negative: carry by default).
        gate: False drops the gate and the carry: y = H(x).
        use_batch_norm: True puts BatchNorm between the transform's conv (then
            without a bias) and its activation; the gate stays a sigmoid conv.
    """

    def __init__(
        self,
        kernel_size: int = 3,
        activation: str = "relu",
        gate_bias: float = -1.0,
        gate: bool = True,
        use_batch_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.kernel_size = validation.positive_int("kernel_size", kernel_size)
        self.activation = validation.activation("activation", activation)
        if isinstance(gate_bias, bool) or not isinstance(gate_bias, (int, float)):
            raise ValueError(f"`gate_bias` must be a number. Received: gate_bias={gate_bias!r}")
        self.gate_bias = float(gate_bias)
        self.gate = validation.boolean("gate", gate)
        self.use_batch_norm = validation.boolean("use_batch_norm", use_batch_norm)
        self.transform = None
        self.normalization = []  # BN and the activation after the transform's conv, with use_batch_norm
        self.transform_gate = None

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        kernel_size: int = 3,
        activation: str = "relu",
        gate_bias: float = -1.0,
        gate: bool = True,
        use_batch_norm: bool = False,
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        channels = input_shape[-1]
        transform = arithmetic.conv_cost(input_shape, channels, kernel_size, padding="same",
                                         use_bias=not use_batch_norm, activation=None if use_batch_norm else activation)
        if use_batch_norm:
            transform = arithmetic.chain_cost(input_shape, lambda shape: transform, arithmetic.batch_norm_cost,
                                              lambda shape: arithmetic.activation_cost(shape, activation))
        if not gate:
            return transform
        gate_conv = arithmetic.conv_cost(input_shape, channels, kernel_size, padding="same", activation="sigmoid")
        return transform.beside(gate_conv, flops=3 * transform.elements)  # x + T * (H - x)

    def build(self, input_shape):
        channels = input_channels(self.block_name, input_shape)
        dtype = self.dtype_policy
        self.transform = keras.layers.Conv2D(
            channels,
            self.kernel_size,
            padding="same",
            activation=None if self.use_batch_norm else self.activation,
            use_bias=not self.use_batch_norm,
            dtype=dtype,
        )
        if self.use_batch_norm:
            self.normalization = [
                keras.layers.BatchNormalization(dtype=dtype),
                keras.layers.Activation(self.activation, dtype=dtype),
            ]
        build_chain([self.transform, *self.normalization], input_shape)
        if self.gate:
            self.transform_gate = keras.layers.Conv2D(
                channels,
                self.kernel_size,
                padding="same",
                activation="sigmoid",
                bias_initializer=keras.initializers.Constant(self.gate_bias),
                dtype=dtype,
            )
            self.transform_gate.build(input_shape)

    def call(self, inputs, training=None):
        transformed = run_chain([self.transform, *self.normalization], inputs, training)
        if not self.gate:
            return transformed
        gate = self.transform_gate(inputs)
        return inputs + gate * (transformed - inputs)

    def compute_output_shape(self, input_shape):
        input_channels(self.block_name, input_shape)
        return tuple(input_shape)
