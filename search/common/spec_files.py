"""Spec files that search and experiments share: safe YAML loading, the one error type of a spec
that cannot be run, validation checks reported as that error, and the refusal to reuse a LOGDIR
that holds a run with another spec."""

from __future__ import annotations

import re
from pathlib import Path

import yaml


class SpecError(ValueError):
    """A search specification that cannot be run."""


class SpecLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading 5e6 and 2.0e6 as numbers (as YAML 1.2 does) rather than as text (YAML 1.1)."""


SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_yaml(path: str | Path) -> dict:
    """The mapping in a YAML file (safe loading only, `SpecLoader`)."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise SpecError(f"spec file cannot be read: {error.strerror}. Received: {path}") from None
    except UnicodeDecodeError:
        raise SpecError(f"spec file is not UTF-8 text. Received: {path}") from None
    try:
        loader = SpecLoader(text)  # it reads the text at once: a bad character fails here
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(getattr(error, "problem", None) or error).split())  # reader errors span lines
        raise SpecError(f"spec file is not valid YAML{where}: {problem}. Received: {path}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError(f"spec file must hold a mapping of fields. Received: {type(data).__name__} in {path}")
    return data


def checked(check, *args):
    """Runs a `blocks.validation` check, reporting its failure as a SpecError."""
    try:
        return check(*args)
    except ValueError as error:
        raise SpecError(str(error)) from None


def refuse_changed(logdir, kind: str, earlier: dict, resolved: dict) -> None:
    """SpecError if a LOGDIR already holds a run (`kind`: search, study) whose resolved spec differs."""
    if earlier != resolved:
        changed = sorted(k for k in set(earlier) | set(resolved) if earlier.get(k) != resolved.get(k))
        raise SpecError(
            f"`logdir` holds a {kind} with a different spec (changed: {', '.join(changed)}); overwrite it "
            f"(--overwrite, overwrite=True) or choose another logdir. Received: logdir={str(logdir)!r}"
        )
