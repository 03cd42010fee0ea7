"""The `convnas` command line.

User errors (bad flags, impossible shapes, unknown names) print one line on
stderr and exit with status 2; internal bugs keep their traceback.

Only the commands that build models (search, ablate, cost, blocks) import
TensorFlow, and only once their arguments and spec are validated: help, flag
and spec errors, `trials`, `table` and `board` answer without it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence

from convnas.suggestions import did_you_mean

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def quiet_import_tensorflow() -> None:
    """Imports TensorFlow with its import-time C++ log lines (CUDA probing, oneDNN notes) kept off stderr.

    TF_CPP_MIN_LOG_LEVEL does not silence the lines written before absl's
    logging starts, so stderr is pointed at /dev/null for the import only.
    """
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow

        tensorflow.get_logger().setLevel("ERROR")  # retracing notices and the like
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _print_now(line: str) -> None:
    """Progress lines reach a log file as they are printed, not when a buffer fills."""
    print(line, flush=True)


class UsageError(Exception):
    """A mistake in what the user asked for: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are UsageErrors that suggest the closest valid flag, command or choice.

    (Python 3.14's `suggest_on_error` covers choices only, and only there; this works on every supported Python.)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.command_parsers: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")

    def parse_args(self, args=None, namespace=None):
        args = sys.argv[1:] if args is None else list(args)
        try:
            namespace, extras = self.parse_known_args(args, namespace)
        except UsageError as error:  # a required argument missing: often because a mistyped flag took its place
            parser = self.command_parsers.get(next((arg for arg in args if arg in self.command_parsers), None), self)
            unknown = self._unknown_flag(parser, args)
            if unknown is None or "arguments are required" not in str(error):
                raise
            raise UsageError(f"{error}; unrecognized arguments: {unknown}{did_you_mean(unknown, self._flags(parser))}") from None
        if extras:  # reported by the command's own parser, which knows the valid flags
            parser = self.command_parsers.get(getattr(namespace, "command", None), self)
            unknown = next((extra.split("=", 1)[0] for extra in extras if extra.startswith("-")), None)
            parser.error(f"unrecognized arguments: {' '.join(extras)}{did_you_mean(unknown, self._flags(parser)) if unknown else ''}")
        return namespace

    @staticmethod
    def _flags(parser: argparse.ArgumentParser) -> list[str]:
        return [option for action in parser._actions for option in action.option_strings]

    @classmethod
    def _unknown_flag(cls, parser: argparse.ArgumentParser, args: Sequence[str]) -> str | None:
        """The first of `args` that looks like a flag and is no flag of `parser`, nor a prefix of one (argparse's abbreviations)."""
        flags = cls._flags(parser)
        for arg in args:
            flag = arg.split("=", 1)[0]
            if flag.startswith("-") and flag not in ("-", "--") and not any(option.startswith(flag) for option in flags):
                return flag
        return None

    def _check_value(self, action: argparse.Action, value) -> None:
        """argparse's check of a choice (a command, a --format), with the closest valid choice suggested."""
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as error:
            if "did you mean" in error.message:
                raise
            raise argparse.ArgumentError(action, error.message + did_you_mean(str(value), map(str, action.choices))) from None


class _SearchHelp(argparse.HelpFormatter):
    """`convnas search --help` ends each flag's help with SearchSpec's default for it.

    The flags themselves default to None, so that a SPEC file's values stand unless a flag is given.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        import dataclasses

        from convnas.search.space.spec import SearchSpec

        defaults = {field.name: field.default for field in dataclasses.fields(SearchSpec)}
        default = defaults.get(action.dest)
        if default is None or isinstance(default, bool) or default is dataclasses.MISSING:
            return action.help
        return f"{action.help} (default: {default})" if action.help else f"default: {default}"


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (`kill PID`, a closed terminal) interrupt like Ctrl-C, so that child processes are stopped."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if number}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def shape_argument(text: str) -> tuple[int, ...]:
    """Parses "H,W,C" into positive integers."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"must be three positive integers H,W,C. Received: {text!r}"
        )
    return values


