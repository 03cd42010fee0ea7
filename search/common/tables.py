"""Tables as CSV, Markdown, LaTeX and fixed-width text: the one table writer of convnas.

The trial records (`search.records`), the ablation tables
(`experiments.ablation_table`) and the command line's block and cost
listings all write their tables here. CSV takes rows as mappings (a column
per key, None as an empty cell; floats as Python writes them, or rounded to
a stated number of significant digits, so that a committed table recomputes
to the same text on any processor); the other formats take a header and rows
of cells:

- Markdown: a cell that is None is empty, a float is written with 4
  significant digits, and a "|" inside a cell is escaped;
- LaTeX: a booktabs `tabular` (the `booktabs` package), the first column
  left-aligned, the others right-aligned, with LaTeX's special characters
  (and ± and Δ) escaped; with a caption or label, inside a `table` float;
- text: columns padded to their widest cell, for a terminal, every line
  within TERMINAL_COLUMNS (the widest columns narrowed, their longer cells
  clipped with "...").

CSV, Markdown and LaTeX text ends with a newline, as a file does; the
fixed-width text does not, as printed lines do not. `human` writes a count
for people in the short views and listings (1234567 -> "1.23M"); `plural`
a count of things ("1 trial", "2 trials"); `fit` and `wrap` keep a printed
line within TERMINAL_COLUMNS.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Collection, Mapping, Sequence

LATEX_ESCAPES = (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                 ("±", r"$\pm$"), ("Δ", r"$\Delta$"))


def human(number: float, unit: str = "", digits: int = 2) -> str:
    """`number` with a K/M/G/T suffix and `digits` decimals, then `unit`: human(1234567) -> "1.23M"."""
    for threshold, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(number) >= threshold:
            return f"{number / threshold:.{digits}f}{suffix}{unit}"
    return f"{number:g}{unit}"


def plural(count: int, noun: str) -> str:
    """`count` and `noun`, in the plural unless the count is 1: plural(1, "epoch") -> "1 epoch", "3 epochs"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def columns(rows: Sequence[Mapping]) -> list[str]:
    """Every key of `rows`, in the order first seen."""
    names = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def csv_cell(value: object, significant_digits: int | None = None) -> object:
    """One CSV cell: None empty; given `significant_digits`, a float rounded to them (shortest text of the result)."""
    if value is None:
        return ""
    if significant_digits is not None and isinstance(value, float):
        return repr(float(f"{value:.{significant_digits}g}"))
    return value


def to_csv(
    rows: Sequence[Mapping], fieldnames: Sequence[str] | None = None, significant_digits: int | None = None
) -> str:
    """CSV of `rows` with a header of `fieldnames` (default: `columns(rows)`); None is an empty cell.

    Given `significant_digits`, every float is written rounded to that many
    significant digits (0.7884369394576005 -> 0.7884369395 at 10), so that
    the last bits, which differ between processors' float sums, never reach
    the text.
    """
    buffer = io.StringIO()
    names = list(columns(rows) if fieldnames is None else fieldnames)
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(value, significant_digits) for key, value in row.items()})
    return buffer.getvalue()


def markdown_cell(value: object) -> str:
    """One Markdown cell: None empty, a float to 4 significant digits, "|" escaped."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def to_markdown(header: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown (GitHub) table."""
    lines = ["| " + " | ".join(map(markdown_cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(markdown_cell, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def latex_text(text: object) -> str:
    """`text` with LaTeX's special characters escaped."""
    text = str(text)
    for plain, latex in LATEX_ESCAPES:
        text = text.replace(plain, latex)
    return text


def to_latex(header: Sequence[object], rows: Sequence[Sequence[object]], caption: str | None = None,
             label: str | None = None) -> str:
    """A booktabs `tabular` (\\toprule, \\midrule, \\bottomrule), in a `table` float when given a caption or label."""
    lines = [r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}", r"\toprule"]
    lines.append(" & ".join(map(latex_text, header)) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(map(latex_text, row)) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    if caption is not None or label is not None:
        lines = [r"\begin{table}", r"\centering", *([rf"\caption{{{latex_text(caption)}}}"] if caption else []),
                 *([rf"\label{{{label}}}"] if label else []), *lines, r"\end{table}"]
    return "\n".join(lines) + "\n"


TERMINAL_COLUMNS = 100  # what default output fits


def fit(line: str, width: int = TERMINAL_COLUMNS) -> str:
    """`line`, clipped to `width` characters with "..." at the end if it is longer."""
    return line if len(line) <= width else line[: width - 3] + "..."


def wrap(text: str, indent: str = "  ", width: int = TERMINAL_COLUMNS) -> str:
    """`text` broken at spaces into lines of at most `width` characters, the later ones indented by `indent`
    (a word longer than a line, such as a long path, stays whole)."""
    return textwrap.fill(text, width=width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)


def to_text(header: Sequence[object], rows: Sequence[Sequence[object]], left_columns: int | Collection[int]) -> str:
    """Header, a rule and the rows; the first `left_columns` columns (or the columns of those indices)
    left-aligned, the rest right-aligned.

    Columns are two spaces apart, or one where two would make a line wider
    than TERMINAL_COLUMNS; if that is still too wide, the widest columns are
    narrowed (to no less than their header, or 8) and their longer cells
    clipped with "...", so that every column still shows.
    """
    left = range(left_columns) if isinstance(left_columns, int) else left_columns
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    gap = "  " if sum(widths) + 2 * (len(widths) - 1) <= TERMINAL_COLUMNS else " "
    floors = [max(len(str(name)), 8) for name in header]
    while sum(widths) + len(gap) * (len(widths) - 1) > TERMINAL_COLUMNS:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floors[i])
        if widths[widest] <= floors[widest]:
            break
        widths[widest] -= 1

    def line(row: Sequence[str]) -> str:
        clipped = (fit(cell, width) for cell, width in zip(row, widths))
        padded = (cell.ljust(width) if i in left else cell.rjust(width)
                  for i, (cell, width) in enumerate(zip(clipped, widths)))
        return fit(gap.join(padded).rstrip())

    return "\n".join([line(cells[0]), line(["-" * width for width in widths]), *map(line, cells[1:])])
