"""Tabular benchmarks: a fixed sub-space of the search space, every architecture trained, on a task.

The sub-space (`Benchmark.subspace`, given to `ConvNetHyperModel` as its
overrides) is one or two stages after the stem, each stage a plain conv, a
plain depthwise separable conv (MobileNet's Fig. 3) or a residual cell of
one of three widths, 1 or 2 blocks, then 2x2 max pooling; a
global-average-pooling head; Adam at learning rate 1e-3, 8 epochs, batch 32
(the search's defaults). That is 3 x 3 x 2 = 18 choices per stage: 18
one-stage and 18 x 18 = 324 two-stage architectures, 342 in all
(`Benchmark.architectures`). `BENCHMARKS` holds two:

- "digits": 16-wide stem, stages 16, 32 or 64 wide, on the 8x8 digits,
  trained with `model.fit` as compiled (a constant rate, BatchNorm on its
  moving averages): the first table. Its good half is ranked by noise (the
  accuracies saturate near 100%).
- "cluttered": 16-wide stem, stages 8, 16 or 32 wide, on cluttered digits
  at a 16x16 canvas (`CLUTTERED`: digits of 8 to 12 pixels among 3
  fragments, 2000 training and 1000 test canvases), trained as a search
  trial is (`search.space.training.Protocol`: warmup and cosine, BatchNorm
  re-estimated before the last validation), so that the architectures
  separate: see benchmarks/RESULTS.md.

benchmarks/tabular_benchmark.py trains each architecture for the full
epochs with two seeds on the same train / validation split (seed 0) and
writes one CSV row per architecture (`COLUMNS`): its key, its
hyperparameters, the validation accuracy and the seconds `fit` had taken
after every epoch, the test accuracy for each seed, the accuracies' means,
params, MACs, FLOPs, batch-1 latency and every proxy's score. `Table` reads
it back and answers queries by the hyperparameter values a tuner proposes,
which is how `search.benchmark.replay` runs the real oracles without
training.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
from collections.abc import Mapping
from pathlib import Path

from convnas.search import choices

EPOCHS = 8
BATCH_SIZE = 32
SEEDS = (0, 1)
SPLIT_SEED = 0
NUM_CLASSES = 10

KINDS = (("plain", "conv"), ("plain", "depthwise_separable_conv"), ("residual", None))
BLOCKS = (1, 2)
STAGES = (1, 2)
CLUTTERED = {"canvas": 16, "digit_sizes": (8, 12), "clutter": 3, "fragment_sizes": (3, 5), "train_images": 2000,
             "test_images": 1000, "seed": 0}  # make_cluttered_digits's settings of the "cluttered" benchmark


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A tabular benchmark: its name (its table is NAME.csv), task, widths and how its runs trained.

    Attributes:
        name: the benchmark's name.
        dataset: "digits" or "cluttered_digits" (made with `CLUTTERED`).
        filters: the three widths a stage can take.
        protocol: trained under the search's protocol (warmup and cosine,
            BatchNorm re-estimated), or with `model.fit` as compiled.
        canvas: the images' height and width.
    """

    name: str
    dataset: str
    filters: tuple[int, ...]
    protocol: bool
    canvas: int
    stem_filters: int = 16

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.canvas, self.canvas, 1)

    @property
    def subspace(self) -> dict:
        """The hypermodel's overrides that make the sub-space."""
        return {
            "stages": list(STAGES),
            "stem_filters": self.stem_filters,
            "cell": sorted({cell for cell, _ in KINDS}),
            "block": [block for _, block in KINDS if block],
            "filters": list(self.filters),
            "blocks": list(BLOCKS),
            "kernel_size": 3,
            "strides": 1,
            "downsampling": "max",
            "head": "global_average_pooling",
            "head_units": 0,
            "optimizer": "adam",
            "learning_rate": 1e-3,
        }

    def architectures(self) -> list[dict]:
        """The free hyperparameter values of every architecture of the sub-space, in a fixed order."""
        stage_options = list(itertools.product(KINDS, self.filters, BLOCKS))
        found = []
        for stages in STAGES:
            for choice in itertools.product(stage_options, repeat=stages):
                values = {"stages": stages}
                for n, options in enumerate(choice, start=1):
                    values.update(_stage_values(n, *options))
                found.append(values)
        return found


