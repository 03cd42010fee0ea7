"""The `convnas` commands: what each one does once its arguments are parsed.

Each command takes the parsed arguments and returns the exit status; a user
error is raised as a `UsageError` (one line, status 2). Only the commands
that build models (search, ablate, cost, blocks) import TensorFlow, quietly
(`quiet_import_tensorflow`), and only once their arguments and spec are
valid.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator

from convnas.arguments import UsageError, spec_flag_values
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


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (`kill PID`, a closed terminal) interrupt like Ctrl-C, so that child processes are stopped."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    numbers = [number for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if number]
    previous = {number: signal.signal(number, interrupt) for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def blocks_command(args: argparse.Namespace) -> int:
    """`convnas blocks`: every registered block's output shape, parameters and MACs on one input."""
    quiet_import_tensorflow()
    from convnas import block_listing

    rows = block_listing.block_rows(args.input_shape, args.filters)
    print(block_listing.format_json(rows) if args.json else block_listing.format_table(rows))
    return 0


def cost_command(args: argparse.Namespace) -> int:
    """`convnas cost MODEL`: the exact cost of a .keras file or a keras.applications model."""
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


def search_command(args: argparse.Namespace) -> int:
    """`convnas search`: the spec file and flags validated, then the search run (or supervised, with --workers)."""
    from convnas.search.common import spec_files
    from convnas.search.space import spec

    try:
        flags = spec_flag_values(args, spec.SearchSpec)
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
        raise UsageError(
            "convnas search: --workers starts its own chief and workers; drop --serve-chief/--worker-id/--chief"
        )
    if search_spec.overwrite and Path(search_spec.logdir).exists():
        shutil.rmtree(search_spec.logdir)
    threads = max(1, (os.cpu_count() or 1) // args.workers)
    command = [sys.executable, "-m", "convnas", *distributed.child_arguments(sys.argv[1:])]
    supervisor = distributed.Supervisor(command, args.workers, threads, _print_now, logdir=search_spec.logdir)
    with _signals_interrupt():  # `kill PID` unwinds the supervisor, which stops its chief and workers
        try:
            return supervisor.run()
        except KeyboardInterrupt:
            _print_now("distributed search stopped; the same command resumes it")
            return 128 + signal.SIGINT


def trials_command(args: argparse.Namespace) -> int:
    """`convnas trials LOGDIR`: a search's trial records."""
    from convnas.search.records import trial_records as records

    trial_records = records.TrialRecords(args.logdir)
    if not trial_records.exists():
        raise UsageError(
            f"convnas trials: no trial records in LOGDIR (no trials.jsonl). Received: LOGDIR={args.logdir!r}"
        )
    rows = trial_records.read()
    formats = {"csv": lambda: records.to_csv(rows, args.all), "md": lambda: records.to_markdown(rows, args.all),
               "json": lambda: records.to_json(rows)}
    print(formats[args.format]().rstrip("\n"))
    return 0


def board_command(args: argparse.Namespace) -> int:
    """`convnas board LOGDIR`: TensorBoard on a search's or a study's logs, until interrupted."""
    import subprocess
    from pathlib import Path

    logdir = Path(args.logdir)
    folder = logdir / "tensorboard" if (logdir / "tensorboard").is_dir() else logdir
    if not folder.is_dir():
        raise UsageError(f"convnas board: LOGDIR is not a folder. Received: LOGDIR={args.logdir!r}")
    # TensorBoard imports TensorFlow: quietly, as the model commands do (`python -m tensorboard.main` otherwise).
    tensorboard = ("from convnas.commands import quiet_import_tensorflow; quiet_import_tensorflow(); "
                   "import tensorboard.main as m; m.run_main()")
    command = [sys.executable, "-c", tensorboard, "--logdir", str(folder), "--host", args.host,
               "--port", str(args.port)]
    print(f"TensorBoard for {folder}: http://{args.host}:{args.port}/  "
          "(HParams tab: accuracy beside cost; Ctrl-C stops)")
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


def ablate_command(args: argparse.Namespace) -> int:
    """`convnas ablate`: a study's spec and flags validated, then every variant x seed run and tabulated."""
    from convnas.experiments import ablation_spec

    try:
        overrides = spec_flag_values(args, ablation_spec.AblationSpec)
        study = ablation_spec.load_study(args.study, full=args.full, overrides=overrides)
    except ablation_spec.SpecError as error:
        names = ablation_spec.builtin_names()
        if os.path.exists(args.study) or args.study in names:  # only a mistyped study name gets a suggestion
            names = []
        raise UsageError(f"convnas ablate: {error}{did_you_mean(args.study, names)}") from None
    quiet_import_tensorflow()
    from convnas.experiments import ablation
    from convnas.search.data import datasets

    try:
        logdir = args.logdir or os.path.join("logs", "ablate", study.name + ("-full" if args.full else ""))
        command = " ".join(["convnas", *sys.argv[1:]])
        ablation.run_study(study, logdir, overwrite=args.overwrite, write=_print_now, command=command)
    except (ablation_spec.SpecError, datasets.DatasetError) as error:
        raise UsageError(f"convnas ablate: {error}") from None
    return 0


def table_command(args: argparse.Namespace) -> int:
    """`convnas table LOGDIR`: a study's table, rebuilt from its logs."""
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
    formats = {"md": lambda: ablation_table.to_markdown(study, rows),
               "text": lambda: ablation_table.to_text(study, rows),
               "csv": lambda: ablation_table.to_csv(rows), "latex": lambda: ablation_table.to_latex(study, rows),
               "report": lambda: ablation_table.to_report(study, rows, ablation_table.report_files(logdir)),
               "summary": lambda: ablation_table.to_summary(study, rows, f"{study['name']}/report.md")}
    print(formats[args.format]().rstrip("\n"))
    return 0
