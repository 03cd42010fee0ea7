"""Wall time of `convnas search` against a bare build-and-fit loop and plain keras-tuner, same architectures, one run.

    python benchmarks/search_overhead.py [--trials N] [--epochs E] [--repeats R]

1. convnas: `search.runner.run_search` (random tuner, N trials on digits), the
   whole job: data, cost counting, latency, TensorBoard/HParams logging,
   records, best model, Pareto files.
2. bare loop: the architectures convnas trained, rebuilt from their records and
   fitted with plain `model.fit` on numpy arrays (same data, batch size,
   epochs), `keras.backend.clear_session()` between models.
2b. bare loop, convnas's training: the same, each model trained as a convnas
   trial trains it (`ConvNetHyperModel.fit`: warmup + cosine learning rate,
   BatchNorm statistics re-estimated before the last validation), so that
   the ratio to it is the search's own overhead, training being equal.
3. plain keras-tuner: the same architectures replayed by a keras-tuner
   GridSearch over their index, with its default trial machinery (per-epoch
   best checkpoint, TensorBoard/HParams callback, trial JSON).

Each variant runs R times, alternating; the table reports the best time of
each, the ratios to the bare loop, and the training throughput (samples/s,
and GFLOP/s with training counted as 3x the cost model's inference FLOPs).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner  # noqa: E402

from convnas.search.data import datasets  # noqa: E402
from convnas.search.runner import run_search  # noqa: E402
from convnas.search.space.hypermodel import ConvNetHyperModel  # noqa: E402
from convnas.search.space.spec import build_spec  # noqa: E402


def candidate_values(records):
    """The hyperparameter values of each completed record."""
    skip = {"trial_id", "status", "reason", "val_accuracy", "val_loss", "test_accuracy", "params", "macs", "flops",
            "activation_bytes", "latency_ms", "train_seconds", "epochs", "seed"}
    return [{k: v for k, v in r.items() if k not in skip} for r in records if r["status"] == "COMPLETED"]


def hyperparameters(hypermodel, values):
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    hp.values = dict(values)
    return hp


def convnas(spec):
    start = time.perf_counter()
    records = run_search(spec, write=lambda line: None)
    return time.perf_counter() - start, records


def bare_loop(data, candidates, hypermodel, batch_size, epochs, protocol=False):
    """Builds and fits each candidate: `model.fit`, or with `protocol` the hypermodel's `fit` (convnas's
    training protocol)."""
    start, fitting = time.perf_counter(), 0.0
    for values in candidates:
        keras.backend.clear_session()
        hp = hyperparameters(hypermodel, values)
        model = hypermodel.build(hp)
        fit = (lambda *args, **kwargs: hypermodel.fit(hp, model, *args, **kwargs)) if protocol else model.fit
        fit_start = time.perf_counter()
        fit(data.x_train, data.y_train, batch_size=batch_size, epochs=epochs,
            validation_data=(data.x_val, data.y_val), verbose=0)
        fitting += time.perf_counter() - fit_start
    return time.perf_counter() - start, fitting


class Replay(keras_tuner.HyperModel):
    """The given architectures, chosen by index: keras-tuner's GridSearch visits each once."""

    def __init__(self, hypermodel, candidates):
        super().__init__()
        self.hypermodel, self.candidates = hypermodel, candidates

    def build(self, hp):
        index = hp.Choice("candidate", list(range(len(self.candidates))))
        return self.hypermodel.build(hyperparameters(self.hypermodel, self.candidates[index]))


def plain_keras_tuner(data, candidates, hypermodel, batch_size, epochs, directory):
    start = time.perf_counter()
    tuner = keras_tuner.GridSearch(Replay(hypermodel, candidates), objective="val_accuracy",
                                   max_trials=len(candidates), directory=directory, project_name="plain",
                                   overwrite=True)
    tuner.search(data.x_train, data.y_train, batch_size=batch_size, epochs=epochs,
                 validation_data=(data.x_val, data.y_val), verbose=0,
                 callbacks=[keras.callbacks.TensorBoard(os.path.join(directory, "tensorboard"), write_graph=False)])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import tensorflow as tf

    work = Path(tempfile.mkdtemp(prefix="convnas-bench-"))
    data = datasets.load_dataset("digits", seed=args.seed)
    hypermodel = ConvNetHyperModel(data.input_shape, data.num_classes)
    spec = build_spec({}, {"max_trials": args.trials, "epochs": args.epochs, "batch_size": args.batch_size,
                           "seed": args.seed, "logdir": str(work / "convnas"), "overwrite": True})
    # Warm-up: TensorFlow's first graph building and kernel selection are paid once, outside the timings.
    bare_loop(data,
              candidate_values(run_search(build_spec({}, {"max_trials": 1, "epochs": 1, "logdir": str(work / "warm")}),
                                          write=lambda line: None)),
              hypermodel, args.batch_size, 1)
    times = {"convnas": [], "bare": [], "bare-protocol": [], "keras-tuner": []}
    for _ in range(args.repeats):
        seconds, records = convnas(spec)
        times["convnas"].append(seconds)
        candidates = candidate_values(records)
        seconds, fitting = bare_loop(data, candidates, hypermodel, args.batch_size, args.epochs)
        times["bare"].append(seconds)
        times["bare-protocol"].append(
            bare_loop(data, candidates, hypermodel, args.batch_size, args.epochs, protocol=True)[0])
        times["keras-tuner"].append(
            plain_keras_tuner(data, candidates, hypermodel, args.batch_size, args.epochs, str(work)))
    best = {name: min(values) for name, values in times.items()}
    completed = [r for r in records if r["status"] == "COMPLETED"]
    samples = len(data.x_train) * args.epochs * len(completed)
    convnas_train = sum(r["train_seconds"] for r in completed)
    training_flops = sum(3 * r["flops"] * len(data.x_train) * args.epochs for r in completed)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, keras-tuner {keras_tuner.__version__}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"{args.trials} trials ({len(completed)} trained) x {args.epochs} epochs on digits "
          f"({len(data.x_train)} training images), batch {args.batch_size}, best of {args.repeats} runs\n")
    print("| variant | wall time (s) | vs bare loop | vs bare loop, convnas's training | runs (s) |")
    print("|---|---:|---:|---:|---|")
    for name, label in (("bare", "bare build-and-fit loop"), ("bare-protocol", "bare loop, convnas's training"),
                        ("keras-tuner", "plain keras-tuner"), ("convnas", "convnas search")):
        runs = ", ".join(f"{t:.1f}" for t in times[name])
        print(f"| {label} | {best[name]:.1f} | {best[name] / best['bare']:.3f}x | "
              f"{best[name] / best['bare-protocol']:.3f}x | {runs} |")
    print(f"\ntraining throughput (last run): convnas fit {samples / convnas_train:,.0f} samples/s, "
          f"{training_flops / convnas_train / 1e9:.2f} GFLOP/s; bare fit {samples / fitting:,.0f} samples/s, "
          f"{training_flops / fitting / 1e9:.2f} GFLOP/s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
