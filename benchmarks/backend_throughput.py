"""The same small `convnas search` on each Keras backend: trial throughput and wall time as ratios to TensorFlow.

    python benchmarks/backend_throughput.py [--trials N] [--epochs E] [--repeats R] [--backends B ...]

Each backend runs `convnas search --max-trials N --epochs E --seed 0` on the
bundled digits (the default space; random search) in a process of its own
(KERAS_BACKEND set), R times, the backends alternating within each repeat.
The seed fixes the architectures: the script checks that every backend
trained the same ones. For each backend the table gives the best wall time
of the whole command (start, imports and records included), the trials per
minute it makes, the summed training seconds of its trials (`train_seconds`
in trials.csv: fitting and validation, compilation included), the median
validation accuracy, and the ratios of the wall time and of the training
seconds to TensorFlow's (below 1: faster than TensorFlow).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from convnas.search.common.backends import BACKENDS


def run_search(backend: str, trials: int, epochs: int, logdir: Path) -> dict:
    """One `convnas search` on `backend`: wall seconds and the trials it recorded."""
    command = [sys.executable, "-m", "convnas", "search", "--max-trials", str(trials), "--epochs", str(epochs),
               "--seed", "0", "--logdir", str(logdir), "--overwrite"]
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{backend}: convnas search failed:\n{result.stderr[-2000:]}")
    with open(logdir / "trials.csv") as stream:
        reader = csv.DictReader(stream)
        records = [r for r in reader if r["status"] == "COMPLETED"]
    hyperparameters = reader.fieldnames[reader.fieldnames.index("seed") + 1:]  # the architecture's columns
    return {"wall": wall, "train": sum(float(r["train_seconds"]) for r in records),
            "accuracy": statistics.median(float(r["val_accuracy"]) for r in records),
            "architectures": [tuple(r[name] for name in hyperparameters) for r in records]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    args = parser.parse_args()
    if args.backends[0] != "tensorflow":
        parser.error("--backends must start with tensorflow, the baseline of the ratios")
    runs: dict[str, list[dict]] = {backend: [] for backend in args.backends}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            for backend in args.backends:
                run = run_search(backend, args.trials, args.epochs, Path(folder) / f"{backend}_{repeat}")
                runs[backend].append(run)
                print(f"repeat {repeat} {backend}: {run['wall']:.1f} s wall, {run['train']:.1f} s training",
                      flush=True)
    reference = runs["tensorflow"][0]["architectures"]
    for backend, found in runs.items():
        if any(run["architectures"] != reference for run in found):
            raise SystemExit(f"{backend} trained other architectures than TensorFlow: the comparison is void")
    best = {backend: min(found, key=lambda run: run["wall"]) for backend, found in runs.items()}
    train = {backend: min(run["train"] for run in found) for backend, found in runs.items()}
    print(f"\n`python benchmarks/backend_throughput.py --trials {args.trials} --epochs {args.epochs} "
          f"--repeats {args.repeats}`: {args.trials} trials of {args.epochs} epochs, the same architectures on "
          f"every backend; best of {args.repeats}; {platform.machine()}, {os.cpu_count()} CPUs.\n")
    print("| backend | wall (s) | trials / min | training (s) | median val acc | wall vs TF | training vs TF |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for backend in runs:
        wall = best[backend]["wall"]
        print(f"| {backend} | {wall:.1f} | {60 * args.trials / wall:.2f} | {train[backend]:.1f} | "
              f"{best[backend]['accuracy']:.3f} | {wall / best['tensorflow']['wall']:.2f}x | "
              f"{train[backend] / train['tensorflow']:.2f}x |")


if __name__ == "__main__":
    main()
