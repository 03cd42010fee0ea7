"""A candidate's layout as data: the layers of its stem, stages and head, and their cost from the arithmetic alone.

`ConvNetHyperModel` (search.space.hypermodel) builds its Keras model from this
description and nothing else: `stage_parts` says which layers each stage is
made of (a `LayerSpec`: a registered block or the BatchNorm and ReLU after it,
with its arguments), and `through_stage` walks them. The budget screen walks
the same description with the blocks' own arithmetic (each block's `cost`,
a `convnas.blocks.arithmetic.BlockCost`), so a candidate's parameters, MACs
and FLOPs are known with no layer made: `cost` equals
`search.cost.count` of the built model, and rejects the candidates the build
rejects, with the same reason (tests/search/space/test_layout.py checks both
over the tabular benchmark's sub-space and a sample of the whole space).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Sequence

import keras

from convnas import blocks
from convnas.blocks import arithmetic
from convnas.blocks.arithmetic import BlockCost
from convnas.search.space.stages import POOLING, Stage, check_downsampling
from convnas.search.space.training import TrainingConfig

BATCH_NORM, RELU = "batch_norm", "relu"  # the two layers of a layout that are Keras's own, not registered blocks
# Plain-cell blocks that end in their own BatchNorm and ReLU (MobileNet's Fig. 3): used alone, not normalized.
NORMALIZED_BLOCKS = ("depthwise_separable_conv",)


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A candidate network, as plain data."""

    stem_filters: int
    stages: tuple[Stage, ...]
    head: str
    head_units: int
    training: TrainingConfig


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One layer of a layout: a registered block (or `BATCH_NORM`, `RELU`) and its keyword arguments."""

    name: str
    arguments: dict = dataclasses.field(default_factory=dict)

    def make(self) -> keras.layers.Layer:
        """The Keras layer (unbuilt)."""
        if self.name == BATCH_NORM:
            return keras.layers.BatchNormalization()
        if self.name == RELU:
            return keras.layers.Activation("relu")
        return blocks.get_block(self.name)(**self.arguments)

    def cost(self, input_shape: tuple[int, ...]) -> BlockCost:
        """Its output shape, weights, MACs and FLOPs on an (H, W, C) input, by the arithmetic (no layer made)."""
        if self.name == BATCH_NORM:
            return arithmetic.batch_norm_cost(input_shape)
        if self.name == RELU:
            return arithmetic.activation_cost(input_shape, "relu")
        return blocks.get_block(self.name).cost(input_shape, **self.arguments)


def normalized(block_name: str, **arguments) -> list[LayerSpec]:
    """A registered block, BatchNormalization, ReLU."""
    return [LayerSpec(block_name, arguments), LayerSpec(BATCH_NORM), LayerSpec(RELU)]


def _inception_widths(filters: int) -> dict[str, int]:
    """Inception branch widths adding up to `filters` (1/4, 1/2, 1/8, 1/8 as in inception (3a))."""
    if filters % 8:
        raise ValueError(f"`filters` of an inception cell must be a multiple of 8. Received: filters={filters}")
    eighth = filters // 8
    return {
        "filters_1x1": 2 * eighth,
        "filters_3x3_reduce": 2 * eighth,
        "filters_3x3": 4 * eighth,
        "filters_5x5_reduce": eighth,
        "filters_5x5": eighth,
        "filters_pool_proj": eighth,
    }


def block_strides(stage: Stage, index: int) -> int:
    """Stride of block `index`: the stage's `strides` on its first block, x2 on its last for "strided" downsampling."""
    strides = (stage.strides or 1) if index == 0 else 1
    if stage.downsampling == "strided" and index == stage.blocks - 1:
        strides *= 2  # Strided-CNN-C: the pooling's stride moves into the conv before it
    return strides


