"""Search space: a keras-tuner HyperModel that builds a conv net as stages of registered blocks and cells.

A candidate is a stem (3x3 conv, BN, ReLU), then 1 to N stages, then a head.
Each stage has a cell type, a width, a number of blocks and a downsampling
mode; a "plain" cell stacks one registered conv block (with BN and ReLU, but
the depthwise separable conv, which has its own: MobileNet's Fig. 3), the
other cells are the classic ones (inception, residual, highway with BN as in
the plain and residual cells, shuffle_unit, depthwise_separable). The
choices, defaults and downsampling modes are `search.space.stages`'s, shared with
the ablation specs. Hyperparameters that exist only for some choices live
in `hp.conditional_scope`: the conv block only for plain cells, dilation only
for dilated convs, groups only for grouped convs, the stride only for cells
that take one; every stage's hyperparameters only when the stage exists.

`declare_hyperparameters` registers every hyperparameter of every branch in
one pass without building a model (keras-tuner's constructor otherwise
builds the default candidate once per conditional branch). A candidate that
cannot be built (groups not dividing channels, a stride a dilated conv cannot
take, "strided" downsampling in a cell without a stride, inception widths not
a multiple of 8) raises `InvalidCandidate` with its reason, which names the
stage, the part of it that failed (width projection, block n, downsampling)
and that part's input: "stage 3 block 1 (dilated_conv 3x3, stride 2,
dilation 2): input is 2x2x16: `strides` must be 1 for dilated_conv. ...".

Every hyperparameter can be fixed or restricted without editing code, with a
mapping `overrides` (from the YAML spec): a scalar fixes it, a list restricts
its choices, {min, max} narrows a float range. A key without a stage number
(`cell`) applies to every stage; `stage2_cell` to the second only.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Mapping, Sequence

import keras
import keras_tuner

from convnas import blocks
from convnas.blocks import validation
from convnas.blocks.arithmetic import ConvLayer
from convnas.blocks.arithmetic import receptive_field as stack_receptive_field
from convnas.search.data.class_names import ClassNames
from convnas.search.data.class_names import checked as checked_class_names
from convnas.search.space.stages import (
    GLOBAL_CHOICES,
    KERNEL_CELLS,
    POOLING,
    STAGE_CHOICES,
    STAGE_DEFAULTS,
    STRIDED_CELLS,
    Stage,
    check_downsampling,
)
from convnas.search.space.training import Protocol, TrainingConfig, compile_model, declare_training, fit_trial
from convnas.search.tuners.rejection import InvalidCandidate
from convnas.search.tuners.sampler import HYPERBAND_PREFIX


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A candidate network, as plain data."""

    stem_filters: int
    stages: tuple[Stage, ...]
    head: str
    head_units: int
    training: TrainingConfig


class Overrides:
    """Fixed values and restricted choices for hyperparameters, keyed by name."""

    def __init__(self, values: Mapping[str, object] | None = None):
        self.values = dict(values or {})

    def lookup(self, name: str, general: str | None = None) -> object | None:
        if name in self.values:
            return self.values[name]
        return self.values.get(general) if general else None

    def choice(self, hp, name: str, choices, default, general: str | None = None):
        """hp.Choice (or hp.Fixed) for `name`, restricted by the override if there is one."""
        override = self.lookup(name, general)
        if override is None:
            return hp.Choice(name, list(choices), default=default)
        if isinstance(override, list):
            return hp.Choice(name, override, default=default if default in override else override[0])
        return hp.Fixed(name, override)


