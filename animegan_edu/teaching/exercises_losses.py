"""Checked exercises of notebooks 03-04: the Gram matrix, the LSGAN losses, total variation, the weighted sum.

Each ``check_<name>(answer)`` calls the student's function on random inputs drawn fresh on every
call (``seed=`` draws them again) and compares the result with
:mod:`animegan_edu.training.losses`; it returns a
:class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..." with a
hint, ``hint=2`` for a closer one, never the solution). The library's own function is refused.
The notebooks import this module as ``exercises``.

Example:
    >>> from animegan_edu.training.losses import gram
    >>> check_gram(gram)  # doctest: +ELLIPSIS
    Not yet: this is the library's own gram; write your own version. (inputs seed ...)
    >>> check_gram(lambda feat: None).correct
    False
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Optional

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
from animegan_edu.training.losses import (
    LossWeights,
    gram,
    lsgan_d_loss,
    lsgan_g_loss,
    total_variation_loss,
)

__all__ = [  # noqa: RUF022 - in notebook order
    "check_gram",
    "check_lsgan_d_loss",
    "check_total_variation",
    "check_lsgan_g_loss",
    "check_generator_loss",
]


def check_gram(
    fn: Callable[[torch.Tensor], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """03: ``fn(feat)`` is the Gram matrix ``(N, C, C)`` of ``(N, C, H, W)`` features, divided by ``C*H*W``.

    Example:
        >>> def g(f):
        ...     x = f.flatten(2)
        ...     return x @ x.transpose(1, 2) / x[0].numel()
        >>> check_gram(g).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        n, c = randint(gen, 1, 4), randint(gen, 2, 7)
        f = torch.randn(n, c, randint(gen, 3, 9), randint(gen, 3, 9), generator=gen)
        got = answer_tensor(
            call_answer(fn, f.clone(), stub="def my_gram(feat): ..."), (n, c, c), "the Gram matrix"
        )
        ref = gram(f)
        flat = f.flatten(2)
        raw = (flat @ flat.transpose(1, 2)).double()
        if torch.allclose(got, raw, rtol=1e-4) or torch.allclose(got, raw / flat.shape[-1], rtol=1e-4):
            raise Wrong(
                "your channel products are right but not scaled as the task says.",
                "check the normalisation: which sizes does the task divide by?",
                "the division makes the matrix independent of the picture's size AND the number of "
                "channels; count all the numbers in one image's feature map.",
            )
        require_close(
            got,
            ref,
            "entry (i, j) compares channel i with channel j over all positions of one image.",
            "flatten the positions so that each channel is a row; one batched matrix product of that with "
            "its own transpose gives every pair at once.",
        )
        return "(N, C, C) channel correlations, normalised by C * H * W."

    return run_check(body, fn, seed=seed, hint=hint, library=(gram,))


