"""Generates a tabular benchmark: every architecture of its sub-space (search.benchmark.tabular), trained twice.

    python benchmarks/tabular_benchmark.py train [--benchmark NAME] [--shard I/N]   # resumable; N shards side by side
    python benchmarks/tabular_benchmark.py proxies [--benchmark NAME]               # resumable
    python benchmarks/tabular_benchmark.py assemble [--benchmark NAME]              # benchmarks/tabular/NAME.csv

NAME is one of `search.benchmark.tabular.BENCHMARKS` ("digits", "cluttered";
default "cluttered"). `train` builds each architecture with the search's own
hypermodel, counts its cost (params, MACs, FLOPs) and times batch-1
inference (median of 20), then trains it for the full epochs with each seed
on the same train / validation split, as a search trial would (same
pipeline, optimizer, BatchNorm momentum; for a benchmark with `protocol`,
the trial's protocol: warmup and cosine, BatchNorm re-estimated before the
last validation), records the seconds `fit` had taken at each epoch's end,
and evaluates it on the test split. `proxies` scores each untrained
architecture with every training-free proxy (`search.proxies`, batch of 64
training images, seed 0). Both append one JSON line per result to
benchmarks/tabular/raw/NAME/ and skip what is already there, so a killed run
resumes where it stopped; `train` skips the runs of every raw file, so the
remaining work can be split anew (a shard's rest as --shard 1/4 and 3/4 after
--shard 1/2, say). `assemble` joins the raw lines into the CSV, one
row per architecture (`search.benchmark.tabular.COLUMNS`), with params, MACs and
FLOPs counted anew by the current cost model (so every row counts the same
layers, whichever version of the code trained it) and the latency measured
in training, and prints the compute the raw runs took.

Each shard runs TensorFlow on one thread, so N shards use N cores.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convnas.search import cost  # noqa: E402
from convnas.search.benchmark import tabular
from convnas.search.common import durable_io, tables
from convnas.search.data import datasets
from convnas.search.data.cluttered_digits import make_cluttered_digits
from convnas.search.space.hypermodel import ConvNetHyperModel  # noqa: E402
from convnas.search.space.training import LEGACY_PROTOCOL, Protocol

FOLDER = Path(__file__).parent / "tabular"
PROXY_BATCH = 64


def raw_folder(benchmark: tabular.Benchmark) -> Path:
    return FOLDER / "raw" / benchmark.name


def load_data(benchmark: tabular.Benchmark) -> datasets.Dataset:
    """The benchmark's task, split with `tabular.SPLIT_SEED`."""
    if benchmark.dataset == "cluttered_digits":
        (x_train, y_train), (x_test, y_test) = make_cluttered_digits(**tabular.CLUTTERED)
        return datasets.from_arrays(benchmark.name, x_train, y_train, x_test, y_test, seed=tabular.SPLIT_SEED)
    return datasets.load_dataset(benchmark.dataset, seed=tabular.SPLIT_SEED)


def hypermodel(benchmark: tabular.Benchmark, data) -> ConvNetHyperModel:
    """The search's hypermodel over the benchmark's sub-space, training as the benchmark's runs train."""
    return ConvNetHyperModel(data.input_shape, data.num_classes, benchmark.subspace, input_scale=data.scale,
                             protocol=Protocol() if benchmark.protocol else LEGACY_PROTOCOL)


def hyperparameters(model_maker: ConvNetHyperModel, values: dict) -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    model_maker.declare_hyperparameters(hp)
    hp.values.update(values)
    return hp


