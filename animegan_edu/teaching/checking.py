"""The machinery of the checked exercises: :class:`Feedback` and the helpers every checker uses.

Introduced in ``notebooks/00_quickstart.ipynb`` (section "Exercises").

Each notebook ends with exercises; ``check_<name>(answer)`` in the topic modules
(:mod:`~animegan_edu.teaching.exercises_models` for notebooks 00-02,
:mod:`~animegan_edu.teaching.exercises_losses` for 03-04,
:mod:`~animegan_edu.teaching.exercises_inference` for 05, 06 and 08,
:mod:`~animegan_edu.teaching.exercises_int8` for 07,
:mod:`~animegan_edu.teaching.exercises_gan` for 09,
:mod:`~animegan_edu.teaching.exercises_video` for 10,
:mod:`~animegan_edu.teaching.exercises_styles` for 11, and the multi-step exercises of 01-05 in
:mod:`~animegan_edu.teaching.exercises_projects`) verifies an answer **by computing**:
it calls the student's function on random inputs and compares the result with the library's
own implementation, or compares a number with one computed from the library. Nothing is
compared with a stored answer.

Every checker takes two optional keywords:

* ``seed=``: the inputs are drawn from a seed picked fresh on every call; a "Not yet" message
  prints it, and ``check_x(fn, seed=...)`` draws the same inputs again, to reproduce a failure;
* ``hint=``: ``1`` (the default) names the concept, ``2`` comes closer (never the formula).

A checker never raises on an answer of the right kind: it returns a :class:`Feedback`, a
string that reads ``"Correct: ..."`` or ``"Not yet: ..."``, and whose ``correct`` attribute
says which. An unwritten stub (returning ``None`` or raising ``NotImplementedError``) gets a
"Not yet" too, so a notebook run unmodified shows no traceback. The library's own
implementation is refused ("write your own version"), and so are the shortcuts a task rules
out (the spectral-norm exercise may not call an SVD): :func:`run_check` patches them to raise
while the student's function runs (:func:`forbid`).

A checker is written as a ``body(gen)`` that draws its inputs from the ``torch.Generator``
``gen`` and raises :class:`Wrong` with a two-level hint, run by :func:`run_check`;
:func:`call_answer` calls the student's function, :func:`answer_tensor` and
:func:`answer_number` check what it returned, :func:`require_close` compares it with the
library's value.

Example:
    >>> def check_double(fn, *, seed=None, hint=1):
    ...     def body(gen):
    ...         x = int(torch.randint(1, 100, (), generator=gen))
    ...         out = call_answer(fn, x, stub="def double(x): ...", want="a number")
    ...         got = answer_number(out, f"double({x})")
    ...         if got != 2 * x:
    ...             raise Wrong(f"double({x}) = {got:g}.", "twice as much.", "add x to itself.")
    ...         return "x + x."
    ...     return run_check(body, fn, seed=seed, hint=hint)
    >>> check_double(lambda x: 2 * x)
    Correct: x + x.
    >>> check_double(lambda x: None, seed=1).startswith("Not yet: your function returned None")
    True
    >>> fb = check_double(lambda x: x + 1, seed=7)
    >>> fb.seed, "check_double(fn, seed=7)" in fb, "hint=2" in fb
    (7, True, True)
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import secrets
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import torch

__all__ = [
    "Feedback",
    "Wrong",
    "Shortcut",
    "seeded",
    "randint",
    "uniform",
    "forbid",
    "guarded",
    "refuse_library",
    "call_answer",
    "answer_tensor",
    "answer_number",
    "require_close",
    "run_check",
]


_PACKAGE = Path(__file__).resolve().parents[1]


class Feedback(str):
    """A checker's message; ``correct`` is true for "Correct: ..." messages; ``repr`` is the plain message.

    ``seed`` is the seed the inputs were drawn from (``None`` where no checker set one).

    Example:
        >>> Feedback.ok("well done").correct
        True
        >>> Feedback.no("try again")
        Not yet: try again
    """

    correct: bool
    seed: Optional[int] = None

    @classmethod
    def ok(cls, message: str, seed: Optional[int] = None) -> "Feedback":
        fb = cls("Correct: " + message)
        fb.correct, fb.seed = True, seed
        return fb

    @classmethod
    def no(cls, message: str, seed: Optional[int] = None) -> "Feedback":
        fb = cls("Not yet: " + message)
        fb.correct, fb.seed = False, seed
        return fb

    def __repr__(self) -> str:
        return str(self)


class Wrong(Exception):
    """Raised inside a checker's ``body()``: what is wrong, a first hint (the concept), a closer one.

    ``hint`` is shown at ``hint=1``; ``closer`` is added at ``hint=2``. Neither gives the formula.

    Example:
        >>> w = Wrong("the sum is 5.", "look at the signs.", "one term is subtracted.")
        >>> w.render(1)
        'the sum is 5. Hint: look at the signs.'
        >>> w.render(2)
        'the sum is 5. Hint: look at the signs. Closer: one term is subtracted.'
    """

    def __init__(self, what: str, hint: str = "", closer: str = "") -> None:
        super().__init__(what)
        self.what, self.hint, self.closer = what, hint, closer

    def render(self, level: int) -> str:
        """The message at hint level ``level`` (1 or 2)."""
        parts = [self.what]
        if self.hint:
            parts.append("Hint: " + self.hint)
        if level >= 2 and self.closer:
            parts.append("Closer: " + self.closer)
        return " ".join(parts)


def seeded(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``: each checker draws its inputs from its own.

    Example:
        >>> torch.equal(torch.rand(2, generator=seeded(0)), torch.rand(2, generator=seeded(0)))
        True
    """
    return torch.Generator().manual_seed(seed)