def block_dilation(stage: Stage, index: int) -> int | None:
    """Dilation rate of block `index`: the stage's one rate, or its own from a list of rates per block."""
    return stage.dilation[index] if isinstance(stage.dilation, tuple) else stage.dilation


def _plain_block(stage: Stage, index: int) -> list[LayerSpec]:
    accepted = inspect.signature(blocks.get_block(stage.block).__init__).parameters
    arguments = {"filters": stage.filters, "kernel_size": stage.kernel_size}
    strides = block_strides(stage, index)
    if strides != 1:
        if "strides" not in accepted:
            strided = stage.downsampling == "strided" and index == stage.blocks - 1
            cause = " (downsampling='strided' strides the stage's last block)" if strided else ""
            raise ValueError(f"`strides` must be 1 for {stage.block}. Received: strides={strides}{cause}")
        arguments["strides"] = strides
    if stage.dilation is not None:
        arguments["dilation_rate"] = block_dilation(stage, index)
    if stage.groups is not None:
        arguments["groups"] = stage.groups
    if stage.block in NORMALIZED_BLOCKS:
        layers = [LayerSpec(stage.block, arguments)]
    else:
        layers = normalized(stage.block, **arguments)
    if stage.channel_shuffle:
        if stage.groups is None:
            raise ValueError(f"`channel_shuffle` needs a grouped conv block. Received: block={stage.block!r}")
        layers.append(LayerSpec("channel_shuffle", {"groups": stage.groups}))
    return layers


def _downsampling(stage: Stage) -> list[LayerSpec]:
    """The layers after a stage's blocks (Springenberg et al. 2014): pooling, All-CNN-C's conv, or none."""
    if stage.downsampling in POOLING:  # window pool_size, stride 2, "same" padding: the size halves
        return [LayerSpec("pool", {"mode": stage.downsampling, "pool_size": stage.pool_size, "strides": 2,
                                   "padding": "same"})]
    if stage.downsampling == "all_conv":  # the pooling replaced by a learned 3x3 stride-2 conv
        return normalized("conv", filters=stage.filters, kernel_size=3, strides=2, use_bias=False)
    return []  # "strided": the last block took the stride; "none"


def _cell_block(stage: Stage, index: int) -> list[LayerSpec]:
    """The layers of block `index` of `stage`'s cell."""
    if stage.cell == "plain":
        return _plain_block(stage, index)
    if stage.cell == "residual":
        return [LayerSpec("residual", {"filters": stage.filters, "kernel_size": stage.kernel_size,
                                       "strides": block_strides(stage, index), "shortcut": stage.shortcut})]
    if stage.cell == "depthwise_separable":
        return [LayerSpec("depthwise_separable_conv", {"filters": stage.filters, "kernel_size": stage.kernel_size,
                                                       "strides": block_strides(stage, index)})]
    if stage.cell == "inception":  # without reductions, the pool projection keeps the width at `filters`
        return [LayerSpec("inception", {**_inception_widths(stage.filters), "use_reductions": stage.reductions})]
    if stage.cell == "highway":
        return [LayerSpec("highway", {"kernel_size": stage.kernel_size, "gate": stage.gate, "use_batch_norm": True})]
    return [LayerSpec("shuffle_unit", {"filters": stage.filters, "groups": stage.shuffle_groups})]


def _block_text(stage: Stage, index: int) -> str:
    """What block `index` of `stage` is, for messages: "dilated_conv 3x3, stride 2, dilation 2"."""
    name = stage.block if stage.cell == "plain" else stage.cell
    parts = [name if stage.kernel_size is None else f"{name} {stage.kernel_size}x{stage.kernel_size}"]
    strides = block_strides(stage, index)
    parts += [f"stride {strides}"] * (strides != 1)
    parts += [f"dilation {block_dilation(stage, index)}"] * (stage.dilation is not None)
    parts += [f"groups {groups}" for groups in (stage.groups, stage.shuffle_groups) if groups is not None]
    return ", ".join(parts)


