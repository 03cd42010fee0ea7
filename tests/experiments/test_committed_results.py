"""The committed study results recompute from their raw runs: tables, verdicts, index and image links.

The CSV's numbers are compared within a relative 1e-8 (they are written to 10
significant digits): the last bits of a float sum differ between processors,
a changed run does not.
"""

import csv
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from convnas.experiments import ablation_table
from convnas.experiments.ablation_spec import DESCRIPTIVE_METRICS, builtin_names, load_study
from convnas.experiments.confirmation import split_name
from convnas.experiments.statistics import smallest_p_value
from convnas.experiments.study import RUN_FACTS
from convnas.experiments.study_logs import read_runs, read_study
from convnas.search.common.spec_files import SpecError
from convnas.search.space.training import PROTOCOL_FIELDS

RESULTS = Path(__file__).parents[2] / "experiments" / "results"
CLAIMS = ("claim", "expect")
STUDIES = [name for name in builtin_names() if (RESULTS / name / "runs.jsonl").exists()]
# the studies' folders, then their confirmations' (NAME-confirmation-K: `convnas ablate NAME --confirmation K`)
FOLDERS = [*STUDIES, *sorted(folder.parent.name for folder in RESULTS.glob("*/runs.jsonl")
                             if split_name(folder.parent.name)[1])]


def csv_differences(committed: str, recomputed: str) -> list[str]:
    """The cells where two CSV tables differ: text exactly, numbers beyond a relative 1e-8 (absolute 1e-12 near 0)."""
    old, new = list(csv.reader(committed.splitlines())), list(csv.reader(recomputed.splitlines()))
    if old[0] != new[0] or len(old) != len(new):
        return [f"header or row count: {old[0]} ({len(old) - 1} rows) vs {new[0]} ({len(new) - 1} rows)"]
    differences = []
    for old_row, new_row in zip(old[1:], new[1:]):
        for column, a, b in zip(old[0], old_row, new_row):
            try:
                same = math.isclose(float(a), float(b), rel_tol=1e-8, abs_tol=1e-12)
            except ValueError:  # text, or an empty cell
                same = a == b
            if not same:
                differences.append(f"{old_row[0]} {column}: {a} vs {b}")
    return differences


def test_every_built_in_study_has_committed_results():
    assert STUDIES == builtin_names()


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", FOLDERS)
def test_committed_tables_recompute_from_the_raw_runs(name):
    folder = RESULTS / name
    study, runs = read_study(folder), read_runs(folder)
    protocol = {k: study[k] for k in PROTOCOL_FIELDS}  # what it ran (a study.json from before them: the legacy one)
    study_name, which = split_name(name)
    resolved = load_study(study_name, overrides=protocol, confirmation=which).as_dict()
    plan = resolved["seeds"] if isinstance(resolved["seeds"], dict) else None
    spec = json.loads(json.dumps({k: v for k, v in resolved.items() if k != "seeds"}
                                 | ({"seed_plan": plan} if plan else {})))
    ran = {k: v for k, v in study.items() if k not in RUN_FACTS}
    # the committed spec ran, under the protocol its study.json records; its claims are those study.json records
    # (the YAML's may be newer: margins are set before the runs that test them, and the table judges the runs'
    # own claims)
    assert {k: v for k, v in ran.items() if k not in CLAIMS} == {k: v for k, v in spec.items() if k not in CLAIMS}
    planned = study.get("planned_seeds")  # a seed plan: the claimed comparisons' variants ran on past the pilot
    seeds = {v: study["seeds"] if not planned else range(planned["planned"] if v in planned["variants"]
                                                         else planned["pilot"])
             for v in ["baseline", *study["variants"]]}
    assert sorted((r["variant"], r["seed"]) for r in runs) == sorted((v, s) for v, own in seeds.items() for s in own)
    rows = ablation_table.build_table(study, runs)
    assert (folder / "table.md").read_text() == ablation_table.to_markdown(study, rows)
    committed = (folder / "table.csv").read_text()
    assert csv_differences(committed, ablation_table.to_csv(rows)) == []
    numbers = [cell for line in list(csv.reader(committed.splitlines()))[1:] for cell in line if _is_number(cell)]
    # written to 10 significant digits
    assert numbers and all(cell.isdigit() or cell == repr(float(f"{float(cell):.10g}")) for cell in numbers)
    assert (folder / "table.tex").read_text() == ablation_table.to_latex(study, rows)
    for row in rows:
        for key, value in row.items():
            if key.endswith(("accuracy_ci95_low", "accuracy_ci95_high")) and value is not None:
                assert 0 <= value <= 1, (row["variant"], key, value)
        reference = next((other for other in rows if other["variant"] == row["versus"]), row)
        floor = smallest_p_value(row["seeds"], reference["seeds"])
        if row["p_value"] is not None:
            assert row["p_value"] >= floor - 1e-12
            assert row["ci_delta_low"] <= row[f"delta_{study['metric']}"] <= row["ci_delta_high"]
        if row["variant"] in study["expect"] and "metric" in study["expect"][row["variant"]]:  # a cost: exact
            assert row["verdict"].endswith("(exact)") and row["p_adjusted"] is None
        elif row["variant"] in study["expect"]:
            assert row["verdict"] and row["verdict"].split()[0] in ("supports", "contradicts", "inconclusive")
            assert row["p_adjusted"] >= floor - 1e-12
            assert (row["verdict"] in ("supports", "contradicts")) == (row["p_adjusted"] <= 0.05)
        else:
            assert row["verdict"] is None and row["p_adjusted"] is None  # described, not tested
    assert max(map(len, ablation_table.to_text(study, rows).splitlines())) <= 100


