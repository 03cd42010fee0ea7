"""The `convnas` commands: what each one does once its arguments are parsed.

Each command takes the parsed arguments and returns the exit status; a user
error is raised as a `UsageError` (one line, status 2). Only the commands
that build models (search, ablate, cost, blocks) import TensorFlow, quietly
(`quiet_import_tensorflow`), and only once their arguments and spec are
valid. `search` and `ablate` refuse a --logdir they cannot write before
anything runs (`check_logdir`), and end on Ctrl-C with what is kept and the
command that resumes (`resume_command`), exit status 130.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.util
import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from convnas.arguments import UsageError, spec_flag_values
from convnas.suggestions import did_you_mean

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SUPERVISED = "CONVNAS_SUPERVISED"  # set for the chief and workers `convnas search --workers N` starts


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


def check_logdir(command: str, logdir: str | os.PathLike) -> None:
    """UsageError (one line: the folder, why, what to do) unless `logdir` is a folder this process can write, or
    one it can make: checked before a search or study starts, so that neither fails at its first write.

    Nothing is created here: a run that stops on bad input leaves no folder behind. A remote folder (a path with
    a scheme, gs://...) is left to its file system.
    """
    if "://" in str(logdir):
        return
    path = Path(logdir).absolute()
    nearest = path
    while not os.path.lexists(nearest) and nearest.parent != nearest:  # the folder the missing ones go under
        nearest = nearest.parent
    received = f"Received: logdir={str(logdir)!r}"
    if nearest == path:
        where = f"the log folder {logdir}"
    else:
        where = f"the log folder {logdir} cannot be created: {nearest}"
    if not nearest.is_dir():
        raise UsageError(f"convnas {command}: {where} is a file, not a folder; choose another --logdir. {received}")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise UsageError(f"convnas {command}: {where} is not writable (permission denied); choose a folder you can "
                         f"write with --logdir. {received}")


@contextlib.contextmanager
def _logdir_errors(command: str, logdir: str | os.PathLike) -> Iterator[None]:
    """A folder that turns out unwritable while a run writes in `logdir` (a read-only file system, permissions
    changed meanwhile) is a UsageError naming the file, not a traceback."""
    unwritable = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT)
    try:
        yield
    except OSError as error:
        inside = error.filename is not None and Path(error.filename).absolute().is_relative_to(
            Path(logdir).absolute())
        if error.errno not in unwritable or not inside:
            raise
        raise UsageError(f"convnas {command}: the log folder {logdir} cannot be written ({error.strerror}: "
                         f"{error.filename}); choose another --logdir. Received: logdir={str(logdir)!r}") from None


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C always stops the run: a KeyboardInterrupt raised while Python runs a finalizer (a weakref callback
    or `__del__`, frequent as Keras frees a model) would be printed as "Exception ignored" and lost, and the
    run would go on; here SIGINT is sent again once the hook has returned (raised inside the hook, it would be
    lost the same way), from a timer thread, until it lands outside a finalizer."""
    previous = sys.unraisablehook

    def hook(unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            resend = threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGINT))
            resend.daemon = True
            resend.start()
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def resume_command(argv: list[str]) -> str:
    """The command line that resumes the run `argv` started: the same one, less --overwrite (or its
    abbreviation), which would start afresh."""
    kept = [arg for arg in argv if not (arg.startswith("--ov") and "--overwrite".startswith(arg))]
    return shlex.join(["convnas", *kept])


