"""Grouped convolution on the CPU: Keras's Conv2D(groups=g) against the blocks' GroupwiseConv2D (one conv per group).

Times one forward and backward pass (gradient with respect to the input and
the kernel) of a 3x3 conv, 32 -> 32 channels, 4 groups, on a batch of 64
28x28 images, as traced tf.functions, against a dense (groups=1) conv of the
same shape as the baseline, all in one run. Also checks that both grouped
layers give the same outputs.

    python benchmarks/grouped_conv_speed.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from convnas.blocks.conv_layers import GroupwiseConv2D


def timed(layer: keras.layers.Layer, x: tf.Tensor, repeats: int) -> float:
    """Median seconds of one forward and backward pass."""

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, [x, layer.kernel])

    step(x)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step(x)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    x = tf.random.stateless_normal((64, 28, 28, 32), seed=(0, 0))
    dense = keras.layers.Conv2D(32, 3, padding="same")
    grouped = keras.layers.Conv2D(32, 3, padding="same", groups=4)
    groupwise = GroupwiseConv2D(32, 3, padding="same", groups=4)
    for layer in (dense, grouped, groupwise):
        layer.build(x.shape)
    groupwise.set_weights(grouped.get_weights())
    difference = float(np.abs(groupwise(x) - grouped(x)).max())
    baseline = timed(dense, x, args.repeats)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; median of {args.repeats} forward+backward passes\n")
    print("| layer | median (ms) | vs dense Conv2D |\n|---|---:|---:|")
    for name, layer in (("Conv2D, groups=1 (dense)", dense), ("Conv2D, groups=4", grouped),
                        ("GroupwiseConv2D, groups=4", groupwise)):
        seconds = baseline if layer is dense else timed(layer, x, args.repeats)
        print(f"| {name} | {1000 * seconds:.2f} | {seconds / baseline:.2f}x |")
    print(f"\nlargest output difference, Conv2D(groups=4) vs GroupwiseConv2D: {difference:.2e}")


if __name__ == "__main__":
    main()
