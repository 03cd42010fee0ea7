"""Conv arithmetic: output sizes, parameters, time and space complexity, receptive field.

Pure functions of integers, in the notation of the CS231n notes and of
Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016):
input size W, kernel F, stride S, zero padding P, dilation d.

- Conv / pooling output size: floor((W + 2P - F_d) / S) + 1 with the dilated
  kernel F_d = d(F - 1) + 1; Keras's "same" gives ceil(W / S), "valid" is P = 0.
- Transposed conv output size: (W - 1) S + F_d - 2P + output_padding.
- Parameters of a conv: F^2 * Cin / groups * Cout + Cout (bias).
- Time complexity (multiply-accumulates, the papers' "mult-adds") of a conv:
  Hout * Wout * F^2 * Cin / groups * Cout; of a transposed conv:
  Hin * Win * F^2 * Cin * Cout (every input pixel scatters one kernel).
- Space complexity: weights plus output feature maps, in elements and bytes.
- Receptive field of a stack: r_l = r_{l-1} + (F_d - 1) * prod(S_1..S_{l-1}).
- FLOPs (the convention of `search.cost.layer_costs`, batch 1): 2 per MAC
  plus one per output element for a bias; inference BatchNorm 2 per element
  plus 5 per channel (6 with its learned scale); pooling F^2 per output
  element; softmax 5 per element. `BlockCost` carries a layer's or a
  block's output shape, weights, MACs and FLOPs: the blocks of the search
  space compute their own (`cost`, a static method of the block) from their
  arguments and an input shape, with no layer made.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from convnas.blocks import validation

SOFTMAX_FLOPS = 5  # per element, as TensorFlow's registry: max, subtract, exp, sum, divide


def effective_kernel_size(kernel_size: int, dilation_rate: int = 1) -> int:
    """Extent of a dilated kernel: d(F - 1) + 1."""
    kernel_size = validation.positive_int("kernel_size", kernel_size)
    dilation_rate = validation.positive_int("dilation_rate", dilation_rate)
    return dilation_rate * (kernel_size - 1) + 1


def conv_output_size(
    size: int,
    kernel_size: int,
    strides: int = 1,
    padding: str | int = "valid",
    dilation_rate: int = 1,
) -> int:
    """Output size along one axis of a conv (or pooling) layer.

    Args:
        size: input size W along the axis.
        kernel_size: kernel size F.
        strides: stride S.
        padding: "valid" (P = 0), "same" (Keras: output ceil(W / S)) or an
            integer P, the zeros added on each side.
        dilation_rate: dilation d.

    Returns:
        floor((W + 2P - F_d) / S) + 1, or ceil(W / S) for "same".

    Raises:
        ValueError: if the (dilated) kernel does not fit in the padded input.
    """
    size = validation.positive_int("size", size)
    strides = validation.positive_int("strides", strides)
    padding = validation.padding("padding", padding)
    extent = effective_kernel_size(kernel_size, dilation_rate)
    if padding == "same":
        return -(-size // strides)
    pad = 0 if padding == "valid" else padding
    padded = size + 2 * pad
    if extent > padded:
        raise ValueError(
            "`kernel_size` must not exceed the padded input size. "
            f"Received: kernel_size={kernel_size} (extent {extent} with dilation_rate={dilation_rate}) "
            f"for an input of size {size} with padding={padding!r} (padded size {padded})"
        )
    return (padded - extent) // strides + 1


def pool_output_size(
    size: int, pool_size: int, strides: int | None = None, padding: str | int = "valid"
) -> int:
    """Output size of a pooling window: (W - F) / S + 1 for "valid"; S defaults to F."""
    return conv_output_size(size, pool_size, pool_size if strides is None else strides, padding)


def transposed_conv_output_size(
    size: int,
    kernel_size: int,
    strides: int = 1,
    padding: str | int = "valid",
    output_padding: int | None = None,
    dilation_rate: int = 1,
) -> int:
    """Output size along one axis of a transposed conv, exactly as Keras computes it.

    With an integer padding P (cropped from each side of the output):
    (W - 1) S + F_d - 2P + output_padding. With "valid" and no output_padding:
    W S + max(F_d - S, 0); with "same" and no output_padding: W S. With an
    explicit output_padding, "valid" is P = 0 and "same" is P = F_d // 2.
    """
    size = validation.positive_int("size", size)
    strides = validation.positive_int("strides", strides)
    padding = validation.padding("padding", padding)
    extent = effective_kernel_size(kernel_size, dilation_rate)
    if output_padding is not None:
        output_padding = validation.non_negative_int("output_padding", output_padding)
        if output_padding >= strides:
            raise ValueError(
                "`output_padding` must be smaller than `strides`. "
                f"Received: output_padding={output_padding}, strides={strides}"
            )
    if isinstance(padding, int):
        length = (size - 1) * strides + extent - 2 * padding + (output_padding or 0)
        if length < 1:
            raise ValueError(
                "`padding` crops the whole output of the transposed conv. "
                f"Received: padding={padding} for an uncropped output of size {length + 2 * padding}"
            )
        return length
    if output_padding is None:
        if padding == "same":
            return size * strides
        return size * strides + max(extent - strides, 0)
    pad = extent // 2 if padding == "same" else 0
    return (size - 1) * strides + extent - 2 * pad + output_padding


def _kernel_volume(kernel_size: int | Sequence[int]) -> int:
    if isinstance(kernel_size, Sequence):
        return math.prod(validation.positive_int("kernel_size", k) for k in kernel_size)
    return validation.positive_int("kernel_size", kernel_size) ** 2


def conv_params(
    kernel_size: int | Sequence[int],
    in_channels: int,
    filters: int,
    groups: int = 1,
    use_bias: bool = True,
) -> int:
    """Weights of a conv: prod(F) * Cin / groups * Cout, plus Cout biases.

    An integer `kernel_size` is a square 2D kernel; pass a tuple for 1D or
    rectangular kernels. A depthwise conv is groups=Cin, filters=Cin * multiplier.
    """
    in_channels = validation.positive_int("in_channels", in_channels)
    filters = validation.positive_int("filters", filters)
    groups = validation.positive_int("groups", groups)
    validation.divides("groups", groups, "in_channels", in_channels)
    validation.divides("groups", groups, "filters", filters)
    return _kernel_volume(kernel_size) * in_channels // groups * filters + (filters if use_bias else 0)


def batch_norm_params(channels: int) -> int:
    """BatchNormalization: gamma, beta (trainable), moving mean and variance: 4 C."""
    return 4 * validation.positive_int("channels", channels)


def dense_params(in_features: int, units: int, use_bias: bool = True) -> int:
    """Weights of a fully connected layer: in * out + out."""
    in_features = validation.positive_int("in_features", in_features)
    units = validation.positive_int("units", units)
    return in_features * units + (units if use_bias else 0)


def conv_macs(
    output_size: Sequence[int],
    kernel_size: int | Sequence[int],
    in_channels: int,
    filters: int,
    groups: int = 1,
) -> int:
    """Multiply-accumulates of a conv: prod(output spatial) * prod(F) * Cin / groups * Cout."""
    in_channels = validation.positive_int("in_channels", in_channels)
    groups = validation.positive_int("groups", groups)
    validation.divides("groups", groups, "in_channels", in_channels)
    return math.prod(output_size) * _kernel_volume(kernel_size) * in_channels // groups * filters


def transposed_conv_macs(
    input_size: Sequence[int], kernel_size: int | Sequence[int], in_channels: int, filters: int
) -> int:
    """Multiply-accumulates of a transposed conv: prod(input spatial) * prod(F) * Cin * Cout."""
    return math.prod(input_size) * _kernel_volume(kernel_size) * in_channels * filters


@dataclasses.dataclass(frozen=True)
class ConvLayer:
    """One square layer of a stack, in the F/S/P notation.

    `filters=None` is a pooling layer (keeps its channels, has no weights).
    """

    kernel_size: int
    strides: int = 1
    padding: str | int = "valid"
    dilation_rate: int = 1
    filters: int | None = None
    groups: int = 1
    transposed: bool = False
    output_padding: int | None = None
    use_bias: bool = True


@dataclasses.dataclass(frozen=True)
class LayerCost:
    """Output shape (H, W, C), weights and multiply-accumulates of one layer of a stack."""

    output_shape: tuple[int, int, int]
    params: int
    macs: int


@dataclasses.dataclass(frozen=True)
class SpaceComplexity:
    """Memory of a stack: weights plus every output feature map (batch 1)."""

    weights: int
    activations: int
    bytes_per_element: int

    @property
    def elements(self) -> int:
        return self.weights + self.activations

    @property
    def bytes(self) -> int:
        return self.elements * self.bytes_per_element


def stack_costs(input_shape: Sequence[int], layers: Sequence[ConvLayer]) -> list[LayerCost]:
    """Output shape, parameters and MACs of each layer of a stack on an (H, W, C) input."""
    if len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be (H, W, C). Received: input_shape={tuple(input_shape)!r}")
    height, width, channels = (validation.positive_int("input_shape", d) for d in input_shape)
    costs = []
    for layer in layers:
        if layer.transposed:
            size = [
                transposed_conv_output_size(
                    d, layer.kernel_size, layer.strides, layer.padding, layer.output_padding, layer.dilation_rate
                )
                for d in (height, width)
            ]
        else:
            size = [
                conv_output_size(d, layer.kernel_size, layer.strides, layer.padding, layer.dilation_rate)
                for d in (height, width)
            ]
        if layer.filters is None:
            params, macs, out_channels = 0, 0, channels
        else:
            out_channels = layer.filters
            params = conv_params(layer.kernel_size, channels, out_channels, layer.groups, layer.use_bias)
            if layer.transposed:
                macs = transposed_conv_macs((height, width), layer.kernel_size, channels, out_channels)
            else:
                macs = conv_macs(size, layer.kernel_size, channels, out_channels, layer.groups)
        height, width, channels = size[0], size[1], out_channels
        costs.append(LayerCost((height, width, channels), params, macs))
    return costs


def time_complexity(input_shape: Sequence[int], layers: Sequence[ConvLayer]) -> int:
    """Total multiply-accumulates of a stack of layers (batch 1)."""
    return sum(cost.macs for cost in stack_costs(input_shape, layers))


def space_complexity(
    input_shape: Sequence[int], layers: Sequence[ConvLayer], bytes_per_element: int = 4
) -> SpaceComplexity:
    """Weights plus output feature maps of a stack, in elements and bytes (float32 by default)."""
    costs = stack_costs(input_shape, layers)
    return SpaceComplexity(
        weights=sum(cost.params for cost in costs),
        activations=sum(math.prod(cost.output_shape) for cost in costs),
        bytes_per_element=validation.positive_int("bytes_per_element", bytes_per_element),
    )


def receptive_field(layers: Sequence[ConvLayer]) -> int:
    """Receptive field, in input pixels, of one output unit of a conv/pooling stack."""
    field, jump = 1, 1
    for layer in layers:
        if layer.transposed:
            raise ValueError(
                "`layers` must be conv or pooling layers: a transposed conv has no receptive field "
                f"in this sense. Received: {layer!r}"
            )
        field += (effective_kernel_size(layer.kernel_size, layer.dilation_rate) - 1) * jump
        jump *= validation.positive_int("strides", layer.strides)
    return field


def weight_layer_flops(macs: int, output_elements: int, use_bias: bool, activation: str | None = None) -> int:
    """FLOPs of a weight layer: 2 per MAC, one per output element for a bias, `SOFTMAX_FLOPS` per one for softmax."""
    return 2 * macs + output_elements * (use_bias + SOFTMAX_FLOPS * (activation == "softmax"))


def batch_norm_flops(elements: int, channels: int, scale: bool = True) -> int:
    """Inference BatchNorm as TensorFlow computes it: a scale and a shift per element, the statistics folded per
    channel (variance + epsilon, rsqrt (2), mean times scale, offset minus that; one more with a learned scale)."""
    return 2 * elements + (5 + scale) * channels


@dataclasses.dataclass(frozen=True)
class BlockCost:
    """Output shape (*spatial, C), weights, multiply-accumulates and FLOPs of a layer or a block (batch 1)."""

    output_shape: tuple[int, ...]
    params: int = 0
    macs: int = 0
    flops: int = 0

    def then(self, following: BlockCost) -> BlockCost:
        """This followed by `following` (which took this one's output): `following`'s shape, the costs summed."""
        return BlockCost(following.output_shape, self.params + following.params, self.macs + following.macs,
                         self.flops + following.flops)

    def beside(self, branch: BlockCost | None = None, flops: int = 0) -> BlockCost:
        """This output, with the costs of a parallel `branch` (a shortcut, a gate) and `flops` of no layer (an
        element-wise merge) added."""
        branch = branch or BlockCost(self.output_shape)
        return BlockCost(self.output_shape, self.params + branch.params, self.macs + branch.macs,
                         self.flops + branch.flops + flops)

    @property
    def elements(self) -> int:
        """Elements of the output."""
        return math.prod(self.output_shape)


def chain_cost(input_shape: Sequence[int], *layers) -> BlockCost:
    """The cost of functions (shape -> BlockCost) applied in order to a (*spatial, C) input: the last one's shape."""
    total = BlockCost(tuple(input_shape))
    for layer in layers:
        total = total.then(layer(total.output_shape))
    return total


def padding_after(padding: str | int) -> str:
    """The padding of a block's layers after its first: "valid" after an integer P (the block's zeros, added once
    before its first layer), else the block's mode."""
    return "valid" if isinstance(padding, int) else padding


def conv_cost(
    input_shape: Sequence[int],
    filters: int,
    kernel_size: int | Sequence[int],
    strides: int | Sequence[int] = 1,
    padding: str | int = "valid",
    dilation_rate: int | Sequence[int] = 1,
    groups: int = 1,
    use_bias: bool = True,
    activation: str | None = None,
) -> BlockCost:
    """One conv on a (*spatial, C) input, e.g. (H, W, C); an integer `padding` P adds P zeros on each side first.

    `kernel_size`, `strides` and `dilation_rate` are an int or one per spatial axis. A depthwise conv is
    groups = C, filters = C * depth multiplier.
    """
    *spatial, channels = input_shape
    kernel, step, rate = (validation.size_tuple(name, value, len(spatial)) for name, value in
                          (("kernel_size", kernel_size), ("strides", strides), ("dilation_rate", dilation_rate)))
    size = tuple(conv_output_size(d, k, s, padding, r) for d, k, s, r in zip(spatial, kernel, step, rate))
    macs = conv_macs(size, kernel, channels, filters, groups)
    output_shape = (*size, filters)
    return BlockCost(output_shape, conv_params(kernel, channels, filters, groups, use_bias), macs,
                     weight_layer_flops(macs, math.prod(output_shape), use_bias, activation))


def batch_norm_cost(input_shape: Sequence[int]) -> BlockCost:
    """Inference BatchNormalization over the channels (gamma, beta, moving mean and variance)."""
    return BlockCost(tuple(input_shape), batch_norm_params(input_shape[-1]), 0,
                     batch_norm_flops(math.prod(input_shape), input_shape[-1]))


def activation_cost(input_shape: Sequence[int], activation: str | None) -> BlockCost:
    """An activation layer: free but for softmax."""
    return BlockCost(tuple(input_shape), 0, 0, SOFTMAX_FLOPS * math.prod(input_shape) * (activation == "softmax"))


def pooling_cost(
    input_shape: Sequence[int], pool_size: int, strides: int | None = None, padding: str | int = "valid"
) -> BlockCost:
    """Max or average pooling, a `pool_size` window on each spatial axis of a (*spatial, C) input (an integer
    `padding` P: P zeros on each side first)."""
    *spatial, channels = input_shape
    output_shape = (*(pool_output_size(d, pool_size, strides, padding) for d in spatial), channels)
    return BlockCost(output_shape, 0, 0, math.prod(output_shape) * pool_size ** len(spatial))


def dense_cost(features: int, units: int, use_bias: bool = True, activation: str | None = None) -> BlockCost:
    """A fully connected layer on `features` inputs."""
    macs = features * units
    return BlockCost((units,), dense_params(features, units, use_bias), macs,
                     weight_layer_flops(macs, units, use_bias, activation))
