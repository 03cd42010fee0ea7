"""The command line's argument parsing: one-line user errors with suggestions, argument types, and spec flags.

`Parser` turns argparse's errors into `UsageError`s that name the closest
valid flag, command or choice. `add_spec_flags` generates a command's flags
from a spec dataclass's fields (`search.space.spec.Flag`: help, metavar,
type), so that each flag is written once, beside the field it sets; the
flags default to None, so a spec file's values stand unless a flag is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence

from convnas.search.space.spec import flags
from convnas.suggestions import did_you_mean


class UsageError(Exception):
    """A mistake in what the user asked for: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse whose errors are UsageErrors that suggest the closest valid flag, command or choice.

    (Python 3.14's `suggest_on_error` covers choices only, and only there; this works on every supported Python.)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.command_parsers: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str):
        if self.command_parsers and message.endswith("arguments are required: COMMAND"):  # a bare `convnas`
            message += f", one of {', '.join(self.command_parsers)} ({self.prog} --help says what each does)"
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
            suggestion = did_you_mean(unknown, self._flags(parser))
            raise UsageError(f"{error}; unrecognized arguments: {unknown}{suggestion}") from None
        if extras:  # reported by the command's own parser, which knows the valid flags
            parser = self.command_parsers.get(getattr(namespace, "command", None), self)
            unknown = next((extra.split("=", 1)[0] for extra in extras if extra.startswith("-")), None)
            suggestion = did_you_mean(unknown, self._flags(parser)) if unknown else ""
            parser.error(f"unrecognized arguments: {' '.join(extras)}{suggestion}")
        return namespace

    @staticmethod
    def _flags(parser: argparse.ArgumentParser) -> list[str]:
        return [option for action in parser._actions for option in action.option_strings]

    @classmethod
    def _unknown_flag(cls, parser: argparse.ArgumentParser, args: Sequence[str]) -> str | None:
        """The first of `args` that looks like a flag and is no flag of `parser`, nor a prefix of one (argparse's
        abbreviations)."""
        flags = cls._flags(parser)
        for arg in args:
            flag = arg.split("=", 1)[0]
            known = any(option.startswith(flag) for option in flags)
            if flag.startswith("-") and flag not in ("-", "--") and not known:
                return flag
        return None

    def _check_value(self, action: argparse.Action, value) -> None:
        """argparse's check of a choice (a command, a --format), with the closest valid choice suggested."""
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as error:
            if "did you mean" in error.message:
                raise
            suggestion = did_you_mean(str(value), map(str, action.choices))
            raise argparse.ArgumentError(action, error.message + suggestion) from None


def shape_argument(text: str) -> tuple[int, ...]:
    """Parses "H,W,C" into positive integers."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"must be three positive integers H,W,C. Received: {text!r}")
    return values


def positive_int_argument(text: str) -> int:
    """Parses a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value


def port_argument(text: str) -> int:
    """Parses a TCP port number, 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number, 1 to 65535. Received: {text!r}")
    return value


def add_spec_flags(
    parser: argparse.ArgumentParser, spec_class: type, types: dict[type, Callable[[str], object]] | None = None,
    unset_default: str | None = None,
) -> None:
    """Adds a flag for every field of the dataclass `spec_class` that has a `Flag`: `--max-trials` for `max_trials`.

    Each flag defaults to None (a switch: None, or True when given), so that
    only the flags given override a spec file. A field's default, unless it
    is None or a switch's, ends its help.

    Args:
        parser: the command's parser.
        spec_class: the spec dataclass (`SearchSpec`, `AblationSpec`).
        types: the argparse type to use for a field's type, where not the type itself (e.g. {int:
            positive_int_argument}, checked as the flag is read).
        unset_default: what stands for a field without a default where the flag is not given (e.g. "the
            study's": a study's own epochs), shown as its default.
    """
    defaults = {field.name: field.default for field in dataclasses.fields(spec_class)}
    for name, flag in flags(spec_class).items():
        text = flag.describe()
        default = defaults[name]
        if default is dataclasses.MISSING and unset_default:
            text += f" (default: {unset_default})"
        elif default is not None and default is not dataclasses.MISSING and not isinstance(default, bool):
            text += f" (default: {default})"
        option, text = "--" + name.replace("_", "-"), text.replace("%", "%%")
        if flag.type is bool:
            parser.add_argument(option, action="store_const", const=True, help=text)
        else:
            parser.add_argument(option, type=(types or {}).get(flag.type, flag.type), metavar=flag.metavar, help=text)


def spec_flag_values(args: argparse.Namespace, spec_class: type) -> dict[str, object]:
    """The values of `spec_class`'s flags in `args` (None where not given), by field name."""
    return {name: getattr(args, name) for name in flags(spec_class)}
