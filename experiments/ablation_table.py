"""The ablation table: one row per variant, statistics over seeds, a tested comparison and a verdict per variant.

Built from the run records alone (LOGDIR/runs.jsonl and LOGDIR/study.json),
so `convnas table LOGDIR` rebuilds exactly what the study wrote at its end.
The statistics are `experiments.statistics`'s.

Every variant is compared with its reference: the variant its `expect`
entry names (`versus`), else the baseline. The CSV has every column:

- `variant`, `seeds` (completed runs), `versus`, `expected` (the claim's
  direction, if the study states one);
- for each metric m: `m_mean`, `m_std` (ddof=1), `m_ci95_low`,
  `m_ci95_high` (Student's interval; for accuracies on the arcsine-square-
  root scale, so it stays within [0, 1]; for metrics that cannot be
  negative, amplitudes, losses and seconds, cut at 0);
- `params`, `macs`, `flops` (and `receptive_field` for classification);
- `delta_<main>`: the variant's mean minus its reference's;
- `p_value`: the exact permutation test against the reference; `p_welch`:
  Welch's t-test; `p_adjusted`: Holm-adjusted across the study's
  comparisons;
- `mde`: the minimum detectable effect at 80% power and level 0.05/k (k
  comparisons: Holm's strictest step) for the runs made; `seeds_needed`:
  runs a side that would detect the observed difference;
- `verdict`: from the adjusted p and the expected direction: "supports"
  (p_adjusted < 0.05, the difference in the claimed direction; for "same",
  never), "contradicts" (p_adjusted < 0.05 the other way, or any
  significant difference for "same"), else "inconclusive (MDE x)";
- `delta_flops_pct`, `delta_params_pct`: the cost change against the
  reference, in percent;
- upsampling: `dead_runs`, the runs whose learned output ignores its input
  (`experiments.artifacts.is_dead`); their trained checkerboard amplitudes
  are left out of the means, and a variant whose every run is dead reads
  "dead", never clean.

The Markdown, LaTeX and terminal view is compact, one column per question:
the variant (with the number of seeds when every variant has the same, and
its dead runs), its main metric's mean with its 95% interval, the reference
when not every variant is compared with the baseline, the difference
against it, the Holm-adjusted p, the verdict and the change in FLOPs and
parameters; every other column is in the CSV, whose numbers are written to
10 significant digits (`CSV_SIGNIFICANT_DIGITS`), so that the table recomputes
to the same text on any processor. One precision rule per kind
of column: a metric and its difference with the metric's decimals
(`FORMATS`; accuracies in percent, their differences in percentage points),
p values to 2 significant digits, cost changes in percent to 1 decimal.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from convnas.experiments import statistics
from convnas.experiments.ablation_spec import BASELINE, METRICS
from convnas.search.common import tables

# The CSV's numbers: enough digits for any table, too few for the last bits that differ between processors.
CSV_SIGNIFICANT_DIGITS = 10
COST_COLUMNS = ("params", "macs", "flops", "receptive_field")
CHECKERBOARD_TRAINED = ("checkerboard", "checkerboard_flat")  # meaningless for a dead network
# Display of a metric: (scale, decimals, unit). Accuracies in percent, their differences in points.
FORMATS = {
    "accuracy": (100, 2, "%"), "loss": (1, 3, ""), "psnr": (1, 2, "dB"), "psnr_gain": (1, 2, "dB"),
    "checkerboard": (1, 4, ""), "train_seconds": (1, 1, "s"),
}


def metric_format(metric: str) -> tuple[float, int, str]:
    """(scale, decimals, unit) of a metric's display."""
    if metric in FORMATS:
        return FORMATS[metric]
    return next((fmt for suffix, fmt in FORMATS.items() if metric.endswith(suffix)), (1, 4, ""))


def non_negative(metric: str) -> bool:
    """Whether a metric cannot be negative (amplitudes, losses, seconds): its interval is cut at 0."""
    return metric.startswith("checkerboard") or metric.endswith(("loss", "seconds"))


