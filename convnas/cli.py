"""The `convnas` command line: its parser (`build_parser`) and entry point (`main`, the console script).

The flags of `convnas search` and `convnas ablate` that set a spec field are
generated from the spec dataclasses (`arguments.add_spec_flags`); the
commands themselves live in `commands`. User errors (bad flags, impossible
shapes, unknown names) print one line on stderr and exit with status 2;
internal bugs keep their traceback.

Only the commands that build models (search, ablate, cost, blocks) import
TensorFlow, and only once their arguments and spec are validated: help, flag
and spec errors, `trials`, `table` and `board` answer without it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from convnas import __version__, commands
from convnas.arguments import Parser, UsageError, add_spec_flags, port_argument, positive_int_argument, shape_argument
from convnas.commands import quiet_import_tensorflow
from convnas.experiments.ablation_spec import AblationSpec, builtin_names
from convnas.search.space.spec import SearchSpec

__all__ = ["build_parser", "main", "quiet_import_tensorflow"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; each sets `run`, the function that runs it (`commands`)."""
    parser = Parser(
        prog="convnas",
        description="Convolutional architecture search and ablation studies on Keras 3 and keras-tuner.",
    )
    parser.add_argument("--version", action="version", version=f"convnas {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    subcommands.required = True
    parser.command_parsers = subcommands.choices
    listing = subcommands.add_parser(
        "blocks",
        help="list every registered block with its output shape, parameters and MACs",
        description="List every registered block with its output shape, parameter count and "
        "multiply-accumulates (MACs, batch 1) on one input. 1D blocks read H,W,C as H steps of C channels.",
    )
    listing.add_argument("--input-shape", type=shape_argument, default=(32, 32, 16), metavar="H,W,C",
                         help="the input every block is counted on (default: 32,32,16)")
    listing.add_argument(
        "--filters", type=positive_int_argument, default=None, help="output width of blocks that take one (default: C)"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(run=commands.blocks_command)

    costing = subcommands.add_parser(
        "cost",
        help="parameters, MACs, FLOPs and memory of a .keras file or a keras.applications model",
        description="Exact parameters, MACs, FLOPs and memory of MODEL: a .keras file, or the name of a "
        "keras.applications model (built with weights=None, nothing downloaded), e.g. MobileNet.",
    )
    costing.add_argument("model", metavar="MODEL", help="a .keras file or a keras.applications name")
    costing.add_argument("--input-shape", type=shape_argument, default=None, metavar="H,W,C",
                         help="input of a keras.applications model (default: the model's own, e.g. 224,224,3)")
    costing.add_argument("--batch-size", type=positive_int_argument, default=1, metavar="N",
                         help="images per batch the cost is counted for (default: %(default)s)")
    costing.add_argument("--per-layer", action="store_true", help="also print one row per layer")
    costing.add_argument("--json", action="store_true", help="print JSON")
    costing.add_argument("--check", action="store_true", help="also count with TensorFlow's profiler (slow)")
    costing.set_defaults(run=commands.cost_command)

    searching = subcommands.add_parser(
        "search",
        help="architecture search with keras-tuner over the blocks and cells",
        description="Architecture search with keras-tuner over every block and cell. With no arguments: a small "
        "random search on the bundled digits data. Flags override the SPEC file; the defaults shown apply where "
        "neither sets a value. Re-running on the same --logdir resumes a killed search.",
    )
    searching.add_argument("spec", metavar="SPEC.yaml", nargs="?", help="search specification (YAML)")
    add_spec_flags(searching, SearchSpec)
    cluster = searching.add_argument_group("distributed search (keras-tuner's chief/worker engine)")
    cluster.add_argument("--workers", type=positive_int_argument, metavar="N",
                         help="run a chief and N workers on this machine (loopback), each with cores/N threads")
    cluster.add_argument("--serve-chief", action="store_true",
                         help="be the chief: serve the oracle on --chief HOST:PORT")
    cluster.add_argument("--worker-id", metavar="ID",
                         help="be a worker with this id, of the chief at --chief HOST:PORT")
    cluster.add_argument("--chief", metavar="HOST:PORT", help="the chief's address (bind address for --serve-chief)")
    cluster.add_argument("--threads", type=positive_int_argument, metavar="N",
                         help="compute threads of this process (on any backend)")
    cluster.add_argument("--lost-worker-timeout", type=float, default=600.0, metavar="S",
                         help="chief: fail a trial whose worker is silent this long (default: %(default)s)")
    searching.set_defaults(run=commands.search_command)

    trials = subcommands.add_parser(
        "trials", help="print a search's trial records",
        description="Print LOGDIR's trial records: trial, status, validation accuracy, parameters, FLOPs, latency, "
        "epochs, the architecture in short and why a trial was not trained; --all: every column, as in "
        "LOGDIR/trials.csv.",
    )
    trials.add_argument("logdir", metavar="LOGDIR")
    trials.add_argument("--format", choices=("text", "md", "csv", "json"), default=None,
                        help="text: fixed-width, within 100 columns; md: a Markdown table; csv: every column; "
                             "json: the records, every field (default: text, or md with --all)")
    trials.add_argument("--all", action="store_true",
                        help="every column: results, cost, schedule and every hyperparameter (md, csv)")
    trials.set_defaults(run=commands.trials_command)

    ablate = subcommands.add_parser(
        "ablate",
        help="run an ablation study (built-in name or SPEC.yaml) over seeds, and tabulate it",
        description="Run every variant x seed of an ablation study and write its table (per variant: mean, std and "
        "95% CI over seeds; the difference against its reference, the baseline or the variant the study names, "
        "tested with an exact permutation test, p-values Holm-adjusted across the study's comparisons, the "
        "minimum detectable effect and a verdict on the study's claim), report, charts and TensorBoard logs. "
        f"Re-running on the same --logdir skips finished runs. Built-in studies: {', '.join(builtin_names())}.",
    )
    ablate.add_argument("study", metavar="NAME_OR_SPEC.yaml")
    add_spec_flags(ablate, AblationSpec, types={int: positive_int_argument}, unset_default="the study's")
    ablate.add_argument("--logdir", metavar="DIR", help="where the study writes (default logs/ablate/NAME)")
    settings = ablate.add_mutually_exclusive_group()
    settings.add_argument("--full", action="store_true", help="the study's full settings (CIFAR-10; for a GPU)")
    settings.add_argument("--confirmation", nargs="?", type=positive_int_argument, const=1, default=0, metavar="K",
                          help="the study's (K-th, default 1st) confirmation: claims tested again on the fresh "
                               "seeds its YAML plans")
    ablate.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    ablate.set_defaults(run=commands.ablate_command)

    table = subcommands.add_parser(
        "table", help="rebuild an ablation study's table from its logs", description="Print the table of LOGDIR's runs."
    )
    table.add_argument("logdir", metavar="LOGDIR")
    table.add_argument("--format", choices=("md", "text", "csv", "latex", "report", "summary"), default="md",
                       help="md/text/latex: the compact table; csv: every column; report: the table with the study's "
                            "claim, command, versions, machine and figures (Markdown); summary: the claim and the "
                            "verdicts, as the results index shows them (default: %(default)s)")
    table.set_defaults(run=commands.table_command)

    board = subcommands.add_parser(
        "board",
        help="open TensorBoard on a search's or an ablation study's logs",
        description="Start TensorBoard on LOGDIR (a search's or an ablation study's --logdir; its tensorboard/ "
        "folder if it has one), bound to 127.0.0.1 unless --host says otherwise. Ctrl-C, SIGTERM and SIGHUP stop it.",
    )
    board.add_argument("logdir", metavar="LOGDIR")
    board.add_argument("--port", type=port_argument, default=6006,
                       help="port to serve on (default: %(default)s)")
    board.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    board.set_defaults(run=commands.board_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command `argv` (default: sys.argv[1:]); returns the exit status, 2 for a user error.

    The command sees its own command line as `args.argv` (what resumes a run). Output to a closed pipe
    (`convnas trials LOGDIR | head`) ends the command quietly, with status 141 (128 + SIGPIPE), as a
    program killed by SIGPIPE.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            args = build_parser().parse_args(argv)
            args.argv = argv
            return args.run(args)
        finally:
            sys.stdout.flush()  # here, not at exit, where a closed pipe is a message of Python's own
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _discard_output()
        return 128 + signal.SIGPIPE


def _discard_output() -> None:
    """Points stdout at /dev/null, so that flushing what is left of its buffer (at exit too) cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # a stdout without a file descriptor (a test's capture)
        pass


if __name__ == "__main__":
    sys.exit(main())
