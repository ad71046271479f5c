"""What every ``animegan-edu`` subcommand shares: the program name, one-line errors, argument types.

An argument type turns the text of an option into a value or raises
:class:`argparse.ArgumentTypeError`, which argparse prints as the usage line plus one
error line (exit status 2). :class:`CLIError` is a usage problem a subcommand finds
later; :func:`animegan_edu.cli.main.main` prints it as ``animegan-edu: error: ...``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from animegan_edu.machine import max_threads

PROG = "animegan-edu"
DEBUG_ENV = "ANIMEGAN_EDU_DEBUG"

__all__ = [
    "PROG",
    "DEBUG_ENV",
    "CLIError",
    "debug",
    "error",
    "first_line",
    "non_negative_float",
    "positive_float",
    "unit_float",
    "positive_int",
    "thread_count",
]


class CLIError(Exception):
    """A usage problem detected by a subcommand; printed as one line, exit status 2."""


def debug() -> bool:
    """Whether ``$ANIMEGAN_EDU_DEBUG`` asks for tracebacks instead of one-line errors."""
    return os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes")


def error(msg: str) -> None:
    """Print ``animegan-edu: error: MSG`` on stderr."""
    print(f"{PROG}: error: {msg}", file=sys.stderr)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message ('' when it has none).

    Example:
        >>> first_line(ValueError("one\\ntwo"))
        'one'
    """
    text = str(exc)
    return text.splitlines()[0] if text else ""


def non_negative_float(text: str) -> float:
    """A finite number >= 0.

    Example:
        >>> non_negative_float("0.5")
        0.5
    """
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}") from None
    if not math.isfinite(v) or not v >= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return v


def positive_float(text: str) -> float:
    """A finite number > 0.

    Example:
        >>> positive_float("2")
        2.0
    """
    v = non_negative_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return v


def unit_float(text: str) -> float:
    """A number in [0, 1].

    Example:
        >>> unit_float("1")
        1.0
    """
    v = non_negative_float(text)
    if v > 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return v


def positive_int(text: str) -> int:
    """A whole number >= 1.

    Example:
        >>> positive_int("3")
        3
    """
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def thread_count(text: str) -> int:
    """A number of threads: a whole number from 1 to the number of CPUs x 4.

    The bound is :func:`~animegan_edu.machine.max_threads`; more only costs memory
    (``--threads 100000`` made OpenMP abort), so it is refused here.

    Example:
        >>> thread_count("1")
        1
    """
    try:
        v = int(text)
    except ValueError:
        v = 0
    if not 1 <= v <= max_threads():
        raise argparse.ArgumentTypeError(
            f"expected a number of threads from 1 to {max_threads()} (this machine's CPUs x 4), "
            f"got {text[:20]!r}"
        )
    return v
