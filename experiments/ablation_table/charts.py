"""The ablation table's charts: the main metric per variant with its 95% CI, and the training curves.

matplotlib loads (Agg backend) only when a chart is drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

from convnas.experiments.ablation_spec import BASELINE
from convnas.experiments.ablation_table.metrics import metric_format


def plot_chart(study: dict, rows: list[dict], path: Path) -> bool:
    """The main metric's mean per variant with its 95% CI as points and whiskers (no bars: the axis may be truncated).

    The whiskers span the interval as computed, whether or not it holds the
    mean (an accuracy's interval comes from the arcsine scale: two equal
    runs can give one a rounding away from their mean). A variant without
    a mean (every run dead) is left out; False when none has one.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = study["metric"]
    scale, _, unit = metric_format(main)
    drawn = [(index, row) for index, row in enumerate(rows) if row[f"{main}_mean"] is not None]
    if not drawn:
        return False
    figure, axes = plt.subplots(figsize=(1.1 * len(rows) + 2.4, 3.6))
    for index, row in drawn:
        mean, low, high = (row[f"{main}_{part}"] for part in ("mean", "ci95_low", "ci95_high"))
        color = "#555555" if index == 0 else "#3b75af"
        if low is not None:
            axes.vlines(index, scale * low, scale * high, color=color)
            axes.hlines([scale * low, scale * high], index - 0.1, index + 0.1, color=color)
        axes.plot([index], [scale * mean], "o", color=color)
    axes.set_xticks(range(len(rows)), [row["variant"] for row in rows], rotation=30, ha="right")
    axes.set_ylabel(value_axis_label(main, unit, axes.get_ylim()))
    axes.grid(axis="y", alpha=0.3)
    axes.set_title(f"{study['name']}: {main} over {max(row['seeds'] for row in rows)} seed(s)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def value_axis_label(metric: str, unit: str, limits: tuple[float, float]) -> str:
    """The chart's value axis label; it says "axis truncated" only when the axis leaves 0 out."""
    low, high = limits
    truncated = low > 0 or high < 0
    return f"{metric}{f' ({unit})' if unit else ''}\nmean, 95% CI{'; axis truncated' if truncated else ''}"


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
                # a curve of one or two epochs is points, not a line: it needs markers to show
                axis.plot(range(1, length + 1), mean, label=variant, marker="o" if length < 3 else None)
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
