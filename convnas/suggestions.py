"""The "did you mean" hint of a usage error: the valid name closest to a mistyped flag, command or model."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """The hint for the candidate closest to `word` (difflib's ratio at least 0.6), or an empty string.

    >>> did_you_mean("--max-trail", ["--max-trials", "--epochs"])
    '; did you mean --max-trials?'
    """
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f"; did you mean {close[0]}?" if close else ""
