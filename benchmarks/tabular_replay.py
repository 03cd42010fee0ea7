"""Replays the real oracles on the tabular benchmark: hypervolume against trials, with and without prescreening.

    python benchmarks/tabular_replay.py [--tuners random bayesian hyperband evolution] [--prescreen K]
                                        [--proxy NAME] [--repetitions R] [--trials N] [--shard I/N]
    python benchmarks/tabular_replay.py --correlations

For each tuner (keras-tuner's random search, Bayesian optimization and
Hyperband with convnas's screened sampling, and convnas's regularized
evolution), with prescreening off (1) and on (K, default 10, ranked by the
table's `--proxy` score, default synflow), `search.benchmark.replay.replay` runs R
searches (repetitions 0 .. R-1, default 25) of N trials (default 100) on
benchmarks/tabular/digits.csv, training replaced by the table. Each finished
replay appends one JSON line — its configuration, repetition, the table's
fingerprint, the hypervolume reference, the hypervolume after each trial and
the seconds it took — to benchmarks/tabular/replays.jsonl; replays already
there are skipped, so a killed run resumes, and `--shard I/N` runs every
N-th replay from the I-th so that N processes can share the work (each
appends whole lines; set OMP_NUM_THREADS=1 when running shards side by side).

Then it prints Markdown tables from every line of the file that matches the
table, N and the reference: (1) per configuration, the median [25th, 75th
percentile] hypervolume after 10, 25, 50 and N trials and the trials the
median curve needs to reach random search's (no prescreening) median after N
trials; the goal line, computed from it: does evolution, with or without
prescreening, reach that target within N / 2 trials (50 of 100)?; each
configuration against random search after N trials, repetition by
repetition (the same seeds: `search.benchmark.replay.paired`), with a Wilcoxon
signed-rank test and Holm's adjustment; the median seconds per replay; and
(2) with `--correlations` alone, or after the replays, Spearman's and
Kendall's rank correlations (scipy.stats) of every proxy, FLOPs and
parameters with the mean test and the mean validation accuracy over the
table's architectures, beside the noise ceiling: the same correlations
between the seed-0 and the seed-1 accuracies, and the ceiling that implies
for the two-seed mean (Spearman-Brown); and each proxy's median seconds per
architecture from the raw proxy file.

Bayesian optimization is slow to replay: keras-tuner fits a Gaussian process
and runs 50 L-BFGS-B restarts of its acquisition (numerical gradients,
~30,000 predictions) per model-chosen trial, several seconds each, while
its other trials take milliseconds. scikit-learn's ConvergenceWarning from
those fits is silenced here.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from scipy import stats  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from convnas.experiments.statistics import holm  # noqa: E402
from convnas.search.benchmark import replay, tabular
from convnas.search.common import durable_io, tables  # noqa: E402

FOLDER = Path(__file__).parent / "tabular"
CHECKPOINTS = (10, 25, 50, 100)


def fingerprint(path: Path) -> str:
    """The first 16 hex digits of the table file's SHA-256: replays of another table are never mixed in."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def identity(record: dict) -> tuple:
    """What makes two replays the same replay."""
    reference = tuple(sorted(record["reference"].items()))
    return (record["table"], record["trials"], reference, record["tuner"], record["prescreen"], record["proxy"],
            record["repetition"])


def configurations(tuners: list[str], prescreen: int, proxy: str) -> list[tuple[str, int, str]]:
    """(tuner, prescreen, proxy) for each tuner, without prescreening (proxy "") and with K candidates."""
    return [(name, k, proxy if k > 1 else "") for name in tuners for k in dict.fromkeys((1, prescreen))]


def run_replays(args, table: tabular.Table, table_id: str) -> None:
    shard, shards = (int(part) for part in args.shard.split("/"))
    base = {"table": table_id, "trials": args.trials, "reference": replay.REFERENCE.as_dict()}
    done = {identity(record) for record in durable_io.read_json_lines(args.output)}
    jobs = [(name, k, proxy, repetition) for repetition in range(args.repetitions)
            for name, k, proxy in configurations(args.tuners, args.prescreen, args.proxy)]
    for index, (name, k, proxy, repetition) in enumerate(jobs):
        record = {**base, "tuner": name, "prescreen": k, "proxy": proxy, "repetition": repetition}
        if index % shards != shard or identity(record) in done:
            continue
        started = time.perf_counter()
        curve = replay.replay(name, table, args.trials, prescreen=k, proxy=proxy or args.proxy, repetition=repetition)
        record.update(seconds=time.perf_counter() - started, hypervolume=curve)
        durable_io.append_json_line(args.output, record)
        print(f"{name} prescreen {k} repetition {repetition}: hypervolume {curve[-1]:.4f} after {len(curve)} trials "
              f"in {record['seconds']:.1f} s", flush=True)


def interval(row: dict, checkpoint: int) -> str:
    return f"{row[f'median_{checkpoint}']:.3f} [{row[f'q25_{checkpoint}']:.3f}, {row[f'q75_{checkpoint}']:.3f}]"


