"""Cost budgets: a candidate over budget is skipped before any training."""

from __future__ import annotations

import dataclasses

from convnas.blocks import validation
from convnas.blocks.arithmetic import BlockCost
from convnas.search.cost import Cost
from convnas.search.tuners.rejection import OverBudget


@dataclasses.dataclass(frozen=True)
class Budget:
    """Upper bounds on a candidate's cost; None means unbounded."""

    max_flops: float | None = None
    max_params: float | None = None
    max_latency_ms: float | None = None

    def __post_init__(self):
        for field in dataclasses.fields(self):
            if getattr(self, field.name) is not None:
                validation.positive_number(field.name, getattr(self, field.name))

    def check_cost(self, cost: Cost | BlockCost) -> None:
        """Raises OverBudget if the FLOPs or parameters exceed their bound (a built model's count or a layout's)."""
        if self.max_flops is not None and cost.flops > self.max_flops:
            raise OverBudget(
                f"over budget: {cost.flops:,} FLOPs > max_flops {self.max_flops:,.0f}", {"flops": cost.flops}
            )
        if self.max_params is not None and cost.params > self.max_params:
            raise OverBudget(
                f"over budget: {cost.params:,} parameters > max_params {self.max_params:,.0f}", {"params": cost.params}
            )

    def check_latency(self, latency_ms: float) -> None:
        """Raises OverBudget if the measured latency exceeds its bound."""
        if self.max_latency_ms is not None and latency_ms > self.max_latency_ms:
            raise OverBudget(
                f"over budget: latency {latency_ms:.2f} ms > max_latency_ms {self.max_latency_ms:g}",
                {"latency_ms": latency_ms},
            )

    def describe(self) -> str:
        """The bounds as text, e.g. "max_flops 200,000 and max_params 5,000"; "" when unbounded."""
        bounds = [(name, getattr(self, name)) for name in ("max_flops", "max_params", "max_latency_ms")]
        return " and ".join(f"{name} {value:,.6g}" for name, value in bounds if value is not None)
