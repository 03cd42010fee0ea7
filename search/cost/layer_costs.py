"""Per-layer cost formulas: one entry per layer class, (layer, input shapes, output shape) -> (MACs, FLOPs).

Counting convention (stated once, used everywhere):

- `macs`: multiply-accumulates of weight layers (Conv1D/2D, grouped, dilated,
  DepthwiseConv2D, SeparableConv2D, Conv2DTranspose, Dense and the convnas
  convs with their own kernels): the papers' "mult-adds".
- `flops`: every floating point operation: 2 per MAC, plus one per output
  element for a bias add, inference BatchNorm as TensorFlow computes it
  (2 per element, scale and shift, plus 5 per channel to fold the statistics:
  variance + epsilon, rsqrt (2), mean times scale, offset minus that; 6 with
  a learned gamma), pool_size^2 per output element for pooling, one per input element
  for global pooling, (n - 1) per output element for an n-way element-wise
  add/multiply, 7 per output element for bilinear resizing (4 multiplies,
  3 adds), 5 per element for softmax (as TensorFlow's registry: max,
  subtract, exp, sum, divide), 2 per element for rescaling (a multiply and
  an add: Keras's Rescaling computes x * scale + offset even when the
  offset is 0); reshapes, concatenation, nearest resizing,
  padding, other activations and channel shuffle are free.

The weight layers' and BatchNorm's FLOPs are `convnas.blocks.arithmetic`'s
(`weight_layer_flops`, `batch_norm_flops`), which the blocks' own arithmetic
uses too. Shapes include the batch dimension. A formula gives the cost of the layer's
own operations; the sublayers of a composite layer are counted on their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras

from convnas.blocks import arithmetic
from convnas.blocks.channel_shuffle import ChannelShuffle
from convnas.blocks.highway import Highway
from convnas.blocks.kernel_conv import KernelConv
from convnas.blocks.pool import Pool

Shape = tuple[int, ...]
Formula = Callable[[keras.layers.Layer, Sequence[Shape], Shape], tuple[int, int]]


def _elements(shape: Shape) -> int:
    return math.prod(shape)


def _activation(layer: keras.layers.Layer) -> str | None:
    """"softmax" for a layer whose activation is softmax (the one activation with a cost), else None."""
    softmax = keras.activations.get(getattr(layer, "activation", None)) is keras.activations.softmax
    return "softmax" if softmax else None


def _with_bias(layer: keras.layers.Layer, macs: int, output_shape: Shape) -> tuple[int, int]:
    use_bias = getattr(layer, "use_bias", False)
    return macs, arithmetic.weight_layer_flops(macs, _elements(output_shape), use_bias, _activation(layer))


def _conv(layer, input_shapes, output_shape):
    batch, *_, channels = input_shapes[0]
    macs = arithmetic.conv_macs(output_shape[1:-1], layer.kernel_size, channels, layer.filters, layer.groups)
    return _with_bias(layer, batch * macs, output_shape)


def _kernel_conv(layer, input_shapes, output_shape):
    batch, *_, channels = input_shapes[0]
    macs = arithmetic.conv_macs(output_shape[1:-1], layer.kernel_size, channels, layer.filters)
    return _with_bias(layer, batch * macs, output_shape)


def _depthwise(layer, input_shapes, output_shape):
    batch, *_, channels = input_shapes[0]
    macs = batch * math.prod(output_shape[1:-1]) * math.prod(layer.kernel_size) * channels * layer.depth_multiplier
    return _with_bias(layer, macs, output_shape)


def _separable(layer, input_shapes, output_shape):
    batch, *_, channels = input_shapes[0]
    positions = batch * math.prod(output_shape[1:-1])
    depthwise = positions * math.prod(layer.kernel_size) * channels * layer.depth_multiplier
    pointwise = positions * channels * layer.depth_multiplier * layer.filters
    return _with_bias(layer, depthwise + pointwise, output_shape)


def _transposed(layer, input_shapes, output_shape):
    batch, *spatial, channels = input_shapes[0]
    macs = arithmetic.transposed_conv_macs(spatial, layer.kernel_size, channels, layer.filters)
    return _with_bias(layer, batch * macs, output_shape)


def _dense(layer, input_shapes, output_shape):
    macs = _elements(input_shapes[0][:-1]) * input_shapes[0][-1] * layer.units
    return _with_bias(layer, macs, output_shape)


def _pooling(layer, input_shapes, output_shape):
    return 0, _elements(output_shape) * math.prod(layer.pool_size)


def _global_pooling(layer, input_shapes, output_shape):
    return 0, _elements(input_shapes[0])


def _batch_norm(layer, input_shapes, output_shape):
    channels = output_shape[layer.axis]
    return 0, arithmetic.batch_norm_flops(_elements(output_shape), channels, layer.scale)


def _merge(layer, input_shapes, output_shape):
    return 0, (len(input_shapes) - 1) * _elements(output_shape)


def _upsampling(layer, input_shapes, output_shape):
    return 0, 7 * _elements(output_shape) if layer.interpolation == "bilinear" else 0


def _highway(layer, input_shapes, output_shape):
    # x + T * (H - x): a subtraction, a multiplication and an addition per element.
    return 0, 3 * _elements(output_shape) if layer.gate else 0


def _activation_layer(layer, input_shapes, output_shape):
    return 0, arithmetic.activation_cost(output_shape, _activation(layer)).flops


def _softmax(layer, input_shapes, output_shape):
    return 0, arithmetic.SOFTMAX_FLOPS * _elements(output_shape)


def _rescaling(layer, input_shapes, output_shape):
    return 0, 2 * _elements(output_shape)


def _free(layer, input_shapes, output_shape):
    return 0, 0


FORMULAS: dict[type, Formula] = {
    keras.layers.Conv1D: _conv,
    keras.layers.Conv2D: _conv,
    keras.layers.Conv3D: _conv,
    keras.layers.DepthwiseConv1D: _depthwise,
    keras.layers.DepthwiseConv2D: _depthwise,
    keras.layers.SeparableConv1D: _separable,
    keras.layers.SeparableConv2D: _separable,
    keras.layers.Conv1DTranspose: _transposed,
    keras.layers.Conv2DTranspose: _transposed,
    keras.layers.Dense: _dense,
    keras.layers.MaxPooling1D: _pooling,
    keras.layers.MaxPooling2D: _pooling,
    keras.layers.AveragePooling1D: _pooling,
    keras.layers.AveragePooling2D: _pooling,
    keras.layers.GlobalMaxPooling1D: _global_pooling,
    keras.layers.GlobalMaxPooling2D: _global_pooling,
    keras.layers.GlobalAveragePooling1D: _global_pooling,
    keras.layers.GlobalAveragePooling2D: _global_pooling,
    keras.layers.BatchNormalization: _batch_norm,
    keras.layers.Add: _merge,
    keras.layers.Subtract: _merge,
    keras.layers.Multiply: _merge,
    keras.layers.UpSampling1D: _free,
    keras.layers.UpSampling2D: _upsampling,
    keras.layers.InputLayer: _free,
    keras.layers.Activation: _activation_layer,
    keras.layers.ReLU: _free,
    keras.layers.Softmax: _softmax,
    keras.layers.Rescaling: _rescaling,
    keras.layers.Concatenate: _free,
    keras.layers.Reshape: _free,
    keras.layers.Flatten: _free,
    keras.layers.Permute: _free,
    keras.layers.Dropout: _free,
    keras.layers.SpatialDropout2D: _free,
    keras.layers.ZeroPadding1D: _free,
    keras.layers.ZeroPadding2D: _free,
    keras.layers.Cropping1D: _free,
    keras.layers.Cropping2D: _free,
    keras.layers.Embedding: _free,
    keras.layers.Identity: _free,
    KernelConv: _kernel_conv,
    ChannelShuffle: _free,
    Highway: _highway,
    Pool: _free,  # mode "none" is the identity; the other modes are counted by their sublayers
}


def formula_for(layer: keras.layers.Layer) -> Formula | None:
    """The formula of the nearest class of `layer` in FORMULAS, or None."""
    for cls in type(layer).__mro__:
        if cls in FORMULAS:
            return FORMULAS[cls]
    return None