def config_name(row: dict, proxy: str) -> str:
    return row["tuner"] if row["prescreen"] == 1 else f"{row['tuner']} + {proxy} x{row['prescreen']}"


def report_pairs(by_repetition: dict, args) -> None:
    """Each configuration against random search, repetition by repetition, after N trials: signed-rank test, Holm."""
    rows = replay.paired(by_repetition, ("random", 1), args.trials)
    adjusted = holm([row["p"] for row in rows])
    print(f"\n## Paired against random search after {args.trials} trials: the same repetition (seeds) on both sides\n")
    print("Difference in hypervolume (configuration - random search) per repetition; two-sided Wilcoxon signed-rank "
          "test over the untied pairs, Holm-adjusted over the rows.\n")
    header = ["tuner", "pairs", "median difference", "wins / ties / losses", "p", "p (Holm)"]
    body = [[config_name(row, args.proxy), row["pairs"],
             "n/a" if row["median_difference"] is None else f"{row['median_difference']:+.4f}",
             f"{row['wins']} / {row['ties']} / {row['losses']}", significant(row["p"]), significant(p)]
            for row, p in zip(rows, adjusted)]
    print(tables.to_markdown(header, body))


def significant(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}"


def report_replays(args, table_id: str) -> None:
    base = (table_id, args.trials, tuple(sorted(replay.REFERENCE.as_dict().items())))
    wanted = configurations(list(replay.TUNERS), args.prescreen, args.proxy)
    by_repetition: dict[tuple[str, int], dict[int, list[float]]] = {}
    seconds: dict[tuple[str, int], list[float]] = {}
    for record in durable_io.read_json_lines(args.output):
        key = identity(record)
        if key[:3] != base or key[3:6] not in wanted or record["repetition"] >= args.repetitions:
            continue
        by_repetition.setdefault(key[3:5], {})[record["repetition"]] = record["hypervolume"]
        seconds.setdefault(key[3:5], []).append(record["seconds"])
    if not by_repetition:
        print("No replays of this table, trial count and reference yet.")
        return
    order = sorted(by_repetition, key=lambda c: (replay.TUNERS.index(c[0]), c[1]))
    by_repetition = {config: by_repetition[config] for config in order}
    curves = {config: list(runs.values()) for config, runs in by_repetition.items()}
    checkpoints = tuple(c for c in CHECKPOINTS if c < args.trials) + (args.trials,)
    rows = replay.summarize(curves, args.trials, checkpoints)
    target = rows[0]["target"]
    print("\n## Hypervolume after t trials: median [25th, 75th percentile] over repetitions\n")
    print(f"Reference: accuracy {replay.REFERENCE.accuracy}, {replay.REFERENCE.ceiling:.0e} FLOPs; table {table_id}.")
    reach = (f"trials to reach random's median after {args.trials} ({target:.3f})" if target is not None
             else "trials to target (no random search without prescreening yet)")
    header = ["tuner", "n", *(f"t = {c}" for c in checkpoints), reach]
    body = [[config_name(row, args.proxy), row["repetitions"], *(interval(row, c) for c in checkpoints),
             row["trials_to_target"] if row["trials_to_target"] is not None else f"> {args.trials}"] for row in rows]
    print(tables.to_markdown(header, body))
    goal = args.trials // 2
    evolution = [row for row in rows if row["tuner"] == "evolution"]
    if target is None or not evolution:
        print("Goal: not computed (needs random search without prescreening and evolution).")
    else:
        met = any(row["trials_to_target"] is not None and row["trials_to_target"] <= goal for row in evolution)
        detail = "; ".join(f"{config_name(row, args.proxy)}: "
                           f"{row['trials_to_target'] if row['trials_to_target'] is not None else f'> {args.trials}'}"
                           for row in evolution)
        print(f"\nGoal — evolution reaches random search's {args.trials}-trial median hypervolume ({target:.3f}) "
              f"within {goal} trials: {'MET' if met else 'NOT MET'} ({detail}).")
    if ("random", 1) in by_repetition:
        report_pairs(by_repetition, args)
    initial = 3 * len(replay.make_oracle("bayesian", args.trials, 0).hyperparameters.space)
    print(f"\nBayesian optimization: keras-tuner's default num_initial_points is 3 x the space's {initial // 3} "
          f"hyperparameters = {initial} random trials before its Gaussian process proposes any.")
    print("\n## Seconds per replay (median)\n")
    print(tables.to_markdown(["tuner", "n", "seconds"],
                             [[config_name({"tuner": c[0], "prescreen": c[1]}, args.proxy), len(s),
                               f"{statistics.median(s):.2f}"] for c, s in seconds.items()]))


