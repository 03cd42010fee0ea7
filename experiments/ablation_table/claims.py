"""A study's claims as regions of Δ, judged by the exact test's intervals under Holm's step-down.

A claim (an `expect` entry, `ablation_spec.check_expect`) is a region of
Δ, the variant's mean less its reference's in the main metric's units,
margin m (0 where none is given):

- higher: (m, ∞); lower: (-∞, -m);
- same: (-m, m), equivalence; without a margin the point 0, which no
  interval lies inside: only a difference can decide it (contradicts);
- no_worse: (-m, ∞) where the metric is better higher (accuracies, PSNR),
  (-∞, m) where lower (losses, amplitudes, seconds): non-inferiority.

How Holm and the intervals combine, over the claimed comparisons only
(unclaimed ones are described: Δ and its 95% interval, no verdict, not
counted):

1. Each claimed comparison's decision p (`p_claim`) is the exact test's p
   at the boundary its interval must exclude to decide: with Δ̂ inside the
   region, the larger p at its finite ends (the interval lies inside the
   region exactly at levels at least that); with Δ̂ outside its closure,
   the p at the nearer end (the interval lies outside exactly then); with
   Δ̂ on the boundary, 1.
2. Holm's step-down runs on those p's (`statistics.holm_levels`): by
   ascending p, step j of k is judged at 0.05 / (k - j) while every
   earlier step decided, and every step from the first undecided one on at
   that step's level. `p_adjusted` is the Holm-adjusted decision p.
3. The interval on Δ is reported at that level (confidence 1 - level,
   `ci_delta_level`), and the verdict read from it: "supports" when it lies
   inside the region, "contradicts" when it lies outside the region's
   closure, else "inconclusive (...)" with the MDE and the seeds that
   would decide the observed Δ. As the interval excludes a shift exactly
   when the test at that level rejects it, a comparison is decided exactly
   when its p_adjusted is at most 0.05.

A claim on a cost (`metric`: params, macs or flops) is exact: Δ is the
counted difference of the two models, the same for every seed, so it is
judged without a test or an interval ("supports (exact)" inside the region,
"contradicts (exact)" elsewhere, `exact_verdict`) and is not one
of the tested comparisons Holm's step-down counts.

A wrong verdict needs the interval at its level to miss the true Δ. The
step-down keeps the chance of any wrong "supports" at 0.05 (Holm over the
hypotheses "the claim is false", whatever the dependence) and decides
contradictions as the directional decisions of the same step-down (Shaffer
1980); tests/experiments/test_statistics.py measures the family-wise error
of wrong verdicts of claims sharing a reference, each on its boundary.
"""

from __future__ import annotations

import dataclasses
import math

from convnas.experiments import exact_power, statistics
from convnas.experiments.ablation_table.metrics import difference_text, higher_is_better

NO_CLAIM = (0.0, 0.0)  # an unclaimed comparison is described against Δ = 0


def region(claim: dict, metric: str) -> tuple[float, float]:
    """The claim's region of Δ, (low, high) open, ±inf for a half-line, low == high for a point."""
    direction, margin = claim["direction"], claim.get("margin", 0.0)
    if direction == "higher":
        return margin, math.inf
    if direction == "lower":
        return -math.inf, -margin
    if direction == "same":
        return -margin, margin
    return (-margin, math.inf) if higher_is_better(metric) else (-math.inf, margin)


def claim_text(claim: dict, metric: str) -> str:
    """What the claim expects, in the metric's display units: "higher", "no worse than -1.00 pts", ..."""
    direction, margin = claim["direction"], claim.get("margin")
    size = None if margin is None else difference_text(margin, metric, signed=False)
    if direction == "no_worse":
        return f"no worse than {difference_text(-margin if higher_is_better(metric) else margin, metric)}"
    if direction == "same":
        return "the same" + (f" within ±{size}" if margin else "")
    return direction + (f" by more than {size}" if margin else "")


def decision_p_value(test: statistics.ExactTest, bounds: tuple[float, float]) -> float:
    """The p at the boundary the interval must exclude to decide (see the module docstring, step 1)."""
    low, high = bounds
    if low < test.delta < high:
        return max(test.p_value(end) for end in bounds if not math.isinf(end))
    if test.delta < low:
        return test.p_value(low)
    if test.delta > high:
        return test.p_value(high)
    return 1.0


