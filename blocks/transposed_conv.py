"""Transposed convolution ("deconvolution"): Zeiler et al. 2010, Long et al. 2015 (FCN).

The gradient of a conv with respect to its input, used as a learned
upsampler. Output size (W - 1) S + F - 2P + output_padding; when F is not
divisible by S the kernel overlaps unevenly and leaves checkerboard artifacts
(Odena et al. 2016).
"""

from __future__ import annotations

import keras

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import SequentialBlock
from convnas.blocks.conv_layers import input_channels
from convnas.blocks.registry import register_block


@register_block("transposed_conv")
class TransposedConv(SequentialBlock):
    """Conv2DTranspose with integer padding (cropping) support.

    Args:
        filters: output channels.
        kernel_size: F.
        strides: S, the upsampling factor.
        padding: "same", "valid" or an integer P cropped from each side of the output.
        output_padding: extra rows/columns added to one side of the output
            (0 <= output_padding < S); None lets Keras infer it.
        activation: Keras activation name or None.
        use_bias: whether the layer adds a bias.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        strides: int = 2,
        padding: str | int = "same",
        output_padding: int | None = None,
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.kernel_size = validation.positive_int("kernel_size", kernel_size)
        self.strides = validation.positive_int("strides", strides)
        self.padding = validation.padding("padding", padding)
        self.output_padding = output_padding
        self.activation = validation.activation("activation", activation)
        self.use_bias = validation.boolean("use_bias", use_bias)
        # Validates output_padding against strides.
        arithmetic.transposed_conv_output_size(1, self.kernel_size, self.strides, "valid", output_padding)
        if self.padding == "same" and output_padding == 0 and self.kernel_size % 2 == 0:
            raise ValueError(
                "`output_padding` must be at least 1 (or None) with padding='same' and an even kernel_size: "
                "TensorFlow cannot produce the (W - 1) S output it implies. "
                f"Received: output_padding=0, kernel_size={self.kernel_size}"
            )
        cropped = isinstance(self.padding, int)
        self.chain = [
            keras.layers.Conv2DTranspose(
                self.filters,
                self.kernel_size,
                strides=self.strides,
                padding="valid" if cropped else self.padding,
                output_padding=(output_padding or 0) if cropped else output_padding,
                activation=self.activation,
                use_bias=self.use_bias,
                dtype=self.dtype_policy,
            )
        ]
        if cropped and self.padding:
            self.chain.append(keras.layers.Cropping2D(self.padding, dtype=self.dtype_policy))

    def compute_output_shape(self, input_shape):
        input_channels(self.block_name, input_shape)
        sizes = tuple(
            None
            if size is None
            else arithmetic.transposed_conv_output_size(
                size, self.kernel_size, self.strides, self.padding, self.output_padding
            )
            for size in input_shape[1:3]
        )
        return (input_shape[0], *sizes, self.filters)
