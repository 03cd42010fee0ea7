"""Replays the real oracles on a tabular benchmark: hypervolume against trials and against compute.

    python benchmarks/tabular_replay.py [--benchmark NAME] [--tuners random bayesian hyperband evolution asha]
                                        [--prescreen K] [--proxy NAME] [--repetitions R]
                                        [--epochs-budget B | --trials N] [--shard I/N]
    python benchmarks/tabular_replay.py [--benchmark NAME] --correlations
    python benchmarks/tabular_replay.py [--benchmark NAME] [--epochs-budget B | --trials N] --report

For each tuner (keras-tuner's random search, Bayesian optimization and
Hyperband with convnas's screened sampling, convnas's regularized evolution
and asynchronous successive halving), with prescreening off (1) and on (K,
default 10, ranked by the table's `--proxy` score, default synflow),
`search.benchmark.replay.replay` runs R searches (repetitions 0 .. R-1,
default 25) on benchmarks/tabular/NAME.csv (NAME: "cluttered" by default, or
"digits"), training replaced by the table, each until its trials have
trained B epochs in all (`--epochs-budget`, default 100 full trainings: 800
epochs; a Hyperband or ASHA promotion counts the epochs past its parent's),
or for N trials (`--trials`, as the digits table's committed replays ran).
Each finished replay appends one JSON line — its configuration, repetition,
the table's fingerprint, the hypervolume reference, the hypervolume after
each trial, each trial's epochs and seconds, the optimum (the hypervolume
of every architecture's front as that repetition reads it:
`search.benchmark.compute`) and the seconds it took — to
benchmarks/tabular/replays_NAME.jsonl; replays already there are skipped,
so a killed run resumes, and `--shard I/N` runs every N-th replay from the
I-th so that N processes can share the work (each appends whole lines; set
OMP_NUM_THREADS=1 when running shards side by side).

Then (with `--report`: without running any) it prints Markdown tables
from every line of the file that matches the table, the budget (or N) and
the reference: (1) per configuration, the
median [25th, 75th percentile] hypervolume after 10, 25, 50 and 100 trials
and the trials the median curve needs to reach random search's (no
prescreening) median after 100 trials, with the goal line (does evolution
reach it within 50 trials?) and each configuration against random search
after 100 trials, repetition by repetition (Wilcoxon signed-rank, Holm's
adjustment); (2) for replays with a compute record, the same at equal
compute: the hypervolume [IQR] and the regret to the optimum at 1/8, 1/4,
1/2 and all of B epochs, and at the same fractions of random search's
median seconds for B epochs, the median compute to reach 95% and 99% of
the optimum, and the paired test against random search at B epochs and at
those seconds; a plot of the median hypervolume against epochs
(tabular/replays_NAME.png); the median seconds per replay; and (3) with
`--correlations` alone, or after the replays, Spearman's and Kendall's rank
correlations (scipy.stats) of every proxy, FLOPs and parameters with the
mean test and the mean validation accuracy over the table's architectures,
beside the noise ceiling: the same correlations between the seed-0 and the
seed-1 accuracies (over all architectures and over the better half by
their two-seed mean), and the ceiling that implies for the two-seed mean
(the square root of the Spearman-Brown reliability); and each proxy's
median seconds per architecture from the raw proxy file.

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
from convnas.search.benchmark import compute, replay, tabular
from convnas.search.common import durable_io, tables  # noqa: E402

FOLDER = Path(__file__).parent / "tabular"
CHECKPOINTS = (10, 25, 50, 100)
FULL_TRAININGS = 100  # the default budget: the epochs of 100 trials trained in full
BUDGET_FRACTIONS = (1 / 8, 1 / 4, 1 / 2, 1)


def fingerprint(path: Path) -> str:
    """The first 16 hex digits of the table file's SHA-256: replays of another table are never mixed in."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def identity(record: dict) -> tuple:
    """What makes two replays the same replay."""
    reference = tuple(sorted(record["reference"].items()))
    return (record["table"], record["trials"], record.get("epochs_budget"), reference, record["tuner"],
            record["prescreen"], record["proxy"], record["repetition"])


