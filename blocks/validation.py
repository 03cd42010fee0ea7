"""Argument checks shared by the blocks and the conv arithmetic.

Every check raises `ValueError` naming the argument and the value received,
in the house wording: "`filters` must be a positive integer. Received:
filters=0".
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

PADDING_MODES = ("same", "valid")


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(name: str, value: object) -> int:
    """Returns `value` as an int, or raises if it is not an integer >= 1."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def non_negative_int(name: str, value: object) -> int:
    """Returns `value` as an int, or raises if it is not an integer >= 0."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    return int(value)


def positive_number(name: str, value: object) -> float:
    """Returns `value` as a float, or raises if it is not a number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def size_tuple(name: str, value: object, rank: int) -> tuple[int, ...]:
    """Returns a kernel size, stride or rate as a tuple of `rank` positive ints.

    An integer means the same value along every spatial axis.
    """
    if _is_int(value):
        return (positive_int(name, value),) * rank
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == rank:
        if all(_is_int(item) and item >= 1 for item in value):
            return tuple(int(item) for item in value)
    raise ValueError(
        f"`{name}` must be a positive integer or a sequence of {rank} positive integers. "
        f"Received: {name}={value!r}"
    )


def one_of(name: str, value: object, choices: Sequence[object]) -> object:
    """Returns `value` if it is one of `choices`, else raises listing them."""
    if value not in choices:
        allowed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"`{name}` must be one of {allowed}. Received: {name}={value!r}")
    return value


def padding(name: str, value: object) -> str | int:
    """Returns a padding spec: "same", "valid", or an integer P >= 0 (P zeros per side)."""
    if _is_int(value):
        if value < 0:
            raise ValueError(
                f"`{name}` must be 'same', 'valid' or a non-negative integer. Received: {name}={value!r}"
            )
        return int(value)
    if value not in PADDING_MODES:
        raise ValueError(
            f"`{name}` must be 'same', 'valid' or a non-negative integer. Received: {name}={value!r}"
        )
    return value


def activation(name: str, value: object) -> str | None:
    """Returns `value` if it names a Keras activation (or is None)."""
    if value is None:
        return None
    import keras  # only here: the other checks serve code that needs no Keras (spec validation)

    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"`{name}` must be None or the name of a Keras activation. Received: {name}={value!r}"
        ) from None
    if not isinstance(value, str):
        raise ValueError(f"`{name}` must be None or an activation name. Received: {name}={value!r}")
    return value


def boolean(name: str, value: object) -> bool:
    """Returns `value` if it is a bool, else raises."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def divides(name: str, value: int, what: str, total: int) -> None:
    """Raises unless `value` divides `total` (e.g. groups and input channels)."""
    if total % value:
        raise ValueError(f"`{name}` must divide {what} ({total}). Received: {name}={value}")
