"""Checked exercises of notebook 07: quantisation parameters, fake quantisation, PSNR.

Each ``check_<name>(answer)`` calls the student's function on fresh random inputs and compares
the result with PyTorch's observers and :mod:`animegan_edu.metrics`; it returns a
:class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..." with a
hint, never the solution). The notebook imports this module as ``exercises``.

Example:
    >>> from animegan_edu.metrics import psnr
    >>> check_psnr(psnr).correct
    True
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from animegan_edu.metrics import psnr
from animegan_edu.teaching.checking import (
    Feedback,
    Wrong,
    answer_number,
    answer_tensor,
    call_answer,
    run_check,
    seeded,
)

__all__ = [  # noqa: RUF022 - in notebook order
    "check_qparams",
    "check_fake_quantize",
    "check_psnr",
]


def check_qparams(fn: Callable[[float, float], tuple]) -> Feedback:
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

    def body() -> str:
        for lo, hi in ((-1.0, 1.0), (-0.37, 2.9), (0.2, 5.0), (-3.0, -0.5)):
            obs = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine)
            obs(torch.tensor([lo, hi]))
            s_ref, z_ref = (float(v) for v in obs.calculate_qparams())
            out = call_answer(fn, lo, hi, stub="def qparams(x_min, x_max): ...", want="(scale, zero_point)")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise Wrong(f"return a pair (scale, zero_point), got {type(out).__name__}.")
            s, z = answer_number(out[0], "scale"), answer_number(out[1], "zero_point")
            if not math.isclose(s, s_ref, rel_tol=1e-4):
                raise Wrong(
                    f"scale for [{lo}, {hi}] is {s:.5g}, not the observer's. Hint: widen the range to "
                    "include 0, "
                    "then spread it over the 256 levels 0..255."
                )
            if abs(z - z_ref) > 1.0:  # a tie (e.g. 127.5) may round either way
                raise Wrong(
                    f"zero point for [{lo}, {hi}] is {z:g}, not the observer's. Hint: it is the integer that "
                    "stands for the real 0, rounded and kept inside 0..255."
                )
        return "scale = range / 255 after including 0; the zero point is the integer image of 0."

    return run_check(body)


def check_fake_quantize(fn: Callable[[torch.Tensor, float, int], torch.Tensor]) -> Feedback:
    """07: ``fn(x, scale, zero_point)`` quantizes to ``quint8`` and dequantizes back (a float tensor).

    Example:
        >>> def fake_quant(x, s, z):
        ...     return torch.quantize_per_tensor(x, s, z, torch.quint8).dequantize()
        >>> check_fake_quantize(fake_quant).correct
        True
    """

    def body() -> str:
        x = torch.randn(4, 50, generator=seeded(12)) * 2
        for s, z in ((0.02, 128), (0.01, 30)):
            ref = torch.quantize_per_tensor(x, s, z, torch.quint8).dequantize()
            got = answer_tensor(
                call_answer(fn, x.clone(), s, z, stub="def fake_quant(x, scale, zero_point): ..."),
                tuple(x.shape),
                "the round trip",
            )
            bad = (got - ref.double()).abs() > s * 0.51
            if bad.any():
                outside = bool(((x / s + z) < 0).logical_or((x / s + z) > 255)[bad].any())
                hint = (
                    "values outside the range must be clamped to 0..255 before dequantizing"
                    if outside
                    else "q = round(x / scale) + zero_point, then x_hat = (q - zero_point) * scale"
                )
                raise Wrong(
                    f"{int(bad.sum())} of {x.numel()} values differ by more than half a step. Hint: {hint}."
                )
        return (
            "round, shift, clamp to 0..255, then back: "
            "each value moves by at most half a step (or is clipped)."
        )

    return run_check(body)


def check_psnr(fn: Callable[[torch.Tensor, torch.Tensor], float]) -> Feedback:
    """07: ``fn(a, b)`` is the PSNR in dB of two images in [0, 1] (as used to compare INT8 with fp32).

    Example:
        >>> from animegan_edu.metrics import psnr
        >>> check_psnr(psnr).correct
        True
    """

    def body() -> str:
        g = seeded(13)
        a = torch.rand(1, 3, 16, 16, generator=g)
        for noise in (0.1, 0.01):
            b = (a + noise * torch.randn(a.shape, generator=g)).clamp(0, 1)
            got = answer_number(
                call_answer(fn, a.clone(), b.clone(), stub="def my_psnr(a, b): ...", want="a number"),
                "the PSNR",
            )
            ref = psnr(a, b)
            if not math.isclose(got, ref, abs_tol=1e-3):
                raise Wrong(
                    f"your PSNR is {got:.2f} dB where the library measures a different value. Hint: "
                    "10 * log10(peak^2 / mean squared error), with peak 1 for [0, 1] images."
                )
        return "10 log10(1 / MSE): every 10 dB is 10x less squared error."

    return run_check(body)
