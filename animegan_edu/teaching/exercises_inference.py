"""Checked exercises of notebooks 05, 06 and 08: face alignment, colour grading, the Studio's pipeline.

Each ``check_<name>(answer)`` calls the student's function on random inputs drawn fresh on every
call (``seed=`` draws them again) and compares the result with the library
(:mod:`animegan_edu.inference.face`, :mod:`animegan_edu.inference.grading`,
:mod:`animegan_edu.inference.pipeline`, :mod:`animegan_edu.imageio`); it returns a
:class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..." with a
hint, ``hint=2`` for a closer one, never the solution). The library's own function is refused.
The notebooks import this module as ``exercises``.

Example:
    >>> from animegan_edu.inference.grading import luma
    >>> check_luma(luma).correct
    False
    >>> check_luma(lambda im: 0.299 * im[:, :1] + 0.587 * im[:, 1:2] + 0.114 * im[:, 2:]).correct
    True
"""

from __future__ import annotations

import math
from typing import Callable, Optional

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
    randint,
    require_close,
    run_check,
    uniform,
)

__all__ = [  # noqa: RUF022 - in notebook order
    "check_similarity",
    "check_invert_similarity",
    "check_luma",
    "check_blue_boost",
    "check_resize_size",
    "check_finish",
]


def _noisy_similarity(gen: torch.Generator, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``k`` random points and their image under a random similarity, plus noise."""
    src = torch.rand(k, 2, generator=gen, dtype=torch.float64) * 100
    ang, s = uniform(gen, -math.pi, math.pi), uniform(gen, 0.3, 3.0)
    rot = torch.tensor([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]], dtype=torch.float64)
    shift = torch.tensor([uniform(gen, -50, 50), uniform(gen, -50, 50)], dtype=torch.float64)
    dst = s * src @ rot.T + shift
    return src, dst + torch.randn(k, 2, generator=gen, dtype=torch.float64)  # noisy: least squares


def check_similarity(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """05: ``fn(src, dst)`` fits the least-squares similarity transform ``(2, 3)`` (Umeyama).

    Example:
        >>> from animegan_edu.inference.face import estimate_similarity
        >>> check_similarity(estimate_similarity).startswith("Not yet: this is the library's own")
        True
    """

    def body(gen: torch.Generator) -> str:
        src, dst = _noisy_similarity(gen, randint(gen, 5, 12))
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
                "your 2x2 part is not a scaled rotation [[a, -b], [b, a]].",
                "a similarity allows only a rotation (det R = +1), ONE scale and a shift: no shear, "
                "no mirror, no separate scales.",
                "Umeyama's method: remove the means of both point sets first, then find the rotation "
                "from the 2x2 cross-covariance of the centred sets; the scale and the shift follow.",
            )
        require_close(
            got,
            ref,
            "this is the least-squares fit over ALL the points (the checker adds noise).",
            "remove the means; the rotation comes from an SVD of the cross-covariance (with a sign fix "
            "so det R = +1); the scale compares how far dst spreads along that rotation with how far src "
            "spreads; the shift carries the (scaled, rotated) mean of src onto the mean of dst.",
            atol=1e-3,
            rtol=1e-4,
        )
        return "rotation, one scale and a shift, fitted by least squares (Umeyama 1991)."

    return run_check(body, fn, seed=seed, hint=hint, library=(estimate_similarity,))


def check_invert_similarity(
    fn: Callable[[torch.Tensor], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """05: ``fn(M)`` inverts a ``(2, 3)`` affine matrix, so the stylised crop can be warped back.

    Example:
        >>> def invert(m):
        ...     return torch.linalg.inv(torch.cat([m, torch.tensor([[0., 0., 1.]], dtype=m.dtype)]))[:2]
        >>> check_invert_similarity(invert).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        src, dst = _noisy_similarity(gen, randint(gen, 3, 8))
        m = estimate_similarity(src, dst)
        inv = answer_tensor(call_answer(fn, m.clone(), stub="def invert(M): ..."), (2, 3), "the inverse")
        back = transform_points(inv, transform_points(m, src))
        if not torch.allclose(back, src, atol=1e-3):
            raise Wrong(
                "applying M then your inverse does not return the points.",
                "undo the two parts of M = [A | t]: the shift and the linear part; the order matters.",
                "write y = A x + t, solve it for x, and read off the new linear part and the new shift "
                "(the new shift is not simply -t).",
            )
        return "M followed by its inverse returns every point."

    return run_check(body, fn, seed=seed, hint=hint)


def check_luma(
    fn: Callable[[torch.Tensor], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """06: ``fn(image)`` is Rec. 601 luma ``(N, 1, H, W)`` of an RGB image in [0, 1].

    Example:
        >>> weights = torch.tensor([0.299, 0.587, 0.114])[:, None, None]
        >>> check_luma(lambda im: (im * weights).sum(1, keepdim=True)).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        n, h, w = randint(gen, 1, 4), randint(gen, 3, 9), randint(gen, 3, 9)
        x = torch.rand(n, 3, h, w, generator=gen)
        got = answer_tensor(
            call_answer(fn, x.clone(), stub="def my_luma(image): ..."), (n, 1, h, w), "the luma"
        )
        if torch.allclose(got, luma(x.flip(1)).double(), atol=1e-5):
            raise Wrong(
                "your weights sit on the wrong channels (that is BGR order).",
                "which index is red in an RGB tensor?",
                "channel 0 is red, 1 green, 2 blue; each weight of the task belongs to one of them.",
            )
        require_close(
            got,
            luma(x),
            "luma is a weighted sum of the three channels, with the task's weights.",
            "multiply each channel (0 red, 1 green, 2 blue) by its own weight, add, and keep the channel "
            "axis with size 1 (keepdim=True).",
        )
        return "0.299 R + 0.587 G + 0.114 B, with channel 0 red."

    return run_check(body, fn, seed=seed, hint=hint, library=(luma,))


def check_blue_boost(
    fn: Callable[[torch.Tensor, float], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """06: ``fn(image, gain)`` boosts the BLUE channel by ``gain`` and clips to [0, 1], not in place.

    Example:
        >>> def boost(im, g):
        ...     out = im.clone()
        ...     out[:, 2] *= g
        ...     return out.clamp(0, 1)
        >>> check_blue_boost(boost).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        x = torch.rand(randint(gen, 1, 3), 3, randint(gen, 4, 9), randint(gen, 4, 9), generator=gen)
        gain = round(uniform(gen, 1.1, 1.8), 3)
        keep = x.clone()
        got = answer_tensor(
            call_answer(fn, x, gain, stub="def boost_blue(image, gain): ..."), tuple(x.shape), "the result"
        )
        if not torch.equal(x, keep):
            raise Wrong(
                "your function changed the caller's image in place (like the article's `*=`).",
                "the caller's tensor must stay as it was.",
                "make a copy (clone) first and change the copy.",
            )
        ref = channel_gains(keep, (1.0, 1.0, gain))
        if torch.allclose(got, channel_gains(keep, (gain, 1.0, 1.0)).double(), atol=1e-5):
            raise Wrong(
                "you boosted channel 0, which is RED in an RGB tensor.",
                "which index is blue?",
                "RGB order: index 0 red, 1 green, 2 blue.",
            )
        require_close(
            got,
            ref,
            "only the blue channel changes, and the result must stay in [0, 1].",
            "scale one channel by gain and clip (clamp) the result to the image range.",
        )
        return "channel 2 (blue) scaled and clipped, input untouched."

    return run_check(body, fn, seed=seed, hint=hint, library=(channel_gains,))


def check_resize_size(
    fn: Callable[[int, int, int], tuple], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """08: ``fn(w, h, size)`` is the ``(w, h)`` the pipeline resizes a picture to.

    The longest side becomes ``size``, and both sides multiples of 4.

    Example:
        >>> def rs(w, h, size):
        ...     k = size / max(w, h)
        ...     return max(4, round(w * k / 4) * 4), max(4, round(h * k / 4) * 4)
        >>> check_resize_size(rs).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        cases = [(50, 50, 4 * randint(gen, 3, 16))]
        for _ in range(3):
            cases.append((randint(gen, 16, 200), randint(gen, 16, 200), 4 * randint(gen, 4, 40)))
        cases.append((randint(gen, 150, 200), randint(gen, 5, 12), 4 * randint(gen, 8, 16)))  # thin strip
        for w, h, size in cases:
            ref = resize_longest(torch.zeros(1, 3, h, w), size).shape
            out = call_answer(fn, w, h, size, stub="def new_size(w, h, size): ...", want="a pair (w, h)")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise Wrong(f"return a pair (w, h), got {type(out).__name__}.")
            got = (answer_number(out[0], "w"), answer_number(out[1], "h"))
            if got != (ref[-1], ref[-2]):
                raise Wrong(
                    f"new_size({w}, {h}, {size}) = {got}, the pipeline makes a different size.",
                    "keep the aspect ratio: the LONGEST side becomes size; then both sides become "
                    "multiples of 4.",
                    "scale both sides by the same factor, then go to the NEAREST multiple of 4 (not "
                    "always down), and never below 4.",
                )
        return "longest side = size, both sides rounded to a multiple of 4 (the encoder halves twice)."

    return run_check(body, fn, seed=seed, hint=hint, library=(resize_longest,))


def check_finish(
    fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor],
    *,
    seed: Optional[int] = None,
    hint: int = 1,
) -> Feedback:
    """08: ``fn(photo, raw, strength)`` is the studio's fast step with the ``"shinkai"`` grade.

    The task asks for it with ``grading.blend_strength`` and ``grading.color_grade``; the
    pipeline's own ``finish`` is refused.

    Example:
        >>> check_finish(lambda p, r, s: color_grade(blend_strength(p, r, s), "shinkai")).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        side = randint(gen, 12, 33)
        p, r = torch.rand(1, 3, side, side, generator=gen), torch.rand(1, 3, side, side, generator=gen)
        s = round(uniform(gen, 0.2, 0.9), 3)
        got = answer_tensor(
            call_answer(fn, p.clone(), r.clone(), s, stub="def my_finish(photo, raw, strength): ..."),
            tuple(p.shape),
            "the picture",
        )
        ref = finish(p, r, strength=s, grade="shinkai")
        wrong_order = blend_strength(p, color_grade(r, "shinkai"), s)
        if torch.allclose(got, wrong_order.double(), atol=1e-4) and not torch.allclose(
            got, ref.double(), atol=1e-4
        ):
            raise Wrong(
                "you graded before blending.",
                "the studio mixes the photo and the stylised picture first.",
                "grade the blend, not the stylised picture alone: the grade then also reaches the part "
                "of the photo that the strength keeps.",
            )
        require_close(
            got,
            ref,
            "two steps: blend by strength, then the 'shinkai' grade.",
            "the task names the two grading functions; the output of the first is the input of the second.",
            atol=1e-4,
        )
        return "blend first, then grade: both cheap, so the studio re-runs only these when a slider moves."

    return run_check(body, fn, seed=seed, hint=hint, library=(finish,))
