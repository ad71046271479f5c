"""Checked exercises of notebook 11: conditional normalisation and the statistics the style encoder reads.

Each ``check_<name>(answer)`` calls the student's function on inputs drawn fresh on every call
(``seed=`` draws them again) and compares the result with the library
(:class:`animegan_edu.conditioned.ModulatedGroupNorm`, :func:`animegan_edu.conditioned.channel_stats`);
it returns a :class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..."
with a hint, ``hint=2`` for a closer one, never the solution). The library's own functions are
refused. The notebook imports this module as ``exercises``.

Example:
    >>> check_channel_stats(lambda f: None)  # doctest: +ELLIPSIS
    Not yet: your function returned None; write its body (it should return a tensor). (inputs seed ...)
"""

from __future__ import annotations

from typing import Callable, Optional

import torch

from animegan_edu.conditioned import ModulatedGroupNorm, channel_stats
from animegan_edu.teaching.checking import (
    Feedback,
    Wrong,
    answer_tensor,
    call_answer,
    randint,
    require_close,
    run_check,
)

__all__ = ["check_modulated_norm", "check_channel_stats"]  # noqa: RUF022 - in notebook order


def check_modulated_norm(
    fn: Callable[..., torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """11: ``fn(x, groups, weight, bias, dg, db)``: a GroupNorm whose scale and shift a code modulates.

    ``x``: ``(N, C, H, W)``; ``weight``, ``bias``: ``(C,)``; ``dg``, ``db``: ``(N, C)``. The
    answer is ``norm(x) * weight * (1 + dg) + bias + db``, with ``norm`` the group
    normalisation (eps ``1e-5``), each ``(N, C)`` number applied to every position of its channel.

    Example:
        >>> import torch.nn.functional as F
        >>> def ans(x, g, w, b, dg, db):
        ...     n = F.group_norm(x, g, eps=1e-5)
        ...     scale = w[:, None, None] * (1 + dg[:, :, None, None])
        ...     return n * scale + b[:, None, None] + db[:, :, None, None]
        >>> check_modulated_norm(ans).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        n, groups = randint(gen, 2, 3), randint(gen, 1, 4)  # two samples or more: one code each
        c, h, w = groups * randint(gen, 1, 3), randint(gen, 2, 6), randint(gen, 2, 6)
        x = torch.randn(n, c, h, w, generator=gen) * 3 + 1
        weight, bias = torch.randn(c, generator=gen) + 1, torch.randn(c, generator=gen)
        cases = {
            "a zero code (dg = db = 0)": (torch.zeros(n, c), torch.zeros(n, c)),
            "a code": (torch.randn(n, c, generator=gen) * 0.5, torch.randn(n, c, generator=gen) * 0.5),
        }
        ref = ModulatedGroupNorm(groups, c)
        with torch.no_grad():
            ref.weight.copy_(weight)
            ref.bias.copy_(bias)
        for what, (dg, db) in cases.items():
            got = answer_tensor(
                call_answer(
                    fn,
                    x.clone(),
                    groups,
                    weight.clone(),
                    bias.clone(),
                    dg.clone(),
                    db.clone(),
                    stub="def modulated_norm(x, groups, weight, bias, dg, db): ...",
                ),
                (n, c, h, w),
                f"the result for {what}",
            )
            ref.modulation = (dg, db)
            with torch.no_grad():
                want = ref(x)
            if "zero" in what:
                require_close(
                    got,
                    want,
                    "with a zero code the layer must be the plain GroupNorm: normalise "
                    "each group, then scale by weight and shift by bias.",
                    "normalise over the channels of a group and all positions together.",
                )
            else:
                require_close(
                    got,
                    want,
                    "the code scales the learned scale (it does not replace it) and "
                    "adds to the learned shift.",
                    "a dg of 0.5 makes that channel's scale 1.5 times the learned weight; "
                    "each sample n has its own (dg, db).",
                )
        return (
            "norm(x) * weight * (1 + dg) + bias + db: a zero code is the plain layer (trained weights load)."
        )

    return run_check(body, fn, seed=seed, hint=hint, library=(ModulatedGroupNorm,))


def check_channel_stats(
    fn: Callable[[torch.Tensor], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """11: ``fn(feat)`` turns feature maps ``(N, C, H, W)`` into ``(N, 2C)``: C channel means, then C spreads.

    The spread is torch's default (unbiased) standard deviation over the positions.

    Example:
        >>> check_channel_stats(lambda f: torch.cat([f.mean((2, 3)), f.std((2, 3))], 1)).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        n, c = randint(gen, 1, 3), randint(gen, 2, 6)
        h, w = randint(gen, 2, 7), randint(gen, 2, 7)
        scale = torch.rand(1, c, 1, 1, generator=gen) * 3 + 0.2
        feat = torch.randn(n, c, h, w, generator=gen) * scale + torch.randn(1, c, 1, 1, generator=gen)
        got = answer_tensor(
            call_answer(fn, feat.clone(), stub="def stats(feat): ..."), (n, 2 * c), "the statistics"
        )
        want = channel_stats(feat).double()
        if torch.allclose(got[:, :c], want[:, :c], atol=1e-5) and not torch.allclose(got, want, atol=1e-5):
            ratio = (got[:, c:] / want[:, c:].clamp_min(1e-8)).mean().item()
            if abs(ratio - ((h * w - 1) / (h * w)) ** 0.5) < 1e-3:
                raise Wrong(
                    "the means are right; the spreads are the population standard deviation.",
                    "use torch's default standard deviation.",
                    "the population version divides by the number of positions; torch's default divides "
                    "by one less.",
                )
        require_close(
            got,
            want,
            "one mean and one spread per channel, over that channel's positions; "
            "all the means first, then all the spreads.",
            "reduce over the last two dimensions (H and W) only, and keep N and C.",
        )
        return "each channel's mean and spread: the statistics AdaIN moves from the style to the content."

    return run_check(body, fn, seed=seed, hint=hint, library=(channel_stats,))
