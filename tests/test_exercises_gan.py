"""Notebook 09's checked exercises: the LSGAN steps pass with the reference solution on fresh seeds,
and each typical wrong answer gets its own hint."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from gan_answers import d_bce, d_swapped, g_swapped, update

from animegan_edu.teaching import exercises_gan as E

SOLUTION = runpy.run_path(str(Path(__file__).resolve().parents[1] / "solutions" / "nb09_learn_a_style.py"))
d_ok, g_ok = SOLUTION["d_step"], SOLUTION["g_step"]


def d_no_zero_grad(D, d_opt, real, fake):  # noqa: ANN001, ANN201
    loss = (D(real) - 1).pow(2).mean() + D(fake.detach()).pow(2).mean()
    loss.backward()
    d_opt.step()
    return loss.item()


def d_no_detach(D, d_opt, real, fake):  # noqa: ANN001, ANN201
    return update((D(real) - 1).pow(2).mean() + D(fake).pow(2).mean(), d_opt)


def d_no_step(D, d_opt, real, fake):  # noqa: ANN001, ANN201
    loss = (D(real) - 1).pow(2).mean() + D(fake.detach()).pow(2).mean()
    d_opt.zero_grad()
    loss.backward()
    return loss.item()


def g_also_steps_d(G, D, g_opt, x):  # noqa: ANN001, ANN201
    both = torch.optim.SGD(list(G.parameters()) + list(D.parameters()), lr=g_opt.param_groups[0]["lr"])
    return update((D(G(x)) - 1).pow(2).mean(), both)


def g_bce(G, D, g_opt, x):  # noqa: ANN001, ANN201
    s = D(G(x))
    return update(F.binary_cross_entropy_with_logits(s, torch.ones_like(s)), g_opt)


def g_detached(G, D, g_opt, x):  # noqa: ANN001, ANN201
    return update((D(G(x).detach()) - 1).pow(2).mean(), g_opt)


def g_no_zero_grad(G, D, g_opt, x):  # noqa: ANN001, ANN201
    loss = (D(G(x)) - 1).pow(2).mean()
    loss.backward()
    g_opt.step()
    return loss.item()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_reference_passes_on_fresh_seeds(seed: int) -> None:
    fb = E.check_lsgan_steps(d_ok, g_ok, seed=seed)
    assert fb.correct, fb


def test_half_losses_of_the_paper_pass() -> None:
    """Mao et al. write both losses with a factor 1/2: accepted too."""

    def d_half(D, d_opt, real, fake):  # noqa: ANN001, ANN202
        return update(0.5 * ((D(real) - 1).pow(2).mean() + D(fake.detach()).pow(2).mean()), d_opt)

    def g_half(G, D, g_opt, x):  # noqa: ANN001, ANN202
        return update(0.5 * (D(G(x)) - 1).pow(2).mean(), g_opt)

    assert E.check_lsgan_steps(d_half, g_half).correct


@pytest.mark.parametrize(
    ("d_step", "g_step", "words"),
    [
        (d_swapped, g_ok, "labels swapped"),
        (d_bce, g_ok, "binary cross-entropy"),
        (d_no_zero_grad, g_ok, "d_opt.zero_grad()"),
        (d_no_detach, g_ok, "fake.detach()"),
        (d_no_step, g_ok, "d_opt.step()"),
        (d_ok, g_also_steps_d, "changed the discriminator"),
        (d_ok, g_swapped, "fake label"),
        (d_ok, g_bce, "binary cross-entropy"),
        (d_ok, g_detached, "do not detach"),
        (d_ok, g_no_zero_grad, "g_opt.zero_grad()"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_typical_mistake_gets_its_hint(d_step, g_step, words: str) -> None:  # noqa: ANN001
    fb = E.check_lsgan_steps(d_step, g_step)
    assert not fb.correct and "Hint" in fb and words in fb, fb


def test_missing_g_step_and_stubs_are_feedback() -> None:
    assert "pass both" in E.check_lsgan_steps(d_ok)
    fb = E.check_lsgan_steps(lambda *a: None, lambda *a: None)
    assert not fb.correct and "returned None" in fb


def test_toy_problem_learns_with_the_library_steps() -> None:
    run = E.lsgan_toy(seed=5)
    assert run.whose == "the library's steps" and len(run.g_losses) == E.TOY_STEPS
    assert run.gap(run.after) < 0.5 * run.gap(run.before)
    mine = E.lsgan_toy(d_ok, g_ok, seed=5)
    assert mine.whose == "your steps"


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda a, b: float((a.mean() - b.mean()) ** 2), "means only"),
        (lambda a, b: float((a.mean() - b.mean()) ** 2 + (a.var() - b.var()) ** 2), "not the variances"),
    ],
)
def test_frechet_mistakes(fn, words: str) -> None:  # noqa: ANN001
    fb = E.check_frechet_1d(fn)
    assert not fb.correct and words in fb, fb


def test_saturation_mistake() -> None:
    fb = E.check_saturation(lambda im: (im.amax(0) - im.amin(0)).mean())
    assert not fb.correct and "division" in fb, fb
