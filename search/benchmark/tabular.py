"""The tabular benchmark: a fixed sub-space of the search space on `digits`, every architecture trained.

The sub-space (`SUBSPACE`, given to `ConvNetHyperModel` as its overrides) is
one or two stages after a 16-wide stem, each stage a plain conv, a plain
depthwise separable conv (MobileNet's Fig. 3) or a residual cell, 16, 32 or
64 wide, 1 or 2 blocks, then 2x2 max pooling; a global-average-pooling head;
Adam at learning rate 1e-3, 8 epochs, batch 32 (the search's defaults).
That is 3 x 3 x 2 = 18 choices per stage: 18 one-stage and 18 x 18 = 324
two-stage architectures, 342 in all (`architectures()`).

benchmarks/tabular_benchmark.py trains each one for the full epochs with two
seeds on the same train / validation split (seed 0) and writes one CSV row
per architecture (`COLUMNS`): its key, its hyperparameters, the validation
accuracy after every epoch, the test accuracy and the training seconds for
each seed, the accuracies' means, params, MACs, FLOPs, batch-1 latency and
every proxy's score. `Table` reads
it back and answers queries by the hyperparameter values a tuner proposes,
which is how `search.benchmark.replay` runs the real oracles without training.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Mapping
from pathlib import Path

from convnas.search import choices

EPOCHS = 8
BATCH_SIZE = 32
SEEDS = (0, 1)
DATASET = "digits"
SPLIT_SEED = 0

KINDS = (("plain", "conv"), ("plain", "depthwise_separable_conv"), ("residual", None))
FILTERS = (16, 32, 64)
BLOCKS = (1, 2)
STAGES = (1, 2)

SUBSPACE = {
    "stages": list(STAGES),
    "stem_filters": 16,
    "cell": sorted({cell for cell, _ in KINDS}),
    "block": [block for _, block in KINDS if block],
    "filters": list(FILTERS),
    "blocks": list(BLOCKS),
    "kernel_size": 3,
    "strides": 1,
    "downsampling": "max",
    "head": "global_average_pooling",
    "head_units": 0,
    "optimizer": "adam",
    "learning_rate": 1e-3,
}

COST_COLUMNS = ("params", "macs", "flops", "latency_ms")
PROXY_COLUMNS = choices.PROXIES.names()  # one column per registered proxy


def _stage_values(n: int, kind: tuple[str, str | None], filters: int, blocks: int) -> dict:
    cell, block = kind
    values = {f"stage{n}_cell": cell, f"stage{n}_filters": filters, f"stage{n}_blocks": blocks}
    if block:
        values[f"stage{n}_block"] = block
    return values


def architectures() -> list[dict]:
    """The free hyperparameter values of every architecture of the sub-space, in a fixed order."""
    stage_options = list(itertools.product(KINDS, FILTERS, BLOCKS))
    found = []
    for stages in STAGES:
        for choice in itertools.product(stage_options, repeat=stages):
            values = {"stages": stages}
            for n, options in enumerate(choice, start=1):
                values.update(_stage_values(n, *options))
            found.append(values)
    return found


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


HYPERPARAMETER_COLUMNS = ("stages",
                          *(f"stage{n}_{name}" for n in (1, 2) for name in ("cell", "block", "filters", "blocks")))
COLUMNS = (
    "key",
    *HYPERPARAMETER_COLUMNS,
    *(f"val_accuracy_s{seed}" for seed in SEEDS),
    "val_accuracy",
    *(f"test_accuracy_s{seed}" for seed in SEEDS),
    "test_accuracy",
    *(f"train_seconds_s{seed}" for seed in SEEDS),
    *COST_COLUMNS,
    *PROXY_COLUMNS,
    *(epoch_column(seed, epoch) for seed in SEEDS for epoch in range(1, EPOCHS + 1)),
)


class Table:
    """The benchmark CSV, indexed by architecture key."""

    def __init__(self, path: str | Path):
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
        """The training seconds of epochs `start` + 1 to `end` of the architecture with `seed`: its run's recorded
        seconds for all EPOCHS epochs (fit's wall time), an equal share per epoch; None for a table that records
        no seconds (digits.csv was assembled before it did)."""
        total = self.row(values).get(f"train_seconds_s{seed}")
        return None if total in (None, "") else total * (end - start) / EPOCHS


def _number(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
