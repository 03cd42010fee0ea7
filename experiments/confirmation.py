"""A confirmation: some of a study's claims tested again, on fresh seeds, at a count planned before it runs.

A study's YAML may carry a `confirmation` section, committed before any of
its runs:

    confirmation:
      claims: [strided]            # claims of `expect`, tested again with their sizes unchanged
      seeds: [100, 101, 102]       # fresh seeds: none of the study's own
      plan: >-                     # one sentence: how the count was planned
        12 seeds a side: 80% power of the exact test at the committed runs' spread and difference

`convnas ablate NAME --confirmation` then runs that study (`confirm`): the
same base, settings and claims' sizes; the seeds listed; the claimed
variants with their references only (the baseline always), so its table's
Holm family is these claims alone and no variant is merely described; its
name "NAME-confirmation". Its verdicts rest on its own runs only: the
study's runs planned it (their spread, and their Δ as the effect to
resolve) and never enter its tests, so a claim left undecided is not
retested on the data that left it so. `plan_count` is that planning
computation, which a test repeats on the committed runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from convnas.search.common.spec_files import SpecError

FIELDS = ("claims", "seeds", "plan")
SUFFIX = "-confirmation"


def own_seeds(seeds) -> set[int]:
    """Every seed a study's `seeds` field may run (`ablation_spec.check_seeds`): a plan's up to its cap."""
    from convnas.experiments.ablation_spec import check_seeds  # it imports this module

    checked = check_seeds(seeds)
    return set(range(checked["most"])) if isinstance(checked, Mapping) else set(checked)


def confirm(values: dict) -> dict:
    """The study mapping (YAML fields) of `values`'s confirmation; SpecError if it has none or it is malformed."""
    section = values.get("confirmation")
    name = values.get("name", "study")
    if section is None:
        raise SpecError(f"study {name!r} has no `confirmation` section (its claims, fresh seeds and plan)")
    if not isinstance(section, Mapping) or set(map(str, section)) - set(FIELDS):
        raise SpecError(f"`confirmation` must be a mapping of {', '.join(FIELDS)}. Received: confirmation={section!r}")
    expect, claims = values.get("expect") or {}, section.get("claims")
    if not isinstance(claims, list) or not claims or any(claim not in expect for claim in claims):
        raise SpecError(f"`confirmation.claims` must list claims of `expect` ({', '.join(map(str, expect))}). "
                        f"Received: claims={claims!r}")
    seeds = section.get("seeds")
    reused = sorted(own_seeds(values.get("seeds", 3)) & set(seeds if isinstance(seeds, list) else []))
    if reused:
        raise SpecError(f"`confirmation.seeds` must be fresh: seed {reused[0]} is one the study itself may run. "
                        f"Received: seeds={seeds!r}")
    plan = section.get("plan")
    if not isinstance(plan, str) or not plan.strip():
        raise SpecError(f"`confirmation.plan` must say how its seed count was planned. Received: {plan!r}")
    from convnas.experiments.ablation_spec import check_expect

    variants = values.get("variants") or {}
    confirmed = {claim: entry for claim, entry in check_expect(expect, variants).items() if claim in claims}
    references = {entry["versus"] for entry in confirmed.values()}
    return {
        **{key: value for key, value in values.items() if key not in ("confirmation", "full")},
        "name": f"{name}{SUFFIX}",
        "description": f"A confirmation of the {name} study's claims on {', '.join(claims)}, on fresh seeds: "
                       f"{plan.strip()} The study it confirms: {values.get('description', '')}".strip(),
        "seeds": seeds,
        "expect": confirmed,
        "variants": {variant: entry for variant, entry in variants.items()
                     if variant in claims or variant in references},
    }


def plan_count(values: dict[str, list[float]], expect: dict, metric: str) -> dict[str, int | None]:
    """claim -> the seeds a side at which its observed Δ, were it the true one, is decided with 80% power.

    Args:
        values: variant -> the main metric's values in the runs that plan
            the confirmation (the study's committed runs).
        expect: The confirmed claims (`ablation_spec.check_expect` entries).
        metric: The main metric, which sets each claim's region of Δ
            (`ablation_table.claims.region`).

    The level is the table's strictest Holm step over the confirmed claims,
    0.05 / k; the spread is the pooled SD of the two variants (`statistics.pooled_std`).
    """
    from convnas.experiments import exact_power, statistics  # SciPy: not for the command line's spec checks
    from convnas.experiments.ablation_table.claims import region

    alpha = statistics.ALPHA / len(expect)
    counts = {}
    for claim, entry in expect.items():
        own, reference = values[claim], values[entry["versus"]]
        delta = sum(own) / len(own) - sum(reference) / len(reference)
        counts[claim] = exact_power.seeds_needed(delta, statistics.pooled_std(own, reference), region(entry, metric),
                                                 alpha)
    return counts