def randint(gen: torch.Generator, low: int, high: int) -> int:
    """One integer drawn from ``gen`` in ``low <= n < high``.

    Example:
        >>> 3 <= randint(seeded(0), 3, 9) < 9
        True
    """
    return int(torch.randint(low, high, (), generator=gen))


def uniform(gen: torch.Generator, low: float, high: float) -> float:
    """One float drawn from ``gen`` in ``[low, high)``.

    Example:
        >>> 0.5 <= uniform(seeded(0), 0.5, 2.0) < 2.0
        True
    """
    return low + (high - low) * float(torch.rand((), generator=gen, dtype=torch.float64))


@dataclass(frozen=True)
class Shortcut:
    """A function the student may not call: ``target`` a dotted path (``"torch.linalg.svdvals"``,
    ``"torch.Tensor.svd"``); ``when(args, kwargs)`` limits the ban to some calls (``None``: all)."""

    target: str
    when: Optional[Callable[[tuple, dict], bool]] = None


def _resolve(dotted: str) -> tuple[Any, str]:
    """The object owning the last name of ``dotted``, and that name (``"torch.linalg.svd"``: torch.linalg)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:-1]:
            owner = getattr(owner, name)
        return owner, parts[-1]
    raise ValueError(f"cannot resolve {dotted!r}")


class _Tripped(Wrong):
    """Raised by a forbidden function; carries the :class:`Wrong` to report."""

    def __init__(self, wrong: Wrong) -> None:
        super().__init__(wrong.what, wrong.hint, wrong.closer)
        self.wrong = wrong


@dataclass
class _Guard:
    """What the running check refuses: forbidden calls and the library's own objects."""

    shortcuts: Sequence[Union[str, Shortcut]] = ()
    reason: str = ""
    library: Sequence[Any] = ()
    tripped: list[Wrong] = field(default_factory=list)


def _library_name(obj: Any) -> str:
    return getattr(obj, "__qualname__", getattr(obj, "__name__", type(obj).__name__))


def _raiser(original: Any, wrong: Wrong, guard: _Guard, when: Optional[Callable]) -> Callable:
    @functools.wraps(original)
    def refuse(*args: Any, **kwargs: Any) -> Any:
        if when is not None and not when(args, kwargs):
            return original(*args, **kwargs)
        guard.tripped.append(wrong)
        raise _Tripped(wrong)

    return refuse