def _interrupted(what: str, kept: int, total: int | None, logdir: str | os.PathLike, argv: list[str]) -> int:
    """After Ctrl-C: two lines on stderr (what is kept, the command that resumes); exit status 130."""
    from convnas.search.common.tables import plural

    counted = plural(kept, what) if total is None else f"{kept} of {plural(total, what)}"
    print(f"interrupted: {counted} finished and kept in {logdir}", file=sys.stderr)
    print(f"resume with: {resume_command(argv)}", file=sys.stderr, flush=True)
    return 128 + signal.SIGINT


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
    from convnas.search.common import backends
    from convnas.search.cost import profiler

    backend = backends.name()
    if args.check and backend != "tensorflow":
        raise UsageError(f"convnas cost: --check counts with TensorFlow's profiler, which needs "
                         f"KERAS_BACKEND=tensorflow. Received: KERAS_BACKEND={backend}")
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
    check_logdir("search", search_spec.logdir)
    if args.workers is not None:
        return _supervise(search_spec, args)
    try:
        with _interruptible(), _logdir_errors("search", search_spec.logdir):
            return _search(search_spec, args)
    except KeyboardInterrupt:
        if os.environ.get(SUPERVISED):  # a chief or worker of `--workers N`: its supervisor says what to do
            return 128 + signal.SIGINT
        from convnas.search.records.trial_records import TrialRecords

        kept = len(TrialRecords(search_spec.logdir).read())
        return _interrupted("trial", kept, search_spec.max_trials, search_spec.logdir, args.argv)


def _search(search_spec, args: argparse.Namespace) -> int:
    """`convnas search` in this process: a search, a distributed search's chief or one of its workers."""
    quiet_import_tensorflow()
    from convnas.search import runner
    from convnas.search.common import backends, spec_files
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
            backends.set_threads(args.threads)
        runner.run_search(search_spec, write=_print_now, lost_worker_timeout=args.lost_worker_timeout)
    except (spec_files.SpecError, datasets.DatasetError, runner.SearchStopped, sampler.NoFeasibleCandidate) as error:
        raise UsageError(f"convnas search: {error}") from None
    return 0