DIGITS = Benchmark("digits", "digits", filters=(16, 32, 64), protocol=False, canvas=8)
BENCHMARKS = {benchmark.name: benchmark for benchmark in (
    DIGITS, Benchmark("cluttered", "cluttered_digits", filters=(8, 16, 32), protocol=True, canvas=CLUTTERED["canvas"]),
)}

COST_COLUMNS = ("params", "macs", "flops", "latency_ms")
PROXY_COLUMNS = choices.PROXIES.names()  # one column per registered proxy


def _stage_values(n: int, kind: tuple[str, str | None], filters: int, blocks: int) -> dict:
    cell, block = kind
    values = {f"stage{n}_cell": cell, f"stage{n}_filters": filters, f"stage{n}_blocks": blocks}
    if block:
        values[f"stage{n}_block"] = block
    return values


def key(values: Mapping) -> str:
    """The architecture's name from a tuner's hyperparameter values: e.g. "conv16x1-residual32x2".

    Only the values active for the candidate count (a residual stage's
    `stage1_block`, or stage 2's values in a one-stage net, are ignored).
    """
    parts = []
    for n in range(1, int(values["stages"]) + 1):
        cell = values[f"stage{n}_cell"]
        kind = values[f"stage{n}_block"] if cell == "plain" else cell
        parts.append(f"{kind}{values[f'stage{n}_filters']}x{values[f'stage{n}_blocks']}")
    return "-".join(parts)


def epoch_column(seed: int, epoch: int) -> str:
    """The column of the validation accuracy after `epoch` (1-based) epochs with `seed`."""
    return f"val_accuracy_s{seed}_e{epoch}"


def seconds_column(seed: int, epoch: int) -> str:
    """The column of the seconds `fit` had taken at the end of epoch `epoch` (1-based) with `seed`."""
    return f"seconds_s{seed}_e{epoch}"


HYPERPARAMETER_COLUMNS = ("stages",
                          *(f"stage{n}_{name}" for n in (1, 2) for name in ("cell", "block", "filters", "blocks")))
COLUMNS = (
    "key",
    *HYPERPARAMETER_COLUMNS,
    *(f"val_accuracy_s{seed}" for seed in SEEDS),
    "val_accuracy",
    *(f"test_accuracy_s{seed}" for seed in SEEDS),
    "test_accuracy",
    *COST_COLUMNS,
    *PROXY_COLUMNS,
    *(epoch_column(seed, epoch) for seed in SEEDS for epoch in range(1, EPOCHS + 1)),
    *(seconds_column(seed, epoch) for seed in SEEDS for epoch in range(1, EPOCHS + 1)),
)


class Table:
    """A benchmark's CSV, indexed by architecture key."""

    def __init__(self, path: str | Path, benchmark: Benchmark):
        self.benchmark = benchmark
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        self.rows = {row["key"]: {name: _number(value) for name, value in row.items()} for row in rows}

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, values: Mapping) -> dict:
        """The row of the architecture that hyperparameter `values` describe (KeyError outside the sub-space)."""
        return self.rows[key(values)]

    def val_accuracy(self, values: Mapping, seed: int, epochs: int = EPOCHS) -> float:
        """Validation accuracy of the architecture after `epochs` epochs of training with `seed`."""
        return self.row(values)[epoch_column(seed, epochs)]

    def train_seconds(self, values: Mapping, seed: int, start: int, end: int) -> float | None:
        """The seconds `fit` took over epochs `start` + 1 to `end` of the architecture with `seed` (validation
        included); None for a table that records no seconds (digits.csv's runs kept only their total)."""
        row = self.row(values)
        after = row.get(seconds_column(seed, end))
        if after in (None, ""):
            return None
        return after - (row[seconds_column(seed, start)] if start else 0.0)


def _number(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