@contextlib.contextmanager
def forbid(
    shortcuts: Sequence[Union[str, Shortcut]], reason: str, _guard: Optional[_Guard] = None
) -> Iterator[_Guard]:
    """Patch each of ``shortcuts`` to raise "your function calls X: ``reason``" inside the block.

    Example:
        >>> with forbid(["torch.linalg.svdvals"], "do not call an SVD.") as guard:
        ...     try:
        ...         torch.linalg.svdvals(torch.eye(2))
        ...     except Exception as exc:
        ...         print(type(exc).__name__)
        _Tripped
        >>> guard.tripped[0].what
        'your function calls torch.linalg.svdvals: do not call an SVD.'
        >>> float(torch.linalg.svdvals(torch.eye(2))[0])
        1.0
    """
    guard = _guard if _guard is not None else _Guard(shortcuts, reason)
    undo: list[Callable[[], None]] = []
    try:
        for spec in shortcuts:
            spec = spec if isinstance(spec, Shortcut) else Shortcut(spec)
            owner, name = _resolve(spec.target)
            had_own = isinstance(owner, type) and name in vars(owner)
            original = getattr(owner, name)
            wrong = Wrong(f"your function calls {spec.target}: {reason}")
            setattr(owner, name, _raiser(original, wrong, guard, spec.when))
            if isinstance(owner, type) and not had_own:
                undo.append(functools.partial(delattr, owner, name))
            else:
                undo.append(functools.partial(setattr, owner, name, original))
        for obj in guard.library:
            module = getattr(obj, "__module__", None)
            name = getattr(obj, "__name__", None)
            mod = importlib.import_module(module) if module else None
            if mod is not None and name and getattr(mod, name, None) is obj:
                setattr(mod, name, _raiser(obj, _own(obj), guard, None))
                undo.append(functools.partial(setattr, mod, name, obj))
        yield guard
    finally:
        for step in reversed(undo):
            step()


def _own(obj: Any) -> Wrong:
    return Wrong(f"this is the library's own {_library_name(obj)}; write your own version.")


def _unwrap(fn: Any) -> Any:
    while True:
        if isinstance(fn, functools.partial):
            fn = fn.func
        elif isinstance(fn, types.MethodType):
            fn = fn.__func__
        else:
            return fn


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _attribute(module: types.ModuleType, name: str) -> Any:
    """``module.name`` if it is already there (no lazy import, no warning), else ``None``."""
    return vars(module).get(name)


def _referenced(fn: Any, depth: int = 2) -> Iterator[Any]:
    """Objects ``fn`` refers to by name: globals, closure cells, attributes of modules it uses
    (``losses.gram``), and what the student's own helper functions refer to (``depth`` levels)."""
    fn = _unwrap(fn)
    if isinstance(fn, functools.partial):
        yield from fn.args
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    names, space = _names(code), getattr(fn, "__globals__", {})
    found = [space[n] for n in names if n in space]
    for cell in getattr(fn, "__closure__", None) or ():
        with contextlib.suppress(ValueError):
            found.append(cell.cell_contents)
    for obj in found:
        yield obj
        if isinstance(obj, (tuple, list)):  # e.g. ``lambda x: funcs[0](x)``
            yield from obj
        elif isinstance(obj, types.ModuleType):
            for n in names:
                sub = _attribute(obj, n)
                yield sub
                if isinstance(sub, types.ModuleType):
                    yield from (_attribute(sub, m) for m in names)
        elif depth > 0 and isinstance(obj, types.FunctionType) and not _in_library(obj):
            yield from _referenced(obj, depth - 1)


def _in_library(fn: Any) -> bool:
    """Whether ``fn`` is defined in this package's source files (a doctest's lambda is not)."""
    fn = _unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is not None:
        return Path(code.co_filename).resolve().is_relative_to(_PACKAGE)
    return str(getattr(fn, "__module__", "") or "").startswith("animegan_edu.")


def refuse_library(fn: Any, guard: _Guard) -> None:
    """Raise :class:`Wrong` if ``fn`` is (or plainly calls) the library's own implementation or a
    forbidden shortcut, found by name before it runs."""
    inner = _unwrap(fn)
    for obj in guard.library:
        if inner is obj:
            raise _own(obj)
    if _in_library(inner):
        raise _own(inner)
    banned = {}
    for spec in guard.shortcuts:
        spec = spec if isinstance(spec, Shortcut) else Shortcut(spec)
        if spec.when is None:
            owner, name = _resolve(spec.target)
            banned[id(getattr(owner, name))] = spec.target
    if id(inner) in banned:
        raise Wrong(f"this is {banned[id(inner)]}: {guard.reason}")
    library = {id(o): o for o in guard.library}
    for obj in _referenced(fn):
        if id(obj) in library and obj is library[id(obj)]:
            raise _own(obj)
        if id(obj) in banned:
            raise Wrong(f"your function calls {banned[id(obj)]}: {guard.reason}")


