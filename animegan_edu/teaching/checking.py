"""The machinery of the checked exercises: :class:`Feedback` and the helpers every checker uses.

Introduced in ``notebooks/00_quickstart.ipynb`` (section "Exercises").

Each notebook ends with exercises; ``check_<name>(answer)`` in the topic modules
(:mod:`~animegan_edu.teaching.exercises_models` for notebooks 00-02,
:mod:`~animegan_edu.teaching.exercises_losses` for 03-04,
:mod:`~animegan_edu.teaching.exercises_inference` for 05, 06 and 08,
:mod:`~animegan_edu.teaching.exercises_int8` for 07,
:mod:`~animegan_edu.teaching.exercises_gan` for 09,
:mod:`~animegan_edu.teaching.exercises_video` for 10) verifies an answer **by computing**:
it calls the student's function on fresh random inputs and compares the result with the
library's own implementation, or compares a number with one computed from the library.
Nothing is compared with a stored answer.

A checker never raises on an answer of the right kind: it returns a :class:`Feedback`, a
string that reads ``"Correct: ..."`` or ``"Not yet: ..."`` with a hint (never the solution),
and whose ``correct`` attribute says which. An unwritten stub (returning ``None`` or raising
``NotImplementedError``) gets a "Not yet" too, so a notebook run unmodified shows no traceback.

A checker is written as a ``body()`` that raises :class:`Wrong` with the hint, run by
:func:`run_check`; :func:`call_answer` calls the student's function, :func:`answer_tensor`
and :func:`answer_number` check what it returned, :func:`require_close` compares it with the
library's value.

Example:
    >>> def check_double(fn):
    ...     def body():
    ...         out = call_answer(fn, 3, stub="def double(x): ...", want="a number")
    ...         got = answer_number(out, "double(3)")
    ...         if got != 6:
    ...             raise Wrong(f"double(3) = {got:g}. Hint: multiply by 2.")
    ...         return "x + x."
    ...     return run_check(body)
    >>> check_double(lambda x: 2 * x)
    Correct: x + x.
    >>> check_double(lambda x: None)
    Not yet: your function returned None; write its body (it should return a number).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import torch

__all__ = [
    "Feedback",
    "Wrong",
    "seeded",
    "call_answer",
    "answer_tensor",
    "answer_number",
    "require_close",
    "run_check",
]


class Feedback(str):
    """A checker's message; ``correct`` is true for "Correct: ..." messages; ``repr`` is the plain message.

    Example:
        >>> Feedback.ok("well done").correct
        True
        >>> Feedback.no("try again")
        Not yet: try again
    """

    correct: bool

    @classmethod
    def ok(cls, message: str) -> "Feedback":
        fb = cls("Correct: " + message)
        fb.correct = True
        return fb

    @classmethod
    def no(cls, message: str) -> "Feedback":
        fb = cls("Not yet: " + message)
        fb.correct = False
        return fb

    def __repr__(self) -> str:
        return str(self)


class Wrong(Exception):
    """Raised inside a checker's ``body()`` with the "Not yet" message (a hint, never the solution)."""


def seeded(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``: each checker draws its inputs from its own.

    Example:
        >>> torch.equal(torch.rand(2, generator=seeded(0)), torch.rand(2, generator=seeded(0)))
        True
    """
    return torch.Generator().manual_seed(seed)


def call_answer(fn: Any, *args: Any, stub: str, want: str = "a tensor") -> Any:
    """Call the student's function; turn a missing body, a wrong type or an exception into :class:`Wrong`.

    ``stub`` is the function's signature as the notebook shows it; ``want`` what it should
    return (for the message when it returns ``None``).
    """
    if not callable(fn):
        raise Wrong(f"expected a function like `{stub}`, got {type(fn).__name__}.")
    try:
        out = fn(*args)
    except NotImplementedError:
        raise Wrong(
            f"your function is not written yet (it raised NotImplementedError); fill in `{stub}`."
        ) from None
    except Exception as exc:  # noqa: BLE001 - any error in student code becomes feedback
        first = str(exc).splitlines()[0] if str(exc) else ""
        said = f"your function raised {type(exc).__name__}: {first}".rstrip(": ")
        raise Wrong(said + ". Test it on a small input first.") from None
    if out is None:
        raise Wrong(f"your function returned None; write its body (it should return {want}).")
    return out


def answer_tensor(out: Any, shape: tuple[int, ...], what: str) -> torch.Tensor:
    """``out`` as a detached float64 tensor, after checking it is a tensor of ``shape`` (else :class:`Wrong`).

    Example:
        >>> answer_tensor(torch.ones(2), (2,), "the result").dtype
        torch.float64
    """
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"{what} should be a torch.Tensor, got {type(out).__name__}.")
    if tuple(out.shape) != tuple(shape):
        raise Wrong(f"{what} has shape {tuple(out.shape)}, expected {tuple(shape)}.")
    return out.detach().to(torch.float64)


def answer_number(out: Any, what: str) -> float:
    """``out`` as a float: a number or a one-element tensor (anything else, a bool too, is :class:`Wrong`).

    Example:
        >>> answer_number(torch.tensor([2]), "the count")
        2.0
    """
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            raise Wrong(f"{what} should be a single number, got a tensor of shape {tuple(out.shape)}.")
        return float(out.detach())
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return float(out)
    raise Wrong(f"{what} should be a number, got {type(out).__name__}.")


def require_close(
    got: torch.Tensor, ref: torch.Tensor, hint: str, atol: float = 1e-5, rtol: float = 1e-4
) -> None:
    """Raise :class:`Wrong` (largest difference, ``hint``) unless ``got`` matches the library's ``ref``."""
    if not torch.allclose(got, ref.detach().to(torch.float64), atol=atol, rtol=rtol):
        err = (got - ref.to(torch.float64)).abs().max().item()
        raise Wrong(f"values differ from the library's by up to {err:.3g}. Hint: {hint}")


def run_check(body: Callable[[], str]) -> Feedback:
    """Run a checker's ``body()``: its result is the "Correct" message, a :class:`Wrong` the "Not yet"."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
        try:
            return Feedback.ok(body())
        except Wrong as w:
            return Feedback.no(str(w))