def test_the_csv_comparison_ignores_the_last_bits_and_sees_a_changed_run():
    folder = RESULTS / "conv_type"
    study, runs = read_study(folder), read_runs(folder)
    committed = (folder / "table.csv").read_text()
    metric, changed = study["metric"], next(run for run in runs if run["variant"] != "baseline")
    changed[metric] = math.nextafter(changed[metric], 2.0)  # one bit
    assert csv_differences(committed, ablation_table.to_csv(ablation_table.build_table(study, runs))) == []
    changed[metric] += 1e-6  # a real change, far below the table's displayed digits
    differences = csv_differences(committed, ablation_table.to_csv(ablation_table.build_table(study, runs)))
    assert any(line.startswith(f"{changed['variant']} {metric}_mean: ") for line in differences), differences
    verdict = next(word for word in ("supports", "contradicts") if word in committed)
    assert csv_differences(committed, committed.replace(verdict, "inconclusive", 1)) != []


@pytest.mark.parametrize("name", FOLDERS)
def test_every_image_a_report_links_exists(name):
    report = (RESULTS / name / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert "chart.png" in links
    assert all((RESULTS / name / link).is_file() for link in links), links


def test_the_index_is_the_generated_verdicts():
    index = (RESULTS / "README.md").read_text()
    assert index.startswith((RESULTS / "README.header.md").read_text())
    for name in FOLDERS:
        summary = subprocess.run([sys.executable, "-m", "convnas", "table", str(RESULTS / name), "--format", "summary"],
                                 capture_output=True, text=True, check=True).stdout
        assert summary in index
    for link in re.findall(r"\]\(([^)]+)\)", index):
        if not link.startswith("http"):
            assert (RESULTS / link).is_file(), link


@pytest.mark.parametrize("name", FOLDERS)
def test_no_tested_comparison_reads_a_metric_fixed_before_training(name):
    """A tested claim is decided by training, not before it.

    Its metric is not a description (DESCRIPTIVE_METRICS: a resize-then-conv
    network's flat-input checkerboard amplitude is exactly 0 for every seed,
    which decided the earlier upsampling study's "supports" at the exact
    test's floor before any training), and it varies over the runs of each
    tested comparison. (One side alone may repeat a value: a trained
    amplitude below the measure's noise reads 0 in every run, which is
    measured, not built in.)
    """
    study, runs = read_study(RESULTS / name), read_runs(RESULTS / name)
    metric = study["metric"]
    for variant, claim in study["expect"].items():
        if "metric" in claim:  # a cost: exact, not a tested comparison
            continue
        assert metric not in DESCRIPTIVE_METRICS, f"{name}: a claim tests the description {metric}"
        sides = (variant, claim.get("versus", "baseline"))
        values = {run[metric] for run in runs if run["variant"] in sides and metric in run}
        assert len(values) > 1, f"{name}: {metric} of {' and '.join(sides)} is the same in every run: {values}"


def test_a_claim_on_a_description_is_refused_and_the_description_is_fixed_by_the_architecture():
    from convnas.experiments import artifacts, upsampling

    with pytest.raises(SpecError, match=r"^`metric` checkerboard_flat is a description, never tested: "):
        load_study("upsampling", overrides={"metric": "checkerboard_flat"})
    spec = load_study("upsampling")  # why: a nearest + conv network's flat-input amplitude is 0 whatever its weights
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        model = upsampling.build_model(spec.design("nearest_conv"), (24, 24, 3))
        flat = model.predict_on_batch(upsampling.flat_input((24, 24, 3)))
        assert artifacts.flat_checkerboard(flat) == 0.0