def check_lsgan_d_loss(
    fn: Callable[..., torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """03: ``fn(real, fake, gray, smooth)`` is the discriminator's LSGAN loss, all weights 1.

    Example:
        >>> def d(r, f, g, s):
        ...     return (r - 1).pow(2).mean() + f.pow(2).mean() + g.pow(2).mean() + s.pow(2).mean()
        >>> check_lsgan_d_loss(d).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        size = (2, 1, randint(gen, 3, 9), randint(gen, 3, 9))
        maps = [torch.randn(size, generator=gen) for _ in range(4)]
        got = answer_number(
            call_answer(fn, *[m.clone() for m in maps], stub="def d_loss(real, fake, gray, smooth): ..."),
            "the loss",
        )
        ref = float(lsgan_d_loss(*maps))
        if not math.isclose(got, ref, rel_tol=1e-4, abs_tol=1e-6):
            r, f, g, s = maps
            swapped = float(r.pow(2).mean() + sum((m - 1).pow(2).mean() for m in (f, g, s)))
            if math.isclose(got, swapped, rel_tol=1e-4):
                hint1 = "your labels are swapped: which maps should score 1 and which 0?"
            else:
                hint1 = "least squares: each score map is pulled towards its own label."
            raise Wrong(
                f"your loss is {got:.4f} on random score maps, not the LSGAN value.",
                hint1,
                "four terms, one per map (real anime towards 1; generated, grey and smoothed towards 0), "
                "each averaged over its map (mean, not sum), added with weight 1.",
            )
        return "mean((real-1)^2) + mean(fake^2) + mean(gray^2) + mean(smooth^2)."

    return run_check(body, fn, seed=seed, hint=hint, library=(lsgan_d_loss,))


def check_total_variation(
    fn: Callable[[torch.Tensor], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """03: ``fn(x)`` is the total-variation loss of ``losses.total_variation_loss``.

    Example:
        >>> def tv(x):
        ...     return (x.diff(dim=-2) ** 2).mean() + (x.diff(dim=-1) ** 2).mean()
        >>> check_total_variation(tv).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        x = torch.randn(2, 3, randint(gen, 4, 12), randint(gen, 4, 12), generator=gen)
        got = answer_number(call_answer(fn, x.clone(), stub="def tv(x): ..."), "the loss")
        ref = float(total_variation_loss(x))
        if not math.isclose(got, ref, rel_tol=1e-4):
            raise Wrong(
                f"your TV is {got:.4f}, not the library's.",
                "total variation measures how much neighbouring pixels differ, in BOTH directions.",
                "compare each row with the row below it and each column with the column to its right "
                "(slices shifted by one); square, take the mean of each of the two, and add them.",
            )
        return "mean squared vertical plus horizontal neighbour differences."

    return run_check(body, fn, seed=seed, hint=hint, library=(total_variation_loss,))


def check_lsgan_g_loss(
    fn: Callable[[torch.Tensor], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """04: ``fn(d_fake)`` is the generator's LSGAN loss on the discriminator's scores of its output.

    Example:
        >>> check_lsgan_g_loss(lambda d: (d - 1).pow(2).mean()).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        d = torch.randn(randint(gen, 1, 5), 1, randint(gen, 4, 12), randint(gen, 4, 12), generator=gen)
        got = answer_number(call_answer(fn, d.clone(), stub="def g_loss(d_fake): ..."), "the loss")
        ref = float(lsgan_g_loss(d))
        if not math.isclose(got, ref, rel_tol=1e-4):
            if math.isclose(got, float(d.pow(2).mean()), rel_tol=1e-4):
                hint1 = (
                    "your loss pulls the scores towards the FAKE label; which label does the generator want?"
                )
            else:
                hint1 = "which label does the generator want the discriminator to give its pictures?"
            raise Wrong(
                f"your loss is {got:.4f}, not the LSGAN generator loss.",
                hint1,
                "the same least-squares form as the discriminator's real term, with the label the "
                "discriminator gives real anime as the target, averaged over the map.",
            )
        return "the generator pulls every patch score towards the 'real' label 1."

    return run_check(body, fn, seed=seed, hint=hint, library=(lsgan_g_loss,))


_G_TERMS = ("g_adv", "content", "style", "colour", "tv")


def check_generator_loss(
    fn: Callable[[dict, Any], Any], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """04: ``fn(terms, weights)`` is the adversarial phase's weighted generator loss.

    ``terms`` has the keys ``g_adv, content, style, colour, tv``; ``weights`` is a
    :class:`~animegan_edu.training.losses.LossWeights` with fields of the same names (random ones).

    Example:
        >>> check_generator_loss(lambda t, w: sum(getattr(w, k) * v for k, v in t.items())).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        for _ in range(2):
            w = dataclasses.replace(LossWeights(), **{k: round(uniform(gen, 0.1, 20.0), 3) for k in _G_TERMS})
            terms = {k: torch.rand((), generator=gen) for k in _G_TERMS}
            got = answer_number(
                call_answer(fn, dict(terms), w, stub="def g_total(terms, weights): ..."), "the total"
            )
            ref = sum(float(getattr(w, k)) * float(v) for k, v in terms.items())
            if not math.isclose(got, ref, rel_tol=1e-4):
                raise Wrong(
                    f"your total is {got:.3f}, the trainer's is different.",
                    "each term has its own weight in LossWeights.",
                    "for every key of terms, look up the LossWeights field of the same name (getattr), "
                    "use it on that term, and combine all five.",
                )
        return "a weighted sum; the weights come from LossWeights, as in the trainer."

    return run_check(body, fn, seed=seed, hint=hint)
