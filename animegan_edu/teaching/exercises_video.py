"""Checked exercises of notebook 10: the masked warping error, the flow-guided blend.

Each checker calls the student's function on fresh random inputs and compares the result with
:mod:`animegan_edu.video.temporal`; it returns a
:class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..." with a
hint, never the solution). The notebook imports this module as ``exercises``.

Example:
    >>> check_temporal_blend(lambda s, w, m, a: (1 - a * m.float()) * s + a * m.float() * w).correct
    True
"""

from __future__ import annotations

from typing import Callable

import torch

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
from animegan_edu.video.temporal import PairFlow, blend_previous, warping_error

__all__ = ["check_masked_error", "check_temporal_blend"]


def check_masked_error(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], object]) -> Feedback:
    """10: ``fn(a, b, mask)``: the mean absolute difference of two frames where ``mask`` is True.

    ``a``, ``b``: ``(3, H, W)`` in ``[0, 1]``; ``mask``: ``(H, W)`` bool. The difference is averaged
    over R, G and B, then over the kept pixels only: the core of the warping error.

    Example:
        >>> check_masked_error(lambda a, b, m: (a - b).abs().mean(0)[m].mean()).correct
        True
    """

    def body() -> str:
        g = seeded(21)
        for h, w in ((12, 16), (7, 9)):
            a, b = torch.rand(3, h, w, generator=g), torch.rand(3, h, w, generator=g)
            mask = torch.rand(h, w, generator=g) < 0.4
            got = answer_number(
                call_answer(
                    fn,
                    a.clone(),
                    b.clone(),
                    mask.clone(),
                    stub="def masked_error(a, b, mask): ...",
                    want="a number",
                ),
                "the error",
            )
            flows = [
                PairFlow(torch.zeros(h, w, 2), mask, torch.zeros(h, w))
            ]  # no motion: warp is the identity
            ref = warping_error(torch.stack([b, a]), flows).mean
            if abs(got - ref) > 1e-5:
                everywhere = float((a - b).abs().mean())
                hint = (
                    "you averaged over every pixel; count only the pixels where mask is True"
                    if abs(got - everywhere) < 1e-5
                    else "take |a - b|, average over the 3 channels, then average over the kept pixels"
                )
                raise Wrong(
                    f"your error is {got:.4f} where the library measures another value. Hint: {hint}."
                )
        return "occluded pixels are left out, so only what the flow can follow counts as flicker."

    return run_check(body)


def check_temporal_blend(
    fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor],
) -> Feedback:
    """10: ``fn(stylized, warped_prev, mask, weight)`` is the flow-guided blend ``(1 - w m) S + w m W``.

    Example:
        >>> from animegan_edu.video.temporal import blend_previous
        >>> check_temporal_blend(blend_previous).correct
        True
    """

    def body() -> str:
        g = seeded(22)
        s, wp = torch.rand(3, 10, 12, generator=g), torch.rand(3, 10, 12, generator=g)
        mask = torch.rand(10, 12, generator=g) < 0.5
        for weight in (0.0, 0.3, 0.7):
            got = answer_tensor(
                call_answer(
                    fn,
                    s.clone(),
                    wp.clone(),
                    mask.clone(),
                    weight,
                    stub="def blend(stylized, warped_prev, mask, weight): ...",
                ),
                tuple(s.shape),
                f"the blend at w={weight}",
            )
            ref = blend_previous(s, wp, mask, weight)
            if not torch.allclose(got, ref.double(), atol=1e-5):
                if torch.allclose(got, ((1 - weight) * s + weight * wp).double(), atol=1e-5):
                    raise Wrong(
                        "you blended occluded pixels too. Hint: where mask is False the stylised frame must "
                        "stay as it is; multiply the weight by the mask."
                    )
                require_close(
                    got,
                    ref,
                    f"at w={weight}: kept pixels get (1 - w) of the new frame and w of the warped "
                    "previous one; the others only the new frame.",
                )
        return "trusted pixels lean on the past, occluded ones follow the new frame: less flicker, no ghosts."

    return run_check(body)