def configurations(tuners: list[str], prescreen: int, proxy: str) -> list[tuple[str, int, str]]:
    """(tuner, prescreen, proxy) for each tuner, without prescreening (proxy "") and with K candidates."""
    return [(name, k, proxy if k > 1 else "") for name in tuners for k in dict.fromkeys((1, prescreen))]


def run_replays(args, table: tabular.Table, table_id: str) -> None:
    shard, shards = (int(part) for part in args.shard.split("/"))
    base = {"table": table_id, "trials": args.trials, "epochs_budget": args.epochs_budget,
            "reference": replay.REFERENCE.as_dict()}
    done = {identity(record) for record in durable_io.read_json_lines(args.output)}
    jobs = [(name, k, proxy, repetition) for repetition in range(args.repetitions)
            for name, k, proxy in configurations(args.tuners, args.prescreen, args.proxy)]
    for index, (name, k, proxy, repetition) in enumerate(jobs):
        record = {**base, "tuner": name, "prescreen": k, "proxy": proxy, "repetition": repetition}
        if index % shards != shard or identity(record) in done:
            continue
        started, seen = time.perf_counter(), []
        curve = replay.replay(name, table, args.trials or 1, prescreen=k, proxy=proxy or args.proxy,
                              repetition=repetition, on_trial=seen.append, epochs_budget=args.epochs_budget)
        record.update(seconds=time.perf_counter() - started, hypervolume=curve,
                      epochs=[trial["trained_epochs"] for trial in seen],
                      train_seconds=[trial["train_seconds"] for trial in seen],
                      optimum=compute.optimum(table, repetition))
        durable_io.append_json_line(args.output, record)
        print(f"{name} prescreen {k} repetition {repetition}: hypervolume {curve[-1]:.4f} after {len(curve)} trials "
              f"in {record['seconds']:.1f} s", flush=True)


def interval(row: dict, checkpoint: int) -> str:
    return f"{row[f'median_{checkpoint}']:.3f} [{row[f'q25_{checkpoint}']:.3f}, {row[f'q75_{checkpoint}']:.3f}]"


def config_name(row: dict, proxy: str) -> str:
    return row["tuner"] if row["prescreen"] == 1 else f"{row['tuner']} + {proxy} x{row['prescreen']}"


def report_pairs(rows: list[dict], args, where: str) -> None:
    """`replay.paired`'s rows against random search `where` (e.g. "after 100 trials"), Holm-adjusted."""
    adjusted = holm([row["p"] for row in rows])
    print(f"\n### Paired against random search {where}: the same repetition (seeds) on both sides\n")
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


def matching_replays(args, table_id: str) -> tuple[dict, dict]:
    """The replays of the output file that match the table, the budget (or trial count), the reference, the
    configurations asked for and the repetitions: (tuner, prescreen) -> {repetition: record}, in tuner order, and
    (tuner, prescreen) -> seconds per replay."""
    base = (table_id, args.trials, args.epochs_budget, tuple(sorted(replay.REFERENCE.as_dict().items())))
    wanted = configurations(list(replay.TUNERS), args.prescreen, args.proxy)
    found: dict[tuple[str, int], dict[int, dict]] = {}
    seconds: dict[tuple[str, int], list[float]] = {}
    for record in durable_io.read_json_lines(args.output):
        key = identity(record)
        if key[:4] != base or key[4:7] not in wanted or record["repetition"] >= args.repetitions:
            continue
        found.setdefault(key[4:6], {})[record["repetition"]] = record
        seconds.setdefault(key[4:6], []).append(record["seconds"])
    order = sorted(found, key=lambda c: (replay.TUNERS.index(c[0]), c[1]))
    return {config: found[config] for config in order}, seconds


