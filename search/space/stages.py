"""The stage vocabulary shared by search spaces and ablation specs: cells, blocks, choices, defaults, `Stage`.

A network is a stem, stages and a head. A stage has a cell type, a width, a
number of blocks and a downsampling mode; a "plain" cell stacks one conv
block, the other cells are the classic ones (inception, residual, highway,
shuffle_unit, depthwise_separable). Some stage fields exist only for some
choices: the conv block only for plain cells, dilation only for the dilated
conv, groups only for the grouped conv, the kernel size and the stride only
for the cells that take one, shuffle groups only for the shuffle unit, the
pooling window only for max and average pooling.

The downsampling modes after each stage follow Springenberg et al. 2014
("Striving for simplicity: the all convolutional net"): "max" and "avg"
pooling (window `pool_size`, stride 2, "same" padding: the size halves;
their Model C pools 3x3), "strided" (Strided-CNN-C: no pooling layer, the
stage's last block takes stride 2, times its own, instead; no new parameters
but for the projection shortcut a strided residual block takes; only for the
cells that take a stride), "all_conv" (All-CNN-C: a 3x3 stride-2 conv without
bias, BatchNorm and ReLU in place of the pooling) and "none". A plain cell's
dilated conv takes one rate, or in a spec one rate per block (Yu & Koltun
2016's context module grows them exponentially: 1, 2, 4, 8).

This module is plain data (no Keras): `search.space` samples from these
choices, and `make_stage` validates the stage mappings of a YAML spec with
the same defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from convnas.blocks import validation

CELLS = ("plain", "inception", "residual", "highway", "shuffle_unit", "depthwise_separable")
# The conv blocks a plain cell may take: names of convnas.blocks' registry (`list_blocks`), which
# this module, free of Keras, cannot read; every one is built by the search space's tests.
CONV_BLOCKS = (
    "conv",
    "true_conv",
    "im2col_conv",
    "dilated_conv",
    "grouped_conv",
    "spatially_separable_conv",
    "depthwise_separable_conv",
    "flattened_conv",
    "nin",
)
DOWNSAMPLING = ("max", "avg", "strided", "all_conv", "none")
POOLING = ("max", "avg")  # the downsampling modes that take a `pool_size`
HEADS = ("global_average_pooling", "flatten")
STRIDED_CELLS = ("plain", "residual", "depthwise_separable")
KERNEL_CELLS = ("plain", "residual", "highway", "depthwise_separable")

# Every architecture hyperparameter: its choices and default. Per-stage ones
# are named stage<n>_<name>; their default may depend on the stage.
STAGE_CHOICES = {
    "cell": (CELLS, "plain"),
    "block": (CONV_BLOCKS, "conv"),
    "filters": ((16, 32, 64), None),  # default: 16, 32, 64 for stages 1, 2, 3+
    "blocks": ((1, 2), 1),
    "kernel_size": ((3, 5), 3),
    "strides": ((1, 2), 1),
    "dilation": ((2, 3), 2),
    "groups": ((2, 4), 2),
    "shuffle_groups": ((2, 4), 2),
    "downsampling": (DOWNSAMPLING, "max"),
}
GLOBAL_CHOICES = {
    "stages": ((1, 2, 3), 2),
    "stem_filters": ((16, 32), 16),
    "head": (HEADS, "global_average_pooling"),
    "head_units": ((0, 64), 0),
}


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of a network; None marks a field its choices make inactive."""

    cell: str
    filters: int
    blocks: int
    downsampling: str
    block: str | None = None
    kernel_size: int | None = None
    strides: int | None = None
    dilation: int | tuple[int, ...] | None = None  # a spec may give one rate per block (Yu & Koltun 2016)
    groups: int | None = None
    shuffle_groups: int | None = None
    # Spec-only fields (not searched: the search uses their defaults). The pooling window,
    # then ablation switches: residual shortcut, highway gate, inception 1x1 reductions,
    # and a channel shuffle after each grouped conv of a plain cell.
    pool_size: int | None = 2
    shortcut: bool = True
    gate: bool = True
    reductions: bool = True
    channel_shuffle: bool = False


