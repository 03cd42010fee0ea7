"""Base classes of the blocks: configuration from constructor arguments, sublayer chains."""

from __future__ import annotations

import inspect

import keras


class Block(keras.layers.Layer):
    """A Keras layer whose config is exactly its constructor arguments.

    Subclasses store every constructor argument as an attribute of the same
    name; `get_config` reads them back, so `cls.from_config(layer.get_config())`
    rebuilds the same block. `rank` is the number of spatial axes of the
    input: 2 for images (batch, H, W, C), 1 for sequences (batch, steps, C).
    """

    rank = 2

    def get_config(self) -> dict:
        config = super().get_config()
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name != "self" and parameter.kind is parameter.POSITIONAL_OR_KEYWORD:
                config[name] = getattr(self, name)
        return config


def build_chain(layers: list[keras.layers.Layer], input_shape: tuple) -> tuple:
    """Builds `layers` in order on `input_shape`; returns the shape they output."""
    shape = tuple(input_shape)
    for layer in layers:
        layer.build(shape)
        shape = tuple(layer.compute_output_shape(shape))
    return shape


def run_chain(layers: list[keras.layers.Layer], inputs, training=None):
    """Applies `layers` in order."""
    outputs = inputs
    for layer in layers:
        outputs = layer(outputs, training=training)
    return outputs


class SequentialBlock(Block):
    """A block computing a chain of sublayers, `self.chain`, in order.

    Subclasses create `self.chain` in `__init__` and compute their output
    shape with the conv arithmetic (`compute_output_shape`), which `build`
    calls first so that impossible shapes fail with a named argument.
    """

    chain: list[keras.layers.Layer]

    def build(self, input_shape: tuple) -> None:
        self.compute_output_shape(input_shape)
        build_chain(self.chain, input_shape)

    def call(self, inputs, training=None):
        return run_chain(self.chain, inputs, training)
