"""The ablation table as text: every column in CSV; a compact view in Markdown, LaTeX and for the terminal.

The CSV has every column of the rows (`ablation_table.rows`), its numbers
written to 10 significant digits (`CSV_SIGNIFICANT_DIGITS`), so that a table
recomputes to the same text on any processor.

The Markdown, LaTeX and terminal view is compact, one column per question,
and fits 100 columns for the built-in studies: the variant (with its
reference when that is not the baseline, "residual_16 vs residual_4", the
number of seeds when every variant has the same, and its dead runs), its
main metric's mean, the difference against its reference with the exact
test's interval (at Holm's level for a claimed comparison, else 95%:
`ci_delta_level` in the CSV), the Holm-adjusted p ("exact" for a claim on a
cost, judged on the counted difference) and the verdict of a claimed
comparison ("supports", "contradicts", "inconclusive"; the CSV and the
report say what an inconclusive one needs) and the change in FLOPs and
parameters. One precision rule per kind of column: a metric, a difference
and its interval with the metric's decimals
(`ablation_table.metrics.FORMATS`; accuracies in percent, their
differences in percentage points), p values to 2 significant digits, cost
changes in whole percent.
"""

from __future__ import annotations

from convnas.experiments.ablation_spec import BASELINE
from convnas.experiments.ablation_table.metrics import difference_text, difference_unit, metric_format, value_text
from convnas.experiments.ablation_table.rows import CHECKERBOARD_TRAINED
from convnas.search.common import tables

# The CSV's numbers: enough digits for any table, too few for the last bits that differ between processors.
CSV_SIGNIFICANT_DIGITS = 10


def to_csv(rows: list[dict]) -> str:
    """Every column of the table, numbers to `CSV_SIGNIFICANT_DIGITS` significant digits."""
    return tables.to_csv(rows, significant_digits=CSV_SIGNIFICANT_DIGITS)


def p_text(p: float | None) -> str:
    """A p value to 2 significant digits: 1.0, 0.040, 0.0079, 4.0e-05."""
    return "n/a" if p is None else f"{p:#.2g}"


def _cost_text(row: dict) -> str:
    """The change in FLOPs and in parameters against the reference, in whole percent: "-84% / -82%"."""
    changes = (row["delta_flops_pct"], row["delta_params_pct"])
    return " / ".join("n/a" if value is None else f"{value:+.0f}%" for value in changes)


def display_rows(study: dict, rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the compact table (Markdown, LaTeX and the terminal)."""
    main = study["metric"]
    unit, delta_unit = (f" ({text})" if text else "" for text in (metric_format(main)[2], difference_unit(main)))
    seeds = sorted({row["seeds"] for row in rows})
    per_row_seeds = len(seeds) > 1  # else the header says how many
    header = ["variant" if per_row_seeds else f"variant ({seeds[0]} seeds)", *["seeds"] * per_row_seeds,
              f"mean{unit}", f"Δ{delta_unit} [interval]", "Holm p", "verdict", "Δ FLOPs/params"]
    cells = []
    for row in rows:
        dead, versus = row.get("dead_runs") or 0, row["versus"]
        name = row["variant"] + (f" vs {versus}" if versus not in (None, BASELINE) else "")
        line = [name + (f" ({dead}/{row['seeds']} dead)" if dead else ""), *[str(row["seeds"])] * per_row_seeds,
                _mean_text(row, main), _delta_text(row, main)]
        compared, claimed = versus is not None, row["verdict"] is not None
        exact = claimed and row.get("claim_metric") not in (None, main)  # a cost claim: counted, not tested
        line += ["exact" if exact else p_text(row["p_adjusted"]) if claimed else "",
                 row["verdict"].split()[0] if claimed else "no claim" if compared else "",
                 _cost_text(row) if compared else ""]
        cells.append(line)
    return header, cells


def _mean_text(row: dict, metric: str) -> str:
    """A metric's mean; "dead" for a trained checkerboard amplitude whose every run is dead."""
    if metric in CHECKERBOARD_TRAINED and row.get("dead_runs") == row["seeds"]:
        return "dead"
    return value_text(row[f"{metric}_mean"], metric)


def _delta_text(row: dict, metric: str) -> str:
    """The difference against the reference and its interval: "-13.21 [-19.38, -5.50]"; "" without one."""
    delta, low, high = row[f"delta_{metric}"], row["ci_delta_low"], row["ci_delta_high"]
    if delta is None:
        return ""
    text = difference_text(delta, metric, with_unit=False)
    return text if low is None else f"{text} [{value_text(low, metric)}, {value_text(high, metric)}]"


def to_markdown(study: dict, rows: list[dict]) -> str:
    """The compact table in Markdown."""
    return tables.to_markdown(*display_rows(study, rows))


def to_text(study: dict, rows: list[dict]) -> str:
    """The compact table for the terminal, the variant column left-aligned."""
    return tables.to_text(*display_rows(study, rows), left_columns=1)


def caption(study: dict, rows: list[dict]) -> str:
    """One sentence on what the table shows and how it was tested."""
    seeds = max((row["seeds"] for row in rows), default=0)
    return (f"Ablation {study['name']} on {study['dataset']}: {study['metric']} over {seeds} seeds, mean; Δ against "
            "the reference with the exact permutation test's interval (at Holm's level for a claimed comparison, "
            "else 95%); p Holm-adjusted over the claimed comparisons.")


def to_latex(study: dict, rows: list[dict]) -> str:
    """The compact table as a booktabs LaTeX table, with its caption and label."""
    label = f"tab:ablation-{study['name']}"
    return tables.to_latex(*display_rows(study, rows), caption=caption(study, rows), label=label)
