"""The true Pareto front of a search: trials no other trial beats on accuracy and cost at once.

keras-tuner's multi-objective mode optimizes a weighted sum; the front here is
the set of non-dominated completed trials, for accuracy (higher is better)
against a cost (FLOPs or parameters, lower is better).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from convnas.search.choices import PARETO_COSTS
from convnas.search.common import durable_io, tables


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """(accuracy, cost) `a` dominates `b`: no worse on both, better on one."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated (accuracy, cost) points, by increasing cost."""
    front = [i for i, p in enumerate(points) if not any(dominates(q, p) for j, q in enumerate(points) if j != i)]
    return sorted(front, key=lambda i: (points[i][1], -points[i][0]))


def nondominated_ranks(points: Sequence[tuple[float, float]]) -> list[int]:
    """Each (accuracy, cost) point's non-dominated rank: 0 on the front, 1 on the front without it, ..."""
    ranks, remaining, rank = [0] * len(points), set(range(len(points))), 0
    while remaining:
        layer = {i for i in remaining if not any(dominates(points[j], points[i]) for j in remaining if j != i)}
        for i in layer:
            ranks[i] = rank
        remaining -= layer
        rank += 1
    return ranks


def crowding_distances(points: Sequence[tuple[float, float]]) -> list[float]:
    """NSGA-II's crowding distance of each point among `points` (one rank): infinite at the ends of each axis."""
    distances = [0.0] * len(points)
    for axis in (0, 1):
        order = sorted(range(len(points)), key=lambda i: points[i][axis])
        span = points[order[-1]][axis] - points[order[0]][axis] if points else 0.0
        if points:
            distances[order[0]] = distances[order[-1]] = math.inf
        for before, here, after in zip(order, order[1:], order[2:]):
            if span > 0:
                distances[here] += (points[after][axis] - points[before][axis]) / span
    return distances


def selection_keys(points: Sequence[tuple[float, float]]) -> list[tuple]:
    """NSGA-II's order of (accuracy, cost) `points` as sort keys, smaller better: the non-dominated rank, then the
    larger crowding distance within the rank, then the point's index."""
    ranks = nondominated_ranks(points)
    crowding = [0.0] * len(points)
    for rank in set(ranks):
        layer = [i for i in range(len(points)) if ranks[i] == rank]
        for i, distance in zip(layer, crowding_distances([points[i] for i in layer])):
            crowding[i] = distance
    return [(ranks[i], -crowding[i], i) for i in range(len(points))]


def completed_records(records: list[dict], accuracy: str = "val_accuracy", epochs: int | None = None) -> list[dict]:
    """The records trained to the end: COMPLETED, scored, costed, and (given `epochs`) trained for `epochs` epochs.

    Hyperband's shorter trials (fewer epochs than the search's) are left out:
    their accuracy is that of a model trained less. So are trials without cost
    columns (no Keras model reached convnas, or it could not be counted).
    """
    return [
        r for r in records
        if r.get("status") == "COMPLETED" and r.get(accuracy) is not None
        and all(r.get(cost) is not None for cost in PARETO_COSTS)
        and (epochs is None or r.get("epochs") == epochs)
    ]


def front_rows(records: list[dict], cost: str, accuracy: str = "val_accuracy", epochs: int | None = None) -> list[dict]:
    """The completed records (trained for `epochs` epochs, if given) on the accuracy/`cost` front."""
    completed = completed_records(records, accuracy, epochs)
    points = [(float(r[accuracy]), float(r[cost])) for r in completed]
    return [completed[i] for i in pareto_front(points)]


def objectives_front(records: list[dict], objectives: Sequence[tuple[str, str]], epochs: int | None = None
                     ) -> list[dict]:
    """The COMPLETED records (trained for `epochs` epochs, if given) with every objective's value that no other
    such record beats on all the `objectives` at once: (name, "max" or "min") pairs, a keras-tuner list of
    objectives. In the order the records come."""
    kept = [r for r in records if r.get("status") == "COMPLETED" and all(r.get(name) is not None for name, _ in
                                                                        objectives)
            and (epochs is None or r.get("epochs") == epochs)]
    signs = [1.0 if direction == "max" else -1.0 for _, direction in objectives]
    points = [[sign * float(r[name]) for sign, (name, _) in zip(signs, objectives)] for r in kept]

    def beats(a, b) -> bool:
        return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))

    return [kept[i] for i, point in enumerate(points) if not any(beats(other, point) for other in points)]


