"""Seeds planned from a measured spread: a pilot, then as many seeds as the claims need, up to a cap.

A study's `seeds` may be a plan instead of a count: "auto", or a mapping

    seeds: {pilot: 5, most: 10, effect: 0.01}

(`check_plan`: pilot P >= 2, default 5; most M from P to 1000, default 10;
effect E, optional, a positive number in the main metric's units; "auto"
is the defaults, pilot 5 and most 10, no effect). `Study.run` then

1. runs every variant for the pilot's seeds 0..P-1;
2. plans from the pilot runs alone (`plan_seeds`). For each claimed
   comparison (an `expect` entry on the main metric: a variant against its
   `versus`; a claim on a cost is exact and needs no seeds) the spread is
   σ, the pooled SD (`statistics.pooled_std`) of the main metric's pilot
   values of the variant and of its reference: deviations within each
   variant only, the difference between them is never looked at. The
   distance the claim must resolve is d: the margin m for `no_worse` and
   `same` (a true Δ of 0 must then be decided: its interval inside the
   claimed region), the effect E for `higher` and `lower` (a true Δ E past
   the claim's margin); a `higher` or `lower` claim without an effect, or a
   `same` without a margin, sets no requirement. At α = 0.05 / k, k the
   claimed comparisons (Holm's strictest step, the level of the table's
   MDE), a comparison needs the least n in P..M whose minimum detectable
   effect (`exact_power.minimum_detectable_effect(σ, n, n, region, α)`, 80%
   power, the exact test, by simulation) is at most d (`least_seeds`); none
   if even M does not reach it, or if its spread cannot be measured (fewer
   than two pilot values on a side). The planned count n is the largest
   needed, M when any comparison reaches none, P when no claim sets a
   requirement;
3. runs seeds P..n-1 for the variants of the claimed comparisons (the
   variants and their references); the others keep the pilot's P runs (they
   are described, not tested).

The plan depends on the pilot runs alone, which are deterministic, so a
study killed during its extension plans the same n when resumed and
finishes it. study.json records the plan's settings under `seed_plan` (part
of the resolved study: a resumption with other settings is refused) and its
outcome under `planned_seeds` (a fact of the run, `plan_seeds`'s return
value); its `seeds` are every seed run. The report states the plan in one
line (`ablation_table.report.plan_statement`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from convnas.experiments import exact_power, statistics
from convnas.experiments.ablation_table.claims import region
from convnas.experiments.ablation_table.rows import metric_values
from convnas.search.common.spec_files import SpecError

AUTO = "auto"
DEFAULTS = {"pilot": 5, "most": 10, "effect": None}
MOST = exact_power.MOST_SEEDS  # the largest cap a plan takes


def check_plan(value) -> dict:
    """A seed plan, "auto" or a mapping of pilot, most and effect, as {"pilot", "most", "effect"}; SpecError otherwise.

    The returned mapping is what study.json records under `seed_plan`; it
    checks as itself.
    """
    if isinstance(value, str):
        if value != AUTO:
            raise SpecError(f"`seeds` must be a positive integer. Received: seeds={value!r}; the one word it takes is "
                            f"{AUTO!r} (a seed plan: pilot {DEFAULTS['pilot']}, most {DEFAULTS['most']})")
        return dict(DEFAULTS)
    if not isinstance(value, Mapping):
        raise SpecError(f"a seed plan must be {AUTO!r} or a mapping of pilot, most and effect. "
                        f"Received: seeds={value!r}")
    unknown = [key for key in value if key not in DEFAULTS]
    if unknown:
        raise SpecError(f"`seeds` has an unknown key {unknown[0]!r}; a seed plan takes pilot, most and effect. "
                        f"Received: seeds={dict(value)!r}")
    plan = {**DEFAULTS, **{key: item for key, item in value.items() if item is not None}}
    pilot, most, effect = plan["pilot"], plan["most"], plan["effect"]
    if not _is_int(pilot) or pilot < 2:
        raise SpecError("`seeds.pilot` must be an integer of at least 2 (a spread needs two runs a variant). "
                        f"Received: seeds.pilot={pilot!r}")
    if not _is_int(most) or not pilot <= most <= MOST:
        default = "" if "most" in value else f" (its default, {DEFAULTS['most']})"
        raise SpecError(f"`seeds.most` must be an integer from seeds.pilot ({pilot}) to {MOST}. "
                        f"Received: seeds.most={most!r}{default}")
    number = isinstance(effect, (int, float)) and not isinstance(effect, bool)
    if effect is not None and not (number and math.isfinite(effect) and effect > 0):
        raise SpecError("`seeds.effect` must be a positive number in the main metric's units (0.01: 1 point of "
                        f"accuracy). Received: seeds.effect={effect!r}")
    return {"pilot": int(pilot), "most": int(most), "effect": None if effect is None else float(effect)}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def distance(claim: dict, effect: float | None) -> float | None:
    """The distance from the claim's boundary a plan must resolve (see the module docstring); None: no requirement."""
    if claim["direction"] in ("no_worse", "same"):
        return claim.get("margin") or None
    return effect