def positive_int_argument(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value


def _blocks_command(args: argparse.Namespace) -> int:
    quiet_import_tensorflow()
    from convnas import block_listing

    rows = block_listing.block_rows(args.input_shape, args.filters)
    print(block_listing.format_json(rows) if args.json else block_listing.format_table(rows))
    return 0


def _cost_command(args: argparse.Namespace) -> int:
    import warnings

    quiet_import_tensorflow()
    from convnas import cost_report
    from convnas.search import cost
    from convnas.search.cost import profiler

    try:
        model = cost_report.load_model(args.model, args.input_shape)
    except cost_report.ModelError as error:
        raise UsageError(f"convnas cost: {error}") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # uncounted layers are reported in the output itself
        counted = cost.count(model, batch_size=args.batch_size)
    if args.json:
        print(cost_report.format_json(counted))
    else:
        print(cost_report.format_summary(args.model, counted, args.batch_size))
        if args.per_layer:
            print()
            print(cost_report.format_layers(counted))
    if args.check:
        tensorflow_flops = profiler.profiler_flops(model, batch_size=args.batch_size)
        comparable = profiler.comparable_flops(counted)
        print(
            f"check: cost model {comparable:,} FLOPs (less layers the profiler does not count), "
            f"TensorFlow profiler {tensorflow_flops:,}, ratio {comparable / max(tensorflow_flops, 1):.4f}",
            file=sys.stderr if args.json else sys.stdout,
        )
    return 0


def _search_command(args: argparse.Namespace) -> int:
    from convnas.search.common import spec_files
    from convnas.search.space import spec

    flags = {
        "dataset": args.dataset,
        "tuner": args.tuner,
        "max_trials": args.max_trials,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "max_flops": args.max_flops,
        "max_params": args.max_params,
        "max_latency_ms": args.max_latency_ms,
        "objective": args.objective,
        "cost_weight": args.cost_weight,
        "pareto_cost": args.pareto_cost,
        "prescreen": args.prescreen,
        "proxy": args.proxy,
        "max_redraws": args.max_redraws,
        "logdir": args.logdir,
        "seed": args.seed,
        "deterministic": args.deterministic or None,
        "overwrite": args.overwrite or None,
    }
    try:
        search_spec = spec.build_spec(spec_files.load_yaml(args.spec) if args.spec else {}, flags)
    except spec_files.SpecError as error:
        raise UsageError(f"convnas search: {error}") from None
    if args.workers is not None:
        return _supervise(search_spec, args)
    quiet_import_tensorflow()
    from convnas.search import runner
    from convnas.search.data import datasets
    from convnas.search.tuners import distributed, sampler

    try:
        if args.serve_chief or args.worker_id:
            if not args.chief:
                raise UsageError("convnas search: --serve-chief and --worker-id need --chief HOST:PORT")
            try:
                host, port = distributed.parse_address(args.chief)
            except ValueError as error:
                raise UsageError(f"convnas search: {error}") from None
            distributed.set_role(distributed.CHIEF if args.serve_chief else args.worker_id, host, port)
        if args.threads:
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        runner.run_search(search_spec, write=_print_now, lost_worker_timeout=args.lost_worker_timeout)
    except (spec_files.SpecError, datasets.DatasetError, runner.SearchStopped, sampler.NoFeasibleCandidate) as error:
        raise UsageError(f"convnas search: {error}") from None
    return 0


def _supervise(search_spec, args: argparse.Namespace) -> int:
    """`convnas search --workers N`: a chief and N workers on this machine, supervised."""
    import shutil
    from pathlib import Path

    from convnas.search.tuners import distributed

    if args.serve_chief or args.worker_id or args.chief:
        raise UsageError("convnas search: --workers starts its own chief and workers; drop --serve-chief/--worker-id/--chief")
    if search_spec.overwrite and Path(search_spec.logdir).exists():
        shutil.rmtree(search_spec.logdir)
    threads = max(1, (os.cpu_count() or 1) // args.workers)
    supervisor = distributed.Supervisor([sys.executable, "-m", "convnas", *distributed.child_arguments(sys.argv[1:])], args.workers, threads, _print_now, logdir=search_spec.logdir)
    with _signals_interrupt():  # `kill PID` unwinds the supervisor, which stops its chief and workers
        try:
            return supervisor.run()
        except KeyboardInterrupt:
            _print_now("distributed search stopped; the same command resumes it")
            return 128 + signal.SIGINT


def _trials_command(args: argparse.Namespace) -> int:
    from convnas.search.records import trial_records as records

    trial_records = records.TrialRecords(args.logdir)
    if not trial_records.jsonl.exists():
        raise UsageError(f"convnas trials: no trial records in LOGDIR (no trials.jsonl). Received: LOGDIR={args.logdir!r}")
    rows = trial_records.read()
    formats = {"csv": lambda: records.to_csv(rows, args.all), "md": lambda: records.to_markdown(rows, args.all),
               "json": lambda: records.to_json(rows)}
    print(formats[args.format]().rstrip("\n"))
    return 0


def _board_command(args: argparse.Namespace) -> int:
    import subprocess
    from pathlib import Path

    logdir = Path(args.logdir)
    folder = logdir / "tensorboard" if (logdir / "tensorboard").is_dir() else logdir
    if not folder.is_dir():
        raise UsageError(f"convnas board: LOGDIR is not a folder. Received: LOGDIR={args.logdir!r}")
    # TensorBoard imports TensorFlow: quietly, as the model commands do (`python -m tensorboard.main` otherwise).
    tensorboard = "from convnas.cli import quiet_import_tensorflow; quiet_import_tensorflow(); import tensorboard.main as m; m.run_main()"
    command = [sys.executable, "-c", tensorboard, "--logdir", str(folder), "--host", args.host, "--port", str(args.port)]
    print(f"TensorBoard for {folder}: http://{args.host}:{args.port}/  (HParams tab: accuracy beside cost; Ctrl-C stops)")
    sys.stdout.flush()
    with _signals_interrupt():
        board = subprocess.Popen(command)
        try:
            return board.wait()
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP: stopping is this command's normal end
            return 0
        finally:
            if board.poll() is None:
                board.terminate()
                try:
                    board.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    board.kill()
                    board.wait()


def _ablate_command(args: argparse.Namespace) -> int:
    from convnas.experiments import ablation_spec

    overrides = {"seeds": args.seeds, "epochs": args.epochs, "dataset": args.dataset}
    try:
        study = ablation_spec.load_study(args.study, full=args.full, overrides=overrides)
    except ablation_spec.SpecError as error:
        names = [] if os.path.exists(args.study) else ablation_spec.builtin_names()  # a mistyped study name
        raise UsageError(f"convnas ablate: {error}{did_you_mean(args.study, names)}") from None
    quiet_import_tensorflow()
    from convnas.experiments import ablation
    from convnas.search.data import datasets

    try:
        logdir = args.logdir or os.path.join("logs", "ablate", study.name + ("-full" if args.full else ""))
        ablation.run_study(study, logdir, overwrite=args.overwrite, write=_print_now, command=" ".join(["convnas", *sys.argv[1:]]))
    except (ablation_spec.SpecError, datasets.DatasetError) as error:
        raise UsageError(f"convnas ablate: {error}") from None
    return 0


def _table_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from convnas.experiments import ablation_table, study_logs
    from convnas.search.common.spec_files import SpecError

    logdir = Path(args.logdir)
    try:
        study = study_logs.read_study(logdir)
    except SpecError as error:
        raise UsageError(f"convnas table: {error}") from None
    rows = ablation_table.build_table(study, study_logs.read_runs(logdir))
    if not rows:
        raise UsageError(f"convnas table: LOGDIR holds no finished run yet. Received: LOGDIR={args.logdir!r}")
    formats = {"md": lambda: ablation_table.to_markdown(study, rows), "text": lambda: ablation_table.to_text(study, rows),
               "csv": lambda: ablation_table.to_csv(rows), "latex": lambda: ablation_table.to_latex(study, rows),
               "report": lambda: ablation_table.to_report(study, rows, ablation_table.report_files(logdir)),
               "summary": lambda: ablation_table.to_summary(study, rows, f"{study['name']}/report.md")}
    print(formats[args.format]().rstrip("\n"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="convnas",
        description="Convolutional architecture search and ablation studies on Keras 3 and keras-tuner.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    parser.command_parsers = commands.choices
    listing = commands.add_parser(
        "blocks",
        help="list every registered block with its output shape, parameters and MACs",
        description="List every registered block with its output shape, parameter count and "
        "multiply-accumulates (MACs, batch 1) on one input. 1D blocks read H,W,C as H steps of C channels.",
    )
    listing.add_argument("--input-shape", type=shape_argument, default=(32, 32, 16), metavar="H,W,C")
    listing.add_argument(
        "--filters", type=positive_int_argument, default=None, help="output width of blocks that take one (default: C)"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(run=_blocks_command)

    costing = commands.add_parser(
        "cost",
        help="parameters, MACs, FLOPs and memory of a .keras file or a keras.applications model",
        description="Exact parameters, MACs, FLOPs and memory of MODEL: a .keras file, or the name of a "
        "keras.applications model (built with weights=None, nothing downloaded), e.g. MobileNet.",
    )
    costing.add_argument("model", metavar="MODEL", help="a .keras file or a keras.applications name")
    costing.add_argument("--input-shape", type=shape_argument, default=None, metavar="H,W,C")
    costing.add_argument("--batch-size", type=positive_int_argument, default=1, metavar="N")
    costing.add_argument("--per-layer", action="store_true", help="also print one row per layer")
    costing.add_argument("--json", action="store_true", help="print JSON")
    costing.add_argument("--check", action="store_true", help="also count with TensorFlow's profiler (slow)")
    costing.set_defaults(run=_cost_command)

    searching = commands.add_parser(
        "search",
        help="architecture search with keras-tuner over the blocks and cells",
        description="Architecture search with keras-tuner over every block and cell. With no arguments: a small "
        "random search on the bundled digits data. Flags override the SPEC file; the defaults shown apply where "
        "neither sets a value. Re-running on the same --logdir resumes a killed search.",
        formatter_class=_SearchHelp,
    )
    searching.add_argument("spec", metavar="SPEC.yaml", nargs="?", help="search specification (YAML)")
    searching.add_argument("--dataset", help="digits, cluttered_digits, mnist, fashion_mnist, cifar10, cifar100, npz:PATH, dir:PATH")
    searching.add_argument("--tuner", help="random, grid, bayesian, hyperband, or evolution: regularized evolution, "
                           "which with --objective pareto selects on the accuracy/cost front")
    searching.add_argument("--max-trials", type=int, metavar="N", help="trials to train")
    searching.add_argument("--epochs", type=int, metavar="N", help="training epochs per trial")
    searching.add_argument("--batch-size", type=int, metavar="N", help="training batch size")
    searching.add_argument("--max-flops", type=float, metavar="N", help="redraw candidates with more FLOPs before training")
    searching.add_argument("--max-params", type=float, metavar="N", help="redraw candidates with more parameters")
    searching.add_argument("--max-latency-ms", type=float, metavar="MS", help="redraw candidates slower than this")
    searching.add_argument("--objective", help="val_accuracy, val_loss, or pareto: the accuracy/cost front with "
                           "evolution, accuracy - W * log10 FLOPs with the other tuners")
    searching.add_argument("--pareto-cost", help="flops or params: the cost of the front and its hypervolume")
    searching.add_argument("--prescreen", type=int, metavar="K",
                           help="train the best of K feasible candidates per trial, ranked by --proxy; 1 trains every draw")
    searching.add_argument("--proxy", help="training-free proxy for --prescreen: synflow, naswot, jacob_cov, grad_norm, snip")
    searching.add_argument("--max-redraws", type=int, metavar="N",
                           help="draws per trial, invalid or over-budget ones redrawn, before giving up")
    searching.add_argument("--cost-weight", type=float, metavar="W", help="pareto objective: accuracy lost per decade of FLOPs")
    searching.add_argument("--logdir", metavar="DIR", help="where the search writes")
    searching.add_argument("--seed", type=int, help="seed of the architecture draws, the data split and order, and the initial weights")
    searching.add_argument("--deterministic", action="store_true",
                           help="TensorFlow op determinism: the same seed gives the same architectures and metrics")
    searching.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    cluster = searching.add_argument_group("distributed search (keras-tuner's chief/worker engine)")
    cluster.add_argument("--workers", type=positive_int_argument, metavar="N",
                         help="run a chief and N workers on this machine (loopback), each with cores/N threads")
    cluster.add_argument("--serve-chief", action="store_true", help="be the chief: serve the oracle on --chief HOST:PORT")
    cluster.add_argument("--worker-id", metavar="ID", help="be a worker with this id, of the chief at --chief HOST:PORT")
    cluster.add_argument("--chief", metavar="HOST:PORT", help="the chief's address (bind address for --serve-chief)")
    cluster.add_argument("--threads", type=positive_int_argument, metavar="N", help="TensorFlow threads of this process")
    cluster.add_argument("--lost-worker-timeout", type=float, default=600.0, metavar="S",
                         help="chief: fail a trial whose worker is silent this long (default: %(default)s)")
    searching.set_defaults(run=_search_command)

    trials = commands.add_parser(
        "trials", help="print a search's trial records",
        description="Print LOGDIR's trial records: trial, status, validation accuracy, parameters, FLOPs, latency, "
        "epochs, the architecture in short and why a trial was not trained; --all: every column, as in LOGDIR/trials.csv.",
    )
    trials.add_argument("logdir", metavar="LOGDIR")
    trials.add_argument("--format", choices=("csv", "md", "json"), default="md", help="json: the records, every field")
    trials.add_argument("--all", action="store_true", help="every column: results, cost, schedule and every hyperparameter")
    trials.set_defaults(run=_trials_command)

    ablate = commands.add_parser(
        "ablate",
        help="run an ablation study (built-in name or SPEC.yaml) over seeds, and tabulate it",
        description="Run every variant x seed of an ablation study and write its table (per variant: mean, std and "
        "95% CI over seeds; the difference against its reference, the baseline or the variant the study names, "
        "tested with an exact permutation test, p-values Holm-adjusted across the study's comparisons, the "
        "minimum detectable effect and a verdict on the study's claim), report, charts and TensorBoard logs. "
        "Re-running on the same --logdir skips finished runs. Built-in studies: pooling, upsampling, depth, "
        "conv_type, inception, dilation.",
    )
    ablate.add_argument("study", metavar="NAME_OR_SPEC.yaml")
    ablate.add_argument("--seeds", type=positive_int_argument, metavar="N", help="run seeds 0..N-1")
    ablate.add_argument("--epochs", type=positive_int_argument, metavar="N")
    ablate.add_argument("--dataset", help="digits, cluttered_digits, mnist, fashion_mnist, cifar10, cifar100, npz:PATH, dir:PATH; photos (upsampling)")
    ablate.add_argument("--logdir", metavar="DIR", help="where the study writes (default logs/ablate/NAME)")
    ablate.add_argument("--full", action="store_true", help="the study's full settings (CIFAR-10; for a GPU)")
    ablate.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    ablate.set_defaults(run=_ablate_command)

    table = commands.add_parser(
        "table", help="rebuild an ablation study's table from its logs", description="Print the table of LOGDIR's runs."
    )
    table.add_argument("logdir", metavar="LOGDIR")
    table.add_argument("--format", choices=("md", "text", "csv", "latex", "report", "summary"), default="md",
                       help="md/text/latex: the compact table; csv: every column; report: the table with the study's "
                            "claim, command, versions, machine and figures (Markdown); summary: the claim and the "
                            "verdicts, as the results index shows them")
    table.set_defaults(run=_table_command)

    board = commands.add_parser(
        "board",
        help="open TensorBoard on a search's or an ablation study's logs",
        description="Start TensorBoard on LOGDIR (a search's or an ablation study's --logdir; its tensorboard/ "
        "folder if it has one), bound to 127.0.0.1 unless --host says otherwise. Ctrl-C, SIGTERM and SIGHUP stop it.",
    )
    board.add_argument("logdir", metavar="LOGDIR")
    board.add_argument("--port", type=positive_int_argument, default=6006, help="port to serve on (default: %(default)s)")
    board.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    board.set_defaults(run=_board_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