def front_columns(accuracy: str) -> tuple[str, ...]:
    return ("front", "trial_id", accuracy, *(["val_accuracy"] if accuracy != "val_accuracy" else []),
            "test_accuracy", "params", "flops", "macs", "latency_ms")


def write_front(
    records: list[dict], path: Path, accuracy: str = "val_accuracy", epochs: int | None = None,
    objectives: Sequence[tuple[str, str]] = (),
) -> dict[str, list[dict]]:
    """Writes pareto.csv (one row per front member, for the FLOPs and the params fronts); returns these fronts.

    Given `epochs`, only records trained for that many epochs count (see
    `completed_records`). Given a list of two or more `objectives` ((name,
    direction) pairs), the rows of their own front (`objectives_front`, the
    front "objectives") follow, with a column per objective. With no front
    member nothing is written: the file would hold its header alone.
    """
    fronts = {cost: front_rows(records, cost, accuracy, epochs) for cost in PARETO_COSTS}
    listed = objectives_front(records, objectives, epochs) if len(objectives) > 1 else []
    if not any(fronts.values()) and not listed:
        return fronts
    names = front_columns(accuracy)
    names += tuple(name for name, _ in objectives if name not in names)
    rows = [{"front": f"accuracy_vs_{cost}", **{key: row.get(key) for key in names[1:]}}
            for cost, front in fronts.items() for row in front]
    rows += [{"front": "objectives", **{key: row.get(key) for key in names[1:]}} for row in listed]
    durable_io.write_text(path, tables.to_csv(rows, names))
    return fronts


def plot_front(records: list[dict], path: Path, accuracy: str = "val_accuracy", epochs: int | None = None) -> None:
    """Accuracy against FLOPs and against parameters: every completed trial, the front as a staircase.

    The front is drawn as the boundary of the region it dominates (a step
    after each member, which is labelled with its trial id); given `epochs`,
    only records trained for that many epochs count. The title names the run
    (the folder `path` is in), the accuracy and the trials drawn; the PNG
    also carries it as its Title metadata. Without a completed trial nothing
    is written: the plot would be empty.
    """
    completed = completed_records(records, accuracy, epochs)
    if not completed:
        return
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot, ticker

    figure, axes = pyplot.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    for axis, cost, label in ((axes[0], "flops", "FLOPs"), (axes[1], "params", "parameters")):
        axis.scatter([r[cost] for r in completed], [r[accuracy] for r in completed], s=18, color="0.6", label="trials")
        front = front_rows(records, cost, accuracy, epochs)
        costs, scores = [r[cost] for r in front], [r[accuracy] for r in front]
        if front:
            axis.step(costs + [max(r[cost] for r in completed) * 1.5], scores + scores[-1:], where="post", color="C3",
                      label="Pareto front")
            axis.scatter(costs, scores, s=30, color="C3", zorder=3)
        for row in front:
            axis.annotate(str(row["trial_id"]), (row[cost], row[accuracy]), textcoords="offset points", xytext=(4, -10),
                          fontsize=8, color="C3")
        axis.set_xscale("log")
        axis.xaxis.set_major_locator(ticker.LogLocator(numticks=6))
        axis.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: tables.human(value, digits=0)))
        axis.xaxis.set_minor_formatter(ticker.NullFormatter())
        axis.set_xlabel(f"{label} (log scale)")
        axis.set_ylabel(accuracy.replace("_", " "))
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right")
    trained = "" if epochs is None else f" of {tables.plural(epochs, 'epoch')}"
    title = (f"{Path(path).resolve().parent.name}: {accuracy.replace('_', ' ')} against cost, "
             f"{tables.plural(len(completed), 'completed trial')}{trained}")
    figure.suptitle(title)
    figure.savefig(path, dpi=100, metadata={"Title": title})
    pyplot.close(figure)