def decision(interval: tuple[float, float], bounds: tuple[float, float]) -> str | None:
    """"supports" (the interval inside the region), "contradicts" (outside its closure) or None (neither)."""
    (ci_low, ci_high), (low, high) = interval, bounds
    if low < ci_low and ci_high < high:
        return "supports"
    if ci_high < low or ci_low > high:
        return "contradicts"
    return None


def exact_verdict(delta: float, bounds: tuple[float, float]) -> str:
    """The verdict of an exact (cost) claim whose Δ is `delta`, known without error: "supports (exact)" when Δ lies
    in the region (equals it, for a point), else "contradicts (exact)" (a Δ on the boundary too: an equal cost is
    not a higher one)."""
    low, high = bounds
    holds = delta == low if low == high else low < delta < high
    return f"{'supports' if holds else 'contradicts'} (exact)"


@dataclasses.dataclass(frozen=True)
class Decision:
    """One claimed comparison judged under Holm's step-down (see the module docstring)."""

    p_claim: float
    p_adjusted: float
    level: float
    interval: tuple[float, float]
    decided: str | None  # "supports", "contradicts" or None


def holm_decisions(tests: list[statistics.ExactTest], regions: list[tuple[float, float]]) -> list[Decision]:
    """The claimed comparisons' decisions: decision p, Holm's step-down, the interval at its level, the verdict."""
    p_claims = [decision_p_value(test, bounds) for test, bounds in zip(tests, regions)]
    decisions = []
    for test, bounds, p, adjusted, level in zip(tests, regions, p_claims, statistics.holm(p_claims),
                                                statistics.holm_levels(p_claims)):
        interval = test.interval(level)
        decisions.append(Decision(p, adjusted, level, interval, decision(interval, bounds)))
    return decisions


def judge(comparisons: dict[str, dict], metric: str) -> dict[str, dict]:
    """The claim columns of each comparison: interval, p_claim, p_adjusted, mde, seeds_needed and verdict.

    Args:
        comparisons: variant -> {"claim": its expect entry or None, "test":
            its `statistics.ExactTest` or None (fewer than two runs on a
            side), "std": the pooled SD, "sizes": (runs, reference runs)}.
        metric: The main metric.
    """
    claimed = {name: region(c["claim"], metric) for name, c in comparisons.items() if c["claim"] and c["test"]}
    decisions = dict(zip(claimed, holm_decisions([comparisons[name]["test"] for name in claimed],
                                                 list(claimed.values()))))
    planning = statistics.ALPHA / max(1, len(claimed))  # Holm's strictest step: the level a plan must meet
    columns = {}
    for name, comparison in comparisons.items():
        test, std, judged = comparison["test"], comparison["std"], decisions.get(name)
        bounds = claimed.get(name, NO_CLAIM)
        level = statistics.ALPHA if judged is None else judged.level
        interval = (None, None) if test is None else judged.interval if judged else test.interval(level)
        mde = needed = None
        if test is not None:
            alpha = planning if judged else statistics.ALPHA
            mde = exact_power.minimum_detectable_effect(std, *comparison["sizes"], bounds, alpha)
            needed = exact_power.seeds_needed(test.delta, std, bounds, alpha)
        verdict = None
        if comparison["claim"]:
            verdict = judged.decided if judged and judged.decided else _undecided(mde, needed, metric)
        columns[name] = {
            "ci_delta_low": interval[0], "ci_delta_high": interval[1],
            "ci_delta_level": None if test is None else 1 - level,
            "p_claim": None if judged is None else judged.p_claim,
            "p_adjusted": None if judged is None else judged.p_adjusted,
            "mde": mde, "seeds_needed": needed, "verdict": verdict,
        }
    return columns


def _undecided(mde: float | None, needed: int | None, metric: str) -> str:
    """An inconclusive verdict, with the MDE and the runs a side that would decide the observed Δ."""
    if mde is None or math.isinf(mde):
        return "inconclusive (too few seeds for the exact test)"
    seeds = "" if needed is None else f"; {needed} seeds a side for the observed Δ"
    return f"inconclusive (MDE {difference_text(mde, metric, signed=False)}{seeds})"
