"""Hypervolume of an accuracy/cost front, against a reference point fixed before the search starts.

The hypervolume of a set of (accuracy, cost) points is the area they dominate
in the plane of accuracy (higher is better) against log10 cost (lower is
better), bounded by the reference point (reference accuracy, cost ceiling):
the union of the rectangles [reference accuracy, accuracy] x [log10 cost,
log10 ceiling]. Its unit is accuracy x decades of cost. Points no better than
the reference on either axis add nothing. The reference is fixed in advance
(chance accuracy and the budget, or a stated ceiling): a reference taken from
the observed points would reward a search for sampling bad ones.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from convnas.blocks import validation
from convnas.search.choices import PARETO_COSTS


@dataclasses.dataclass(frozen=True)
class Reference:
    """The hypervolume's reference point: an accuracy floor and a ceiling on `cost`."""

    accuracy: float
    cost: str
    ceiling: float

    def __post_init__(self):
        PARETO_COSTS.check("cost", self.cost)
        validation.positive_number("ceiling", self.ceiling)
        if not isinstance(self.accuracy, (int, float)) or not 0 <= self.accuracy < 1:
            raise ValueError(f"`accuracy` of the reference must be in [0, 1). Received: accuracy={self.accuracy!r}")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def reference_for(num_classes: int | None, cost: str, budget: float | None) -> Reference:
    """Chance accuracy (0 when the classes are unknown) and the budget on `cost`, else the cost's stated ceiling
    (`search.choices.PARETO_COSTS`: above anything the built-in space holds)."""
    accuracy = 1.0 / num_classes if num_classes else 0.0
    return Reference(accuracy, cost, float(budget) if budget else PARETO_COSTS.load(cost))


def hypervolume(points: Sequence[tuple[float, float]], reference: Reference) -> float:
    """Area dominated by (accuracy, cost) `points`, on accuracy x log10(cost), up to `reference`."""
    ceiling = math.log10(reference.ceiling)
    useful = sorted(
        (float(cost), float(accuracy))
        for accuracy, cost in points
        if accuracy > reference.accuracy and 0 < cost < reference.ceiling
    )
    area, best = 0.0, reference.accuracy
    for cost, accuracy in useful:  # by increasing cost: each point adds the accuracy it gains over cheaper ones
        if accuracy > best:
            area += (accuracy - best) * (ceiling - math.log10(cost))
            best = accuracy
    return area

