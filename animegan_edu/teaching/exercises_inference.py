"""Checked exercises of notebooks 05, 06 and 08: face alignment, colour grading, the Studio's pipeline.

Each ``check_<name>(answer)`` calls the student's function on fresh random inputs and compares
the result with the library (:mod:`animegan_edu.inference.face`,
:mod:`animegan_edu.inference.grading`, :mod:`animegan_edu.inference.pipeline`,
:mod:`animegan_edu.imageio`); it returns a :class:`~animegan_edu.teaching.checking.Feedback`
("Correct: ..." or "Not yet: ..." with a hint, never the solution). The notebooks import
this module as ``exercises``.

Example:
    >>> from animegan_edu.inference.grading import luma
    >>> check_luma(luma).correct
    True
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from animegan_edu.imageio import resize_longest
from animegan_edu.inference.face import estimate_similarity, transform_points
from animegan_edu.inference.grading import blend_strength, channel_gains, color_grade, luma
from animegan_edu.inference.pipeline import finish
from animegan_edu.teaching.checking import (
    Feedback,
    Wrong,
    answer_number,
    answer_tensor,
    call_answer,
    require_close,
    run_check,
    seeded,
)

__all__ = [  # noqa: RUF022 - in notebook order
    "check_similarity",
    "check_invert_similarity",
    "check_luma",
    "check_blue_boost",
    "check_resize_size",
    "check_finish",
]


def check_similarity(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Feedback:
    """05: ``fn(src, dst)`` fits the least-squares similarity transform ``(2, 3)`` (Umeyama).

    Example:
        >>> from animegan_edu.inference.face import estimate_similarity
        >>> check_similarity(estimate_similarity).correct
        True
    """

    def body() -> str:
        g = seeded(8)
        src = torch.rand(5, 2, generator=g, dtype=torch.float64) * 100
        ang, s = 0.4, 1.7
        rot = torch.tensor(
            [[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]], dtype=torch.float64
        )
        dst = s * src @ rot.T + torch.tensor([12.0, -30.0], dtype=torch.float64)
        dst = dst + torch.randn(5, 2, generator=g, dtype=torch.float64)  # noisy: least squares, not exact
        got = answer_tensor(
            call_answer(fn, src.clone(), dst.clone(), stub="def similarity(src, dst): ..."),
            (2, 3),
            "the matrix",
        )
        ref = estimate_similarity(src, dst)
        lin = got[:, :2]
        if (
            abs(lin[0, 0] - lin[1, 1]) > 1e-3 * abs(lin).max()
            or abs(lin[0, 1] + lin[1, 0]) > 1e-3 * abs(lin).max()
        ):
            raise Wrong(
                "your 2x2 part is not a scaled rotation [[a, -b], [b, a]]. Hint: centre both point sets, "
                "take the SVD of their cross-covariance, keep det R = +1, and use ONE scale."
            )
        require_close(
            got,
            ref,
            "this is the least-squares fit: centre both sets, scale = sum of singular values "
            "(sign-corrected) / variance of src, shift = mean(dst) - s R mean(src).",
            atol=1e-3,
            rtol=1e-4,
        )
        return "rotation, one scale and a shift, fitted by least squares (Umeyama 1991)."

    return run_check(body)


def check_invert_similarity(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """05: ``fn(M)`` inverts a ``(2, 3)`` affine matrix, so the stylised crop can be warped back.

    Example:
        >>> def invert(m):
        ...     return torch.linalg.inv(torch.cat([m, torch.tensor([[0., 0., 1.]], dtype=m.dtype)]))[:2]
        >>> check_invert_similarity(invert).correct
        True
    """

    def body() -> str:
        g = seeded(9)
        src = torch.rand(5, 2, generator=g, dtype=torch.float64) * 200
        m = estimate_similarity(src, torch.rand(5, 2, generator=g, dtype=torch.float64) * 512)
        inv = answer_tensor(call_answer(fn, m.clone(), stub="def invert(M): ..."), (2, 3), "the inverse")
        back = transform_points(inv, transform_points(m, src))
        if not torch.allclose(back, src, atol=1e-3):
            raise Wrong(
                "applying M then your inverse does not return the points. Hint: the inverse of x -> A x + t "
                "is y -> A^-1 y - A^-1 t."
            )
        return "M followed by its inverse returns every point."

    return run_check(body)


def check_luma(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """06: ``fn(image)`` is Rec. 601 luma ``(N, 1, H, W)`` of an RGB image in [0, 1].

    Example:
        >>> from animegan_edu.inference.grading import luma
        >>> check_luma(luma).correct
        True
    """

    def body() -> str:
        x = torch.rand(2, 3, 4, 5, generator=seeded(10))
        got = answer_tensor(
            call_answer(fn, x.clone(), stub="def my_luma(image): ..."), (2, 1, 4, 5), "the luma"
        )
        require_close(
            got,
            luma(x),
            "weights 0.299, 0.587, 0.114 for channels 0 (red), 1 (green), 2 (blue); keep the channel "
            "dimension (keepdim=True).",
        )
        return "0.299 R + 0.587 G + 0.114 B, with channel 0 red."

    return run_check(body)


def check_blue_boost(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> Feedback:
    """06: ``fn(image, gain)`` boosts the BLUE channel by ``gain`` and clips to [0, 1], not in place.

    Example:
        >>> from animegan_edu.inference.grading import channel_gains
        >>> check_blue_boost(lambda im, g: channel_gains(im, (1.0, 1.0, g))).correct
        True
    """

    def body() -> str:
        x = torch.rand(1, 3, 6, 6, generator=seeded(11))
        keep = x.clone()
        got = answer_tensor(
            call_answer(fn, x, 1.3, stub="def boost_blue(image, gain): ..."), tuple(x.shape), "the result"
        )
        if not torch.equal(x, keep):
            raise Wrong(
                "your function changed the caller's image in place (like the article's `*=`). Hint: work on "
                "a copy."
            )
        ref = channel_gains(keep, (1.0, 1.0, 1.3))
        if torch.allclose(got, channel_gains(keep, (1.3, 1.0, 1.0)).double(), atol=1e-5):
            raise Wrong("you boosted channel 0, which is RED in an RGB tensor. Hint: which index is blue?")
        require_close(got, ref, "only the blue channel changes, and the result must stay in [0, 1].")
        return "channel 2 (blue) scaled and clipped, input untouched."

    return run_check(body)


def check_resize_size(fn: Callable[[int, int, int], tuple]) -> Feedback:
    """08: ``fn(w, h, size)`` is the ``(w, h)`` the pipeline resizes a picture to.

    The longest side becomes ``size``, and both sides multiples of 4.

    Example:
        >>> def rs(w, h, size):
        ...     k = size / max(w, h)
        ...     return max(4, round(w * k / 4) * 4), max(4, round(h * k / 4) * 4)
        >>> check_resize_size(rs).correct
        True
    """

    def body() -> str:
        for w, h, size in ((64, 48, 32), (30, 90, 40), (50, 50, 20), (100, 37, 64)):
            ref = resize_longest(torch.zeros(1, 3, h, w), size).shape
            out = call_answer(fn, w, h, size, stub="def new_size(w, h, size): ...", want="a pair (w, h)")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise Wrong(f"return a pair (w, h), got {type(out).__name__}.")
            got = (answer_number(out[0], "w"), answer_number(out[1], "h"))
            if got != (ref[-1], ref[-2]):
                raise Wrong(
                    f"new_size({w}, {h}, {size}) = {got}, the pipeline makes a different size. Hint: scale "
                    "so "
                    "the LONGEST side is `size`, then round both sides to the nearest multiple of 4 (at "
                    "least 4)."
                )
        return "longest side = size, both sides rounded to a multiple of 4 (the encoder halves twice)."

    return run_check(body)


def check_finish(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> Feedback:
    """08: ``fn(photo, raw, strength)`` is the studio's fast step with the ``"shinkai"`` grade.

    Example:
        >>> from animegan_edu.inference.pipeline import finish
        >>> check_finish(lambda p, r, s: finish(p, r, strength=s, grade="shinkai")).correct
        True
    """

    def body() -> str:
        g = seeded(14)
        p, r = torch.rand(1, 3, 24, 24, generator=g), torch.rand(1, 3, 24, 24, generator=g)
        got = answer_tensor(
            call_answer(fn, p.clone(), r.clone(), 0.6, stub="def my_finish(photo, raw, strength): ..."),
            tuple(p.shape),
            "the picture",
        )
        ref = finish(p, r, strength=0.6, grade="shinkai")
        wrong_order = blend_strength(p, color_grade(r, "shinkai"), 0.6)
        if torch.allclose(got, wrong_order.double(), atol=1e-4) and not torch.allclose(
            got, ref.double(), atol=1e-4
        ):
            raise Wrong(
                "you graded before blending. Hint: the studio blends photo and stylised picture first, and "
                "grades the blend."
            )
        require_close(
            got,
            ref,
            "blend by strength (grading.blend_strength), then apply the 'shinkai' grade "
            "(grading.color_grade).",
            atol=1e-4,
        )
        return "blend first, then grade: both cheap, so the studio re-runs only these when a slider moves."

    return run_check(body)
