"""The ablation table from hand-made run records: exact p, Holm, MDE, verdicts, intervals, dead runs, outputs."""

import json
import re

import pytest

from convnas import cli
from convnas.experiments import ablation_table
from convnas.experiments.ablation_table.render import display_rows
from convnas.experiments.ablation_table.report import nearest_statement
from convnas.experiments.study import write_outputs
from convnas.search.common import durable_io

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
    shown = float(re.search(r"MDE ([\d.]+) pts", rows["noisy"]["verdict"]).group(1))
    assert shown == pytest.approx(100 * mde, abs=0.01)


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
            records.append({"variant": variant, "seed": seed, "status": "COMPLETED", "params": 10, "macs": 10,
                            "flops": 20, "psnr": 30.0 + seed / 10, "psnr_gain": 0.1 if variant == "baseline" else -0.2,
                            "val_loss": 0.01, "checkerboard": 0.0,
                            "checkerboard_flat": 0.0, "checkerboard_flat_init": 0.02, "train_seconds": 1.0,
                            "dead": float(dead[seed])})
    records[0]["checkerboard_flat_init"] = 0.0  # a spread whose Student interval would cross 0
    rows = ablation_table.build_table(study, records)
    assert rows[0]["checkerboard_flat_init_ci95_low"] == 0.0 < rows[0]["checkerboard_flat_init_ci95_high"]
    dead = rows[1]
    assert dead["dead_runs"] == 3 and dead["checkerboard_flat_mean"] is None
    header, cells = display_rows(study, rows)
    assert [line[0] for line in cells] == ["baseline", "dead_one (3/3 dead)"]  # the variant says its dead runs
    flat_study = {**study, "metric": "checkerboard_flat"}
    header, cells = display_rows(flat_study, ablation_table.build_table(flat_study, records))
    column = header.index("checkerboard_flat [95% CI]")
    assert cells[1][column] == "dead"
    assert cells[0][column] == "0.0000 [0.0000, 0.0000]"  # alive and clean
    assert nearest_statement({**study, "epochs": 3}, rows) == (
        "**Not better than nearest-neighbour upsampling alone on PSNR** after 3 epochs (mean gain <= 0 dB): dead_one.")
    assert nearest_statement({**study, "epochs": 3}, rows[:1]).startswith("Every learned upsampler beats")


def test_outputs_report_links_and_latex(tmp_path):
    durable_io.write_json(tmp_path / "study.json", STUDY)
    for record in _records():
        run = f"{record['variant']}/seed{record['seed']}"
        durable_io.append_json_line(tmp_path / "runs.jsonl", {**record, "run": run})
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


def test_the_compact_table_has_one_column_per_question_and_one_precision_per_kind():
    rows = ablation_table.build_table(STUDY, _records())
    header, cells = display_rows(STUDY, rows)
    assert header == ["variant (5 seeds)", "test_accuracy (%) [95% CI]", "vs", "Δ (pts)", "p (Holm)", "verdict",
                      "Δ FLOPs / params"]
    table = {line[0]: dict(zip(header, line)) for line in cells}
    assert table["baseline"]["test_accuracy (%) [95% CI]"].startswith("90.10 [")
    assert table["noisy"]["Δ (pts)"] == f"{100 * (0.918 - 0.9504):+.2f}" == "-3.24"  # percentage points
    assert table["better"]["Δ FLOPs / params"] == "+50.0% / +0.0%"
    assert table["noisy"]["Δ FLOPs / params"] == "-33.3% / +0.0%"  # against its reference, `better`
    for line in cells[1:]:
        assert re.fullmatch(r"[+-]\d+\.\d\d", line[3]) and re.fullmatch(r"\d\.\d|0\.0*[1-9]\d", line[4]), line
        assert re.fullmatch(r"(\d+\.\d\d) \[(\d+\.\d\d), (\d+\.\d\d)\]", line[1]), line
    assert table["baseline"]["p (Holm)"] == table["baseline"]["verdict"] == ""
    csv_header = ablation_table.to_csv(rows).splitlines()[0].split(",")
    for column in ("seeds", "versus", "expected", "train_accuracy_mean", "test_loss_ci95_high", "p_value", "p_welch",
                   "mde", "seeds_needed", "delta_test_accuracy", "delta_flops_pct", "params", "macs",
                   "receptive_field"):
        assert column in csv_header  # every column stays in the CSV


def test_unequal_seeds_get_their_own_column():
    records = [r for r in _records() if not (r["variant"] == "unclaimed" and r["seed"] == 4)]
    header, cells = display_rows(STUDY, ablation_table.build_table(STUDY, records))
    assert header[:2] == ["variant", "seeds"]
    assert cells[-1][:2] == ["unclaimed", "4"] and cells[0][:2] == ["baseline", "5"]


def test_a_report_links_only_the_files_beside_it(tmp_path, capsys):
    durable_io.write_json(tmp_path / "study.json", STUDY)
    for record in _records():
        run = f"{record['variant']}/seed{record['seed']}"
        durable_io.append_json_line(tmp_path / "runs.jsonl", {**record, "run": run})
    assert cli.main(["table", str(tmp_path), "--format", "report"]) == 0
    bare = capsys.readouterr().out
    assert re.findall(r"\]\(([^)]+)\)", bare) == [] and "`convnas table LOGDIR --format csv`" in bare
    write_outputs(tmp_path, lambda line: None)
    (tmp_path / "curves.png").unlink()
    assert cli.main(["table", str(tmp_path), "--format", "report"]) == 0
    links = re.findall(r"\]\(([^)]+)\)", capsys.readouterr().out)
    assert links == ["table.csv", "chart.png"] and all((tmp_path / link).is_file() for link in links)
