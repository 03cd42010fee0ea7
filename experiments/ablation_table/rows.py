"""The ablation table's rows: one per variant, statistics over seeds, a comparison and, where claimed, a verdict.

Built from the run records alone (LOGDIR/runs.jsonl and LOGDIR/study.json),
so `convnas table LOGDIR` rebuilds exactly what the study wrote at its end.
The statistics are `experiments.statistics`'s and `experiments.exact_power`'s;
the claims and verdicts `ablation_table.claims`'s.

Every variant is compared with its reference: the variant its `expect`
entry names (`versus`), else the baseline. A row has every column of the
CSV:

- `variant`, `seeds` (completed runs), `versus`, `expected` (the claim's
  direction, if the study states one), `margin` (its size, in the claimed
  metric's units, where given) and `claim_metric` (the main metric, or the
  cost an exact claim is about);
- for each metric m: `m_mean`, `m_std` (ddof=1), `m_ci95_low`,
  `m_ci95_high` (Student's interval; for accuracies on the arcsine-square-
  root scale, so it stays within [0, 1]; for metrics that cannot be
  negative, amplitudes, losses and seconds, cut at 0);
- classification: `collapsed_runs`, the runs whose evaluation collapsed
  (`experiments.evaluation.collapsed`; a record that cannot tell counts
  as not collapsed), and `collapsed_seeds`, their seeds;
- upsampling: `dead_runs`, the runs whose learned output ignores its input
  (`experiments.artifacts.is_dead`); their trained checkerboard amplitudes
  are left out of the means, and a variant whose every run is dead reads
  "dead", never clean;
- `params`, `macs`, `flops` (and `receptive_field` for classification);
- `delta_<main>`: the variant's mean minus its reference's, and
  `ci_delta_low`, `ci_delta_high`: its interval from the exact permutation
  test, at confidence `ci_delta_level` (Holm's level for a claimed
  comparison, else 95%);
- `p_value`: the exact permutation test of Δ = 0; `p_welch`: Welch's
  t-test; `p_claim`: a claimed comparison's decision p, and `p_adjusted`:
  Holm-adjusted across the claimed comparisons;
- `mde`: the minimum detectable effect of the exact test for the runs
  made, at 80% power and level 0.05/k (k claimed comparisons: Holm's
  strictest step) for the claimed region, at 0.05 against Δ = 0 for an
  unclaimed one; `seeds_needed`: runs a side that would decide the
  observed difference so;
- `delta_flops_pct`, `delta_params_pct`: the cost change against the
  reference, in percent;
- `verdict`: "supports", "contradicts" or "inconclusive (...)" for a
  claimed comparison (`ablation_table.claims`), None otherwise; a claim on
  a cost is judged exactly on the counted Δ ("supports (exact)"), and the
  main metric's comparison of its variant is described, not tested.
"""

from __future__ import annotations

import dataclasses

from convnas.experiments import evaluation, statistics
from convnas.experiments.ablation_spec import BASELINE, METRICS
from convnas.experiments.ablation_table import claims
from convnas.experiments.ablation_table.metrics import bounded, non_negative

COST_COLUMNS = ("params", "macs", "flops", "receptive_field")
CHECKERBOARD_TRAINED = ("checkerboard", "checkerboard_local", "checkerboard_flat")  # meaningless for a dead network


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
        row = {"variant": name, "seeds": len(runs[name]), "versus": versus, "expected": claim.get("direction"),
               "margin": claim.get("margin"), "claim_metric": claim.get("metric", main) if claim else None}
        for metric in study_metrics(study):
            kept = metric_values(runs[name], metric)
            summary = statistics.summarize(kept, bounded(metric)) if kept else None
            if summary is not None and summary.ci_low is not None and non_negative(metric) and summary.ci_low < 0:
                summary = dataclasses.replace(summary, ci_low=0.0)
            values = (None,) * 4 if summary is None else (summary.mean, summary.std, summary.ci_low, summary.ci_high)
            row.update(zip((f"{metric}_{part}" for part in ("mean", "std", "ci95_low", "ci95_high")), values))
        if study["task"] == "upsampling":
            row["dead_runs"] = sum(bool(r.get("dead")) for r in runs[name])
        else:
            seeds = [r["seed"] for r in runs[name] if evaluation.collapsed(r)]
            row.update(collapsed_runs=len(seeds), collapsed_seeds=" ".join(map(str, seeds)) or None)
        for column in COST_COLUMNS:
            if runs[name][0].get(column) is not None:
                row[column] = runs[name][0][column]
        rows[name] = row
    compared = {name: _compare(row, rows.get(row["versus"]), runs, main) for name, row in rows.items()}
    tested = {name: claim for name, claim in expect.items() if "metric" not in claim}
    judged = claims.judge({name: {**needs, "claim": tested.get(name)} for name, (_, needs) in compared.items()
                           if rows[name]["versus"] is not None}, main)
    comparison_columns = (f"delta_{main}", "ci_delta_low", "ci_delta_high", "ci_delta_level", "p_value", "p_welch",
                          "p_claim", "p_adjusted", "mde", "seeds_needed", "delta_flops_pct", "delta_params_pct",
                          "verdict")
    for name, row in rows.items():
        columns = {**compared[name][0], **judged.get(name, {})}
        row.update({key: columns.get(key) for key in comparison_columns})
        cost = expect.get(name, {}).get("metric")
        if cost and rows.get(row["versus"]):
            row["verdict"] = claims.exact_verdict(row[cost] - rows[row["versus"]][cost],
                                                  claims.region(expect[name], cost))
    return list(rows.values())


def _compare(row: dict, reference: dict | None, runs: dict, main: str) -> tuple[dict, dict]:
    """The comparison columns of `row` against its reference row (None for the baseline or a missing reference),
    and what the claims need: the exact test, the pooled SD and the runs on each side."""
    columns = {f"delta_{main}": None, "p_value": None, "p_welch": None, "delta_flops_pct": None,
               "delta_params_pct": None}
    needs = {"test": None, "std": None, "sizes": None}
    if reference is None:
        return columns, needs
    columns.update(delta_flops_pct=100 * (row["flops"] / reference["flops"] - 1),
                   delta_params_pct=100 * (row["params"] / reference["params"] - 1))
    values, reference_values = (metric_values(runs[name], main) for name in (row["variant"], reference["variant"]))
    if not values or not reference_values:  # every run dead: no trained checkerboard amplitude to compare
        return columns, needs
    columns[f"delta_{main}"] = row[f"{main}_mean"] - reference[f"{main}_mean"]
    test = statistics.exact_test(values, reference_values)
    if test is None:
        return columns, needs
    columns.update(p_value=test.p_value(), p_welch=statistics.welch_t_test(values, reference_values).p_value)
    return columns, {"test": test, "std": statistics.pooled_std(values, reference_values),
                     "sizes": (len(values), len(reference_values))}


def metric_values(runs: list[dict], metric: str) -> list[float]:
    """A metric's values over runs: those that recorded it, less the dead runs' trained checkerboard amplitudes."""
    return [r[metric] for r in runs if metric in r and not (metric in CHECKERBOARD_TRAINED and r.get("dead"))]


def study_metrics(study: dict) -> list[str]:
    """The study's metrics, the main one first."""
    return [study["metric"], *(m for m in METRICS[study["task"]] if m != study["metric"])]
