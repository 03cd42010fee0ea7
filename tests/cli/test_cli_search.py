"""`convnas search` and `trials` as real processes: resume after SIGKILLs at several points, bad input."""

import csv
import json
import signal
import subprocess
import sys
import time

import pytest

CONVNAS = [sys.executable, "-m", "convnas"]
SMALL_SPEC = """\
max_trials: 5
epochs: 2
space:
  stages: 1
  cell: [plain, residual]
  filters: 16
  blocks: 1
"""


def run(*args, timeout=300):
    return subprocess.run([*CONVNAS, *args], capture_output=True, text=True, timeout=timeout)


def test_trials_command_prints_csv_markdown_and_json(tmp_path):
    logdir = tmp_path / "run"
    logdir.mkdir()
    records = [
        {"trial_id": "0", "status": "COMPLETED", "reason": "", "stages": 1, "val_accuracy": 0.9, "params": 100,
         "flops": 1000},
        {"trial_id": "1", "status": "SKIPPED", "reason": "over budget: x", "stages": 2, "params": 9000, "flops": 90000},
    ]
    (logdir / "trials.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    as_csv = run("trials", str(logdir), "--format", "csv")
    assert as_csv.returncode == 0
    assert list(csv.DictReader(as_csv.stdout.splitlines()))[1]["reason"] == "over budget: x"
    as_md = run("trials", str(logdir), "--format", "md").stdout.splitlines()
    assert as_md[0] == "| trial | status | val_acc | params | FLOPs | latency_ms | epochs | architecture | reason |"
    assert as_md[3] == "| 1 | SKIPPED |  | 9.0K | 90.0K |  |  | stages=2 | over budget: x |" and len(as_md) == 4
    every = run("trials", str(logdir), "--format", "md", "--all").stdout.splitlines()
    assert every[0].startswith("| trial_id | status | reason | loss |") and every[0].endswith("| stages |")
    assert run("trials", str(logdir), "--all").stdout.splitlines() == every  # --all: Markdown unless told
    as_text = run("trials", str(logdir)).stdout.splitlines()  # the default
    assert as_text[0].split() == ["trial", "status", "val_acc", "params", "FLOPs", "latency_ms", "epochs",
                                  "architecture", "reason"]
    assert as_text[3].split() == ["1", "SKIPPED", "9.0K", "90.0K", "stages=2", "over", "budget:", "x"]
    refused = run("trials", str(logdir), "--format", "text", "--all")
    assert refused.returncode == 2 and "--all needs a format that holds every column" in refused.stderr
    assert json.loads(run("trials", str(logdir), "--format", "json").stdout)[0]["val_accuracy"] == 0.9


@pytest.mark.parametrize(
    "args, yaml_text, message",
    [
        (["--dataset", "imagenet"], None, "`dataset` must be one of digits, cluttered_digits, mnist"),
        (["--tuner", "annealing"], None,
         "`tuner` must be one of 'random', 'grid', 'bayesian', 'hyperband', 'evolution', 'asha'. "
         "Received: tuner='annealing'"),
        (["--epochs", "-1"], None, "`epochs` must be a positive integer. Received: epochs=-1"),
        (["--max-flops", "-5"], None, "`max_flops` must be a positive number. Received: max_flops=-5.0"),
        (["--max-params", "0"], None, "`max_params` must be a positive number. Received: max_params=0.0"),
        (["--objective", "speed"], None, "`objective` must be one of 'val_accuracy', 'val_loss', 'pareto'"),
        ([], "space:\n  block: [conv, octave_conv]\n", "`space.block` has an unknown block: 'octave_conv'"),
        ([], "space:\n  stage1_colour: red\n", "`space` has an unknown hyperparameter 'stage1_colour'"),
        ([], "space:\n  stages: [5]\n",
         "`space.stages` must be an integer from 1 to 3 (the stages of a candidate). Received: space.stages=5"),
        ([], "epochs: [1, 2\n", "spec file is not valid YAML at line"),
        ([], "- a\n- b\n", "spec file must hold a mapping of fields"),
        ([], "learning_rat: 0.1\n", "spec has an unknown field 'learning_rat'"),
        ([], "space:\n  learning_rate: {min: 0.1, max: 0.01}\n", "`space.learning_rate` min must be below max"),
        ([], "!!python/object/apply:os.system ['echo unsafe']\n", "spec file is not valid YAML"),
        (["--dataset", "npz:/no/such/file.npz"], None, "/no/such/file.npz"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, yaml_text, message):
    command = ["search", *args, "--logdir", str(tmp_path / "run")]
    if yaml_text is not None:
        spec = tmp_path / "spec.yaml"
        spec.write_text(yaml_text)
        command.insert(1, str(spec))
    result = run(*command, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert not (tmp_path / "run" / "tuner").exists()  # nothing half-made for the next run to trip on


def test_unreadable_spec_and_missing_records(tmp_path):
    result = run("search", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2 and "spec file cannot be read" in result.stderr
    result = run("trials", str(tmp_path))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "no trial records" in result.stderr


def test_deterministic_searches_repeat_architectures_and_metrics(tmp_path):
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL_SPEC)
    tables = []
    for name in ("first", "second"):
        result = run("search", str(spec), "--deterministic", "--max-trials", "3", "--epochs", "1",
                     "--logdir", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        printed = result.stdout.replace(str(tmp_path), "/tmp/runs")  # as under a short folder: pytest's are long
        wide = [line for line in printed.splitlines() if len(line) > 100]
        assert not wide, wide  # every printed line within 100 columns
        with open(tmp_path / name / "trials.csv") as stream:
            rows = list(csv.DictReader(stream))
        tables.append([{k: v for k, v in row.items() if k not in ("latency_ms", "train_seconds")} for row in rows])
    assert len(tables[0]) == 3 and all(row["val_accuracy"] for row in tables[0])
    assert tables[0] == tables[1]


def test_sigkill_at_several_points_never_loses_or_duplicates_a_trial(tmp_path, start_process):
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL_SPEC)
    logdir = tmp_path / "run"
    command = [*CONVNAS, "search", str(spec), "--logdir", str(logdir)]
    jsonl = logdir / "trials.jsonl"

    def lines():
        return len(jsonl.read_text().splitlines()) if jsonl.exists() else 0

    def kill_when(ready):
        process = start_process(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None and not ready():
            time.sleep(0.01)
        assert process.poll() is None, "the search ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    kill_when(lambda: (logdir / "tensorboard" / "0" / "execution0").exists())  # during the first trial's training
    assert lines() == 0
    # A record just written: between trials, or while the CSV and best model are written.
    kill_when(lambda: lines() >= 1)
    written = lines()
    kill_when(lambda: lines() > written)  # the same moment once more, later in the search
    before = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert 2 <= len(before) < 5
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    with open(logdir / "trials.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert sorted(int(row["trial_id"]) for row in rows) == list(range(5))
    assert all(row["status"] == "COMPLETED" and row["val_accuracy"] for row in rows)
    assert (logdir / "best_model.keras").exists()
    kept = {row["trial_id"]: row for row in rows}
    for record in before:  # completed before the kills: kept as they were, not re-run
        assert float(kept[record["trial_id"]]["val_accuracy"]) == record["val_accuracy"]
        assert float(kept[record["trial_id"]]["train_seconds"]) == record["train_seconds"]
    assert "[5/5]" in result.stdout and f"[{len(before)}/5]" not in result.stdout
    banner = " ".join(result.stdout.split())  # wrapped within 100 columns
    assert f"; {len(before)} already done; logging to " in banner  # the resumed search's banner says so


def test_an_impossible_budget_exits_2_naming_the_budget_and_the_cheapest_cost(tmp_path):
    logdir = tmp_path / "run"
    result = run("search", "--max-flops", "10", "--max-trials", "2", "--epochs", "1", "--max-redraws", "15",
                 "--logdir", str(logdir))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: convnas search: no candidate within max_flops 10 in 15 draws (")
    cheapest = int(lines[0].split("the cheapest drawn had ")[1].split()[0].replace(",", ""))
    assert cheapest > 10 and lines[0].endswith(" FLOPs")
    assert "written: nothing (no trial ended)" in result.stdout
    for name in ("best_model.keras", "pareto.png", "pareto.csv"):  # nothing trained: no empty plot or front
        assert not (logdir / name).exists()
    assert "leaderboard:" not in result.stdout and "Pareto front" not in result.stdout


def test_hyperband_continues_a_trial_with_no_optimizer_warning_from_its_checkpoint(tmp_path):
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL_SPEC + "  optimizer: adam\n")  # Adam has state to skip (plain SGD has none: no warning)
    # max epochs 3: three 1-epoch trials, then the best of them trained on for epochs 2-3 from its checkpoint
    result = run("search", str(spec), "--tuner", "hyperband", "--epochs", "3", "--max-trials", "4",
                 "--logdir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    printed = result.stdout.replace("\n    ", " ").splitlines()  # a progress line as it reads before wrapping
    continued = [line for line in printed if line.startswith("trial ") and "continues trial" in line]
    assert len(continued) == 1 and "(epochs 2-3, continues trial " in continued[0]
    assert "Skipping variable loading" not in result.stdout + result.stderr  # Keras's, on loading that checkpoint
