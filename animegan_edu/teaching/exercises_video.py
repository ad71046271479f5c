"""Checked exercises of notebook 10: the masked warping error, the flow-guided blend.

Each checker calls the student's function on random inputs drawn fresh on every call
(``seed=`` draws them again) and compares the result with :mod:`animegan_edu.video.temporal`;
it returns a :class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..."
with a hint, ``hint=2`` for a closer one, never the solution). The library's own functions are
refused. The notebook imports this module as ``exercises``.

Example:
    >>> check_temporal_blend(lambda s, w, m, a: (1 - a * m.float()) * s + a * m.float() * w).correct
    True
"""

from __future__ import annotations

from typing import Callable, Optional

import torch

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
from animegan_edu.video.temporal import PairFlow, blend_previous, warping_error

__all__ = ["check_masked_error", "check_temporal_blend"]


def check_masked_error(
    fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], object],
    *,
    seed: Optional[int] = None,
    hint: int = 1,
) -> Feedback:
    """10: ``fn(a, b, mask)``: the mean absolute difference of two frames where ``mask`` is True.

    ``a``, ``b``: ``(3, H, W)`` in ``[0, 1]``; ``mask``: ``(H, W)`` bool. The difference is averaged
    over R, G and B, then over the kept pixels only: the core of the warping error.

    Example:
        >>> check_masked_error(lambda a, b, m: (a - b).abs().mean(0)[m].mean()).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        for _ in range(2):
            h, w = randint(gen, 5, 17), randint(gen, 5, 17)
            a, b = torch.rand(3, h, w, generator=gen), torch.rand(3, h, w, generator=gen)
            mask = torch.rand(h, w, generator=gen) < uniform(gen, 0.3, 0.7)
            mask[0, 0] = True  # at least one kept pixel
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
            flows = [PairFlow(torch.zeros(h, w, 2), mask, torch.zeros(h, w))]  # no motion: the identity warp
            ref = warping_error(torch.stack([b, a]), flows).mean
            if abs(got - ref) > 1e-5:
                everywhere = float((a - b).abs().mean())
                if abs(got - everywhere) < 1e-5:
                    first = "you averaged over every pixel; only the pixels where mask is True count."
                else:
                    first = (
                        "an absolute difference, averaged twice: over the colours, then over the kept pixels."
                    )
                raise Wrong(
                    f"your error is {got:.4f} where the library measures another value.",
                    first,
                    "a (H, W) bool mask can index a (H, W) tensor directly and keeps only its True "
                    "positions; average the colours away before you index.",
                )
        return "occluded pixels are left out, so only what the flow can follow counts as flicker."

    return run_check(body, fn, seed=seed, hint=hint, library=(warping_error,))


def check_temporal_blend(
    fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor],
    *,
    seed: Optional[int] = None,
    hint: int = 1,
) -> Feedback:
    """10: ``fn(stylized, warped_prev, mask, weight)`` is the flow-guided blend ``(1 - w m) S + w m W``.

    Example:
        >>> from animegan_edu.video.temporal import blend_previous
        >>> check_temporal_blend(blend_previous).correct
        False
    """

    def body(gen: torch.Generator) -> str:
        h, w = randint(gen, 5, 17), randint(gen, 5, 17)
        s, wp = torch.rand(3, h, w, generator=gen), torch.rand(3, h, w, generator=gen)
        mask = torch.rand(h, w, generator=gen) < 0.5
        for weight in (0.0, round(uniform(gen, 0.1, 0.45), 3), round(uniform(gen, 0.55, 0.9), 3)):
            stub = "def blend(stylized, warped_prev, mask, weight): ..."
            got = answer_tensor(
                call_answer(fn, s.clone(), wp.clone(), mask.clone(), weight, stub=stub),
                tuple(s.shape),
                f"the blend at w={weight}",
            )
            ref = blend_previous(s, wp, mask, weight)
            if not torch.allclose(got, ref.double(), atol=1e-5):
                if torch.allclose(got, ((1 - weight) * s + weight * wp).double(), atol=1e-5):
                    raise Wrong(
                        "you blended occluded pixels too.",
                        "where mask is False the stylised frame must stay as it is.",
                        "turn the bool mask into 0.0 / 1.0 and let it switch the weight off where it is 0.",
                    )
                require_close(
                    got,
                    ref,
                    f"at w={weight}: kept pixels mix the new frame with the warped previous one; the "
                    "others keep only the new frame.",
                    "the two shares of a kept pixel add up to 1, and the share of the previous frame is w.",
                )
        return "trusted pixels lean on the past, occluded ones follow the new frame: less flicker, no ghosts."

    return run_check(body, fn, seed=seed, hint=hint, library=(blend_previous,))
