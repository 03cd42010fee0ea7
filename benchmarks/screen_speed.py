"""Draws per second of the budget screen, and the wall time of a search whose budget nothing fits, in one run.

    python benchmarks/screen_speed.py [--draws N] [--built-draws M] [--no-cli]

Under an impossible budget (max_flops 10: every candidate is rejected) a
random tuner's oracle draws until its redraw limit and gives up; the draws
per second are its draws over its seconds. Two screens of the same space
(convnas's default space on digits' 8x8x1 images, 10 classes, seed 0):
convnas's own `ConvNetHyperModel`, costed from its layout (no model built),
and the same space handed over as a user's `build_model(hp)`, which the
screen builds and counts. Then `convnas search --max-flops 10` as a user runs
it (its own process, TensorFlow's import and the data included): exit
status, wall time and the draws its error line reports. Goals: at least 200
draws a second from the layout; the command exits 2 within about 10 s after
at least 1,000 draws.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras_tuner  # noqa: E402

from convnas.search.space.hypermodel import ConvNetHyperModel  # noqa: E402
from convnas.search.tuners.setup import make_tuner  # noqa: E402

INPUT_SHAPE, CLASSES, SCALE = (8, 8, 1), 10, 1 / 16  # digits


class UserHyperModel(keras_tuner.HyperModel):
    """convnas's space as a user's hypermodel: declared in one pass (as convnas's), but without `arithmetic_cost`,
    so the screen builds and counts each candidate."""

    declares_every_branch = True

    def __init__(self, space: ConvNetHyperModel):
        super().__init__()
        self.space = space

    def declare_hyperparameters(self, hp: keras_tuner.HyperParameters) -> None:
        self.space.declare_hyperparameters(hp)

    def build(self, hp: keras_tuner.HyperParameters):
        return self.space.build(hp)


def draws_per_second(hypermodel, draws: int, directory: str) -> tuple[int, float]:
    """(draws, seconds) of one oracle's screened draws until it gives up under max_flops 10."""
    tuner = make_tuner("random", 1, 1, hypermodel=hypermodel, seed=0, directory=directory, project_name="screen",
                       overwrite=True, max_flops=10, max_redraws=draws)
    tuner.prepare_sampler((None, *INPUT_SHAPE), None)
    started = time.perf_counter()
    values = tuner.oracle.random_values()
    seconds = time.perf_counter() - started
    assert values is None and tuner.oracle.rejections.exhausted, "a candidate fitted max_flops 10"
    return tuner.oracle.rejections.total, seconds


def impossible_search(directory: str) -> tuple[int, float, str]:
    """(exit status, wall seconds, its error line) of `convnas search --max-flops 10`."""
    logdir = os.path.join(directory, "run")
    command = [sys.executable, "-m", "convnas", "search", "--max-flops", "10", "--logdir", logdir]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    return result.returncode, seconds, (result.stderr.strip().splitlines() or [""])[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000, help="draws from the layout-costed screen")
    parser.add_argument("--built-draws", type=int, default=50, help="draws from the build-and-count screen")
    parser.add_argument("--no-cli", action="store_true", help="skip the `convnas search --max-flops 10` run")
    args = parser.parse_args()
    print(f"TensorFlow {metadata.version('tensorflow')}, Keras {metadata.version('keras')}, "
          f"keras-tuner {metadata.version('keras-tuner')}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    space = ConvNetHyperModel(INPUT_SHAPE, CLASSES, input_scale=SCALE)
    print("\n| screen | draws | seconds | draws per second |\n|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as directory:
        for name, hypermodel, draws in (("convnas's space, costed from its layout", space, args.draws),
                                        ("the same space as a user's build_model(hp), built and counted",
                                         UserHyperModel(space), args.built_draws)):
            count, seconds = draws_per_second(hypermodel, draws, directory)
            print(f"| {name} | {count:,} | {seconds:.2f} | {count / seconds:,.1f} |")
        if not args.no_cli:
            status, seconds, line = impossible_search(directory)
            print(f"\n`convnas search --max-flops 10`: exit status {status} after {seconds:.1f} s\n{line}")


if __name__ == "__main__":
    main()