def _pairs(table: tabular.Table, first: str, second: str) -> tuple[list[float], list[float]]:
    """The architectures where both columns hold a number (NaN and empty cells left out)."""
    pairs = [(row[first], row[second]) for row in table.rows.values()]
    kept = [(a, b) for a, b in pairs if isinstance(a, (int, float)) and isinstance(b, (int, float))
            and not math.isnan(a) and not math.isnan(b)]
    return [a for a, _ in kept], [b for _, b in kept]


def correlation(table: tabular.Table, first: str, second: str) -> tuple[int, float, float]:
    """n, Spearman's rho and Kendall's tau-b between two columns."""
    x, y = _pairs(table, first, second)
    if len(x) < 3:
        return len(x), math.nan, math.nan
    return len(x), float(stats.spearmanr(x, y).statistic), float(stats.kendalltau(x, y).statistic)


def correlations(table: tabular.Table) -> list[list]:
    """Rows: predictor, n, Spearman and Kendall with the mean test accuracy, then with the mean validation accuracy."""
    rows = []
    for predictor in (*tabular.PROXY_COLUMNS, "flops", "params"):
        n, test_rho, test_tau = correlation(table, predictor, "test_accuracy")
        _, val_rho, val_tau = correlation(table, predictor, "val_accuracy")
        rows.append([predictor, n, test_rho, test_tau, val_rho, val_tau])
    first, second = tabular.SEEDS[:2]
    n, test_rho, test_tau = correlation(table, f"test_accuracy_s{first}", f"test_accuracy_s{second}")
    _, val_rho, val_tau = correlation(table, f"val_accuracy_s{first}", f"val_accuracy_s{second}")
    rows.append([f"noise ceiling: seed {first} vs seed {second}", n, test_rho, test_tau, val_rho, val_tau])
    rows.append(["noise ceiling for the two-seed mean (Spearman-Brown)", n,
                 mean_ceiling(test_rho), "", mean_ceiling(val_rho), ""])
    return rows


def mean_ceiling(rho: float) -> float:
    """The highest correlation with a mean of two seeds that a perfect predictor of the true accuracy can reach,
    sqrt(2 rho / (1 + rho)), rho being the seed-to-seed correlation (Spearman-Brown; exact for Pearson's r, an
    approximation for ranks)."""
    return math.sqrt(2 * rho / (1 + rho)) if rho > 0 else math.nan


def proxy_seconds(path: Path) -> dict[str, float]:
    """Median seconds per architecture of each proxy in the raw proxy file."""
    records = durable_io.read_json_lines(path)
    return {name: statistics.median(r[f"{name}_seconds"] for r in records) for name in tabular.PROXY_COLUMNS}


def report_correlations(table: tabular.Table, raw_proxies: Path) -> None:
    print(f"\n## Rank correlation with accuracy over the {len(table)} architectures\n")
    print("Predictors against the two-seed mean; the noise ceiling correlates one seed's accuracies with the other's, "
          "and the last row estimates from it the ceiling for the two-seed mean.\n")
    header = ["predictor", "n", "Spearman (test)", "Kendall (test)", "Spearman (val)", "Kendall (val)"]
    print(tables.to_markdown(header, correlations(table)))
    if raw_proxies.exists():
        print(f"\nMedian seconds per architecture ({raw_proxies.name}): "
              + ", ".join(f"{name} {seconds:.2f}" for name, seconds in proxy_seconds(raw_proxies).items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuners", nargs="+", choices=replay.TUNERS, default=list(replay.TUNERS))
    parser.add_argument("--prescreen", type=int, default=10, metavar="K",
                        help="candidates per draw when prescreening (10)")
    parser.add_argument("--proxy", choices=tabular.PROXY_COLUMNS, default="synflow")
    parser.add_argument("--repetitions", type=int, default=25)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--shard", default="0/1", help="I/N: run every N-th replay from the I-th (default 0/1)")
    parser.add_argument("--correlations", action="store_true", help="only print the proxies' rank correlations")
    parser.add_argument("--table", type=Path, default=FOLDER / "digits.csv")
    parser.add_argument("--output", type=Path, default=FOLDER / "replays.jsonl")
    args = parser.parse_args()
    for name in ("prescreen", "repetitions", "trials"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer. Received: {getattr(args, name)}")
    shard = args.shard.split("/")
    if len(shard) != 2 or not all(part.isdigit() for part in shard) or not int(shard[0]) < int(shard[1]):
        parser.error(f"--shard must be I/N with 0 <= I < N. Received: {args.shard}")
    if not args.table.exists():
        print(f"{args.table} not found: run benchmarks/tabular_benchmark.py (train, proxies, assemble) first",
              file=sys.stderr)
        raise SystemExit(2)
    table = tabular.Table(args.table)
    if args.correlations:
        report_correlations(table, FOLDER / "raw" / "proxies.jsonl")
        return
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    table_id = fingerprint(args.table)
    run_replays(args, table, table_id)
    report_replays(args, table_id)
    report_correlations(table, FOLDER / "raw" / "proxies.jsonl")


if __name__ == "__main__":
    main()