@dataclass
class _Check:
    guard: _Guard
    answers: tuple


_RUNNING: list[_Check] = []


def call_answer(fn: Any, *args: Any, stub: str, want: str = "a tensor") -> Any:
    """Call the student's function; turn a missing body, a wrong type or an exception into :class:`Wrong`.

    ``stub`` is the function's signature as the notebook shows it; ``want`` what it should
    return (for the message when it returns ``None``). Inside :func:`run_check` the library's
    own implementation and the task's forbidden shortcuts raise while ``fn`` runs.
    """
    if not callable(fn):
        raise Wrong(f"expected a function like `{stub}`, got {type(fn).__name__}.")
    guard = _RUNNING[-1].guard if _RUNNING else _Guard()
    with forbid(guard.shortcuts, guard.reason, _guard=guard):
        try:
            out = fn(*args)
        except _Tripped as t:
            raise t.wrong from None
        except NotImplementedError:
            raise Wrong(
                f"your function is not written yet (it raised NotImplementedError); fill in `{stub}`."
            ) from None
        except Exception as exc:  # noqa: BLE001 - any error in student code becomes feedback
            if guard.tripped:
                raise guard.tripped[0] from None
            first = str(exc).splitlines()[0] if str(exc) else ""
            said = f"your function raised {type(exc).__name__}: {first}".rstrip(": ")
            raise Wrong(said + ". Test it on a small input first.") from None
    if guard.tripped:  # the student's code caught the refusal and went on
        raise guard.tripped[0]
    if out is None:
        raise Wrong(f"your function returned None; write its body (it should return {want}).")
    return out


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Inside a running check: the library's own implementation and the forbidden shortcuts raise
    (for checkers that call the student's functions directly, not through :func:`call_answer`)."""
    guard = _RUNNING[-1].guard if _RUNNING else _Guard()
    with forbid(guard.shortcuts, guard.reason, _guard=guard):
        try:
            yield
        except _Tripped as t:
            raise t.wrong from None
    if guard.tripped:
        raise guard.tripped[0]


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
    got: torch.Tensor,
    ref: torch.Tensor,
    hint: str,
    closer: str = "",
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> None:
    """Raise :class:`Wrong` (largest difference, ``hint``, ``closer``) unless ``got`` matches ``ref``."""
    if not torch.allclose(got, ref.detach().to(torch.float64), atol=atol, rtol=rtol):
        err = (got - ref.to(torch.float64)).abs().max().item()
        raise Wrong(f"values differ from the library's by up to {err:.3g}.", hint, closer)


def _call_text(name: str, answers: tuple, extra: str) -> str:
    shown = []
    for a in answers:
        n = getattr(a, "__name__", "")
        shown.append(n if n.isidentifier() else "fn")
    return f"{name}({', '.join(shown or ['fn'])}, {extra})"


def run_check(
    body: Callable[[torch.Generator], str],
    *answers: Any,
    seed: Optional[int] = None,
    hint: int = 1,
    library: Sequence[Any] = (),
    shortcuts: Sequence[Union[str, Shortcut]] = (),
    reason: str = "",
    name: Optional[str] = None,
) -> Feedback:
    """Run a checker's ``body(gen)`` on inputs from ``seed`` (fresh when ``None``).

    Its result is the "Correct" message, a :class:`Wrong` the "Not yet" one, which ends with
    the seed (how to reproduce the inputs) and, at ``hint=1``, how to get a closer hint.
    ``answers`` (the student's functions) are refused when they are, or call, one of
    ``library`` or a function of this package; ``shortcuts`` raise "``reason``" while they run.
    """
    seed = secrets.randbits(32) if seed is None else int(seed)
    name = name or body.__qualname__.split(".")[0]
    guard = _Guard(tuple(shortcuts), reason, tuple(library))
    _RUNNING.append(_Check(guard, answers))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
            for fn in answers:
                if callable(fn):
                    refuse_library(fn, guard)
            return Feedback.ok(body(seeded(seed)), seed)
    except Wrong as w:
        tail = f"inputs seed {seed}: {_call_text(name, answers, f'seed={seed}')} reproduces them"
        if w.closer and hint < 2:
            tail += f"; {_call_text(name, answers, 'hint=2')} for a closer hint"
        return Feedback.no(f"{w.render(hint)} ({tail})", seed)
    finally:
        _RUNNING.pop()