class ConvNetHyperModel(keras_tuner.HyperModel):
    """Stages of convnas blocks and cells, for a classification task.

    Args:
        input_shape: (H, W, C) of the images.
        num_classes: classes of the softmax head.
        overrides: fixed values / restricted choices (see the module docstring).
        input_scale: the factor that brings the images to [0, 1]
            (`search.data.datasets.Dataset.scale`): every candidate's first layer.
        class_names: the name of each class (`search.data.datasets.Dataset.class_names`),
            carried by every candidate's last layer (`search.data.class_names`), or None.
        protocol: how a trial trains and is evaluated (`search.space.training.Protocol`:
            by default a warmup and a cosine to 0, BatchNorm re-estimated); see `fit`.
    """

    declares_every_branch = True  # the tuner declares the space without building a model

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        num_classes: int,
        overrides: Mapping | None = None,
        input_scale: float = 1.0,
        class_names: Sequence[str] | None = None,
        protocol: Protocol | None = None,
    ):
        super().__init__(name="convnet")
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        self.overrides = Overrides(overrides)
        self.input_scale = validation.positive_number("input_scale", input_scale)
        self.class_names = checked_class_names(class_names, num_classes)
        self.protocol = Protocol() if protocol is None else protocol

    def max_stages(self) -> int:
        choices = self.overrides.lookup("stages")
        if choices is None:
            return max(GLOBAL_CHOICES["stages"][0])
        return max(choices) if isinstance(choices, list) else choices

    def declare_hyperparameters(self, hp: keras_tuner.HyperParameters) -> None:
        """Registers every hyperparameter of every branch (builds nothing)."""
        self.architecture(hp)

    def architecture(self, hp: keras_tuner.HyperParameters) -> Architecture:
        """Declares the hyperparameters and returns the candidate they describe.

        Every branch's hyperparameters are registered whatever the current
        values; those of inactive branches read as None.
        """
        choose = self.overrides.choice
        stem_filters = choose(hp, "stem_filters", *GLOBAL_CHOICES["stem_filters"])
        stage_count = choose(hp, "stages", *GLOBAL_CHOICES["stages"])
        stages = []
        for n in range(1, self.max_stages() + 1):
            with hp.conditional_scope("stages", list(range(n, self.max_stages() + 1))):
                stage = self._stage(hp, n)
            if stage is not None and n <= stage_count:
                stages.append(stage)
        head = choose(hp, "head", *GLOBAL_CHOICES["head"])
        head_units = choose(hp, "head_units", *GLOBAL_CHOICES["head_units"])
        return Architecture(stem_filters, tuple(stages), head, head_units, declare_training(hp, self.overrides))

    def _stage(self, hp, n: int) -> Stage | None:
        def choose(key: str):
            choices, standard = STAGE_CHOICES[key]
            if standard is None:
                standard = choices[min(n - 1, len(choices) - 1)]
            return self.overrides.choice(hp, f"stage{n}_{key}", choices, standard, general=key)

        cell = choose("cell")
        filters = choose("filters")
        count = choose("blocks")
        downsampling = choose("downsampling")
        prefix = f"stage{n}_"
        with hp.conditional_scope(prefix + "cell", ["plain"]):
            block = choose("block")
            with hp.conditional_scope(prefix + "block", ["dilated_conv"]):
                dilation = choose("dilation")
            with hp.conditional_scope(prefix + "block", ["grouped_conv"]):
                groups = choose("groups")
        with hp.conditional_scope(prefix + "cell", list(KERNEL_CELLS)):
            kernel_size = choose("kernel_size")
        with hp.conditional_scope(prefix + "cell", list(STRIDED_CELLS)):
            strides = choose("strides")
        with hp.conditional_scope(prefix + "cell", ["shuffle_unit"]):
            shuffle_groups = choose("shuffle_groups")
        if cell is None:  # the whole stage is inactive
            return None
        pool_size = STAGE_DEFAULTS["pool_size"] if downsampling in POOLING else None  # spec-only: not searched
        return Stage(
            cell, filters, count, downsampling, block, kernel_size, strides, dilation, groups, shuffle_groups, pool_size
        )

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """The compiled candidate described by `hp`; raises InvalidCandidate if it cannot be built."""
        architecture = self.architecture(hp)
        try:
            model = build_model(architecture, self.input_shape, self.num_classes, self.input_scale, self.class_names)
        except ValueError as error:
            raise InvalidCandidate(_reason(error)) from None
        compile_model(model, architecture.training)
        return model

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args, **kwargs):
        """Trains a candidate: under `protocol` (`search.space.training.fit_trial`) where the trial trains its
        epochs from scratch; as compiled (its constant rate, the moving averages of training) for Hyperband's
        trials (`tuner/epochs`), which another trial may go on training from their weights at other epochs."""
        if any(name.startswith(HYPERBAND_PREFIX) for name in hp.values):
            return model.fit(*args, **kwargs)
        return fit_trial(model, declare_training(hp, self.overrides), self.protocol, *args, **kwargs)


def conv_bn_relu(block_name: str, **kwargs) -> list[keras.layers.Layer]:
    """A registered block, BatchNormalization, ReLU."""
    return [
        blocks.get_block(block_name)(**kwargs),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
    ]


# Plain-cell blocks that end in their own BatchNorm and ReLU (MobileNet's Fig. 3): used alone, not in conv_bn_relu.
NORMALIZED_BLOCKS = ("depthwise_separable_conv",)


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


def _block_strides(stage: Stage, index: int) -> int:
    """Stride of block `index`: the stage's `strides` on its first block, x2 on its last for "strided" downsampling."""
    strides = (stage.strides or 1) if index == 0 else 1
    if stage.downsampling == "strided" and index == stage.blocks - 1:
        strides *= 2  # Strided-CNN-C: the pooling's stride moves into the conv before it
    return strides


def _block_dilation(stage: Stage, index: int) -> int | None:
    """Dilation rate of block `index`: the stage's one rate, or its own from a list of rates per block."""
    return stage.dilation[index] if isinstance(stage.dilation, tuple) else stage.dilation


