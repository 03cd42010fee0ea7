"""The ablation table from hand-made run records: exact p, Holm, MDE, verdicts, intervals, dead runs, outputs."""

import json
import re

import pytest

from convnas.experiments import ablation_table
from convnas.experiments.study import write_outputs
from convnas.search import durable_io

STUDY = {
    "name": "pooling", "task": "classification", "dataset": "cluttered_digits", "metric": "test_accuracy",
    "epochs": 3, "batch_size": 32, "learning_rate": 0.001, "seeds": [0, 1, 2, 3, 4],
    "variants": {"better": {}, "worse": {}, "same": {}, "noisy": {}, "unclaimed": {}},
    "expect": {"better": {"direction": "higher", "versus": "baseline"},
               "worse": {"direction": "higher", "versus": "baseline"},
               "same": {"direction": "same", "versus": "baseline"},
               "noisy": {"direction": "lower", "versus": "better"}},
    "claim": "a claim", "limits": "one sentence.",
}
ACCURACY = {
    "baseline": [0.900, 0.902, 0.901, 0.899, 0.903],
    "better": [0.950, 0.951, 0.949, 0.952, 0.950],
    "worse": [0.850, 0.851, 0.849, 0.852, 0.850],
    "same": [0.850, 0.851, 0.849, 0.852, 0.850],
    "noisy": [0.99, 0.80, 0.95, 0.85, 1.0],
    "unclaimed": [0.9, 0.91, 0.9, 0.92, 0.9],
}


def _records(accuracy=ACCURACY, seeds=5):
    records = []
    for variant, values in accuracy.items():
        for seed, value in enumerate(values[:seeds]):
            records.append({"variant": variant, "seed": seed, "status": "COMPLETED", "params": 1000, "macs": 10_000,
                            "flops": 20_000 if variant != "better" else 30_000, "receptive_field": 7,
                            "test_accuracy": value, "test_loss": 0.3, "train_accuracy": min(1.0, value + 0.05),
                            "train_loss": 0.2, "val_accuracy": value, "val_loss": 0.3, "train_seconds": 1.0,
                            "curves": {"loss": [1.0, 0.5, 0.3], "accuracy": [0.5, 0.8, 0.9]}})
    return records


def test_verdicts_follow_the_adjusted_exact_test_and_the_claimed_direction():
    rows = {row["variant"]: row for row in ablation_table.build_table(STUDY, _records())}
    assert rows["baseline"]["p_value"] is None and rows["baseline"]["verdict"] is None
    # five comparisons, each at its smallest exact p 2/252 = 0.0079 or not
    assert rows["better"]["p_value"] == pytest.approx(2 / 252)
    assert rows["better"]["p_adjusted"] == pytest.approx(min(1, 5 * 2 / 252))  # Holm: the smallest p times 5
    assert rows["better"]["verdict"] == "supports"
    assert rows["worse"]["verdict"] == "contradicts"  # significantly lower, claimed higher
    assert rows["same"]["verdict"] == "contradicts"  # claimed the same, significantly different
    assert rows["noisy"]["versus"] == "better"
    assert rows["noisy"]["delta_test_accuracy"] == pytest.approx(0.918 - 0.9504)
    assert rows["noisy"]["verdict"].startswith("inconclusive (MDE ") and rows["noisy"]["verdict"].endswith(" pts)")
    assert rows["noisy"]["delta_flops_pct"] == pytest.approx(100 * (20_000 / 30_000 - 1))  # against its reference
    assert rows["unclaimed"]["verdict"] is None and rows["unclaimed"]["p_value"] is not None
    assert all(0 <= row[f"{m}_ci95_low"] <= row[f"{m}_ci95_high"] <= 1
               for row in rows.values() for m in ("test_accuracy", "train_accuracy", "val_accuracy"))
    mde = rows["noisy"]["mde"]
    assert float(re.search(r"MDE ([\d.]+) pts", rows["noisy"]["verdict"]).group(1)) == pytest.approx(100 * mde, abs=0.01)


def test_three_seeds_never_give_a_p_below_the_exact_tests_floor():
    rows = ablation_table.build_table(STUDY, _records(seeds=3))
    tested = [row for row in rows if row["p_value"] is not None]
    assert tested and all(row["p_value"] >= 0.1 - 1e-12 and row["p_adjusted"] >= 0.1 - 1e-12 for row in tested)
    assert all(row["verdict"] in (None, "inconclusive (too few seeds for the exact test)") for row in rows)
    assert all(row["p_welch"] is not None for row in tested)


def test_a_dead_upsampler_is_reported_dead_never_clean():
    study = {**STUDY, "task": "upsampling", "metric": "psnr", "variants": {"dead_one": {}}, "expect": {}}
    records = []
    for variant, dead in (("baseline", [0, 0, 0]), ("dead_one", [1, 1, 1])):
        for seed in range(3):
            records.append({"variant": variant, "seed": seed, "status": "COMPLETED", "params": 10, "macs": 10, "flops": 20,
                            "psnr": 30.0 + seed / 10, "psnr_gain": 0.1 if variant == "baseline" else -0.2, "val_loss": 0.01, "checkerboard": 0.0,
                            "checkerboard_flat": 0.0, "checkerboard_flat_init": 0.02, "train_seconds": 1.0,
                            "dead": float(dead[seed])})
    records[0]["checkerboard_flat_init"] = 0.0  # a spread whose Student interval would cross 0
    rows = ablation_table.build_table(study, records)
    assert rows[0]["checkerboard_flat_init_ci95_low"] == 0.0 < rows[0]["checkerboard_flat_init_ci95_high"]
    dead = rows[1]
    assert dead["dead_runs"] == 3 and dead["checkerboard_flat_mean"] is None
    header, cells = ablation_table.display_rows(study, rows)
    flat = cells[1][header.index("checkerboard_flat")]
    assert flat == "dead"
    assert cells[0][header.index("checkerboard_flat")] == "0.0000"  # alive and clean
    assert ablation_table.nearest_statement({**study, "epochs": 3}, rows) == (
        "**Not better than nearest-neighbour upsampling alone on PSNR** after 3 epochs (mean gain <= 0 dB): dead_one.")
    assert ablation_table.nearest_statement({**study, "epochs": 3}, rows[:1]).startswith("Every learned upsampler beats")


def test_outputs_report_links_and_latex(tmp_path):
    durable_io.write_json(tmp_path / "study.json", STUDY)
    for record in _records():
        durable_io.append_json_line(tmp_path / "runs.jsonl", {**record, "run": f"{record['variant']}/seed{record['seed']}"})
    lines = []
    write_outputs(tmp_path, lines.append)
    report = (tmp_path / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert set(links) == {"chart.png", "curves.png"}
    assert all((tmp_path / link).exists() for link in links)
    assert "**Limits.** one sentence." in report
    latex = (tmp_path / "table.tex").read_text()
    assert "\\toprule" in latex and "\\caption{" in latex and "\\label{tab:ablation-pooling}" in latex
    text = lines[0]
    assert "supports" in text and "p (Holm)" in text and "[95% CI]" in text
    summary = ablation_table.to_summary(STUDY, ablation_table.build_table(STUDY, _records()), "pooling/report.md")
    assert "`better` vs `baseline`, expected higher: Δ test_accuracy +4.94 pts" in summary
    assert json.loads((tmp_path / "study.json").read_text())["name"] == "pooling"
