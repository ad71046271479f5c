"""Checked exercises of notebook 07: quantisation parameters, fake quantisation, PSNR.

Each ``check_<name>(answer)`` calls the student's function on random inputs drawn fresh on every
call (``seed=`` draws them again) and compares the result with PyTorch's observers and
:mod:`animegan_edu.metrics`; it returns a :class:`~animegan_edu.teaching.checking.Feedback`
("Correct: ..." or "Not yet: ..." with a hint, ``hint=2`` for a closer one, never the
solution). The library's own ``psnr`` is refused. The notebook imports this module as
``exercises``.

Example:
    >>> from animegan_edu.metrics import psnr
    >>> check_psnr(psnr).correct
    False
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch

from animegan_edu.metrics import psnr
from animegan_edu.teaching.checking import (
    Feedback,
    Wrong,
    answer_number,
    answer_tensor,
    call_answer,
    randint,
    run_check,
    uniform,
)

__all__ = [  # noqa: RUF022 - in notebook order
    "check_qparams",
    "check_fake_quantize",
    "check_psnr",
]


def check_qparams(
    fn: Callable[[float, float], tuple], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """07: ``fn(x_min, x_max)`` returns ``(scale, zero_point)`` of an affine ``quint8`` range.

    The range is first widened to include 0 (so 0 is exact), as PyTorch's observers do.

    Example:
        >>> def qp(lo, hi):
        ...     lo, hi = min(lo, 0.0), max(hi, 0.0)
        ...     s = (hi - lo) / 255
        ...     return s, int(min(255, max(0, round(-lo / s))))
        >>> check_qparams(qp).correct
        True
    """
    from torch.ao.quantization.observer import MinMaxObserver

    def body(gen: torch.Generator) -> str:
        cases = [
            (-uniform(gen, 0.1, 4.0), uniform(gen, 0.1, 4.0)),  # around 0
            (uniform(gen, 0.1, 2.0), uniform(gen, 2.5, 6.0)),  # all positive
            (-uniform(gen, 2.5, 6.0), -uniform(gen, 0.1, 2.0)),  # all negative
            (-uniform(gen, 0.01, 0.5), uniform(gen, 1.0, 8.0)),  # lopsided
        ]
        for lo, hi in ((round(a, 4), round(b, 4)) for a, b in cases):
            obs = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine)
            obs(torch.tensor([lo, hi]))
            s_ref, z_ref = (float(v) for v in obs.calculate_qparams())
            out = call_answer(fn, lo, hi, stub="def qparams(x_min, x_max): ...", want="(scale, zero_point)")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise Wrong(f"return a pair (scale, zero_point), got {type(out).__name__}.")
            s, z = answer_number(out[0], "scale"), answer_number(out[1], "zero_point")
            if not math.isclose(s, s_ref, rel_tol=1e-4):
                raise Wrong(
                    f"scale for [{lo}, {hi}] is {s:.5g}, not the observer's.",
                    "the range must contain 0 before it is shared out over the integer levels.",
                    "widen the range to include 0 first; then count the steps (not the levels) between "
                    "the lowest and the highest integer of quint8.",
                )
            if abs(z - z_ref) > 1.0:  # a tie (e.g. 127.5) may round either way
                raise Wrong(
                    f"zero point for [{lo}, {hi}] is {z:g}, not the observer's.",
                    "the zero point is the integer that stands for the real value 0.",
                    "a real value is scale * (q - zero_point); which q gives 0 for the lowest end of the "
                    "range? round it and keep it inside 0..255.",
                )
        return "scale = range / 255 after including 0; the zero point is the integer image of 0."

    return run_check(body, fn, seed=seed, hint=hint)


def check_fake_quantize(
    fn: Callable[[torch.Tensor, float, int], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """07: ``fn(x, scale, zero_point)`` quantizes to ``quint8`` and dequantizes back (a float tensor).

    Example:
        >>> def fake_quant(x, s, z):
        ...     return torch.quantize_per_tensor(x, s, z, torch.quint8).dequantize()
        >>> check_fake_quantize(fake_quant).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        x = torch.randn(4, randint(gen, 30, 80), generator=gen) * 2
        cases = ((round(uniform(gen, 0.015, 0.03), 4), randint(gen, 100, 156)),
                 (round(uniform(gen, 0.005, 0.015), 4), randint(gen, 10, 60)))  # fmt: skip
        for s, z in cases:
            ref = torch.quantize_per_tensor(x, s, z, torch.quint8).dequantize()
            got = answer_tensor(
                call_answer(fn, x.clone(), s, z, stub="def fake_quant(x, scale, zero_point): ..."),
                tuple(x.shape),
                "the round trip",
            )
            bad = (got - ref.double()).abs() > s * 0.51
            if bad.any():
                outside = bool(((x / s + z) < 0).logical_or((x / s + z) > 255)[bad].any())
                said = f"{int(bad.sum())} of {x.numel()} values differ by more than half a step."
                if outside:
                    raise Wrong(
                        said,
                        "some values lie outside what the integers 0..255 can hold.",
                        "quint8 has no integer below 0 or above 255: keep the integers inside that range "
                        "before you turn them back into floats.",
                    )
                raise Wrong(
                    said,
                    "quantizing maps each value to the nearest of 256 evenly spaced levels; "
                    "dequantizing maps the integer back to a float.",
                    "the integer counts steps of size scale, counted from zero_point; round to a whole "
                    "number of steps on the way in, and undo both the counting and the offset on the "
                    "way back.",
                )
        return (
            "round, shift, clamp to 0..255, then back: each value moves by at most half a step or is clipped."
        )

    return run_check(body, fn, seed=seed, hint=hint)


def check_psnr(
    fn: Callable[[torch.Tensor, torch.Tensor], float], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """07: ``fn(a, b)`` is the PSNR in dB of two images in [0, 1] (as used to compare INT8 with fp32).

    Example:
        >>> check_psnr(lambda a, b: float(-10 * torch.log10((a - b).pow(2).mean()))).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        a = torch.rand(1, 3, randint(gen, 8, 24), randint(gen, 8, 24), generator=gen)
        for noise in (uniform(gen, 0.05, 0.2), uniform(gen, 0.005, 0.02)):
            b = (a + noise * torch.randn(a.shape, generator=gen)).clamp(0, 1)
            got = answer_number(
                call_answer(fn, a.clone(), b.clone(), stub="def my_psnr(a, b): ...", want="a number"),
                "the PSNR",
            )
            ref = psnr(a, b)
            if not math.isclose(got, ref, abs_tol=1e-3):
                mae = float((a - b).abs().mean())
                uses_mae = any(math.isclose(got, k * math.log10(1 / mae), abs_tol=1e-3) for k in (10, 20))
                raise Wrong(
                    f"your PSNR is {got:.2f} dB where the library measures a different value.",
                    "you averaged the absolute differences; PSNR uses another average of the errors."
                    if uses_mae
                    else "PSNR compares the peak value of the signal with the typical error, in decibels.",
                    "PSNR is built on the mean of the SQUARED differences; the decibel scale is "
                    "10 * log10 of a ratio of two powers (squared quantities): which two, for an "
                    "image whose peak value is 1?",
                )
        return "10 log10(1 / MSE): every 10 dB is 10x less squared error."

    return run_check(body, fn, seed=seed, hint=hint, library=(psnr,))