def report_trials(found: dict, args, table_id: str) -> None:
    """Hypervolume after t trials, trials to reach random search's median, the goal line, the pairs."""
    trials = args.trials or FULL_TRAININGS
    curves = {config: [record["hypervolume"] for record in runs.values()] for config, runs in found.items()}
    checkpoints = tuple(c for c in CHECKPOINTS if c < trials) + (trials,)
    rows = replay.summarize(curves, trials, checkpoints)
    target = rows[0]["target"]
    print("\n## Hypervolume after t trials: median [25th, 75th percentile] over repetitions\n")
    print(f"Reference: accuracy {replay.REFERENCE.accuracy}, {replay.REFERENCE.ceiling:.0e} FLOPs; table {table_id}.")
    reach = (f"trials to reach random's median after {trials} ({target:.3f})" if target is not None
             else "trials to target (no random search without prescreening yet)")
    header = ["tuner", "n", *(f"t = {c}" for c in checkpoints), reach]
    body = [[config_name(row, args.proxy), row["repetitions"], *(interval(row, c) for c in checkpoints),
             row["trials_to_target"] if row["trials_to_target"] is not None else f"> {trials}"] for row in rows]
    print(tables.to_markdown(header, body))
    goal = trials // 2
    evolution = [row for row in rows if row["tuner"] == "evolution"]
    if target is None or not evolution:
        print("Goal: not computed (needs random search without prescreening and evolution).")
    else:
        met = any(row["trials_to_target"] is not None and row["trials_to_target"] <= goal for row in evolution)
        detail = "; ".join(f"{config_name(row, args.proxy)}: "
                           f"{row['trials_to_target'] if row['trials_to_target'] is not None else f'> {trials}'}"
                           for row in evolution)
        print(f"\nGoal — evolution reaches random search's {trials}-trial median hypervolume ({target:.3f}) "
              f"within {goal} trials: {'MET' if met else 'NOT MET'} ({detail}).")
    if ("random", 1) in found:
        by_repetition = {config: {r: record["hypervolume"] for r, record in runs.items()}
                         for config, runs in found.items()}
        report_pairs(replay.paired(by_repetition, ("random", 1), trials), args, f"after {trials} trials")


def cost_text(value: float | None, axis: str) -> str:
    return "not reached" if value is None else (f"{value:.0f}" if axis == "epochs" else f"{value:.0f} s")


def report_compute(found: dict, args, name: str) -> None:
    """Hypervolume and regret at equal epochs and at equal seconds, compute to reach the optimum, pairs, plot."""
    runs = {config: {r: compute.Run(record["hypervolume"], record["epochs"], record["train_seconds"],
                                    record["optimum"]) for r, record in replays.items()}
            for config, replays in found.items()}
    budget = args.epochs_budget
    axes = {"epochs": [budget * fraction for fraction in BUDGET_FRACTIONS]}
    if ("random", 1) in runs and all(None not in run.seconds for replays in runs.values() for run in replays.values()):
        spent = statistics.median(sum(run.seconds) for run in runs[("random", 1)].values())
        axes["seconds"] = [spent * fraction for fraction in BUDGET_FRACTIONS]
    else:
        print("\nThis table records no training seconds: equal epochs only.")
    for axis, budgets in axes.items():
        unit = "epochs" if axis == "epochs" else "seconds of training (the table's)"
        rows = compute.summarize({config: list(replays.values()) for config, replays in runs.items()}, budgets, axis)
        print(f"\n## At equal compute: {unit}\n")
        print("Hypervolume median [25th, 75th percentile] over repetitions at each budget, its median regret "
              "(1 - hypervolume / optimum, the optimum being every architecture's front as the repetition reads it), "
              f"and the median {axis} each configuration needs to reach 95% and 99% of the optimum.\n")
        header = ["tuner", "n", *(f"{cost_text(b, axis)}" for b in budgets),
                  *(f"regret at {cost_text(b, axis)}" for b in budgets[-1:]),
                  *(f"to {fraction:.0%}" for fraction in compute.FRACTIONS)]
        body = [[config_name(row, args.proxy), row["repetitions"],
                 *(f"{row[f'median_{b:g}']:.3f} [{row[f'q25_{b:g}']:.3f}, {row[f'q75_{b:g}']:.3f}]" for b in budgets),
                 *(f"{row[f'regret_{b:g}']:.2%}" for b in budgets[-1:]),
                 *(cost_text(row[f"reach_{fraction:g}"], axis) for fraction in compute.FRACTIONS)] for row in rows]
        print(tables.to_markdown(header, body))
        if ("random", 1) in runs:
            report_pairs(compute.paired(runs, budgets[-1], axis), args, f"at {cost_text(budgets[-1], axis)} {axis}")
    plot_curves(runs, budget, FOLDER / f"replays_{name}.png", args.proxy)