def build(model_maker: ConvNetHyperModel, values: dict, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return model_maker.build(hyperparameters(model_maker, values))


def raw_runs(benchmark: tabular.Benchmark) -> list[dict]:
    """Every training run in the benchmark's raw files, whatever sharding wrote it."""
    return [record for path in sorted(raw_folder(benchmark).glob("train_*.jsonl"))
            for record in durable_io.read_json_lines(path)]


class EpochClock(keras.callbacks.Callback):
    """The seconds since `fit` began at each epoch's end (its validation included)."""

    def on_train_begin(self, logs=None):
        self.started, self.seconds = time.perf_counter(), []

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def counted_costs(model: keras.Model) -> dict:
    """The cost model's params, MACs and FLOPs of `model` (batch 1)."""
    counted = cost.count(model)
    return {"params": counted.params, "macs": counted.macs, "flops": counted.flops}


def train(benchmark: tabular.Benchmark, shard: int, shards: int) -> None:
    data = load_data(benchmark)
    model_maker = hypermodel(benchmark, data)
    path = raw_folder(benchmark) / f"train_{shard}_of_{shards}.jsonl"
    done = {(r["key"], r["seed"]) for r in raw_runs(benchmark)}
    mine = [values for index, values in enumerate(benchmark.architectures()) if index % shards == shard]
    pipeline = dict(batch_size=tabular.BATCH_SIZE)
    train_data = datasets.make_pipeline(data.x_train, data.y_train, shuffle=True, seed=tabular.SPLIT_SEED, **pipeline)
    val_data = datasets.make_pipeline(data.x_val, data.y_val, shuffle=False, **pipeline)
    test_data = datasets.make_pipeline(data.x_test, data.y_test, shuffle=False, **pipeline)
    for count, values in enumerate(mine, start=1):
        name = tabular.key(values)
        for seed in tabular.SEEDS:
            if (name, seed) in done:
                continue
            keras.backend.clear_session()
            model = build(model_maker, values, seed)
            record = {"key": name, "seed": seed, **values}
            if seed == tabular.SEEDS[0]:
                record.update(counted_costs(model), latency_ms=cost.latency(model, repeats=20))
            clock = EpochClock()
            history = model_maker.fit(hyperparameters(model_maker, values), model, train_data,
                                      validation_data=val_data, epochs=tabular.EPOCHS, verbose=0, callbacks=[clock])
            record["train_seconds"], record["epoch_seconds"] = clock.seconds[-1], clock.seconds
            record["val_accuracy"] = [float(v) for v in history.history["val_accuracy"]]
            record["test_accuracy"] = float(model.evaluate(test_data, verbose=0, return_dict=True)["accuracy"])
            durable_io.append_json_line(path, record)
            print(f"[{shard}] {count}/{len(mine)} {name} seed {seed}: val {record['val_accuracy'][-1]:.4f} "
                  f"test {record['test_accuracy']:.4f} in {record['train_seconds']:.1f}s", flush=True)


def proxies(benchmark: tabular.Benchmark) -> None:
    from convnas.search import proxies as proxy_scores

    data = load_data(benchmark)
    model_maker = hypermodel(benchmark, data)
    path = raw_folder(benchmark) / "proxies.jsonl"
    done = {r["key"] for r in durable_io.read_json_lines(path)}
    batch = proxy_scores.fixed_batch(data.x_train, data.y_train, PROXY_BATCH, seed=0)
    for values in benchmark.architectures():
        name = tabular.key(values)
        if name in done:
            continue
        record = {"key": name}
        for proxy in tabular.PROXY_COLUMNS:
            keras.backend.clear_session()
            model = build(model_maker, values, seed=0)
            started = time.perf_counter()
            record[proxy] = proxy_scores.score(proxy, model, *batch, seed=0)
            record[f"{proxy}_seconds"] = time.perf_counter() - started
        durable_io.append_json_line(path, record)
        print(name, {p: round(record[p], 3) for p in tabular.PROXY_COLUMNS}, flush=True)


def assemble(benchmark: tabular.Benchmark) -> Path:
    runs: dict[str, dict[int, dict]] = {}
    for record in raw_runs(benchmark):
        runs.setdefault(record["key"], {}).setdefault(record["seed"], record)
    scores = {r["key"]: r for r in durable_io.read_json_lines(raw_folder(benchmark) / "proxies.jsonl")}
    model_maker = hypermodel(benchmark, load_data(benchmark))
    rows = []
    for values in benchmark.architectures():
        name = tabular.key(values)
        seeds = runs.get(name, {})
        if set(seeds) != set(tabular.SEEDS):
            raise SystemExit(f"{name} is missing seeds {sorted(set(tabular.SEEDS) - set(seeds))}: run `train` first")
        first = seeds[tabular.SEEDS[0]]
        row = {"key": name, **{column: values.get(column, "") for column in tabular.HYPERPARAMETER_COLUMNS}}
        for seed in tabular.SEEDS:
            row[f"val_accuracy_s{seed}"] = seeds[seed]["val_accuracy"][-1]
            row[f"test_accuracy_s{seed}"] = seeds[seed]["test_accuracy"]
            for epoch, accuracy in enumerate(seeds[seed]["val_accuracy"], start=1):
                row[tabular.epoch_column(seed, epoch)] = accuracy
            for epoch, seconds in enumerate(seeds[seed].get("epoch_seconds", ()), start=1):
                row[tabular.seconds_column(seed, epoch)] = seconds
        row["val_accuracy"] = float(np.mean([row[f"val_accuracy_s{s}"] for s in tabular.SEEDS]))
        row["test_accuracy"] = float(np.mean([row[f"test_accuracy_s{s}"] for s in tabular.SEEDS]))
        keras.backend.clear_session()
        row.update(counted_costs(build(model_maker, values, seed=0)), latency_ms=first["latency_ms"])
        row.update({column: scores.get(name, {}).get(column, "") for column in tabular.PROXY_COLUMNS})
        rows.append(row)
    path = FOLDER / f"{benchmark.name}.csv"
    path.write_text(tables.to_csv(rows, tabular.COLUMNS))
    print(f"{len(rows)} architectures written to {path}")
    seconds = [run["train_seconds"] for seeds in runs.values() for run in seeds.values()]
    proxy_seconds = sum(record[f"{proxy}_seconds"] for record in scores.values() for proxy in tabular.PROXY_COLUMNS)
    print(f"compute: {len(seconds)} training runs, {sum(seconds) / 3600:.2f} core-hours of fitting (median "
          f"{float(np.median(seconds)):.1f} s a run); proxies {proxy_seconds / 60:.1f} core-minutes")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=("train", "proxies", "assemble"))
    parser.add_argument("--benchmark", choices=tuple(tabular.BENCHMARKS), default="cluttered")
    parser.add_argument("--shard", default="0/1", help="I/N: train every N-th architecture from the I-th (default 0/1)")
    args = parser.parse_args()
    benchmark = tabular.BENCHMARKS[args.benchmark]
    if args.phase == "assemble":
        assemble(benchmark)
        return
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if args.phase == "train":
        shard, shards = (int(part) for part in args.shard.split("/"))
        train(benchmark, shard, shards)
    else:
        proxies(benchmark)


if __name__ == "__main__":
    main()