def bounded(metric: str) -> bool:
    """Whether a metric lies in [0, 1] (an accuracy)."""
    return metric.endswith("accuracy")


def build_table(study: dict, records: list[dict]) -> list[dict]:
    """The table rows of `study` (its resolved spec as a dict) from its completed run records."""
    main = study["metric"]
    expect = study.get("expect") or {}
    order = [BASELINE, *study["variants"]]
    runs = {name: [r for r in records if r["variant"] == name and r["status"] == "COMPLETED"] for name in order}
    rows = {}
    for name in order:
        if not runs[name]:
            continue
        claim = expect.get(name, {})
        row = {"variant": name, "seeds": len(runs[name]), "versus": None if name == BASELINE else claim.get("versus", BASELINE),
               "expected": claim.get("direction")}
        for metric in study_metrics(study):
            kept = _values(runs[name], metric)
            summary = statistics.summarize(kept, bounded(metric)) if kept else None
            if summary is not None and summary.ci_low is not None and non_negative(metric) and summary.ci_low < 0:
                summary = dataclasses.replace(summary, ci_low=0.0)
            values = (None,) * 4 if summary is None else (summary.mean, summary.std, summary.ci_low, summary.ci_high)
            row.update(zip((f"{metric}_{part}" for part in ("mean", "std", "ci95_low", "ci95_high")), values))
        if study["task"] == "upsampling":
            row["dead_runs"] = sum(bool(r.get("dead")) for r in runs[name])
        for column in COST_COLUMNS:
            if runs[name][0].get(column) is not None:
                row[column] = runs[name][0][column]
        rows[name] = row
    comparisons = [_compare(row, rows.get(row["versus"]), runs, main) for row in rows.values()]
    adjusted = statistics.holm([c.get("p_value") for c in comparisons])
    tested = sum(p is not None for p in adjusted)
    for row, comparison, p_adjusted in zip(rows.values(), comparisons, adjusted):
        comparison["p_adjusted"] = p_adjusted
        if comparison.get("std") is not None:
            level = statistics.ALPHA / tested
            sizes = (len(_values(runs[name], main)) for name in (row["variant"], row["versus"]))
            comparison["mde"] = statistics.minimum_detectable_effect(comparison["std"], *sizes, level)
            comparison["seeds_needed"] = statistics.seeds_needed(comparison[f"delta_{main}"], comparison["std"], level)
        comparison["verdict"] = verdict(row["expected"], comparison, main)
        comparison.pop("std", None)
        row.update(comparison)
    return list(rows.values())


def _compare(row: dict, reference: dict | None, runs: dict, main: str) -> dict:
    """The comparison columns of `row` against its reference row (all None for the baseline or a missing reference)."""
    empty = {f"delta_{main}": None, "p_value": None, "p_welch": None, "mde": None, "seeds_needed": None,
             "delta_flops_pct": None, "delta_params_pct": None}
    if reference is None:
        return empty
    costs = {"delta_flops_pct": 100 * (row["flops"] / reference["flops"] - 1),
             "delta_params_pct": 100 * (row["params"] / reference["params"] - 1)}
    values, reference_values = _values(runs[row["variant"]], main), _values(runs[reference["variant"]], main)
    if not values or not reference_values:  # every run dead: no trained checkerboard amplitude to compare
        return {**empty, **costs}
    welch = statistics.welch_t_test(values, reference_values)
    both = len(values) >= 2 and len(reference_values) >= 2
    return {**empty, **costs, f"delta_{main}": row[f"{main}_mean"] - reference[f"{main}_mean"],
            "p_value": statistics.permutation_p_value(values, reference_values),
            "p_welch": None if welch is None else welch.p_value,
            "std": statistics.pooled_std(values, reference_values) if both else None}


