"""Checks of numbers a user passes in: finite (no NaN, no infinity) and within a range.

``inf < 0`` and ``nan < 0`` are both False, so a range check alone lets NaN and infinity
through; every parameter check of the toolkit starts here. Each failure is a
:class:`ValueError` whose message is one line and names the value. A value echoed in a
message goes through :func:`short_repr`, which cuts it to about 80 characters, so a huge value
(a YAML list of a million items) never floods the terminal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import SupportsFloat, Union

import torch

__all__ = [
    "require_finite", "finite_float", "finite_in_range", "int_in_range", "short_repr", "SHORT_REPR_CHARS",
    "MAX_SEED",
]  # fmt: skip

#: The largest seed a user may give (``2**32 - 1``, what every library's generator accepts).
MAX_SEED = 2**32 - 1

#: Longest value an error message quotes (:func:`short_repr`): a message stays one readable line.
SHORT_REPR_CHARS = 80

Numbers = Union[SupportsFloat, torch.Tensor, Sequence[SupportsFloat]]

def require_finite(name: str, value: Numbers) -> None:
    """Refuse NaN and infinity in ``value``: a number, a tensor (every element) or a sequence of numbers.

    Raises:
        ValueError: ``"<name> must be finite (no NaN or infinity), got <value>"``, or
            ``"<name> must be a number, got <value>"`` for something that is not one.

    Example:
        >>> require_finite("gain", (1.0, 2.0))
        >>> require_finite("strength", float("nan"))
        Traceback (most recent call last):
        ...
        ValueError: strength must be finite (no NaN or infinity), got nan
    """
    try:
        if isinstance(value, torch.Tensor):
            ok = bool(torch.isfinite(value.detach()).all())
        elif isinstance(value, (tuple, list)):
            ok = all(math.isfinite(float(e)) for e in value)
        else:
            ok = math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {short_repr(value)}") from None
    if not ok:
        raise ValueError(f"{name} must be finite (no NaN or infinity), got {short_repr(value)}")


def finite_float(name: str, value: SupportsFloat) -> float:
    """``float(value)``, refusing what is not a number and NaN or infinity (:func:`require_finite`).

    Example:
        >>> finite_float("glow", 1)
        1.0
        >>> finite_float("glow", "a lot")
        Traceback (most recent call last):
        ...
        ValueError: glow must be a number, got 'a lot'
    """
    require_finite(name, value)
    return float(value)


def finite_in_range(name: str, value: SupportsFloat, low: float, high: float) -> float:
    """``float(value)`` if it is a finite number in ``[low, high]``; else a one-line :class:`ValueError`.

    Example:
        >>> finite_in_range("weight", 0.5, 0.0, 1.0)
        0.5
        >>> finite_in_range("weight", float("inf"), 0.0, 1.0)
        Traceback (most recent call last):
        ...
        ValueError: weight must be a finite number in [0, 1], got inf
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {short_repr(value)}") from None
    if not math.isfinite(v) or not low <= v <= high:
        raise ValueError(f"{name} must be a finite number in [{low:g}, {high:g}], got {short_repr(value)}")
    return v


def int_in_range(name: str, value: object, low: int, high: int) -> int:
    """``value`` if it is a whole number (not a bool) in ``[low, high]``; else a one-line :class:`ValueError`.

    The one integer range check: a seed, a number of threads or steps, a size. Python
    integers are unbounded, so without it ``2**64`` reaches C code and fails there with a
    message that names neither the setting nor the file.

    Example:
        >>> int_in_range("seed", 7, 0, 2**32 - 1)
        7
        >>> int_in_range("seed", 2**64, 0, 2**32 - 1)
        Traceback (most recent call last):
        ...
        ValueError: seed must be a whole number from 0 to 4294967295, got 18446744073709551616
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {short_repr(value)}")
    return value


def short_repr(value: object, limit: int = SHORT_REPR_CHARS) -> str:
    """``repr(value)`` on one line, cut to at most ``limit`` characters (``...`` marks a cut).

    A long value keeps its start and its end (a long path keeps its file or folder name).

    For quoting a user's value in an error message: a huge or many-line value (a YAML
    expansion, a long path) cannot turn the message into pages.

    Example:
        >>> short_repr(0.0002)
        '0.0002'
        >>> short_repr("x" * 200, limit=12)
        "'xxx...xxxx'"
        >>> short_repr("/home/student/course/runs/" + "a" * 60 + "/other_data")[-11:]
        "other_data'"
        >>> short_repr(list(range(10**6)))
        'a list of 1,000,000 items'
    """
    if isinstance(value, (list, tuple, dict, set, frozenset)) and len(value) > limit:
        return f"a {type(value).__name__} of {len(value):,} items"  # not even turned into text whole
    try:
        text = " ".join(repr(value).split())
    except Exception:  # a repr that fails (an int of over 4,300 digits) must not hide the real error
        return f"a {type(value).__name__} too long to show"
    if len(text) <= limit:
        return text
    head = max(0, limit - 3) // 2
    return text[:head] + "..." + text[len(text) - max(0, limit - 3 - head) :]
