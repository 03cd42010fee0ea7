"""The ablation table from hand-made run records: claims, intervals, Holm, MDE, verdicts, dead and collapsed runs."""

import json
import math
import re

import matplotlib.axes
import numpy as np
import pytest

from convnas import cli
from convnas.experiments import ablation_table, statistics
from convnas.experiments.ablation_table import charts, claims
from convnas.experiments.ablation_table.render import display_rows
from convnas.experiments.ablation_table.report import nearest_statement
from convnas.experiments.study_outputs import write_outputs
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


def _write_logs(folder, study, records):
    durable_io.write_json(folder / "study.json", study)
    for record in records:
        run = f"{record['variant']}/seed{record['seed']}"
        durable_io.append_json_line(folder / "runs.jsonl", {**record, "run": run})


def test_verdicts_come_from_the_exact_interval_at_holms_level_over_the_claimed_comparisons():
    rows = {row["variant"]: row for row in ablation_table.build_table(STUDY, _records())}
    assert rows["baseline"]["p_value"] is None and rows["baseline"]["verdict"] is None
    # four claimed comparisons (the unclaimed one is not counted); three decide at the exact test's floor 2/252
    assert rows["better"]["p_value"] == rows["better"]["p_claim"] == pytest.approx(2 / 252)
    assert rows["better"]["p_adjusted"] == pytest.approx(4 * 2 / 252)  # Holm: the smallest p times 4
    levels = {name: 1 - rows[name]["ci_delta_level"] for name in ("better", "worse", "same", "noisy")}
    assert levels == pytest.approx({"better": 0.05 / 4, "worse": 0.05 / 3, "same": 0.05 / 2, "noisy": 0.05})
    # 5 v 5 at 0.0125: the interval is [min(a) - max(b), max(a) - min(b)], inside Δ > 0
    assert rows["better"]["ci_delta_low"] == pytest.approx(0.949 - 0.903, abs=1e-9)
    assert rows["better"]["ci_delta_high"] == pytest.approx(0.952 - 0.899, abs=1e-9)
    assert rows["better"]["verdict"] == "supports"
    assert rows["worse"]["verdict"] == "contradicts"  # its interval lies below 0, claimed higher
    assert rows["same"]["verdict"] == "contradicts"  # claimed the same without a margin: its interval excludes 0
    assert rows["noisy"]["versus"] == "better"
    assert rows["noisy"]["delta_test_accuracy"] == pytest.approx(0.918 - 0.9504)
    undecided = r"inconclusive \(MDE [\d.]+ pts; \d+ seeds a side for the observed Δ\)"
    assert re.fullmatch(undecided, rows["noisy"]["verdict"])
    assert rows["noisy"]["delta_flops_pct"] == pytest.approx(100 * (20_000 / 30_000 - 1))  # against its reference
    unclaimed = rows["unclaimed"]
    assert unclaimed["verdict"] is None and unclaimed["p_value"] is not None  # described, not tested
    assert unclaimed["p_adjusted"] is None and unclaimed["p_claim"] is None and unclaimed["ci_delta_level"] == 0.95
    for row in list(rows.values())[1:]:
        assert row["ci_delta_low"] <= row["delta_test_accuracy"] <= row["ci_delta_high"]
    assert all(0 <= row[f"{m}_ci95_low"] <= row[f"{m}_ci95_high"] <= 1
               for row in rows.values() for m in ("test_accuracy", "train_accuracy", "val_accuracy"))
    mde = rows["noisy"]["mde"]
    shown = float(re.search(r"MDE ([\d.]+) pts", rows["noisy"]["verdict"]).group(1))
    assert shown == pytest.approx(100 * mde, abs=0.01)
    assert mde > rows["unclaimed"]["mde"]  # a claimed comparison is planned at Holm's strictest level, 0.05/4


