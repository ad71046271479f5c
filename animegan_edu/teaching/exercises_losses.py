"""Checked exercises of notebooks 03-04: the Gram matrix, the LSGAN losses, total variation, the weighted sum.

Each ``check_<name>(answer)`` calls the student's function on fresh random inputs and compares
the result with :mod:`animegan_edu.training.losses`; it returns a
:class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..." with a
hint, never the solution). The notebooks import this module as ``exercises``.

Example:
    >>> from animegan_edu.training.losses import gram
    >>> check_gram(gram).correct
    True
    >>> check_gram(lambda feat: None)
    Not yet: your function returned None; write its body (it should return a tensor).
"""

from __future__ import annotations

import math
from typing import Any, Callable

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
from animegan_edu.training.losses import (
    STYLE_PRESETS,
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


def check_gram(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """03: ``fn(feat)`` is the Gram matrix ``(N, C, C)`` of ``(N, C, H, W)`` features, divided by ``C*H*W``.

    Example:
        >>> check_gram(lambda f: None).correct
        False
    """

    def body() -> str:
        f = torch.randn(2, 4, 5, 6, generator=seeded(3))
        got = answer_tensor(
            call_answer(fn, f.clone(), stub="def my_gram(feat): ..."), (2, 4, 4), "the Gram matrix"
        )
        require_close(
            got,
            gram(f),
            "flatten H and W, multiply the features by their own transpose per image, "
            "and divide by C * H * W.",
        )
        return "(N, C, C) channel correlations, normalised by C * H * W."

    return run_check(body)


def check_lsgan_d_loss(fn: Callable[..., torch.Tensor]) -> Feedback:
    """03: ``fn(real, fake, gray, smooth)`` is the discriminator's LSGAN loss, all weights 1.

    Example:
        >>> from animegan_edu.training.losses import lsgan_d_loss
        >>> check_lsgan_d_loss(lsgan_d_loss).correct
        True
    """

    def body() -> str:
        g = seeded(4)
        maps = [torch.randn(2, 1, 4, 4, generator=g) for _ in range(4)]
        got = answer_number(
            call_answer(fn, *[m.clone() for m in maps], stub="def d_loss(real, fake, gray, smooth): ..."),
            "the loss",
        )
        ref = float(lsgan_d_loss(*maps))
        if not math.isclose(got, ref, rel_tol=1e-4, abs_tol=1e-6):
            raise Wrong(
                f"your loss is {got:.4f} on random score maps, not the LSGAN value. Hint: real scores "
                "should be "
                "1, the three fakes 0; average the squared distance of each map to its label, then add."
            )
        return "mean((real-1)^2) + mean(fake^2) + mean(gray^2) + mean(smooth^2)."

    return run_check(body)


def check_total_variation(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """03: ``fn(x)`` is the total-variation loss of ``losses.total_variation_loss``.

    Example:
        >>> from animegan_edu.training.losses import total_variation_loss
        >>> check_total_variation(total_variation_loss).correct
        True
    """

    def body() -> str:
        x = torch.randn(2, 3, 7, 9, generator=seeded(5))
        got = answer_number(call_answer(fn, x.clone(), stub="def tv(x): ..."), "the loss")
        ref = float(total_variation_loss(x))
        if not math.isclose(got, ref, rel_tol=1e-4):
            raise Wrong(
                f"your TV is {got:.4f}, not the library's. Hint: square the differences of vertical "
                "neighbours and of horizontal neighbours, take the mean of each, add the two means."
            )
        return "mean squared vertical plus horizontal neighbour differences."

    return run_check(body)


def check_lsgan_g_loss(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """04: ``fn(d_fake)`` is the generator's LSGAN loss on the discriminator's scores of its output.

    Example:
        >>> check_lsgan_g_loss(lambda d: (d - 1).pow(2).mean()).correct
        True
    """

    def body() -> str:
        d = torch.randn(3, 1, 8, 8, generator=seeded(6))
        got = answer_number(call_answer(fn, d.clone(), stub="def g_loss(d_fake): ..."), "the loss")
        ref = float(lsgan_g_loss(d))
        if not math.isclose(got, ref, rel_tol=1e-4):
            raise Wrong(
                f"your loss is {got:.4f}, not the LSGAN generator loss. Hint: the generator wants the "
                "discriminator to answer 'real' (the label the discriminator gives real anime)."
            )
        return "the generator pulls every patch score towards the 'real' label 1."

    return run_check(body)


def check_generator_loss(fn: Callable[[dict, Any], Any]) -> Feedback:
    """04: ``fn(terms, weights)`` is the adversarial phase's weighted generator loss.

    ``terms`` has the keys ``g_adv, content, style, colour, tv``; ``weights`` is a
    :class:`~animegan_edu.training.losses.LossWeights` with fields of the same names.

    Example:
        >>> check_generator_loss(lambda t, w: sum(getattr(w, k) * v for k, v in t.items())).correct
        True
    """

    def body() -> str:
        g = seeded(7)
        keys = ("g_adv", "content", "style", "colour", "tv")
        for w in (LossWeights(), STYLE_PRESETS["shinkai"]):
            terms = {k: torch.rand((), generator=g) for k in keys}
            got = answer_number(
                call_answer(fn, dict(terms), w, stub="def g_total(terms, weights): ..."), "the total"
            )
            ref = sum(float(getattr(w, k)) * float(v) for k, v in terms.items())
            if not math.isclose(got, ref, rel_tol=1e-4):
                raise Wrong(
                    f"your total is {got:.3f}, the trainer's is different. Hint: every term is multiplied by "
                    "the LossWeights field of the same name, then all are added."
                )
        return "a weighted sum; the weights come from LossWeights, as in the trainer."

    return run_check(body)
