"""The ablation table's rows: one per variant, statistics over seeds, a tested comparison and a verdict.

Built from the run records alone (LOGDIR/runs.jsonl and LOGDIR/study.json),
so `convnas table LOGDIR` rebuilds exactly what the study wrote at its end.
The statistics are `experiments.statistics`'s.

Every variant is compared with its reference: the variant its `expect`
entry names (`versus`), else the baseline. A row has every column of the
CSV:

- `variant`, `seeds` (completed runs), `versus`, `expected` (the claim's
  direction, if the study states one);
- for each metric m: `m_mean`, `m_std` (ddof=1), `m_ci95_low`,
  `m_ci95_high` (Student's interval; for accuracies on the arcsine-square-
  root scale, so it stays within [0, 1]; for metrics that cannot be
  negative, amplitudes, losses and seconds, cut at 0);
- `params`, `macs`, `flops` (and `receptive_field` for classification);
- `delta_<main>`: the variant's mean minus its reference's;
- `p_value`: the exact permutation test against the reference; `p_welch`:
  Welch's t-test; `p_adjusted`: Holm-adjusted across the study's
  comparisons;
- `mde`: the minimum detectable effect at 80% power and level 0.05/k (k
  comparisons: Holm's strictest step) for the runs made; `seeds_needed`:
  runs a side that would detect the observed difference;
- `verdict`: from the adjusted p and the expected direction: "supports"
  (p_adjusted < 0.05, the difference in the claimed direction; for "same",
  never), "contradicts" (p_adjusted < 0.05 the other way, or any
  significant difference for "same"), else "inconclusive (MDE x)";
- `delta_flops_pct`, `delta_params_pct`: the cost change against the
  reference, in percent;
- upsampling: `dead_runs`, the runs whose learned output ignores its input
  (`experiments.artifacts.is_dead`); their trained checkerboard amplitudes
  are left out of the means, and a variant whose every run is dead reads
  "dead", never clean.
"""

from __future__ import annotations

import dataclasses
import math

from convnas.experiments import statistics
from convnas.experiments.ablation_spec import BASELINE, METRICS
from convnas.experiments.ablation_table.metrics import bounded, difference_text, non_negative

COST_COLUMNS = ("params", "macs", "flops", "receptive_field")
CHECKERBOARD_TRAINED = ("checkerboard", "checkerboard_flat")  # meaningless for a dead network


def build_table(study: dict, records: list[dict]) -> list[dict]:
    """The table rows of `study` (its resolved spec as a dict) from its completed run records."""
    main = study["metric"]
    expect = study.get("expect") or {}
    order = [BASELINE, *study["variants"]]
    runs = {name: [r for r in records if r["variant"] == name and r["status"] == "COMPLETED"] for name in order}
    rows = {}
    for name in order:
        if not runs[name]:
            continue
        claim = expect.get(name, {})
        versus = None if name == BASELINE else claim.get("versus", BASELINE)
        row = {"variant": name, "seeds": len(runs[name]), "versus": versus, "expected": claim.get("direction")}
        for metric in study_metrics(study):
            kept = _values(runs[name], metric)
            summary = statistics.summarize(kept, bounded(metric)) if kept else None
            if summary is not None and summary.ci_low is not None and non_negative(metric) and summary.ci_low < 0:
                summary = dataclasses.replace(summary, ci_low=0.0)
            values = (None,) * 4 if summary is None else (summary.mean, summary.std, summary.ci_low, summary.ci_high)
            row.update(zip((f"{metric}_{part}" for part in ("mean", "std", "ci95_low", "ci95_high")), values))
        if study["task"] == "upsampling":
            row["dead_runs"] = sum(bool(r.get("dead")) for r in runs[name])
        for column in COST_COLUMNS:
            if runs[name][0].get(column) is not None:
                row[column] = runs[name][0][column]
        rows[name] = row
    comparisons = [_compare(row, rows.get(row["versus"]), runs, main) for row in rows.values()]
    adjusted = statistics.holm([c.get("p_value") for c in comparisons])
    tested = sum(p is not None for p in adjusted)
    for row, comparison, p_adjusted in zip(rows.values(), comparisons, adjusted):
        comparison["p_adjusted"] = p_adjusted
        if comparison.get("std") is not None:
            level = statistics.ALPHA / tested
            sizes = (len(_values(runs[name], main)) for name in (row["variant"], row["versus"]))
            comparison["mde"] = statistics.minimum_detectable_effect(comparison["std"], *sizes, level)
            comparison["seeds_needed"] = statistics.seeds_needed(comparison[f"delta_{main}"], comparison["std"], level)
        comparison["verdict"] = verdict(row["expected"], comparison, main)
        comparison.pop("std", None)
        row.update(comparison)
    return list(rows.values())


def _compare(row: dict, reference: dict | None, runs: dict, main: str) -> dict:
    """The comparison columns of `row` against its reference row (all None for the baseline or a missing reference)."""
    empty = {f"delta_{main}": None, "p_value": None, "p_welch": None, "mde": None, "seeds_needed": None,
             "delta_flops_pct": None, "delta_params_pct": None}
    if reference is None:
        return empty
    costs = {"delta_flops_pct": 100 * (row["flops"] / reference["flops"] - 1),
             "delta_params_pct": 100 * (row["params"] / reference["params"] - 1)}
    values, reference_values = _values(runs[row["variant"]], main), _values(runs[reference["variant"]], main)
    if not values or not reference_values:  # every run dead: no trained checkerboard amplitude to compare
        return {**empty, **costs}
    welch = statistics.welch_t_test(values, reference_values)
    both = len(values) >= 2 and len(reference_values) >= 2
    return {**empty, **costs, f"delta_{main}": row[f"{main}_mean"] - reference[f"{main}_mean"],
            "p_value": statistics.permutation_p_value(values, reference_values),
            "p_welch": None if welch is None else welch.p_value,
            "std": statistics.pooled_std(values, reference_values) if both else None}


def _values(runs: list[dict], metric: str) -> list[float]:
    """A metric's values over runs: those that recorded it, less the dead runs' trained checkerboard amplitudes."""
    return [r[metric] for r in runs if metric in r and not (metric in CHECKERBOARD_TRAINED and r.get("dead"))]


def verdict(direction: str | None, comparison: dict, main: str) -> str | None:
    """supports / contradicts / inconclusive (MDE x) from the adjusted p and the claimed direction; None unclaimed."""
    p, delta = comparison.get("p_adjusted"), comparison.get(f"delta_{main}")
    if direction is None or delta is None:
        return None
    if p is not None and p < statistics.ALPHA:
        if direction == "same":
            return "contradicts"
        return "supports" if (delta > 0) == (direction == "higher") else "contradicts"
    mde = comparison.get("mde")
    if mde is None or math.isinf(mde):
        return "inconclusive (too few seeds for the exact test)"
    return f"inconclusive (MDE {difference_text(mde, main, signed=False)})"


def study_metrics(study: dict) -> list[str]:
    """The study's metrics, the main one first."""
    return [study["metric"], *(m for m in METRICS[study["task"]] if m != study["metric"])]
