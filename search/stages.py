"""The stage vocabulary shared by search spaces and ablation specs: cells, blocks, choices, defaults, `Stage`.

A network is a stem, stages and a head. A stage has a cell type, a width, a
number of blocks and a downsampling mode; a "plain" cell stacks one conv
block, the other cells are the classic ones (inception, residual, highway,
shuffle_unit, depthwise_separable). Some stage fields exist only for some
choices: the conv block only for plain cells, dilation only for the dilated
conv, groups only for the grouped conv, the kernel size and the stride only
for the cells that take one, shuffle groups only for the shuffle unit.

This module is plain data (no Keras): `search.space` samples from these
choices, and `make_stage` validates the stage mappings of a YAML spec with
the same defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from convnas.blocks import validation

CELLS = ("plain", "inception", "residual", "highway", "shuffle_unit", "depthwise_separable")
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
DOWNSAMPLING = ("max", "avg", "strided_conv", "none")
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
    dilation: int | None = None
    groups: int | None = None
    shuffle_groups: int | None = None
    # Ablation switches (not searched): residual shortcut, highway gate, inception 1x1
    # reductions, and a channel shuffle after each grouped conv of a plain cell.
    shortcut: bool = True
    gate: bool = True
    reductions: bool = True
    channel_shuffle: bool = False


STAGE_FIELDS = tuple(field.name for field in dataclasses.fields(Stage))
SWITCHES = ("shortcut", "gate", "reductions", "channel_shuffle")
# The default of every field a spec may leave out (a stage's `filters` has none: a spec must give it).
GLOBAL_DEFAULTS = {name: standard for name, (_, standard) in GLOBAL_CHOICES.items()}
STAGE_DEFAULTS = {
    **{name: standard for name, (_, standard) in STAGE_CHOICES.items() if name != "filters"},
    **{field.name: field.default for field in dataclasses.fields(Stage) if field.name in SWITCHES},
}


def active(field: str, cell: str, block: str | None) -> bool:
    """Whether a stage field exists for this cell (and, in a plain cell, this conv block)."""
    plain = cell == "plain"
    conditions = {
        "block": plain,
        "dilation": plain and block == "dilated_conv",
        "groups": plain and block == "grouped_conv",
        "kernel_size": cell in KERNEL_CELLS,
        "strides": cell in STRIDED_CELLS,
        "shuffle_groups": cell == "shuffle_unit",
    }
    return conditions.get(field, True)


def make_stage(values: Mapping, where: str) -> Stage:
    """Validates a stage mapping (a spec's `stages` entry) into a Stage.

    `filters` is required; every other field defaults to `STAGE_DEFAULTS`
    (the search space's defaults), and a field the cell or block makes
    inactive reads as None.

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
    block = settings["block"]
    if active("block", cell, block) and block not in CONV_BLOCKS:
        raise ValueError(f"`{where}.block` is an unknown block: {block!r}; allowed: {', '.join(CONV_BLOCKS)}")

    def number(field: str):
        if not active(field, cell, block):
            return None
        return validation.positive_int(f"{where}.{field}", settings[field])

    return Stage(
        cell=cell,
        filters=number("filters"),
        blocks=number("blocks"),
        downsampling=validation.one_of(f"{where}.downsampling", settings["downsampling"], DOWNSAMPLING),
        block=block if active("block", cell, block) else None,
        kernel_size=number("kernel_size"),
        strides=number("strides"),
        dilation=number("dilation"),
        groups=number("groups"),
        shuffle_groups=number("shuffle_groups"),
        **{name: validation.boolean(f"{where}.{name}", settings[name]) for name in SWITCHES},
    )