SIZED = {**STUDY, "variants": {"level": {}, "bit_worse": {}, "much_worse": {}, "bit_better": {}},
         "expect": {"level": {"direction": "same", "margin": 0.02, "versus": "baseline"},
                    "bit_worse": {"direction": "no_worse", "margin": 0.02, "versus": "baseline"},
                    "much_worse": {"direction": "no_worse", "margin": 0.02, "versus": "baseline"},
                    "bit_better": {"direction": "higher", "margin": 0.02, "versus": "baseline"}}}
SIZED_ACCURACY = {
    "baseline": [0.900, 0.902, 0.901, 0.899, 0.903],
    "level": [0.901, 0.899, 0.902, 0.900, 0.903],
    "bit_worse": [0.890, 0.891, 0.889, 0.892, 0.890],
    "much_worse": [0.850, 0.851, 0.849, 0.852, 0.850],
    "bit_better": [0.915, 0.917, 0.914, 0.916, 0.913],
}


def test_claims_with_sizes_can_be_supported_and_contradicted():
    rows = {row["variant"]: row for row in ablation_table.build_table(SIZED, _records(SIZED_ACCURACY))}
    assert rows["level"]["verdict"] == "supports"  # equivalence: the interval lies within ±2 points
    assert rows["bit_worse"]["verdict"] == "supports"  # 1.1 points worse, no worse than -2 points
    assert rows["much_worse"]["verdict"] == "contradicts"  # 5 points worse
    assert rows["bit_better"]["verdict"] == "contradicts"  # 1.5 points better, claimed better by more than 2
    assert rows["level"]["margin"] == 0.02 and rows["level"]["expected"] == "same"
    assert -0.02 < rows["level"]["ci_delta_low"] and rows["level"]["ci_delta_high"] < 0.02
    lines = ablation_table.to_summary(SIZED, list(rows.values()), "sized/report.md")
    assert ("`level` vs `baseline`, expected the same within ±2.00 pts: Δ test_accuracy +0.00 pts, 98.8% interval"
            in lines)
    assert "expected no worse than -2.00 pts" in lines and "expected higher by more than 2.00 pts" in lines
    # no worse follows the metric: a loss is no worse when it rises less than the margin
    loss = {**SIZED, "metric": "test_loss", "variants": {"bit_worse": {}},
            "expect": {"bit_worse": {"direction": "no_worse", "margin": 0.05, "versus": "baseline"}}}
    records = [{**record, "test_loss": 0.3 + 0.02 * (record["variant"] == "bit_worse") + record["seed"] / 1000}
               for record in _records(SIZED_ACCURACY)]
    row = ablation_table.build_table(loss, records)[1]
    assert row["delta_test_loss"] == pytest.approx(0.02) and row["verdict"] == "supports"
    assert claims.claim_text(loss["expect"]["bit_worse"], "test_loss") == "no worse than +0.050"
    assert claims.region(loss["expect"]["bit_worse"], "test_loss") == (-math.inf, 0.05)
    assert claims.region({"direction": "same"}, "test_accuracy") == (0.0, 0.0)
    assert claims.region({"direction": "lower", "margin": 0.01}, "test_accuracy") == (-math.inf, -0.01)