def _supervise(search_spec, args: argparse.Namespace) -> int:
    """`convnas search --workers N`: a chief and N workers on this machine, supervised."""
    import shutil

    from convnas.search.tuners import distributed

    if args.serve_chief or args.worker_id or args.chief:
        raise UsageError(
            "convnas search: --workers starts its own chief and workers; drop --serve-chief/--worker-id/--chief"
        )
    if search_spec.overwrite and Path(search_spec.logdir).exists():
        shutil.rmtree(search_spec.logdir)
    threads = max(1, (os.cpu_count() or 1) // args.workers)
    command = [sys.executable, "-m", "convnas", *distributed.child_arguments(args.argv)]
    supervisor = distributed.Supervisor(command, args.workers, threads, _print_now, logdir=search_spec.logdir)
    os.environ[SUPERVISED] = "1"  # the chief and workers inherit it
    with _signals_interrupt():  # `kill PID` unwinds the supervisor, which stops its chief and workers
        try:
            return supervisor.run()
        except KeyboardInterrupt:
            from convnas.search.records.trial_records import TrialRecords

            kept = len(TrialRecords(search_spec.logdir).read())
            return _interrupted("trial", kept, search_spec.max_trials, search_spec.logdir, args.argv)
        finally:
            del os.environ[SUPERVISED]


def trials_command(args: argparse.Namespace) -> int:
    """`convnas trials LOGDIR`: a search's trial records."""
    from convnas.search.records import trial_records as records

    _existing_folder("trials", args.logdir)
    trial_records = records.TrialRecords(args.logdir)
    if not trial_records.exists():
        hint = "; it holds an ablation study: `convnas table LOGDIR` prints its table" if _is_study(args.logdir) else ""
        raise UsageError(
            f"convnas trials: no trial records in LOGDIR (no trials.jsonl){hint}. Received: LOGDIR={args.logdir!r}"
        )
    form = args.format or ("md" if args.all else "text")
    if form == "text" and args.all:
        raise UsageError("convnas trials: --all needs a format that holds every column. Received: --format text "
                         "--all; use --format md, csv or json")
    rows = trial_records.read()
    formats = {"text": lambda: records.to_text(rows), "csv": lambda: records.to_csv(rows, args.all),
               "md": lambda: records.to_markdown(rows, args.all), "json": lambda: records.to_json(rows)}
    print(formats[form]().rstrip("\n"))
    return 0


def _existing_folder(command: str, logdir: str) -> None:
    if not os.path.isdir(logdir):
        what = "is not a folder" if os.path.exists(logdir) else "does not exist"
        raise UsageError(f"convnas {command}: LOGDIR {what}. Received: LOGDIR={logdir!r}")


def _is_study(logdir: str) -> bool:
    return os.path.exists(os.path.join(logdir, "study.json"))  # experiments.study_logs.STUDY_FILE


def _is_search(logdir: str) -> bool:
    return any(os.path.exists(os.path.join(logdir, name)) for name in ("trials.jsonl", "spec.json"))


def _check_port_free(host: str, port: int) -> None:
    """A busy port or an unknown host is the user's to change: one line, before TensorBoard is started."""
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UsageError(f"convnas board: --host {host!r} is not an address this machine can bind "
                         f"({error.strerror}); try 127.0.0.1 or 0.0.0.0") from None
    family, kind, proto, _, address = addresses[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as TensorBoard's server binds
        try:
            probe.bind(address)
        except OSError as error:
            busy = error.errno == errno.EADDRINUSE
            reason = "is in use (another TensorBoard?)" if busy else f"cannot be bound ({error.strerror})"
            raise UsageError(f"convnas board: --port {port} {reason} on {host}; choose another --port") from None


def board_command(args: argparse.Namespace) -> int:
    """`convnas board LOGDIR`: TensorBoard on a search's or a study's logs, until interrupted."""
    import subprocess

    logdir = Path(args.logdir)
    folder = logdir / "tensorboard" if (logdir / "tensorboard").is_dir() else logdir
    if not folder.is_dir():
        raise UsageError(f"convnas board: LOGDIR is not a folder. Received: LOGDIR={args.logdir!r}")
    _check_port_free(args.host, args.port)
    # TensorBoard imports TensorFlow: quietly, as the model commands do (`python -m tensorboard.main` otherwise).
    tensorboard = ("from convnas.commands import quiet_import_tensorflow; quiet_import_tensorflow(); "
                   "import tensorboard.main as m; m.run_main()")
    # The fast (Rust) loader where it is installed, named explicitly so TensorBoard does not announce it as a NOTE.
    load_fast = "true" if importlib.util.find_spec("tensorboard_data_server") else "false"
    command = [sys.executable, "-c", tensorboard, "--logdir", str(folder), "--host", args.host,
               "--port", str(args.port), f"--load_fast={load_fast}"]
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
        study = ablation_spec.load_study(args.study, full=args.full, overrides=overrides,
                                         confirmation=args.confirmation)
    except ablation_spec.SpecError as error:
        names = ablation_spec.builtin_names()
        if os.path.exists(args.study) or args.study in names:  # only a mistyped study name gets a suggestion
            names = []
        raise UsageError(f"convnas ablate: {error}{did_you_mean(args.study, names)}") from None
    logdir = args.logdir or os.path.join("logs", "ablate", study.name + ("-full" if args.full else ""))
    check_logdir("ablate", logdir)
    try:
        with _interruptible(), _logdir_errors("ablate", logdir):
            quiet_import_tensorflow()
            from convnas.experiments import ablation
            from convnas.search.data import datasets

            try:
                command = " ".join(["convnas", *args.argv])
                ablation.run_study(study, logdir, overwrite=args.overwrite, write=_print_now, command=command)
            except (ablation_spec.SpecError, datasets.DatasetError) as error:
                raise UsageError(f"convnas ablate: {error}") from None
    except KeyboardInterrupt:
        from convnas.experiments import study_logs

        return _interrupted("run", len(study_logs.read_runs(logdir)), None, logdir, args.argv)
    return 0


def table_command(args: argparse.Namespace) -> int:
    """`convnas table LOGDIR`: a study's table, rebuilt from its logs."""
    from convnas.experiments import study_logs
    from convnas.search.common.spec_files import SpecError

    _existing_folder("table", args.logdir)
    if not _is_study(args.logdir) and _is_search(args.logdir):
        raise UsageError(f"convnas table: LOGDIR holds a search, not an ablation study: `convnas trials LOGDIR` lists "
                         f"its trials. Received: LOGDIR={args.logdir!r}")
    logdir = Path(args.logdir)
    try:
        study = study_logs.read_study(logdir)
    except SpecError as error:
        raise UsageError(f"convnas table: {error}") from None
    from convnas.experiments import ablation_table  # SciPy's statistics: only once there is a study to tabulate

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
