"""Seconds per model for `search.cost.count` against TensorFlow's profiler route, in one run.

    python benchmarks/cost_vs_profiler.py [--repeats N]

Prints a Markdown table: both times, their ratio, both FLOP totals and their
relative difference. The cost model's time is the median of N runs; the
profiler's is one run (it takes seconds to tens of seconds).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from convnas.search import cost  # noqa: E402
from convnas.search.cost import profiler

MODELS = ("MobileNet", "ResNet50", "VGG16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})\n")
    print("| model | count (ms) | profiler (s) | speed-up | count FLOPs | profiler FLOPs | difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in MODELS:
        model = getattr(keras.applications, name)(weights=None, input_shape=(224, 224, 3))
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            counted = cost.count(model)
            times.append(time.perf_counter() - start)
        count_seconds = statistics.median(times)
        start = time.perf_counter()
        reference = profiler.profiler_flops(model)
        profiler_seconds = time.perf_counter() - start
        ours = profiler.comparable_flops(counted)
        print(
            f"| {name} | {count_seconds * 1000:.1f} | {profiler_seconds:.2f} | "
            f"{profiler_seconds / count_seconds:,.0f}x | {ours:,} | {reference:,} | "
            f"{abs(ours - reference) / reference:.4%} |"
        )


if __name__ == "__main__":
    main()