def test_a_claim_on_a_cost_is_judged_exactly_and_leaves_the_tested_family():
    with_cost = {**STUDY, "expect": {**STUDY["expect"],
                                     "unclaimed": {"direction": "higher", "versus": "baseline", "metric": "flops"}}}
    plain = {row["variant"]: row for row in ablation_table.build_table(STUDY, _records())}
    rows = {row["variant"]: row for row in ablation_table.build_table(with_cost, _records())}
    # "unclaimed" has the baseline's 20,000 FLOPs: not higher, on the counted values, whatever the seeds say
    assert rows["unclaimed"]["verdict"] == "contradicts (exact)" and rows["unclaimed"]["claim_metric"] == "flops"
    assert rows["unclaimed"]["p_adjusted"] is None and rows["unclaimed"]["ci_delta_level"] == pytest.approx(0.95)
    for name in ("better", "worse", "same", "noisy"):  # Holm still counts four tested comparisons
        assert rows[name]["p_adjusted"] == plain[name]["p_adjusted"] and rows[name]["verdict"] == plain[name]["verdict"]
    more = {**with_cost, "expect": {"better": {"direction": "higher", "versus": "baseline", "metric": "flops"}}}
    row = ablation_table.build_table(more, _records())[1]
    assert row["verdict"] == "supports (exact)" and row["p_adjusted"] is None
    assert ablation_table.build_table(  # 10,000 more FLOPs is not more than 10,000 more
        {**more, "expect": {"better": {"direction": "higher", "margin": 10_000, "versus": "baseline",
                                       "metric": "flops"}}}, _records())[1]["verdict"] == "contradicts (exact)"
    assert claims.exact_verdict(0.0, claims.region({"direction": "same"}, "flops")) == "supports (exact)"
    header, cells = display_rows(more, ablation_table.build_table(more, _records()))
    assert cells[1][header.index("Holm p")] == "exact" and cells[1][header.index("verdict")] == "supports"
    summary = ablation_table.to_summary(more, ablation_table.build_table(more, _records()), "x/report.md")
    assert "- `better` vs `baseline`, expected flops higher: 30,000 against 20,000 (+50%, counted): " \
           "**supports (exact)**." in summary


@pytest.mark.parametrize("seed", range(4))
def test_a_verdict_is_decided_exactly_when_its_holm_adjusted_p_is_at_most_005(seed):
    rng = np.random.default_rng(seed)
    directions = ({"direction": "higher"}, {"direction": "lower", "margin": 0.01},
                  {"direction": "same", "margin": 0.02}, {"direction": "no_worse", "margin": 0.01})
    variants = {f"v{i}": {} for i in range(4)}
    expect = {name: {**directions[rng.integers(4)], "versus": "baseline"} for name in variants}
    study = {**STUDY, "variants": variants, "expect": expect}
    accuracy = {name: list(0.9 + rng.normal(rng.choice([-0.03, 0.0, 0.03]), 0.01, 5))
                for name in ["baseline", *variants]}
    for row in ablation_table.build_table(study, _records(accuracy))[1:]:
        decided = row["verdict"] in ("supports", "contradicts")
        assert decided == (row["p_adjusted"] <= 0.05), row
        assert row["ci_delta_low"] <= row["delta_test_accuracy"] <= row["ci_delta_high"]


def test_holms_intervals_keep_the_family_wise_error_of_wrong_verdicts_at_005():
    # Three claims against one shared baseline, 5 runs a side, every true Δ on its claim's boundary: any verdict
    # is wrong there. 2000 families: the share with a wrong verdict has a standard error of 0.005 at 0.05.
    # Without the step-down (each interval at 95%) about 0.11 of them would have one.
    rng = np.random.default_rng(2024)
    regions = [(0.0, math.inf), (-1.0, math.inf), (-1.0, 1.0)]
    truths = [0.0, -1.0, 1.0]
    wrong = 0
    for _ in range(2000):
        baseline = list(rng.standard_normal(5))
        tests = [statistics.exact_test(list(truth + rng.standard_normal(5)), baseline) for truth in truths]
        wrong += any(decision.decided for decision in claims.holm_decisions(tests, regions))
    assert wrong / 2000 <= 0.05 + 0.015


def test_three_seeds_never_give_a_p_below_the_exact_tests_floor():
    rows = ablation_table.build_table(STUDY, _records(seeds=3))
    tested = [row for row in rows if row["p_value"] is not None]
    assert tested and all(row["p_value"] >= 0.1 - 1e-12 for row in tested)
    assert all(row["p_adjusted"] >= 0.1 - 1e-12 for row in tested if row["verdict"])
    assert all(row["verdict"] in (None, "inconclusive (too few seeds for the exact test)") for row in rows)
    claimed = [row for row in tested if row["verdict"]]
    assert all(row["ci_delta_low"] == -math.inf and row["ci_delta_high"] == math.inf for row in claimed)
    assert all(row["p_welch"] is not None for row in tested)


