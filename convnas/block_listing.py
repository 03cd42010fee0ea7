"""`convnas blocks`: every registered block with its output shape, parameters and MACs for one input."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence

import keras

from convnas import blocks
from convnas.search import cost
from convnas.search.common import tables


def block_rows(input_shape: Sequence[int], filters: int | None = None) -> list[dict]:
    """One row per registered block, built with its defaults on an (H, W, C) input.

    Blocks whose output width is a required argument get `filters` (default:
    the input channels C); every other argument keeps its default.
    1D blocks see the input as a sequence of H steps with C channels. A block
    that cannot be built on this input gets its reason in `error`.
    """
    height, width, channels = input_shape
    rows = []
    for name in blocks.list_blocks():
        cls = blocks.get_block(name)
        shape = (height, channels) if cls.rank == 1 else (height, width, channels)
        kwargs = {}
        parameter = inspect.signature(cls.__init__).parameters.get("filters")
        if parameter is not None and parameter.default is inspect.Parameter.empty:
            kwargs["filters"] = filters or channels
        row = {"block": name, "input_shape": list(shape), "arguments": kwargs}
        try:
            inputs = keras.Input(shape)
            model = keras.Model(inputs, cls(**kwargs)(inputs))
        except ValueError as error:
            rows.append({**row, "error": str(error)})
            continue
        counted = cost.count(model)
        rows.append(
            {
                **row,
                "output_shape": list(model.outputs[0].shape[1:]),
                "params": counted.params,
                "macs": counted.macs,
            }
        )
    return rows


def format_table(rows: list[dict]) -> str:
    """A fixed-width text table of `block_rows`; a block that cannot take the input shows its error."""
    lines = []
    for row in rows:
        shape_in = "x".join(map(str, row["input_shape"]))
        if "error" in row:
            lines.append((row["block"], shape_in, "error: " + row["error"], "", ""))
        else:
            shape_out = "x".join(map(str, row["output_shape"]))
            lines.append((row["block"], shape_in, shape_out, f"{row['params']:,}", f"{row['macs']:,}"))
    # Error messages are long: they are left out of the column widths and run on to the end of their line.
    fitted = [line if not line[2].startswith("error: ") else (*line[:2], "", "", "") for line in lines]
    table = tables.to_text(("block", "input", "output", "params", "MACs"), fitted, left_columns=3).splitlines()
    for index, line in enumerate(lines, start=2):
        if line[2].startswith("error: "):
            table[index] = table[index].rstrip() + "  " + line[2]
    return "\n".join(table)


def format_json(rows: list[dict]) -> str:
    return json.dumps(rows, indent=2)
