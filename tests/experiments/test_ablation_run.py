"""Ablation studies run for real: tables from the logs, TensorBoard runs, resume after SIGKILL, the upsampling task."""

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

from convnas.experiments import ablation, upsampling
from convnas.experiments.ablation_spec import build_study
from convnas.experiments.artifacts import checkerboard_amplitude, psnr
from convnas.search.common.spec_files import SpecError

TINY = {
    "name": "tiny",
    "epochs": 2,
    "seeds": 2,
    "base": {"stem_filters": 8, "stages": [{"filters": 8, "downsampling": "max"}]},
    "variants": {"avg": {"downsampling": "avg"}, "strided": {"downsampling": "strided"}},
}
CLI = [sys.executable, "-m", "convnas"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def ablate(spec_path, logdir, *flags):
    return subprocess.run([*CLI, "ablate", str(spec_path), "--logdir", str(logdir), *flags], env=ENV,
                          capture_output=True, text=True, timeout=300)


def without_timing(table_csv: str) -> list[dict]:
    rows = csv.DictReader(io.StringIO(table_csv))
    return [{k: v for k, v in row.items() if not k.startswith("train_seconds")} for row in rows]


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


@pytest.fixture(scope="module")
def uninterrupted(spec_file, tmp_path_factory):
    logdir = tmp_path_factory.mktemp("uninterrupted")
    result = ablate(spec_file, logdir)
    assert result.returncode == 0, result.stderr
    return logdir, result.stdout


def test_every_run_is_recorded_and_the_table_has_its_columns(uninterrupted):
    logdir, output = uninterrupted
    assert "run 6/6 strided seed 1" in output and re.search(r"^variant \(2 seeds\) ", output, re.M)
    assert re.search(r"^baseline +\d+\.\d\d$", output, re.M)
    runs = [json.loads(line) for line in (logdir / "runs.jsonl").read_text().splitlines()]
    planned = [f"{v}/seed{s}" for v in ("baseline", "avg", "strided") for s in (0, 1)]
    assert sorted(r["run"] for r in runs) == sorted(planned)
    for run in runs:  # the last epoch's training-mode accuracy beside the inference-mode one, and their verdict
        assert run["train_accuracy_training_mode"] == run["curves"]["accuracy"][-1]
        assert run["collapsed"] is (run["train_accuracy"] < run["train_accuracy_training_mode"] - 0.05)
    rows = list(csv.DictReader(io.StringIO((logdir / "table.csv").read_text())))
    assert [row["variant"] for row in rows] == ["baseline", "avg", "strided"]
    for column in ("test_accuracy_mean", "test_accuracy_std", "test_accuracy_ci95_low", "test_accuracy_ci95_high",
                   "params", "macs", "flops", "delta_test_accuracy", "p_value", "p_welch", "p_adjusted", "mde",
                   "seeds_needed", "verdict", "train_accuracy_mean", "train_loss_mean", "delta_flops_pct",
                   "delta_params_pct"):
        assert column in rows[0]
    assert rows[0]["p_value"] == "" and 0 <= float(rows[2]["p_value"]) <= 1
    # Strided-CNN-C: the conv before the pooling strides instead, no new weights and fewer FLOPs
    assert float(rows[2]["delta_params_pct"]) == 0 and float(rows[2]["delta_flops_pct"]) < 0
    mean = sum(r["test_accuracy"] for r in runs if r["variant"] == "avg") / 2
    assert float(rows[1]["test_accuracy_mean"]) == pytest.approx(mean)
    assert (logdir / "chart.png").stat().st_size > 1000


def test_study_json_records_the_resolved_spec_and_how_it_ran(spec_file, uninterrupted):
    logdir, _ = uninterrupted
    study = json.loads((logdir / "study.json").read_text())
    assert study.pop("command") == f"convnas ablate {spec_file} --logdir {logdir}"
    assert set(study.pop("environment")) == {"backend", "tensorflow", "keras", "python", "machine"}
    assert study == json.loads(json.dumps(build_study(TINY).as_dict()))  # the spec's fields, no more (no `build`)


def test_a_spec_sets_the_training_protocol_and_a_bad_setting_is_named():
    from convnas.search.space.training import Protocol

    spec = build_study({**TINY, "schedule": "constant", "warmup_epochs": 0, "bn_batches": 0})
    assert ablation.SpecStudy(spec, "unused").protocol == Protocol("constant", 0, 0)
    assert ablation.SpecStudy(build_study(TINY), "unused").protocol == Protocol("cosine", 1, 100)  # the defaults
    with pytest.raises(SpecError, match=r"^`bn_batches` must be a non-negative integer. Received: bn_batches=-2$"):
        build_study({**TINY, "bn_batches": -2})
    schedule = r"^`schedule` must be one of 'cosine', 'constant'. Received: schedule='linear'$"
    with pytest.raises(SpecError, match=schedule):
        build_study({**TINY, "schedule": "linear"})


def test_table_rebuilt_from_the_logs_equals_the_one_written(spec_file, uninterrupted):
    logdir, _ = uninterrupted
    for fmt, written in (("md", "table.md"), ("csv", "table.csv")):
        result = subprocess.run([*CLI, "table", str(logdir), "--format", fmt], env=ENV, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert result.stdout == (logdir / written).read_text()
    latex = subprocess.run([*CLI, "table", str(logdir), "--format", "latex"], env=ENV, capture_output=True,
                           text=True).stdout
    assert latex.startswith("\\begin{table}") and "strided" in latex and "\\toprule" in latex
    report = subprocess.run([*CLI, "table", str(logdir), "--format", "report"], env=ENV, capture_output=True,
                            text=True).stdout
    assert report.startswith("# Ablation: tiny") and (logdir / "table.md").read_text() in report
    assert f"`convnas ablate {spec_file} --logdir {logdir}`" in report and "TensorFlow 2." in report


def test_tensorboard_holds_one_hparams_session_per_run_with_its_metrics(uninterrupted):
    logdir, _ = uninterrupted
    runs = {r["run"]: r for r in map(json.loads, (logdir / "runs.jsonl").read_text().splitlines())}
    for name, record in runs.items():
        folder = logdir / "tensorboard" / name
        events = event_accumulator.EventAccumulator(str(folder), size_guidance={"tensors": 0})
        events.Reload()
        assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")
        for tag in ("test_accuracy", "params", "flops"):
            logged = float(tensor_util.make_ndarray(events.Tensors(tag)[0].tensor_proto))
            assert logged == pytest.approx(record[tag], rel=1e-6)
        assert (folder / "train").is_dir() and (folder / "validation").is_dir()  # per-epoch scalars


def test_a_study_killed_mid_run_resumes_to_the_same_table(spec_file, uninterrupted, tmp_path, start_process):
    reference, _ = uninterrupted
    process = start_process([*CLI, "ablate", str(spec_file), "--logdir", str(tmp_path)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = tmp_path / "runs.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and not (runs.exists() and len(runs.read_text().splitlines()) >= 2):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # during the third run
    process.wait()
    assert 2 <= len(runs.read_text().splitlines()) < 6 and not (tmp_path / "table.csv").exists()
    result = ablate(spec_file, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "already done" in result.stdout
    records = [json.loads(line) for line in runs.read_text().splitlines()]
    assert len(records) == len({r["run"] for r in records}) == 6  # each run exactly once
    assert without_timing((tmp_path / "table.csv").read_text()) == without_timing((reference / "table.csv").read_text())


def test_a_different_spec_on_the_same_logdir_is_refused(spec_file, uninterrupted, tmp_path):
    logdir, _ = uninterrupted
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump({**TINY, "epochs": 3}))
    result = ablate(changed, logdir)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "different spec (changed: epochs)" in result.stderr


def test_upsampling_task_logs_psnr_checkerboard_and_sample_images(tmp_path):
    study = build_study({
        "name": "tiny_upsampling", "task": "upsampling", "epochs": 1, "seeds": 1, "learning_rate": 0.01,
        "base": {"stem_filters": 8, "stages": [{"filters": 8, "downsampling": "none"}],
                 "upsampler": {"block": "transposed_conv", "filters": 8, "kernel_size": 3}},
        "variants": {"nearest": {"upsampler": {"block": "upsample_conv", "interpolation": "nearest"}}},
    })
    lines = []
    rows = ablation.run_study(study, tmp_path, write=lines.append)
    by_variant = {row["variant"]: row for row in rows}
    data = upsampling.load_data("photos")
    upsampled = np.repeat(np.repeat(data.x_val, 2, axis=1), 2, axis=2)
    black, nearest = psnr(np.zeros_like(data.y_val), data.y_val), psnr(upsampled, data.y_val)
    blocks = checkerboard_amplitude(upsampled, data.y_val)  # nearest's 2x2 blocks: 0.0044
    banner = " ".join(lines[0].split())  # wrapped within 100 columns
    assert f"nearest-neighbour upsampling alone: {nearest:.2f} dB PSNR, checkerboard {blocks:.4f} against" in banner
    for row in rows:
        assert row["psnr_mean"] > black + 3  # dB: one epoch already beats a black output
        assert row["psnr_gain_mean"] == pytest.approx(row["psnr_mean"] - nearest)
    # At initialization the transposed k3 s2 paints a pattern on a flat input; resize-conv paints none.
    assert by_variant["baseline"]["checkerboard_flat_init_mean"] > 0.005  # 0.014 here, in [0, 1] intensity
    assert by_variant["nearest"]["checkerboard_flat_init_mean"] < 1e-6
    records = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert [record["dead"] for record in records] == [0.0, 0.0]  # both learned something that depends on the input
    assert (tmp_path / "samples.png").stat().st_size > 1000 and (tmp_path / "chart.png").exists()
    events = event_accumulator.EventAccumulator(str(tmp_path / "tensorboard" / "baseline" / "seed0"),
                                                size_guidance={"tensors": 0})
    events.Reload()
    assert "samples/output" in events.Tags()["tensors"] and "psnr" in events.Tags()["tensors"]