def test_collapsed_runs_are_counted_per_variant_and_named_in_the_report(tmp_path):
    records = _records()
    for record in records:
        if (record["variant"], record["seed"]) in (("better", 1), ("better", 3), ("worse", 0)):
            record["train_accuracy"] = record["curves"]["accuracy"][-1] - 0.2  # inference mode far below training
    del records[-1]["curves"]  # a record that cannot tell counts as not collapsed
    rows = {row["variant"]: row for row in ablation_table.build_table(STUDY, records)}
    assert [rows[name]["collapsed_runs"] for name in STUDY["variants"]] == [2, 1, 0, 0, 0]
    assert rows["better"]["collapsed_seeds"] == "1 3" and rows["baseline"]["collapsed_seeds"] is None
    assert "collapsed_runs" in ablation_table.to_csv(list(rows.values())).splitlines()[0].split(",")
    _write_logs(tmp_path, STUDY, records)
    write_outputs(tmp_path, lambda line: None)
    report = (tmp_path / "report.md").read_text()
    assert "**Evaluation collapse.**" in report and "`better` seeds 1, 3; `worse` seed 0." in report
    clean = ablation_table.to_report(STUDY, ablation_table.build_table(STUDY, _records()), [])
    assert "**Evaluation collapse.** No run has" in clean


def test_a_study_whose_interval_misses_its_mean_still_writes_its_tables_and_chart(tmp_path):
    # two variants, two seeds, near chance: equal runs whose arcsine-scale interval misses the mean by rounding
    study = {**STUDY, "variants": {"wide": {}}, "expect": {"wide": {"direction": "higher", "versus": "baseline"}},
             "seeds": [0, 1]}
    records = _records({"baseline": [0.1005, 0.1005], "wide": [0.0995, 0.1010]}, seeds=2)
    summary = statistics.summarize([0.1005, 0.1005], bounded=True)
    assert not summary.ci_low <= summary.mean <= summary.ci_high  # what made matplotlib refuse the whiskers
    _write_logs(tmp_path, study, records)
    lines = []
    rows = write_outputs(tmp_path, lines.append)
    assert rows[1]["verdict"] == "inconclusive (too few seeds for the exact test)"
    assert all((tmp_path / name).is_file() for name in ("table.md", "table.tex", "table.csv", "report.md", "chart.png"))
    assert not any(line.startswith("warning") for line in lines)


def test_a_figure_that_fails_leaves_the_tables_and_a_one_line_warning(tmp_path, monkeypatch):
    def fail(*args):
        raise ValueError("'yerr' must not contain negative values\nsecond line")

    monkeypatch.setattr(ablation_table, "plot_chart", fail)
    _write_logs(tmp_path, STUDY, _records())
    lines = []
    write_outputs(tmp_path, lines.append)
    assert "warning: chart.png not drawn ('yerr' must not contain negative values); the tables are written" in lines
    assert all((tmp_path / name).is_file() for name in ("table.md", "table.tex", "table.csv", "report.md"))
    assert not (tmp_path / "chart.png").exists() and "chart.png" not in (tmp_path / "report.md").read_text()
    assert (tmp_path / "curves.png").is_file()  # the other figures are drawn


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
    column = header.index("mean")
    assert cells[1][column] == "dead"
    assert cells[0][column] == "0.0000"  # alive and clean
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
    assert "supports" in text and "Holm p" in text and "Δ (pts) [interval]" in text
    summary = ablation_table.to_summary(STUDY, ablation_table.build_table(STUDY, _records()), "pooling/report.md")
    assert "`better` vs `baseline`, expected higher: Δ test_accuracy +4.94 pts" in summary
    assert json.loads((tmp_path / "study.json").read_text())["name"] == "pooling"


