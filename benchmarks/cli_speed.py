"""Wall time of the commands that need no model, against `python -c "import tensorflow"`, in one run.

    python benchmarks/cli_speed.py [--repeats N]

Each command runs as its own process, as a user runs it: `convnas --help`,
a flag error (`convnas search --epochs 0`), `convnas trials` on a search
folder of hand-made records, `convnas table` on a study folder of hand-made
runs (the built-in pooling study, 4 variants x 3 seeds), and spec validation
(every built-in ablation study, quick and --full, and a search spec with a
`space`). The rounds alternate the commands, N rounds; the table gives each
command's median and its ratio to the median TensorFlow import. Goal: every
ratio at most 0.2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from convnas.experiments import ablation_spec
from convnas.search.records.trial_records import TrialRecords

GOAL = 0.2
REFERENCE = 'python -c "import tensorflow"'
SEARCH_SPEC = """\
dataset: digits
tuner: bayesian
max_trials: 20
epochs: 8
max_flops: 2.0e6
space:
  stages: [1, 2]
  cell: [plain, residual]
  stage1_block: depthwise_separable_conv
  learning_rate: {min: 0.0005, max: 0.005}
"""
VALIDATE = """\
import sys
from convnas.experiments import ablation_spec
from convnas.search.common import spec_files
from convnas.search.space import spec
spec.build_spec(spec_files.load_yaml(sys.argv[1]), {})
for name in ablation_spec.builtin_names():
    ablation_spec.load_study(name)
    ablation_spec.load_study(name, full=True)
"""


def write_search_records(logdir: Path, trials: int = 20) -> None:
    """A finished search's records: hyperparameters, metrics and cost, some trials skipped or invalid."""
    records = TrialRecords(logdir)
    for index in range(trials):
        record = {"trial_id": str(index), "status": "COMPLETED", "reason": "", "stages": 1 + index % 2,
                  "stem_filters": 16, "head": "global_average_pooling", "head_units": 0, "optimizer": "adam",
                  "learning_rate": 0.001 + index / 10_000, "batch_norm_momentum": 0.9}
        for stage in range(1, record["stages"] + 1):
            record.update({f"stage{stage}_cell": "plain", f"stage{stage}_block": "conv",
                           f"stage{stage}_filters": 16 * stage, f"stage{stage}_blocks": 1,
                           f"stage{stage}_kernel_size": 3, f"stage{stage}_strides": 1,
                           f"stage{stage}_downsampling": "max"})
        if index % 7 == 3:
            record.update(status="SKIPPED", reason="over budget: flops 2.4M > max_flops 2.0M", params=21_000,
                          flops=2.4e6)
        else:
            record.update(loss=0.2, accuracy=0.95, val_accuracy=0.9 + index / 1000, val_loss=0.3, test_accuracy=0.89,
                          params=12_000 + index, macs=600_000, flops=1_250_000, activation_bytes=40_000,
                          latency_ms=0.8, train_seconds=6.5, epochs=8, seed=0)
        records.append(record)


def write_study_runs(logdir: Path) -> None:
    """A finished built-in pooling study: study.json and one run record per variant x seed."""
    study = ablation_spec.load_study("pooling")
    environment = {"tensorflow": "2.21.0", "keras": "3.15.1", "python": "3.11.7", "machine": "x86_64, 2 CPUs, Linux"}
    (logdir / "study.json").write_text(json.dumps({**study.as_dict(), "command": "convnas ablate pooling",
                                                    "environment": environment}, indent=2))
    runs = []
    for number, variant in enumerate(study.variant_names()):
        for seed in study.seeds:
            runs.append({"run": f"{variant}/seed{seed}", "variant": variant, "seed": seed, "status": "COMPLETED",
                         "params": 20_000 + 1_000 * number, "macs": 1_000_000 * (1 + number),
                         "flops": 2_000_000 * (1 + number), "receptive_field": 18,
                         "test_accuracy": 0.95 - number / 100 + seed / 1000,
                         "val_accuracy": 0.95, "val_loss": 0.2, "train_seconds": 9.0 + seed, "epochs": study.epochs})
    (logdir / "runs.jsonl").write_text("".join(json.dumps(run) + "\n" for run in runs))


def timed(command: list[str], expected_status: int, cwd: Path) -> float:
    """Wall time of one run of `command`, which must exit with `expected_status`."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != expected_status:
        raise SystemExit(f"{' '.join(command)} exited with {result.returncode}, not {expected_status}:\n"
                         f"{result.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, metavar="N")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "search").mkdir()
        (root / "study").mkdir()
        write_search_records(root / "search")
        write_study_runs(root / "study")
        (root / "search.yaml").write_text(SEARCH_SPEC)
        commands = {
            REFERENCE: ([python, "-c", "import tensorflow"], 0),
            "convnas --help": ([python, "-m", "convnas", "--help"], 0),
            "convnas search --epochs 0 (flag error)": ([python, "-m", "convnas", "search", "--epochs", "0"], 2),
            "convnas trials LOGDIR (20 trials)": ([python, "-m", "convnas", "trials", str(root / "search")], 0),
            "convnas table LOGDIR (4 variants x 3 seeds)": ([python, "-m", "convnas", "table", str(root / "study")], 0),
            "spec validation (6 studies quick and full, 1 search spec)": (
                [python, "-c", VALIDATE, str(root / "search.yaml")], 0),
        }
        times = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, (command, status) in commands.items():
                times[name].append(timed(command, status, root))
    medians = {name: statistics.median(values) for name, values in times.items()}
    reference = medians[REFERENCE]
    print(f"TensorFlow {metadata.version('tensorflow')}, Keras {metadata.version('keras')}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}); "
          f"median of {args.repeats} runs each")
    print()
    print("| command | median (s) | vs import tensorflow | fastest (s) | slowest (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, values in times.items():
        print(f"| {name} | {medians[name]:.3f} | {medians[name] / reference:.3f}x | "
              f"{min(values):.3f} | {max(values):.3f} |")
    print()
    slowest = max((name for name in commands if name != REFERENCE), key=medians.get)
    verdict = "met" if medians[slowest] / reference <= GOAL else "NOT met"
    print(f"goal (every command at most {GOAL}x the TensorFlow import): {verdict}; slowest: {slowest}, "
          f"{medians[slowest] / reference:.3f}x")


if __name__ == "__main__":
    main()
