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

The layers each stage is made of are described as data in
`search.space.layout`; the model is built from that description, and the
budget screen costs a candidate from the same description through the
blocks' arithmetic (`arithmetic_cost`), without building it.

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

from collections.abc import Mapping, Sequence

import keras
import keras_tuner

from convnas.blocks import validation
from convnas.blocks.arithmetic import BlockCost, ConvLayer
from convnas.blocks.arithmetic import receptive_field as stack_receptive_field
from convnas.search.data.class_names import ClassNames
from convnas.search.data.class_names import checked as checked_class_names
from convnas.search.space import layout
from convnas.search.space.layout import Architecture
from convnas.search.space.stages import (
    GLOBAL_CHOICES,
    KERNEL_CELLS,
    POOLING,
    STAGE_CHOICES,
    STAGE_DEFAULTS,
    STRIDED_CELLS,
    Stage,
)
from convnas.search.space.training import Protocol, compile_model, declare_training, fit_trial
from convnas.search.tuners.rejection import InvalidCandidate
from convnas.search.tuners.sampler import HYPERBAND_PREFIX


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
        self._declared = None  # the space, declared for `arithmetic_cost`

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
            raise InvalidCandidate(layout.reason(error)) from None
        compile_model(model, architecture.training)
        return model

    def arithmetic_cost(self, values: Mapping[str, object]) -> BlockCost:
        """The parameters, MACs and FLOPs of the candidate with the hyperparameter `values`, from its layout alone
        (`search.space.layout.cost`: no model is built), equal to `search.cost.count` of the model `build` makes;
        raises InvalidCandidate, with `build`'s reason, if it cannot be built."""
        if self._declared is None:  # declared once: copying a declared space costs more than the arithmetic
            self._declared = keras_tuner.HyperParameters()
            self.declare_hyperparameters(self._declared)
        self._declared.values = dict(values)
        try:
            return layout.cost(self.architecture(self._declared), self.input_shape, self.num_classes, self.input_scale)
        except ValueError as error:
            raise InvalidCandidate(layout.reason(error)) from None

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args, **kwargs):
        """Trains a candidate: under `protocol` (`search.space.training.fit_trial`) where the trial trains its
        epochs from scratch; as compiled (its constant rate, the moving averages of training) for Hyperband's
        trials (`tuner/epochs`), which another trial may go on training from their weights at other epochs."""
        if any(name.startswith(HYPERBAND_PREFIX) for name in hp.values):
            return model.fit(*args, **kwargs)
        return fit_trial(model, declare_training(hp, self.overrides), self.protocol, *args, **kwargs)


def conv_bn_relu(block_name: str, **kwargs) -> list[keras.layers.Layer]:
    """A registered block, BatchNormalization, ReLU."""
    return [spec.make() for spec in layout.normalized(block_name, **kwargs)]


def stage_layers(stage: Stage, channels: int) -> list[keras.layers.Layer]:
    """The layers of one stage on an input of `channels` channels: its blocks, then its downsampling."""
    return [spec.make() for _, layers in layout.stage_parts(stage, channels) for spec in layers()]


def _call(spec: layout.LayerSpec, x):
    return spec.make()(x)


def apply_stage(stage: Stage, number: int, x):
    """`x` through stage `number` (counted from 1); a ValueError names the stage, the part of it that failed and that
    part's input: "stage 3 downsampling (avg pool 2x2): input is 1x1x64: ..."."""
    return layout.through_stage(stage, number, x, _call, lambda tensor: tensor.shape[1:])


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
    strides = layout.block_strides(stage, index)
    if stage.cell == "plain":
        return [ConvLayer(stage.kernel_size, strides=strides, dilation_rate=layout.block_dilation(stage, index) or 1)]
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