def _values(runs: list[dict], metric: str) -> list[float]:
    """A metric's values over runs: those that recorded it, less the dead runs' trained checkerboard amplitudes."""
    return [r[metric] for r in runs if metric in r and not (metric in CHECKERBOARD_TRAINED and r.get("dead"))]


def verdict(direction: str | None, comparison: dict, main: str) -> str | None:
    """supports / contradicts / inconclusive (MDE x) from the adjusted p and the claim's direction; None without a claim."""
    p, delta = comparison.get("p_adjusted"), comparison.get(f"delta_{main}")
    if direction is None or delta is None:
        return None
    if p is not None and p < statistics.ALPHA:
        if direction == "same":
            return "contradicts"
        return "supports" if (delta > 0) == (direction == "higher") else "contradicts"
    mde = comparison.get("mde")
    if mde is None or math.isinf(mde):
        return "inconclusive (too few seeds for the exact test)"
    return f"inconclusive (MDE {difference_text(mde, main, signed=False)})"


def difference_unit(metric: str) -> str:
    """The unit of a difference of `metric`: percentage points ("pts") for accuracies, else the metric's own."""
    unit = metric_format(metric)[2]
    return "pts" if unit == "%" else unit


def difference_text(value: float, metric: str, signed: bool = True, with_unit: bool = True) -> str:
    """A difference of `metric` in its display units, with the metric's decimals: "+8.75 pts" for accuracies."""
    scale, decimals, _ = metric_format(metric)
    unit = difference_unit(metric) if with_unit else ""
    return f"{value * scale:{'+' if signed else ''}.{decimals}f}" + (f" {unit}" if unit else "")


def value_text(value: float | None, metric: str) -> str:
    scale, decimals, _ = metric_format(metric)
    return "n/a" if value is None else f"{value * scale:.{decimals}f}"


def study_metrics(study: dict) -> list[str]:
    """The study's metrics, the main one first."""
    return [study["metric"], *(m for m in METRICS[study["task"]] if m != study["metric"])]


def to_csv(rows: list[dict]) -> str:
    """Every column of the table, numbers to `CSV_SIGNIFICANT_DIGITS` significant digits."""
    return tables.to_csv(rows, significant_digits=CSV_SIGNIFICANT_DIGITS)


def _p_text(p: float | None) -> str:
    """A p value to 2 significant digits: 1.0, 0.040, 0.0079, 4.0e-05."""
    return "n/a" if p is None else f"{p:#.2g}"


def _cost_text(row: dict) -> str:
    """The change in FLOPs and in parameters against the reference, in percent: "-84.2% / -81.7%"."""
    return " / ".join("n/a" if value is None else f"{value:+.1f}%" for value in (row["delta_flops_pct"], row["delta_params_pct"]))


