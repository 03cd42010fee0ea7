"""Trials per hour of a distributed search: 1 worker (all cores) against N single-thread workers, same run.

    python benchmarks/distributed_workers.py [--trials T] [--epochs E] [--workers N] [--repeats R]

Both variants are the whole `convnas search --workers K` command (supervisor,
chief and workers as real processes on loopback) on the same spec and seed.
Two rates: over the whole run (from the command's start to its exit, the
~10 s of process start-up, data loading and the last worker's tail
included), and in steady state (trials recorded per second between the
first and the last record, polled from trials.jsonl). Variants alternate R
times; the table reports each one's best.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
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


def search(workers: int, trials: int, epochs: int, directory: Path) -> tuple[float, float]:
    """Wall time of the whole command, and the steady-state rate: trials per second between first and last record."""
    spec = directory / "spec.yaml"
    spec.write_text(SPEC)
    logdir = directory / f"workers{workers}"
    command = [sys.executable, "-m", "convnas", "search", str(spec), "--workers", str(workers),
               "--max-trials", str(trials), "--epochs", str(epochs), "--logdir", str(logdir)]
    shutil.rmtree(logdir, ignore_errors=True)  # afresh, before the first poll
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    arrivals, records = [], logdir / "trials.jsonl"
    while process.poll() is None:
        count = len(records.read_text().splitlines()) if records.exists() else 0
        arrivals += [time.perf_counter()] * (count - len(arrivals))
        time.sleep(0.05)
    if process.returncode != 0:
        raise SystemExit(f"the search with {workers} worker(s) failed with status {process.returncode}")
    return time.perf_counter() - start, (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="convnas-workers-"))
    times, rates = {1: [], args.workers: []}, {1: [], args.workers: []}
    for _ in range(args.repeats):
        for workers in times:
            seconds, rate = search(workers, args.trials, args.epochs, directory)
            times[workers].append(seconds)
            rates[workers].append(rate)
    cores = os.cpu_count()
    print(f"Python {platform.python_version()}, {cores} CPUs; {args.trials} trials x {args.epochs} epochs on digits, "
          f"best of {args.repeats} runs\n")
    print("| workers | threads each | wall time (s) | trials per hour, whole run | steady-state trials per hour | "
          "vs 1 worker, whole run | vs 1 worker, steady state |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    best = {workers: min(values) for workers, values in times.items()}
    steady = {workers: max(values) for workers, values in rates.items()}
    for workers, seconds in best.items():
        print(f"| {workers} | {max(1, cores // workers)} | {seconds:.1f} | {3600 * args.trials / seconds:,.0f} | "
              f"{3600 * steady[workers]:,.0f} | {best[1] / seconds:.2f}x | {steady[workers] / steady[1]:.2f}x |")


if __name__ == "__main__":
    main()
