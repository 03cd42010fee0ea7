"""The true Pareto front of a search: trials no other trial beats on accuracy and cost at once.

keras-tuner's multi-objective mode optimizes a weighted sum; the front here is
the set of non-dominated completed trials, for accuracy (higher is better)
against a cost (FLOPs or parameters, lower is better).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from convnas.search import durable_io, tables


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """(accuracy, cost) `a` dominates `b`: no worse on both, better on one."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated (accuracy, cost) points, by increasing cost."""
    front = [i for i, p in enumerate(points) if not any(dominates(q, p) for j, q in enumerate(points) if j != i)]
    return sorted(front, key=lambda i: (points[i][1], -points[i][0]))


def front_rows(records: list[dict], cost: str, accuracy: str = "val_accuracy") -> list[dict]:
    """The completed records on the accuracy/`cost` front."""
    completed = [r for r in records if r.get("status") == "COMPLETED" and r.get(accuracy) is not None]
    points = [(float(r[accuracy]), float(r[cost])) for r in completed]
    return [completed[i] for i in pareto_front(points)]


def front_columns(accuracy: str) -> tuple[str, ...]:
    return ("front", "trial_id", accuracy, *(["val_accuracy"] if accuracy != "val_accuracy" else []),
            "test_accuracy", "params", "flops", "macs", "latency_ms")


def write_front(records: list[dict], path: Path, accuracy: str = "val_accuracy") -> dict[str, list[dict]]:
    """Writes pareto.csv (one row per front member, for the FLOPs and the params fronts); returns the fronts."""
    fronts = {cost: front_rows(records, cost, accuracy) for cost in ("flops", "params")}
    names = front_columns(accuracy)
    rows = [{"front": f"accuracy_vs_{cost}", **{key: row.get(key) for key in names[1:]}} for cost, front in fronts.items() for row in front]
    durable_io.write_text(path, tables.to_csv(rows, names))
    return fronts


def plot_front(records: list[dict], path: Path, accuracy: str = "val_accuracy") -> None:
    """Accuracy against FLOPs and against parameters, every completed trial, the front joined by a line."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    completed = [r for r in records if r.get("status") == "COMPLETED" and r.get(accuracy) is not None]
    figure, axes = pyplot.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for axis, cost, label in ((axes[0], "flops", "FLOPs"), (axes[1], "params", "parameters")):
        axis.scatter([r[cost] for r in completed], [r[accuracy] for r in completed], s=18, color="0.6", label="trials")
        front = front_rows(records, cost, accuracy)
        axis.plot([r[cost] for r in front], [r[accuracy] for r in front], "o-", color="C3", label="Pareto front")
        axis.set_xscale("log")
        axis.set_xlabel(f"{label} (log scale)")
        axis.set_ylabel(accuracy.replace("_", " "))
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right")
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
