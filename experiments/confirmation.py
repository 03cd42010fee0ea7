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

`confirmation` may also be a list of such sections, in the order they were
committed: a later one confirms claims no earlier one did (a claim is
confirmed once, so an undecided confirmation is never retried), on seeds
fresh of the study's and of every earlier confirmation's.
`--confirmation K` runs the K-th, named "NAME-confirmation-K" from K = 2.
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


def name_of(study: str, which: int) -> str:
    """The name of `study`'s `which`-th confirmation (1-based): "NAME-confirmation", then "NAME-confirmation-K"."""
    return f"{study}{SUFFIX}" + (f"-{which}" if which > 1 else "")


def split_name(name: str) -> tuple[str, int]:
    """(study, K) of a confirmation's name (`name_of`), (name, 0) for a study's own."""
    head, _, number = name.rpartition("-")
    if number.isdigit() and int(number) > 1 and head.endswith(SUFFIX):
        return head.removesuffix(SUFFIX), int(number)
    return (name.removesuffix(SUFFIX), 1) if name.endswith(SUFFIX) else (name, 0)


def sections(values: dict) -> list[Mapping]:
    """`values`'s confirmation sections, in order, each checked; SpecError names the first fault."""
    section, name = values.get("confirmation"), values.get("name", "study")
    if section is None:
        raise SpecError(f"study {name!r} has no `confirmation` section (its claims, fresh seeds and plan)")
    listed = section if isinstance(section, list) and section else [section]
    expect, confirmed, used = values.get("expect") or {}, {}, own_seeds(values.get("seeds", 3))
    for which, entry in enumerate(listed, 1):
        field = "confirmation" if len(listed) == 1 else f"confirmation[{which - 1}]"
        if not isinstance(entry, Mapping) or set(map(str, entry)) - set(FIELDS):
            raise SpecError(f"`{field}` must be a mapping of {', '.join(FIELDS)} (or a list of them). "
                            f"Received: {field}={entry!r}")
        claims = entry.get("claims")
        if not isinstance(claims, list) or not claims or any(claim not in expect for claim in claims):
            raise SpecError(f"`{field}.claims` must list claims of `expect` ({', '.join(map(str, expect))}). "
                            f"Received: claims={claims!r}")
        again = [claim for claim in claims if claim in confirmed]
        if again:
            raise SpecError(f"`{field}.claims` must be claims no earlier confirmation tested: {again[0]!r} is "
                            f"confirmation {confirmed[again[0]]}'s. Received: claims={claims!r}")
        seeds = entry.get("seeds")
        listed_seeds = set(seeds) if isinstance(seeds, list) else set()
        reused = sorted(used & listed_seeds)
        if reused:
            raise SpecError(f"`{field}.seeds` must be fresh: seed {reused[0]} is one the study or an earlier "
                            f"confirmation may run. Received: seeds={seeds!r}")
        plan = entry.get("plan")
        if not isinstance(plan, str) or not plan.strip():
            raise SpecError(f"`{field}.plan` must say how its seed count was planned. Received: {plan!r}")
        confirmed |= dict.fromkeys(claims, which)
        used |= listed_seeds
    return listed


def confirm(values: dict, which: int = 1) -> dict:
    """The study mapping (YAML fields) of `values`'s `which`-th confirmation (1-based); SpecError if it has
    none or it is malformed."""
    listed, name = sections(values), values.get("name", "study")
    if not 1 <= which <= len(listed):
        raise SpecError(f"study {name!r} has {len(listed)} confirmation{'s' * (len(listed) > 1)}: "
                        f"--confirmation must be 1 to {len(listed)}. Received: {which}")
    section = listed[which - 1]
    claims, plan = section["claims"], section["plan"]
    from convnas.experiments.ablation_spec import check_expect

    variants = values.get("variants") or {}
    confirmed = {claim: entry for claim, entry in check_expect(values.get("expect"), variants).items()
                 if claim in claims}
    references = {entry["versus"] for entry in confirmed.values()}
    return {
        **{key: value for key, value in values.items() if key not in ("confirmation", "full")},
        "name": name_of(name, which),
        "description": f"A confirmation of the {name} study's claims on {', '.join(claims)}, on fresh seeds: "
                       f"{plan.strip()} The study it confirms: {values.get('description', '')}".strip(),
        "seeds": section["seeds"],
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
