"""The ablation table: one row per variant, statistics over seeds, differences against the baseline.

Built from the run records alone (LOGDIR/runs.jsonl and LOGDIR/study.json),
so `convnas table LOGDIR` rebuilds exactly what the study wrote at its end.

Columns: `variant`, `seeds` (how many runs); for each metric m `m_mean`,
`m_std` (sample, ddof=1), `m_ci95_low`, `m_ci95_high` (Student's t interval
over seeds); `params`, `macs`, `flops` (and `receptive_field` for
classification); `delta_<main>` (variant mean - baseline mean) and
`p_value` (Welch's two-sided t-test against the baseline, with at least two
seeds on each side); `delta_flops_pct`, `delta_params_pct` (relative cost
change against the baseline, in percent).
"""

from __future__ import annotations

import math
from pathlib import Path

from convnas.experiments.ablation_spec import BASELINE, METRICS
from convnas.experiments.statistics import summarize, welch_t_test
from convnas.search import tables

COST_COLUMNS = ("params", "macs", "flops", "receptive_field")


def build_table(study: dict, records: list[dict]) -> list[dict]:
    """The table rows of `study` (its resolved spec as a dict) from its completed run records."""
    main = study["metric"]
    order = [BASELINE, *study["variants"]]
    runs = {name: [r for r in records if r["variant"] == name and r["status"] == "COMPLETED"] for name in order}
    rows = []
    for name in order:
        if not runs[name]:
            continue
        row = {"variant": name, "seeds": len(runs[name])}
        for metric in study_metrics(study):
            summary = summarize([r[metric] for r in runs[name]])
            row.update({f"{metric}_mean": summary.mean, f"{metric}_std": summary.std,
                        f"{metric}_ci95_low": summary.ci_low, f"{metric}_ci95_high": summary.ci_high})
        for column in COST_COLUMNS:
            if runs[name][0].get(column) is not None:
                row[column] = runs[name][0][column]
        rows.append(row)
    baseline = next((row for row in rows if row["variant"] == BASELINE), None)
    for row in rows:
        if baseline is None or row is baseline:
            row.update({f"delta_{main}": None, "p_value": None, "delta_flops_pct": None, "delta_params_pct": None})
            continue
        test = welch_t_test([r[main] for r in runs[row["variant"]]], [r[main] for r in runs[BASELINE]])
        row[f"delta_{main}"] = row[f"{main}_mean"] - baseline[f"{main}_mean"]
        row["p_value"] = None if test is None else test.p_value
        row["delta_flops_pct"] = 100 * (row["flops"] / baseline["flops"] - 1)
        row["delta_params_pct"] = 100 * (row["params"] / baseline["params"] - 1)
    return rows


def study_metrics(study: dict) -> list[str]:
    """The study's metrics, the main one first."""
    return [study["metric"], *(m for m in METRICS[study["task"]] if m != study["metric"])]


def to_csv(rows: list[dict]) -> str:
    return tables.to_csv(rows)


def _number(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"


def _signed(value, digits: int = 3, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:+.{digits}g}{suffix}"


def display_rows(study: dict, rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the human-readable table (Markdown and LaTeX)."""
    main = study["metric"]
    header = ["variant", "seeds", f"{main} (mean ± std)", "95% CI"]
    header += [f"{m} (mean ± std)" for m in study_metrics(study)[1:]]
    header += ["params", "MACs", "FLOPs"]
    with_field = any("receptive_field" in row for row in rows)
    if with_field:
        header.append("receptive field")
    header += [f"Δ {main}", "p (Welch)", "Δ FLOPs", "Δ params"]
    cells = []
    for row in rows:
        def spread(metric):
            std = row[f"{metric}_std"]
            return _number(row[f"{metric}_mean"]) + ("" if std is None else f" ± {_number(std, 2)}")

        low, high = row[f"{main}_ci95_low"], row[f"{main}_ci95_high"]
        line = [row["variant"], str(row["seeds"]), spread(main), "n/a" if low is None else f"[{_number(low)}, {_number(high)}]"]
        line += [spread(m) for m in study_metrics(study)[1:]]
        line += [_number(row["params"]), _number(row["macs"]), _number(row["flops"])]
        if with_field:
            line.append(_number(row.get("receptive_field")))
        p = row["p_value"]
        line += [_signed(row[f"delta_{main}"]), "n/a" if p is None else f"{p:.3g}",
                 _signed(row["delta_flops_pct"], 3, "%"), _signed(row["delta_params_pct"], 3, "%")]
        cells.append(line)
    return header, cells


def to_markdown(study: dict, rows: list[dict]) -> str:
    return tables.to_markdown(*display_rows(study, rows))


def to_latex(study: dict, rows: list[dict]) -> str:
    return tables.to_latex(*display_rows(study, rows))


def plot_bars(study: dict, rows: list[dict], path: Path) -> None:
    """Bar chart of the main metric's mean per variant, error bars the 95% CI (none with one seed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = study["metric"]
    means = [row[f"{main}_mean"] for row in rows]
    errors = [[0 if row[f"{main}_ci95_low"] is None else row[f"{main}_mean"] - row[f"{main}_ci95_low"] for row in rows],
              [0 if row[f"{main}_ci95_high"] is None else row[f"{main}_ci95_high"] - row[f"{main}_mean"] for row in rows]]
    figure, axes = plt.subplots(figsize=(1.2 * len(rows) + 2, 3.5))
    axes.bar(range(len(rows)), means, yerr=errors, capsize=4, color=["#777777", *["#3b75af"] * (len(rows) - 1)])
    axes.set_xticks(range(len(rows)), [row["variant"] for row in rows], rotation=30, ha="right")
    axes.set_ylabel(f"{main} (mean, 95% CI)")
    low = min(m - e for m, e in zip(means, errors[0]))
    high = max(m + e for m, e in zip(means, errors[1]))
    margin = 0.15 * (high - low or abs(high) or 1)
    axes.set_ylim(low - margin, high + margin)
    axes.set_title(f"{study['name']}: {main} over {max(row['seeds'] for row in rows)} seed(s)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def to_report(study: dict, rows: list[dict]) -> str:
    """A Markdown page: the study, its claim, how it was run and where, the table and its figures."""
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
        "Generated by `convnas table LOGDIR --format report` from the study's run records; do not edit by hand.",
        "",
        to_markdown(study, rows),
        f"![{study['metric']} per variant, 95% CI]({study['name']}.png)",
    ]
    if study["task"] == "upsampling":
        lines += ["", f"![inputs, outputs, targets and flat-input outputs per variant]({study['name']}-samples.png)"]
    return "\n".join(lines) + "\n"