def display_rows(study: dict, rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the compact table (Markdown, LaTeX and the terminal)."""
    main = study["metric"]
    unit, delta_unit = metric_format(main)[2], difference_unit(main)
    seeds = sorted({row["seeds"] for row in rows})
    per_row_seeds = len(seeds) > 1  # else the header says how many
    with_versus = any(row["versus"] not in (None, BASELINE) for row in rows)
    header = ["variant" if per_row_seeds else f"variant ({seeds[0]} seeds)", *["seeds"] * per_row_seeds,
              f"{main}{f' ({unit})' if unit else ''} [95% CI]", *["vs"] * with_versus,
              f"Δ{f' ({delta_unit})' if delta_unit else ''}", "p (Holm)", "verdict", "Δ FLOPs / params"]
    cells = []
    for row in rows:
        dead = row.get("dead_runs") or 0
        line = [row["variant"] + (f" ({dead}/{row['seeds']} dead)" if dead else ""), *[str(row["seeds"])] * per_row_seeds,
                _metric_text(row, main)]
        if with_versus:
            line.append(row["versus"] or "")
        delta, compared = row[f"delta_{main}"], row["versus"] is not None
        line += ["" if delta is None else difference_text(delta, main, with_unit=False), _p_text(row["p_adjusted"]) if compared else "",
                 row["verdict"] or ("no claim" if compared else ""), _cost_text(row) if compared else ""]
        cells.append(line)
    return header, cells


def _metric_text(row: dict, metric: str) -> str:
    """A metric's mean and 95% interval; "dead" for a trained checkerboard amplitude whose every run is dead."""
    if metric in CHECKERBOARD_TRAINED and row.get("dead_runs") == row["seeds"]:
        return "dead"
    low, high = row[f"{metric}_ci95_low"], row[f"{metric}_ci95_high"]
    text = value_text(row[f"{metric}_mean"], metric)
    return text if low is None else f"{text} [{value_text(low, metric)}, {value_text(high, metric)}]"


def to_markdown(study: dict, rows: list[dict]) -> str:
    return tables.to_markdown(*display_rows(study, rows))


def to_text(study: dict, rows: list[dict]) -> str:
    return tables.to_text(*display_rows(study, rows), left_columns=1)


def caption(study: dict, rows: list[dict]) -> str:
    """One sentence on what the table shows and how it was tested."""
    seeds = max((row["seeds"] for row in rows), default=0)
    return (f"Ablation {study['name']} on {study['dataset']}: {study['metric']} over {seeds} seeds, mean and 95% CI; "
            "Δ against the reference, exact permutation test, Holm-adjusted p.")


def to_latex(study: dict, rows: list[dict]) -> str:
    return tables.to_latex(*display_rows(study, rows), caption=caption(study, rows), label=f"tab:ablation-{study['name']}")


def plot_chart(study: dict, rows: list[dict], path: Path) -> None:
    """The main metric's mean per variant with its 95% CI as points and whiskers (no bars: the axis is truncated)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = study["metric"]
    scale, _, unit = metric_format(main)
    figure, axes = plt.subplots(figsize=(1.1 * len(rows) + 2.4, 3.6))
    for index, row in enumerate(rows):
        mean, low, high = (row[f"{main}_{part}"] for part in ("mean", "ci95_low", "ci95_high"))
        errors = [[0], [0]] if low is None else [[scale * (mean - low)], [scale * (high - mean)]]
        axes.errorbar([index], [scale * mean], yerr=errors, fmt="o", capsize=5, color="#555555" if index == 0 else "#3b75af")
    axes.set_xticks(range(len(rows)), [row["variant"] for row in rows], rotation=30, ha="right")
    axes.set_ylabel(f"{main}{f' ({unit})' if unit else ''}\nmean, 95% CI; axis truncated")
    axes.grid(axis="y", alpha=0.3)
    axes.set_title(f"{study['name']}: {main} over {max(row['seeds'] for row in rows)} seed(s)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_curves(study: dict, records: list[dict], path: Path) -> bool:
    """Per-epoch training loss and accuracy (mean over seeds) of every variant; False when no run kept curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    completed = [r for r in records if r.get("curves") and r["status"] == "COMPLETED"]
    keys = [key for key in ("loss", "accuracy") if any(key in r["curves"] for r in completed)]
    if not keys:
        return False
    figure, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
    for variant in [BASELINE, *study["variants"]]:
        runs = [r["curves"] for r in completed if r["variant"] == variant]
        for axis, key in zip(axes[0], keys):
            curves = [curve[key] for curve in runs if key in curve]
            if curves:
                length = min(map(len, curves))
                mean = [math.fsum(curve[epoch] for curve in curves) / len(curves) for epoch in range(length)]
                axis.plot(range(1, length + 1), mean, label=variant)
    for axis, key in zip(axes[0], keys):
        axis.set_xlabel("epoch")
        axis.set_ylabel(f"training {key} (mean over seeds)")
        axis.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    figure.suptitle(f"{study['name']}: training curves (running means over each epoch's batches)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


FIGURES = (("chart.png", "main metric per variant, mean and 95% CI"), ("curves.png", "training curves per variant"),
           ("samples.png", "inputs, outputs, targets and flat-input outputs per variant"))
FULL_TABLE = "table.csv"


def report_files(logdir: Path) -> list[str]:
    """The files a report may link (FIGURES and FULL_TABLE) that exist in `logdir`."""
    return [name for name in (*(name for name, _ in FIGURES), FULL_TABLE) if (Path(logdir) / name).is_file()]


def to_report(study: dict, rows: list[dict], files: list[str]) -> str:
    """A Markdown page: the study, its claim, how it was run and where, the table and its verdicts.

    It links only the names in `files`, the files beside it (figures of
    FIGURES, FULL_TABLE); without FULL_TABLE it gives the command that prints
    every column.
    """
    env = study.get("environment", {})
    lines = [f"# Ablation: {study['name']}", "", study.get("description", ""), ""]
    if study.get("paper"):
        lines += [f"**Paper.** {study['paper']}", ""]
    if study.get("claim"):
        lines += [f"**Claim.** {study['claim']}", ""]
    lines += [
        f"**Run.** `{study.get('command') or 'convnas ablate ' + study['name']}`: {study['dataset']}, "
        f"{study['epochs']} epochs, batch {study['batch_size']}, learning rate {study['learning_rate']}, "
        f"seeds {', '.join(map(str, study['seeds']))}; main metric `{study['metric']}`.",
        "",
        f"**Software and machine.** TensorFlow {env.get('tensorflow', '?')}, Keras {env.get('keras', '?')}, "
        f"Python {env.get('python', '?')}; {env.get('machine', '?')}.",
        "",
        "Generated by `convnas table LOGDIR --format report` from the study's run records (runs.jsonl); do not edit by hand. "
        "Every column, with Welch's p, the MDE and the seeds needed, is in "
        + (f"[{FULL_TABLE}]({FULL_TABLE})." if FULL_TABLE in files else "`convnas table LOGDIR --format csv`."),
        "",
        to_markdown(study, rows),
    ]
    if study["task"] == "upsampling":
        lines += [nearest_statement(study, rows), ""]
    if study.get("limits"):
        lines += [f"**Limits.** {study['limits']}", ""]
    lines += [f"![{alt}]({name})" for name, alt in FIGURES if name in files]
    return "\n".join(lines) + "\n"


def to_summary(study: dict, rows: list[dict], link: str) -> str:
    """A results-index section: the study, its claim and the generated verdict of every claimed comparison."""
    main = study["metric"]
    lines = [f"## [{study['name']}]({link}) — {study.get('paper') or 'no paper'}", ""]
    if study.get("claim"):
        lines += [f"**Claim.** {study['claim']}", ""]
    for row in rows:
        if row.get("verdict"):
            lines.append(f"- `{row['variant']}` vs `{row['versus']}`, expected {row['expected']}: "
                         f"Δ {main} {difference_text(row[f'delta_{main}'], main)}, p (Holm) {_p_text(row['p_adjusted'])}: "
                         f"**{row['verdict']}**.")
    if study["task"] == "upsampling":
        lines += ["", nearest_statement(study, rows)]
    if study.get("limits"):
        lines += ["", f"**Limits.** {study['limits']}"]
    return "\n".join(lines) + "\n"


def nearest_statement(study: dict, rows: list[dict]) -> str:
    """Whether every learned upsampler beat nearest-neighbour upsampling alone on PSNR (mean gain over seeds)."""
    behind = [row["variant"] for row in rows if row.get("psnr_gain_mean") is not None and row["psnr_gain_mean"] <= 0]
    if not behind:
        return f"Every learned upsampler beats nearest-neighbour upsampling alone on PSNR after {study['epochs']} epochs."
    return (f"**Not better than nearest-neighbour upsampling alone on PSNR** after {study['epochs']} epochs "
            f"(mean gain <= 0 dB): {', '.join(behind)}.")
