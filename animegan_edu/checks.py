"""Checks of numbers a user passes in: finite (no NaN, no infinity) and within a range.

``inf < 0`` and ``nan < 0`` are both False, so a range check alone lets NaN and infinity
through; every parameter check of the toolkit starts here. Each failure is a
:class:`ValueError` whose message is one line and names the value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import SupportsFloat, Union

import torch

__all__ = ["require_finite", "finite_float", "finite_in_range"]

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
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not ok:
        raise ValueError(f"{name} must be finite (no NaN or infinity), got {value!r}")


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
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or not low <= v <= high:
        raise ValueError(f"{name} must be a finite number in [{low:g}, {high:g}], got {value!r}")
    return v