def _plain_block(stage: Stage, index: int) -> list[keras.layers.Layer]:
    cls = blocks.get_block(stage.block)
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {"filters": stage.filters, "kernel_size": stage.kernel_size}
    strides = _block_strides(stage, index)
    if strides != 1:
        if "strides" not in accepted:
            strided = stage.downsampling == "strided" and index == stage.blocks - 1
            cause = " (downsampling='strided' strides the stage's last block)" if strided else ""
            raise ValueError(f"`strides` must be 1 for {stage.block}. Received: strides={strides}{cause}")
        kwargs["strides"] = strides
    if stage.dilation is not None:
        kwargs["dilation_rate"] = _block_dilation(stage, index)
    if stage.groups is not None:
        kwargs["groups"] = stage.groups
    layers = [cls(**kwargs)] if stage.block in NORMALIZED_BLOCKS else conv_bn_relu(stage.block, **kwargs)
    if stage.channel_shuffle:
        if stage.groups is None:
            raise ValueError(f"`channel_shuffle` needs a grouped conv block. Received: block={stage.block!r}")
        layers.append(blocks.get_block("channel_shuffle")(groups=stage.groups))
    return layers


def _downsampling(stage: Stage) -> list[keras.layers.Layer]:
    """The layers after a stage's blocks (Springenberg et al. 2014): pooling, All-CNN-C's conv, or none."""
    if stage.downsampling in POOLING:  # window pool_size, stride 2, "same" padding: the size halves
        return [blocks.get_block("pool")(mode=stage.downsampling, pool_size=stage.pool_size, strides=2, padding="same")]
    if stage.downsampling == "all_conv":  # the pooling replaced by a learned 3x3 stride-2 conv
        return conv_bn_relu("conv", filters=stage.filters, kernel_size=3, strides=2, use_bias=False)
    return []  # "strided": the last block took the stride; "none"


def _cell_block(stage: Stage, index: int) -> list[keras.layers.Layer]:
    """The layers of block `index` of `stage`'s cell."""
    if stage.cell == "plain":
        return _plain_block(stage, index)
    if stage.cell == "residual":
        return [blocks.get_block("residual")(
            stage.filters, stage.kernel_size, strides=_block_strides(stage, index), shortcut=stage.shortcut
        )]
    if stage.cell == "depthwise_separable":
        return [blocks.get_block("depthwise_separable_conv")(
            stage.filters, stage.kernel_size, strides=_block_strides(stage, index)
        )]
    if stage.cell == "inception":  # without reductions, the pool projection keeps the width at `filters`
        return [blocks.get_block("inception")(**_inception_widths(stage.filters), use_reductions=stage.reductions)]
    if stage.cell == "highway":
        return [blocks.get_block("highway")(stage.kernel_size, gate=stage.gate, use_batch_norm=True)]
    return [blocks.get_block("shuffle_unit")(stage.filters, groups=stage.shuffle_groups)]


def _block_text(stage: Stage, index: int) -> str:
    """What block `index` of `stage` is, for messages: "dilated_conv 3x3, stride 2, dilation 2"."""
    name = stage.block if stage.cell == "plain" else stage.cell
    parts = [name if stage.kernel_size is None else f"{name} {stage.kernel_size}x{stage.kernel_size}"]
    strides = _block_strides(stage, index)
    parts += [f"stride {strides}"] * (strides != 1)
    parts += [f"dilation {_block_dilation(stage, index)}"] * (stage.dilation is not None)
    parts += [f"groups {groups}" for groups in (stage.groups, stage.shuffle_groups) if groups is not None]
    return ", ".join(parts)


def _downsampling_text(stage: Stage) -> str:
    """What a stage's downsampling layer is, for messages: "avg pool 2x2", "all_conv: conv 3x3, stride 2"."""
    if stage.downsampling in POOLING:
        return f"{stage.downsampling} pool {stage.pool_size}x{stage.pool_size}"
    return "all_conv: conv 3x3, stride 2"


def stage_parts(stage: Stage, channels: int) -> list[tuple[str, Callable[[], list[keras.layers.Layer]]]]:
    """The parts of one stage on an input of `channels` channels, in order: the width projection the highway
    and shuffle cells need, its blocks, its downsampling layer; each as (what it is, a function making its layers)."""
    check_downsampling("downsampling", stage.downsampling, stage.cell)
    parts = []
    if stage.cell in ("highway", "shuffle_unit") and channels != stage.filters:  # these cells keep their width
        parts.append((f"width projection (pointwise 1x1, {channels} to {stage.filters} channels)",
                      functools.partial(conv_bn_relu, "pointwise", filters=stage.filters)))
    parts += [(f"block {index + 1} ({_block_text(stage, index)})", functools.partial(_cell_block, stage, index))
              for index in range(stage.blocks)]
    if stage.downsampling in (*POOLING, "all_conv"):  # "strided" and "none" add no layer
        parts.append((f"downsampling ({_downsampling_text(stage)})", functools.partial(_downsampling, stage)))
    return parts