def plot_curves(runs: dict, budget: int, path: Path, proxy: str) -> None:
    """The median hypervolume of each configuration against cumulative epochs, 0 to `budget`, and the optimum."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    grid = list(range(0, budget + 1, max(1, budget // 200)))
    figure, axes = pyplot.subplots(figsize=(8, 5))
    for (tuner, prescreen), replays in runs.items():
        medians = [statistics.median(compute.at_budget(run.hypervolume, run.epochs, b) for run in replays.values())
                   for b in grid]
        axes.plot(grid, medians, label=config_name({"tuner": tuner, "prescreen": prescreen}, proxy),
                  linestyle="-" if prescreen == 1 else ":")
    optimum = statistics.median(run.optimum for replays in runs.values() for run in replays.values())
    axes.axhline(optimum, color="black", linewidth=0.8, linestyle="--",
                 label=f"optimum: the whole table's front ({optimum:.3f}, median)")
    axes.set_xlabel("training epochs spent (cumulative)")
    axes.set_ylabel("hypervolume (median over repetitions)")
    axes.set_title(f"{path.stem}: hypervolume of the accuracy / FLOPs front against compute")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    print(f"\nPlot: {path}")


def report_replays(args, table_id: str, name: str) -> None:
    found, seconds = matching_replays(args, table_id)
    if not found:
        print("No replays of this table, budget and reference yet.")
        return
    report_trials(found, args, table_id)
    if args.epochs_budget and all("epochs" in record for runs in found.values() for record in runs.values()):
        report_compute(found, args, name)
    initial = 3 * len(replay.make_oracle("bayesian", 10, 0, tabular.BENCHMARKS[name]).hyperparameters.space)
    print(f"\nBayesian optimization: keras-tuner's default num_initial_points is 3 x the space's {initial // 3} "
          f"hyperparameters = {initial} random trials before its Gaussian process proposes any.")
    print("\n## Seconds per replay (median)\n")
    print(tables.to_markdown(["tuner", "n", "seconds"],
                             [[config_name({"tuner": c[0], "prescreen": c[1]}, args.proxy), len(s),
                               f"{statistics.median(s):.2f}"] for c, s in seconds.items()]))


def _pairs(table: tabular.Table, first: str, second: str, keys=None) -> tuple[list[float], list[float]]:
    """The architectures (of `keys`, if given) where both columns hold a number (NaN and empty cells left out)."""
    pairs = [(row[first], row[second]) for key, row in table.rows.items() if keys is None or key in keys]
    kept = [(a, b) for a, b in pairs if isinstance(a, (int, float)) and isinstance(b, (int, float))
            and not math.isnan(a) and not math.isnan(b)]
    return [a for a, _ in kept], [b for _, b in kept]


def correlation(table: tabular.Table, first: str, second: str, keys=None) -> tuple[int, float, float]:
    """n, Spearman's rho and Kendall's tau-b between two columns (over the architectures of `keys`, if given)."""
    x, y = _pairs(table, first, second, keys)
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
    rows.append(["noise ceiling for the two-seed mean (sqrt of the Spearman-Brown reliability)", n,
                 mean_ceiling(test_rho), "", mean_ceiling(val_rho), ""])
    for column in ("test_accuracy", "val_accuracy"):
        half = better_half(table, column)
        n, rho, tau = correlation(table, f"{column}_s{first}", f"{column}_s{second}", half)
        rows.append([f"seed {first} vs seed {second}, the better half by two-seed mean {column.split('_')[0]}", n,
                     *((rho, tau, "", "") if column == "test_accuracy" else ("", "", rho, tau))])
    return rows


def better_half(table: tabular.Table, column: str) -> set[str]:
    """The architectures whose two-seed mean `column` is at least the median's."""
    middle = statistics.median(row[column] for row in table.rows.values())
    return {key for key, row in table.rows.items() if row[column] >= middle}


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
          "the next row estimates from it the ceiling for the two-seed mean, and the last two correlate the seeds "
          "over the better half of the architectures.\n")
    accuracies = [row[f"test_accuracy_s{seed}"] for row in table.rows.values() for seed in tabular.SEEDS]
    print(f"Test accuracies (one seed) span {min(accuracies):.1%} to {max(accuracies):.1%}.\n")
    header = ["predictor", "n", "Spearman (test)", "Kendall (test)", "Spearman (val)", "Kendall (val)"]
    print(tables.to_markdown(header, correlations(table)))
    if raw_proxies.exists():
        print(f"\nMedian seconds per architecture ({raw_proxies.name}): "
              + ", ".join(f"{name} {seconds:.2f}" for name, seconds in proxy_seconds(raw_proxies).items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", choices=tuple(tabular.BENCHMARKS), default="cluttered")
    parser.add_argument("--tuners", nargs="+", choices=replay.TUNERS, default=list(replay.TUNERS))
    parser.add_argument("--prescreen", type=int, default=10, metavar="K",
                        help="candidates per draw when prescreening (10)")
    parser.add_argument("--proxy", choices=tabular.PROXY_COLUMNS, default="synflow")
    parser.add_argument("--repetitions", type=int, default=25)
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--epochs-budget", type=int, metavar="B",
                        help=f"epochs each replay trains in all (default {FULL_TRAININGS} x {tabular.EPOCHS})")
    length.add_argument("--trials", type=int, metavar="N", help="trials each replay runs, instead of a budget")
    parser.add_argument("--shard", default="0/1", help="I/N: run every N-th replay from the I-th (default 0/1)")
    parser.add_argument("--correlations", action="store_true", help="only print the proxies' rank correlations")
    parser.add_argument("--report", action="store_true",
                        help="only print the tables of the replays already in the file (run none)")
    args = parser.parse_args()
    if args.trials is None and args.epochs_budget is None:
        args.epochs_budget = FULL_TRAININGS * tabular.EPOCHS
    for name in ("prescreen", "repetitions", "trials", "epochs_budget"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer. Received: {getattr(args, name)}")
    shard = args.shard.split("/")
    if len(shard) != 2 or not all(part.isdigit() for part in shard) or not int(shard[0]) < int(shard[1]):
        parser.error(f"--shard must be I/N with 0 <= I < N. Received: {args.shard}")
    path, args.output = FOLDER / f"{args.benchmark}.csv", FOLDER / f"replays_{args.benchmark}.jsonl"
    if not path.exists():
        print(f"{path} not found: run benchmarks/tabular_benchmark.py --benchmark {args.benchmark} (train, proxies, "
              "assemble) first", file=sys.stderr)
        raise SystemExit(2)
    table = tabular.Table(path, tabular.BENCHMARKS[args.benchmark])
    proxies = FOLDER / "raw" / args.benchmark / "proxies.jsonl"
    if args.correlations:
        report_correlations(table, proxies)
        return
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    table_id = fingerprint(path)
    if not args.report:
        run_replays(args, table, table_id)
    report_replays(args, table_id, args.benchmark)
    report_correlations(table, proxies)


if __name__ == "__main__":
    main()