def test_the_compact_table_has_one_column_per_question_and_one_precision_per_kind():
    rows = ablation_table.build_table(STUDY, _records())
    header, cells = display_rows(STUDY, rows)
    assert header == ["variant (5 seeds)", "mean (%)", "Δ (pts) [interval]", "Holm p", "verdict", "Δ FLOPs/params"]
    table = {line[0]: dict(zip(header, line)) for line in cells}
    assert table["baseline"]["mean (%)"] == "90.10"
    noisy = table["noisy vs better"]  # a reference other than the baseline is named beside the variant
    assert noisy["Δ (pts) [interval]"].startswith(f"{100 * (0.918 - 0.9504):+.2f} [")
    assert noisy["verdict"] == "inconclusive"
    assert table["better"]["Δ FLOPs/params"] == "+50% / +0%"
    assert noisy["Δ FLOPs/params"] == "-33% / +0%"  # against its reference, `better`
    assert table["unclaimed"]["verdict"] == "no claim" and table["unclaimed"]["Holm p"] == ""
    for line in cells[1:]:
        assert re.fullmatch(r"[+-]\d+\.\d\d \[-?\d+\.\d\d, -?\d+\.\d\d\]", line[2]), line
        assert re.fullmatch(r"(\d\.\d|0\.0*[1-9]\d)?", line[3]) and re.fullmatch(r"\d+\.\d\d", line[1]), line
    assert table["baseline"]["Holm p"] == table["baseline"]["verdict"] == ""
    csv_header = ablation_table.to_csv(rows).splitlines()[0].split(",")
    for column in ("seeds", "versus", "expected", "margin", "train_accuracy_mean", "test_loss_ci95_high", "p_value",
                   "p_welch", "p_claim", "p_adjusted", "mde", "seeds_needed", "delta_test_accuracy", "ci_delta_low",
                   "ci_delta_high", "ci_delta_level", "delta_flops_pct", "params", "macs", "receptive_field",
                   "collapsed_runs", "collapsed_seeds", "verdict"):
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


def test_the_chart_says_truncated_only_when_its_axis_leaves_zero_out_and_short_curves_get_markers(tmp_path,
                                                                                                   monkeypatch):
    assert charts.value_axis_label("test_accuracy", "%", (85.0, 96.0)).endswith("mean, 95% CI; axis truncated")
    assert charts.value_axis_label("test_accuracy", "%", (0.0, 100.0)) == "test_accuracy (%)\nmean, 95% CI"
    assert charts.value_axis_label("checkerboard", "", (-0.001, 0.01)) == "checkerboard\nmean, 95% CI"
    markers = []
    original = matplotlib.axes.Axes.plot
    def plot(self, *args, **kwargs):
        markers.append(kwargs.get("marker"))
        return original(self, *args, **kwargs)
    monkeypatch.setattr(matplotlib.axes.Axes, "plot", plot)
    one_epoch = [{**record, "curves": {"loss": [0.5], "accuracy": [0.8]}} for record in _records()]
    assert charts.plot_curves(STUDY, one_epoch, tmp_path / "curves.png")
    assert markers and set(markers) == {"o"}  # a one-epoch curve is a point: drawn with a marker
    markers.clear()
    assert charts.plot_curves(STUDY, _records(), tmp_path / "curves.png")  # three epochs: lines
    assert markers and set(markers) == {None}


def test_the_report_names_the_backend_that_trained_when_it_is_not_tensorflow():
    from convnas.experiments.ablation_table.report import software

    legacy = {"tensorflow": "2.21.0", "keras": "3.15.1"}  # study.json written before the backend was recorded
    assert software(legacy) == software({**legacy, "backend": "tensorflow"}) == "TensorFlow 2.21.0, Keras 3.15.1"
    assert software({**legacy, "backend": "jax", "jax": "0.10.2"}) == (
        "Keras 3.15.1 on JAX 0.10.2 (TensorFlow 2.21.0 for the data and the logs)")
    assert software({**legacy, "backend": "torch", "torch": "2.13.0+cpu"}).startswith("Keras 3.15.1 on PyTorch 2.13.0")
