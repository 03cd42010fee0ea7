"""The `convnas` command line.

User errors (bad flags, impossible shapes, unknown names) print one line on
stderr and exit with status 2; internal bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def quiet_import_tensorflow() -> None:
    """Imports TensorFlow with its import-time C++ log lines (CUDA probing, oneDNN notes) kept off stderr.

    TF_CPP_MIN_LOG_LEVEL does not silence the lines written before absl's
    logging starts, so stderr is pointed at /dev/null for the import only.
    """
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class UsageError(Exception):
    """A mistake in what the user asked for: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


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
    from experiments import block_listing

    rows = block_listing.block_rows(args.input_shape, args.filters)
    print(block_listing.format_json(rows) if args.json else block_listing.format_table(rows))
    return 0


def _cost_command(args: argparse.Namespace) -> int:
    import warnings

    from experiments import cost_report
    from search import cost, profiler

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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="convnas",
        description="Convolutional architecture search and ablation studies on Keras 3 and keras-tuner.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        quiet_import_tensorflow()
        return args.run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
