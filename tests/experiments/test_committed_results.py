"""The committed study results recompute from their raw runs: tables, verdicts, index and image links."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from convnas.experiments import ablation_table
from convnas.experiments.ablation_spec import builtin_names, load_study
from convnas.experiments.statistics import smallest_p_value
from convnas.experiments.study_logs import read_runs, read_study

RESULTS = Path(__file__).parents[2] / "experiments" / "results"
STUDIES = [name for name in builtin_names() if (RESULTS / name / "runs.jsonl").exists()]


def test_every_built_in_study_has_committed_results():
    assert STUDIES == builtin_names()


@pytest.mark.parametrize("name", STUDIES)
def test_committed_tables_recompute_from_the_raw_runs(name):
    folder = RESULTS / name
    study, runs = read_study(folder), read_runs(folder)
    spec = json.loads(json.dumps({k: v for k, v in load_study(name).as_dict().items() if k != "seeds"}))
    assert {k: v for k, v in study.items() if k not in ("seeds", "command", "environment")} == spec  # the committed spec ran
    assert sorted((r["variant"], r["seed"]) for r in runs) == sorted(
        (v, s) for v in ["baseline", *study["variants"]] for s in study["seeds"])
    rows = ablation_table.build_table(study, runs)
    assert (folder / "table.md").read_text() == ablation_table.to_markdown(study, rows)
    assert (folder / "table.csv").read_text() == ablation_table.to_csv(rows)
    assert (folder / "table.tex").read_text() == ablation_table.to_latex(study, rows)
    for row in rows:
        for key, value in row.items():
            if key.endswith(("accuracy_ci95_low", "accuracy_ci95_high")) and value is not None:
                assert 0 <= value <= 1, (row["variant"], key, value)
        if row["p_value"] is not None:
            floor = smallest_p_value(row["seeds"], row["seeds"])
            assert row["p_value"] >= floor - 1e-12 and row["p_adjusted"] >= floor - 1e-12
        if row["variant"] in study["expect"]:
            assert row["verdict"] and row["verdict"].split()[0] in ("supports", "contradicts", "inconclusive")


@pytest.mark.parametrize("name", STUDIES)
def test_every_image_a_report_links_exists(name):
    report = (RESULTS / name / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert "chart.png" in links
    assert all((RESULTS / name / link).is_file() for link in links), links


def test_the_index_is_the_generated_verdicts():
    index = (RESULTS / "README.md").read_text()
    assert index.startswith((RESULTS / "README.header.md").read_text())
    for name in STUDIES:
        summary = subprocess.run([sys.executable, "-m", "convnas", "table", str(RESULTS / name), "--format", "summary"],
                                 capture_output=True, text=True, check=True).stdout
        assert summary in index
    for link in re.findall(r"\]\(([^)]+)\)", index):
        if not link.startswith("http"):
            assert (RESULTS / link).is_file(), link
