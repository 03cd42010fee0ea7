"""How each metric of an ablation table reads and what values it can take.

A metric's display is (scale, decimals, unit), `FORMATS`: accuracies in
percent with 2 decimals, their differences in percentage points ("pts");
a metric not listed takes the format of the listed name it ends with. An
accuracy lies in [0, 1] (its interval is computed on the arcsine-square-root
scale); amplitudes, losses and seconds cannot be negative (their interval is
cut at 0). Accuracies and PSNR are better higher; losses, artifact
amplitudes and seconds lower (which way a "no worse" claim looks).
"""

from __future__ import annotations

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


def higher_is_better(metric: str) -> bool:
    """Whether a higher value of `metric` is better (accuracies, PSNR); else lower is (losses, amplitudes, seconds)."""
    return metric.endswith(("accuracy", "psnr", "psnr_gain"))


def bounded(metric: str) -> bool:
    """Whether a metric lies in [0, 1] (an accuracy)."""
    return metric.endswith("accuracy")


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
    """A value of `metric` in its display units and decimals, without the unit; "n/a" for None."""
    scale, decimals, _ = metric_format(metric)
    return "n/a" if value is None else f"{value * scale:.{decimals}f}"