def _downsampling_text(stage: Stage) -> str:
    """What a stage's downsampling layer is, for messages: "avg pool 2x2", "all_conv: conv 3x3, stride 2"."""
    if stage.downsampling in POOLING:
        return f"{stage.downsampling} pool {stage.pool_size}x{stage.pool_size}"
    return "all_conv: conv 3x3, stride 2"


def stage_parts(stage: Stage, channels: int) -> list[tuple[str, Callable[[], list[LayerSpec]]]]:
    """The parts of one stage on an input of `channels` channels, in order: the width projection the highway
    and shuffle cells need, its blocks, its downsampling layer; each as (what it is, a function giving its layers)."""
    check_downsampling("downsampling", stage.downsampling, stage.cell)
    parts = []
    if stage.cell in ("highway", "shuffle_unit") and channels != stage.filters:  # these cells keep their width
        parts.append((f"width projection (pointwise 1x1, {channels} to {stage.filters} channels)",
                      functools.partial(normalized, "pointwise", filters=stage.filters)))
    parts += [(f"block {index + 1} ({_block_text(stage, index)})", functools.partial(_cell_block, stage, index))
              for index in range(stage.blocks)]
    if stage.downsampling in (*POOLING, "all_conv"):  # "strided" and "none" add no layer
        parts.append((f"downsampling ({_downsampling_text(stage)})", functools.partial(_downsampling, stage)))
    return parts


def reason(error: Exception) -> str:
    """An error's message in one line: its first, or the one Keras's "Exception encountered when calling" heads."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Exception encountered when calling"):
        return lines[1]
    return lines[0] if lines else type(error).__name__


def through_stage(stage: Stage, number: int, x, apply: Callable, shape: Callable[[object], Sequence[int]]):
    """`x` through stage `number` (counted from 1), each layer applied by `apply(spec, x)`; `shape(x)` is the
    (H, W, C) of `x`. A ValueError names the stage, the part of it that failed and that part's input:
    "stage 3 downsampling (avg pool 2x2): input is 1x1x64: ..."."""
    try:
        parts = stage_parts(stage, shape(x)[-1])
    except ValueError as error:
        raise ValueError(f"stage {number}: {reason(error)}") from error
    for text, layers in parts:
        inputs = x
        try:
            for spec in layers():
                x = apply(spec, x)
        except ValueError as error:
            raise ValueError(
                f"stage {number} {text}: input is {'x'.join(map(str, shape(inputs)))}: {reason(error)}"
            ) from error
    return x


def _then(spec: LayerSpec, total: BlockCost) -> BlockCost:
    return total.then(spec.cost(total.output_shape))


def cost(
    architecture: Architecture, input_shape: tuple[int, int, int], num_classes: int, input_scale: float = 1.0
) -> BlockCost:
    """Parameters, MACs and FLOPs (batch 1) of the model `build_model` makes of `architecture`, by the arithmetic.

    The same numbers as `search.cost.count` of the built model; a ValueError, as the build raises it, for a
    candidate whose shapes are impossible.
    """
    total = BlockCost(tuple(input_shape))
    if input_scale != 1:  # Rescaling: a multiply and an add per element
        total = total.beside(flops=2 * total.elements)
    for spec in normalized("conv", filters=architecture.stem_filters, kernel_size=3):
        total = _then(spec, total)
    for number, stage in enumerate(architecture.stages, 1):
        total = through_stage(stage, number, total, _then, lambda cost: cost.output_shape)
    if architecture.head == "global_average_pooling":  # one FLOP per input element
        total = total.then(BlockCost(total.output_shape[-1:], flops=total.elements))
    else:
        total = total.then(BlockCost((total.elements,)))
    if architecture.head_units:
        total = total.then(arithmetic.dense_cost(total.elements, architecture.head_units, activation="relu"))
    return total.then(arithmetic.dense_cost(total.elements, num_classes, activation="softmax"))