def least_seeds(std: float, distance: float, bounds: tuple[float, float], alpha: float, fewest: int,
                most: int) -> int | None:
    """The least runs a side n in fewest..most whose MDE (`exact_power`) is at most `distance`; None if none is."""
    for n in range(fewest, most + 1):
        if exact_power.minimum_detectable_effect(std, n, n, bounds, alpha) <= distance:
            return n
    return None


def tested_claims(expect: dict) -> dict[str, dict]:
    """The claims on the main metric (the tested comparisons); a claim on a cost (its `metric`) is exact."""
    return {name: claim for name, claim in expect.items() if "metric" not in claim}


def pilot_values(records: list[dict], variants: list[str], pilot: int, metric: str) -> dict[str, list[float]]:
    """variant -> the main metric's values over its pilot runs (seeds below `pilot`), as the table reads them."""
    return {variant: metric_values([r for r in records if r["variant"] == variant and r["seed"] < pilot
                                    and r["status"] == "COMPLETED"], metric)
            for variant in variants}


def plan_seeds(plan: dict, expect: dict, metric: str, values: dict[str, list[float]]) -> dict:
    """The plan's outcome from the pilot's values: what study.json records under `planned_seeds`.

    Args:
        plan: The plan's settings (`check_plan`).
        expect: The study's claims (`ablation_spec.check_expect`).
        metric: The main metric.
        values: variant -> the main metric's pilot values (`pilot_values`),
            in the table's order.

    Returns:
        {"pilot", "most", "effect", "metric", "alpha", "comparisons": variant
        -> {"versus", "direction", "std" (None: fewer than two values on a
        side), "distance" (None: the claim sets no requirement), "needed"
        (None: no requirement, or none of pilot..most reaches the distance)},
        "planned": the seeds a side of the claimed comparisons' variants,
        "capped": whether a comparison needs more than `most` (or its spread
        is unknown), "variants": the variants run to "planned" and
        "pilot_only": the others, in the table's order}.
    """
    claimed = tested_claims(expect)
    alpha = statistics.ALPHA / max(1, len(claimed))
    comparisons, capped, needs = {}, False, [plan["pilot"]]
    for name, claim in claimed.items():
        own, reference = values.get(name, []), values.get(claim["versus"], [])
        std = statistics.pooled_std(own, reference) if min(len(own), len(reference)) >= 2 else None
        resolve = distance(claim, plan["effect"])
        needed = None
        if resolve is not None and std is not None:
            needed = least_seeds(std, resolve, region(claim, metric), alpha, plan["pilot"], plan["most"])
        if resolve is not None:
            capped = capped or needed is None
            needs.append(plan["most"] if needed is None else needed)
        comparisons[name] = {"versus": claim["versus"], "direction": claim["direction"], "std": std,
                             "distance": resolve, "needed": needed}
    ran = set(claimed) | {claim["versus"] for claim in claimed.values()}
    return {**plan, "metric": metric, "alpha": alpha, "comparisons": comparisons, "planned": max(needs),
            "capped": capped, "variants": [variant for variant in values if variant in ran],
            "pilot_only": [variant for variant in values if variant not in ran]}
