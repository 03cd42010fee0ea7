"""Fixed-width text tables for the command line."""

from __future__ import annotations

from collections.abc import Sequence


def render_table(header: Sequence[str], rows: Sequence[Sequence[object]], left_columns: int) -> str:
    """Header, a rule and the rows; the first `left_columns` columns left-aligned, the rest right-aligned."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < left_columns else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()

    return "\n".join([line(cells[0]), line(["-" * width for width in widths]), *map(line, cells[1:])])