def stage_layers(stage: Stage, channels: int) -> list[keras.layers.Layer]:
    """The layers of one stage on an input of `channels` channels: its blocks, then its downsampling."""
    return [layer for _, make in stage_parts(stage, channels) for layer in make()]


def _reason(error: Exception) -> str:
    """An error's message in one line: its first, or the one Keras's "Exception encountered when calling" heads."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Exception encountered when calling"):
        return lines[1]
    return lines[0] if lines else type(error).__name__


def apply_stage(stage: Stage, number: int, x):
    """`x` through stage `number` (counted from 1); a ValueError names the stage, the part of it that failed and that
    part's input: "stage 3 downsampling (avg pool 2x2): input is 1x1x64: ..."."""
    try:
        parts = stage_parts(stage, x.shape[-1])
    except ValueError as error:
        raise ValueError(f"stage {number}: {_reason(error)}") from error
    for text, make in parts:
        inputs = x
        try:
            for layer in make():
                x = layer(x)
        except ValueError as error:
            raise ValueError(
                f"stage {number} {text}: input is {'x'.join(map(str, inputs.shape[1:]))}: {_reason(error)}"
            ) from error
    return x


def build_model(
    architecture: Architecture,
    input_shape: tuple[int, int, int],
    num_classes: int,
    input_scale: float = 1.0,
    class_names: Sequence[str] | None = None,
) -> keras.Model:
    """The (uncompiled) Keras model of a candidate; ValueError if its shapes are impossible.

    With an `input_scale` other than 1 (`search.data.datasets.Dataset.scale`: 1/16
    for digits, 1/255 for 8-bit images), the first layer is a
    `keras.layers.Rescaling(input_scale)` named "rescaling": the model takes
    images as their source stores them (raw digits 0..16, uint8 images
    0..255), and so does the saved model. With `class_names` (one per class),
    the last layer is a `search.data.class_names.ClassNames` carrying them.
    """
    input_scale = validation.positive_number("input_scale", input_scale)
    inputs = keras.Input(input_shape)
    x = inputs
    if input_scale != 1:
        x = keras.layers.Rescaling(input_scale, name="rescaling")(x)
    for layer in conv_bn_relu("conv", filters=architecture.stem_filters, kernel_size=3):
        x = layer(x)
    for number, stage in enumerate(architecture.stages, 1):
        x = apply_stage(stage, number, x)
    x = (keras.layers.GlobalAveragePooling2D()(x) if architecture.head == "global_average_pooling"
         else keras.layers.Flatten()(x))
    if architecture.head_units:
        x = keras.layers.Dense(architecture.head_units, activation="relu")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    class_names = checked_class_names(class_names, num_classes)
    if class_names is not None:
        outputs = ClassNames(class_names)(outputs)
    return keras.Model(inputs, outputs, name="candidate")


def _cell_convs(stage: Stage, index: int) -> list[ConvLayer]:
    """The spatial convs along the deepest path of block `index` of `stage` (1x1 convs left out)."""
    strides = _block_strides(stage, index)
    if stage.cell == "plain":
        return [ConvLayer(stage.kernel_size, strides=strides, dilation_rate=_block_dilation(stage, index) or 1)]
    if stage.cell == "residual":  # basic block: two kernel_size convs, the first strided
        return [ConvLayer(stage.kernel_size, strides=strides), ConvLayer(stage.kernel_size)]
    if stage.cell in ("depthwise_separable", "highway"):
        return [ConvLayer(stage.kernel_size, strides=strides)]
    if stage.cell == "inception":  # the 5x5 branch
        return [ConvLayer(5)]
    return [ConvLayer(3)]  # shuffle_unit: its 3x3 depthwise conv


def _downsampling_convs(stage: Stage) -> list[ConvLayer]:
    """The downsampling layer of `stage` as a receptive-field window ("strided" has none: its last block strides)."""
    if stage.downsampling in POOLING:
        return [ConvLayer(stage.pool_size, strides=2)]
    if stage.downsampling == "all_conv":
        return [ConvLayer(3, strides=2)]
    return []


def receptive_field(architecture: Architecture) -> int:
    """Theoretical receptive field, in input pixels, of one unit before the head (Araujo et al. 2019's r0)."""
    layers = [ConvLayer(3)]  # the stem
    for stage in architecture.stages:
        for index in range(stage.blocks):
            layers += _cell_convs(stage, index)
        layers += _downsampling_convs(stage)
    return stack_receptive_field(layers)
