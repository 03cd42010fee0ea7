"""A synthetic tabular benchmark over the real sub-space, for the replay tests."""

import csv
import math
import random

import numpy as np

from convnas.search.benchmark import tabular


def write_table(path, proxy_is_accuracy: bool = False, seed: int = 0) -> tabular.Table:
    """A table over all 342 keys: FLOPs from the widths, accuracy rising with log10 FLOPs plus noise, rising curves.

    Each seed's curve is final * (1 - 0.5 ** epoch), so fewer epochs always read lower.
    The proxies are log FLOPs plus noise, or (`proxy_is_accuracy`) the mean final accuracy.
    """
    generator = random.Random(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=tabular.COLUMNS)
        writer.writeheader()
        for values in tabular.DIGITS.architectures():
            flops = 16000.0
            for n in range(1, values["stages"] + 1):
                cheap = values.get(f"stage{n}_block") == "depthwise_separable_conv"
                width = values[f"stage{n}_filters"] * values[f"stage{n}_blocks"]
                flops += width * 30000.0 / 4 ** (n - 1) * (0.3 if cheap else 1.0)
            final = min(0.98, 0.2 + 0.11 * math.log10(flops) + generator.uniform(-0.03, 0.03))
            row = {name: "" for name in tabular.COLUMNS}
            row.update(values, key=tabular.key(values), flops=flops, params=flops / 50, macs=flops / 2,
                       latency_ms=flops / 1e6)
            for seed_number in tabular.SEEDS:
                reached = final + generator.uniform(-0.01, 0.01)
                for epoch in range(1, tabular.EPOCHS + 1):
                    row[tabular.epoch_column(seed_number, epoch)] = reached * (1 - 0.5**epoch)
                row[f"val_accuracy_s{seed_number}"] = row[tabular.epoch_column(seed_number, tabular.EPOCHS)]
                row[f"test_accuracy_s{seed_number}"] = reached - 0.01
                for epoch in range(1, tabular.EPOCHS + 1):
                    row[tabular.seconds_column(seed_number, epoch)] = epoch * (flops / 1e6 + seed_number)
            row["val_accuracy"] = np.mean([row[f"val_accuracy_s{s}"] for s in tabular.SEEDS])
            row["test_accuracy"] = np.mean([row[f"test_accuracy_s{s}"] for s in tabular.SEEDS])
            for proxy in tabular.PROXY_COLUMNS:
                row[proxy] = row["val_accuracy"] if proxy_is_accuracy else math.log(flops) + generator.gauss(0, 1)
            writer.writerow(row)
    return tabular.Table(path, tabular.DIGITS)
