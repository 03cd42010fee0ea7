"""Trials per hour of a distributed search: 1 worker (all cores) against N single-thread workers, same run.

    python benchmarks/distributed_workers.py [--trials T] [--epochs E] [--workers N] [--repeats R]

Both variants are the whole `convnas search --workers K` command (supervisor,
chief and workers as real processes on loopback) on the same spec and seed:
the same candidates, in the same order. The time counts everything from the
command's start to its exit, start-up included. Variants alternate R times;
the table reports each one's best.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """\
space:
  stages: [1, 2]
  cell: [plain, residual, depthwise_separable]
  filters: [16, 32]
"""


def search(workers: int, trials: int, epochs: int, directory: Path) -> float:
    spec = directory / "spec.yaml"
    spec.write_text(SPEC)
    command = [sys.executable, "-m", "experiments.cli", "search", str(spec), "--workers", str(workers), "--max-trials", str(trials),
               "--epochs", str(epochs), "--logdir", str(directory / f"workers{workers}"), "--overwrite"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="convnas-workers-"))
    times = {1: [], args.workers: []}
    for _ in range(args.repeats):
        for workers in times:
            times[workers].append(search(workers, args.trials, args.epochs, directory))
    cores = os.cpu_count()
    print(f"Python {platform.python_version()}, {cores} CPUs; {args.trials} trials x {args.epochs} epochs on digits, "
          f"best of {args.repeats} runs\n")
    print("| workers | threads each | wall time (s) | trials per hour | vs 1 worker | runs (s) |")
    print("|---:|---:|---:|---:|---:|---|")
    best = {workers: min(values) for workers, values in times.items()}
    for workers, seconds in best.items():
        runs = ", ".join(f"{t:.1f}" for t in times[workers])
        print(f"| {workers} | {max(1, cores // workers)} | {seconds:.1f} | {3600 * args.trials / seconds:,.0f} | "
              f"{best[1] / seconds:.2f}x | {runs} |")


if __name__ == "__main__":
    main()
