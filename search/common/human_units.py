"""Numbers for people: 1234567 -> "1.23M"."""

from __future__ import annotations


def human(number: float, unit: str = "", digits: int = 2) -> str:
    """`number` with a K/M/G/T suffix and `digits` decimals, then `unit`."""
    for threshold, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(number) >= threshold:
            return f"{number / threshold:.{digits}f}{suffix}{unit}"
    return f"{number:g}{unit}"
