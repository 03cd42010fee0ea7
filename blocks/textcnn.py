"""TextCNN: Kim 2014, "Convolutional neural networks for sentence classification".

Several Conv1D of different widths slide over an embedded sequence
(batch, steps, embedding); each feature map is max-pooled over time and the
results are concatenated into one fixed-size vector per sequence.
"""

from __future__ import annotations

import keras

from convnas.blocks import validation
from convnas.blocks.base import Block
from convnas.blocks.conv_layers import input_channels
from convnas.blocks.registry import register_block


@register_block("textcnn")
class TextCNN(Block):
    """Parallel Conv1D widths, max-over-time pooling, concatenation.

    Args:
        filters: feature maps per width (Kim uses 100).
        kernel_sizes: the widths, in tokens (Kim uses 3, 4, 5).
        activation: Keras activation name applied to each feature map.

    Output: (batch, filters * len(kernel_sizes)).
    """

    rank = 1

    def __init__(
        self,
        filters: int = 100,
        kernel_sizes: tuple[int, ...] = (3, 4, 5),
        activation: str | None = "relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        if isinstance(kernel_sizes, (str, bytes)) or not hasattr(kernel_sizes, "__len__") or not kernel_sizes:
            raise ValueError(
                "`kernel_sizes` must be a non-empty sequence of positive integers. "
                f"Received: kernel_sizes={kernel_sizes!r}"
            )
        self.kernel_sizes = tuple(validation.positive_int("kernel_sizes", k) for k in kernel_sizes)
        self.activation = validation.activation("activation", activation)
        self.convs = [
            keras.layers.Conv1D(self.filters, k, activation=self.activation, dtype=self.dtype_policy)
            for k in self.kernel_sizes
        ]
        self.pool = keras.layers.GlobalMaxPooling1D(dtype=self.dtype_policy)
        self.concatenate = keras.layers.Concatenate(dtype=self.dtype_policy)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        for conv in self.convs:
            conv.build(input_shape)

    def call(self, inputs, training=None):
        return self.concatenate([self.pool(conv(inputs)) for conv in self.convs])

    def compute_output_shape(self, input_shape):
        input_channels(self.block_name, input_shape, self.rank)
        steps = input_shape[1]
        if steps is not None and max(self.kernel_sizes) > steps:
            raise ValueError(
                "`kernel_sizes` must not exceed the sequence length. "
                f"Received: kernel_sizes={self.kernel_sizes} for {steps} steps"
            )
        return (input_shape[0], self.filters * len(self.kernel_sizes))