STAGE_FIELDS = tuple(field.name for field in dataclasses.fields(Stage))
SWITCHES = ("shortcut", "gate", "reductions", "channel_shuffle")
SPEC_ONLY = ("pool_size", *SWITCHES)
# The default of every field a spec may leave out (a stage's `filters` has none: a spec must give it).
GLOBAL_DEFAULTS = {name: standard for name, (_, standard) in GLOBAL_CHOICES.items()}
STAGE_DEFAULTS = {
    **{name: standard for name, (_, standard) in STAGE_CHOICES.items() if name != "filters"},
    **{field.name: field.default for field in dataclasses.fields(Stage) if field.name in SPEC_ONLY},
}


def active(field: str, cell: str, block: str | None, downsampling: str) -> bool:
    """Whether a stage field exists for this cell (in a plain cell, this conv block) and downsampling."""
    plain = cell == "plain"
    conditions = {
        "block": plain,
        "dilation": plain and block == "dilated_conv",
        "groups": plain and block == "grouped_conv",
        "kernel_size": cell in KERNEL_CELLS,
        "strides": cell in STRIDED_CELLS,
        "shuffle_groups": cell == "shuffle_unit",
        "pool_size": downsampling in POOLING,
    }
    return conditions.get(field, True)


def check_downsampling(name: str, downsampling: object, cell: str) -> str:
    """Returns `downsampling` if it is one of DOWNSAMPLING that `cell` can take ("strided": a STRIDED_CELLS cell)."""
    validation.one_of(name, downsampling, DOWNSAMPLING)
    if downsampling == "strided" and cell not in STRIDED_CELLS:
        raise ValueError(
            f"`{name}` can be 'strided' only in a cell that takes a stride ({', '.join(STRIDED_CELLS)}). "
            f"Received: {name}='strided' for cell={cell!r}"
        )
    return downsampling


def make_stage(values: Mapping, where: str) -> Stage:
    """Validates a stage mapping (a spec's `stages` entry) into a Stage.

    `filters` is required; every other field defaults to `STAGE_DEFAULTS`
    (the search space's defaults), and a field the cell, block or
    downsampling makes inactive reads as None. `dilation` is one rate for
    every block or a list of one rate per block (stored as a tuple).

    Args:
        values: The stage's fields, e.g. {"cell": "plain", "filters": 32}.
        where: Where the stage sits in its spec, for error messages, e.g.
            "base.stages[0]".

    Raises:
        ValueError: Naming the field (`where.field`) and the value received.
    """
    if not isinstance(values, Mapping):
        raise ValueError(f"`{where}` must be a mapping of stage fields. Received: {values!r}")
    unknown = sorted(set(map(str, values)) - set(STAGE_FIELDS))
    if unknown:
        raise ValueError(f"`{where}` has an unknown field {unknown[0]!r}; known: {', '.join(STAGE_FIELDS)}")
    if "filters" not in values:
        raise ValueError(f"`{where}` needs `filters`. Received: {dict(values)!r}")
    settings = {**STAGE_DEFAULTS, **values}
    cell = validation.one_of(f"{where}.cell", settings["cell"], CELLS)
    downsampling = check_downsampling(f"{where}.downsampling", settings["downsampling"], cell)
    block = settings["block"]
    if active("block", cell, block, downsampling) and block not in CONV_BLOCKS:
        raise ValueError(f"`{where}.block` is an unknown block: {block!r}; allowed: {', '.join(CONV_BLOCKS)}")

    def number(field: str):
        if not active(field, cell, block, downsampling):
            return None
        return validation.positive_int(f"{where}.{field}", settings[field])

    def rates(count: int):
        """One dilation rate for every block (an int), or a list of one rate per block (a tuple)."""
        if not active("dilation", cell, block, downsampling):
            return None
        value = settings["dilation"]
        per_block = validation.size_tuple(f"{where}.dilation", value, count)
        return per_block if isinstance(value, Sequence) else per_block[0]

    blocks = number("blocks")
    return Stage(
        cell=cell,
        filters=number("filters"),
        blocks=blocks,
        downsampling=downsampling,
        block=block if active("block", cell, block, downsampling) else None,
        kernel_size=number("kernel_size"),
        strides=number("strides"),
        dilation=rates(blocks),
        groups=number("groups"),
        shuffle_groups=number("shuffle_groups"),
        pool_size=number("pool_size"),
        **{name: validation.boolean(f"{where}.{name}", settings[name]) for name in SWITCHES},
    )
