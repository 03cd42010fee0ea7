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

The Markdown and terminal view is compact: the variant, its main metric
with its 95% interval, the task's other key metrics, the difference against
the reference, the adjusted p, the verdict and the cost change; accuracies
are shown in percent and their differences in percentage points.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from convnas.experiments import statistics
from convnas.experiments.ablation_spec import BASELINE, METRICS
from convnas.search import tables

COST_COLUMNS = ("params", "macs", "flops", "receptive_field")
CHECKERBOARD_TRAINED = ("checkerboard", "checkerboard_flat")  # meaningless for a dead network
# Display of a metric: (scale, decimals, unit). Accuracies in percent, their differences in points.
FORMATS = {
    "accuracy": (100, 2, "%"), "loss": (1, 3, ""), "psnr": (1, 2, "dB"), "psnr_gain": (1, 2, "dB"),
    "checkerboard": (1, 4, ""), "train_seconds": (1, 1, "s"),
}
COMPACT_METRICS = {"classification": ("test_accuracy", "train_accuracy"),
                   "upsampling": ("psnr", "psnr_gain", "checkerboard", "checkerboard_flat", "checkerboard_flat_init")}


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
    values, reference_values = _values(runs[row["variant"]], main), _values(runs[reference["variant"]], main)
    welch = statistics.welch_t_test(values, reference_values)
    both = len(values) >= 2 and len(reference_values) >= 2
    return {**empty, f"delta_{main}": row[f"{main}_mean"] - reference[f"{main}_mean"],
            "p_value": statistics.permutation_p_value(values, reference_values),
            "p_welch": None if welch is None else welch.p_value,
            "std": statistics.pooled_std(values, reference_values) if both else None,
            "delta_flops_pct": 100 * (row["flops"] / reference["flops"] - 1),
            "delta_params_pct": 100 * (row["params"] / reference["params"] - 1)}


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


def difference_text(value: float, metric: str, signed: bool = True) -> str:
    """A difference of `metric` in its display units: percentage points for accuracies."""
    scale, decimals, unit = metric_format(metric)
    unit = "pts" if unit == "%" else unit
    return f"{value * scale:{'+' if signed else ''}.{decimals}f}" + (f" {unit}" if unit else "")


def value_text(value: float | None, metric: str) -> str:
    scale, decimals, _ = metric_format(metric)
    return "n/a" if value is None else f"{value * scale:.{decimals}f}"


def study_metrics(study: dict) -> list[str]:
    """The study's metrics, the main one first."""
    return [study["metric"], *(m for m in METRICS[study["task"]] if m != study["metric"])]


def to_csv(rows: list[dict]) -> str:
    return tables.to_csv(rows)


def _p_text(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def _cost_text(percent: float | None) -> str:
    return "n/a" if percent is None else f"{percent:+.1f}%"


def display_rows(study: dict, rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the compact table (Markdown, LaTeX and the terminal)."""
    main = study["metric"]
    unit = metric_format(main)[2]
    extras = [m for m in COMPACT_METRICS[study["task"]] if m != main]
    with_versus = any(row["versus"] not in (None, BASELINE) for row in rows)
    header = ["variant", "seeds", f"{main}{f' ({unit})' if unit else ''} [95% CI]"]
    header += [m + (f" ({metric_format(m)[2]})" if metric_format(m)[2] else "") for m in extras]
    header += ["vs"] * with_versus + [f"Δ {main}", "p (Holm)", "verdict", "Δ FLOPs", "Δ params"]
    cells = []
    for row in rows:
        low, high = row[f"{main}_ci95_low"], row[f"{main}_ci95_high"]
        line = [row["variant"], str(row["seeds"]), value_text(row[f"{main}_mean"], main)
                + ("" if low is None else f" [{value_text(low, main)}, {value_text(high, main)}]")]
        line += [_extra_text(row, m) for m in extras]
        if with_versus:
            line.append(row["versus"] or "")
        delta = row[f"delta_{main}"]
        line += ["" if delta is None else difference_text(delta, main), "" if row["versus"] is None else _p_text(row["p_adjusted"]),
                 row["verdict"] or ("" if row["versus"] is None else "no claim"),
                 "" if row["versus"] is None else _cost_text(row["delta_flops_pct"]),
                 "" if row["versus"] is None else _cost_text(row["delta_params_pct"])]
        cells.append(line)
    return header, cells


def _extra_text(row: dict, metric: str) -> str:
    """A compact metric cell; the trained checkerboard cells say how many runs were dead."""
    text = value_text(row[f"{metric}_mean"], metric)
    dead = row.get("dead_runs") or 0
    if metric in CHECKERBOARD_TRAINED and dead:
        return "dead" if dead == row["seeds"] else f"{text} ({dead}/{row['seeds']} dead)"
    return text


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


def to_report(study: dict, rows: list[dict], figures: list[str]) -> str:
    """A Markdown page: the study, its claim, how it was run and where, the table, its verdicts and `figures` (file names)."""
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
        "Every column, with Welch's p, the MDE and the seeds needed, is in table.csv.",
        "",
        to_markdown(study, rows),
    ]
    if study["task"] == "upsampling":
        lines += [nearest_statement(study, rows), ""]
    if study.get("limits"):
        lines += [f"**Limits.** {study['limits']}", ""]
    lines += [f"![{alt}]({name})" for name, alt in FIGURES if name in figures]
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
