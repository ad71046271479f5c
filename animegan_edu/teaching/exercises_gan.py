"""Checked exercises of notebook 09: the LSGAN training steps, the Fréchet distance, saturation.

:func:`check_lsgan_steps` runs the student's ``d_step`` and ``g_step`` on a tiny GAN (a small
MLP generator mapping 2-D noise to points, a small MLP discriminator, a target cloud of points
with another mean) and checks them piece by piece: one step of each against the least-squares
GAN losses of :mod:`animegan_edu.training.losses` (value returned, gradients, which network
moved), then a few dozen steps together, which must bring the generated points towards the
target. :func:`lsgan_toy` is that tiny problem, for the notebook's figure.

The other checkers compare with :mod:`animegan_edu.metrics`. Inputs are drawn fresh on every
call (``seed=`` draws them again). Each returns a
:class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..." with a hint,
``hint=2`` for a closer one, never the solution); the library's own steps and functions are
refused. The notebook imports this module as ``exercises``.

Example:
    >>> check_saturation(lambda im: None)  # doctest: +ELLIPSIS
    Not yet: your function returned None; write its body (it should return a number). (inputs seed ...)
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import kornia
import torch
import torch.nn.functional as F
from torch import nn

from animegan_edu.metrics import frechet_distance, patch_features
from animegan_edu.teaching.checking import (
    Feedback,
    Wrong,
    answer_number,
    call_answer,
    guarded,
    randint,
    run_check,
    seeded,
    uniform,
)
from animegan_edu.training.losses import lsgan_d_loss, lsgan_g_loss

__all__ = ["check_lsgan_steps", "check_frechet_1d", "check_saturation"]  # noqa: RUF022 - notebook order

#: The target cloud of the tiny problem: a Gaussian in 2-D with this mean and spread.
TOY_MEAN = (2.0, 1.0)
TOY_STD = 0.5
TOY_BATCH = 128
#: Steps of :func:`lsgan_toy` (and of the checker's run together).
TOY_STEPS = 80
D_STUB = "def d_step(D, d_opt, real, fake): ..."
G_STUB = "def g_step(G, D, g_opt, x): ..."


def toy_networks(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """The tiny problem's G (noise ``(N, 2)`` -> points ``(N, 2)``) and D (points -> scores ``(N, 1)``).

    Example:
        >>> G, D = toy_networks(0)
        >>> tuple(G(torch.zeros(5, 2)).shape), tuple(D(torch.zeros(5, 2)).shape)
        ((5, 2), (5, 1))
    """
    torch.manual_seed(seed)
    g = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    d = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    return g, d


def toy_target(n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` points ``(n, 2)`` of the target cloud (mean :data:`TOY_MEAN`, spread :data:`TOY_STD`)."""
    return torch.tensor(TOY_MEAN) + TOY_STD * torch.randn(n, 2, generator=gen)


def library_d_step(
    D: nn.Module, d_opt: torch.optim.Optimizer, real: torch.Tensor, fake: torch.Tensor
) -> float:
    """One LSGAN discriminator step with the library's loss (real -> 1, fake -> 0); returns the loss."""
    loss = lsgan_d_loss(D(real), D(fake.detach()))
    d_opt.zero_grad()
    loss.backward()
    d_opt.step()
    return loss.item()


def library_g_step(G: nn.Module, D: nn.Module, g_opt: torch.optim.Optimizer, x: torch.Tensor) -> float:
    """One LSGAN generator step with the library's loss (D(G(x)) -> 1); returns the loss."""
    loss = lsgan_g_loss(D(G(x)))
    g_opt.zero_grad()
    loss.backward()
    g_opt.step()
    return loss.item()


@dataclass
class ToyRun:
    """A run of the tiny problem: the same noise through G before and after, and the losses per step."""

    whose: str
    target: torch.Tensor  #: ``(N, 2)`` target points
    before: torch.Tensor  #: ``(N, 2)`` generated points before training
    after: torch.Tensor  #: ``(N, 2)`` the same noise through G after training
    d_losses: list[float] = field(default_factory=list)
    g_losses: list[float] = field(default_factory=list)

    def gap(self, points: torch.Tensor) -> float:
        """Distance between the mean of ``points`` and the target's mean."""
        return float((points.mean(0) - torch.tensor(TOY_MEAN)).norm())


def lsgan_toy(
    d_step: Optional[Callable[..., Any]] = None,
    g_step: Optional[Callable[..., Any]] = None,
    steps: int = TOY_STEPS,
    seed: int = 0,
    lr: float = 0.008,
) -> ToyRun:
    """Train the tiny GAN with ``d_step`` / ``g_step`` (``None``: the library's steps), Adam, ``steps`` steps.

    Each step draws a fresh target batch and fresh noise, calls ``d_step(D, d_opt, real, G(z))``
    (the fake is *not* detached: that is the step's job), then ``g_step(G, D, g_opt, z)``.

    Example:
        >>> run = lsgan_toy()
        >>> run.gap(run.after) < 0.5 * run.gap(run.before), len(run.d_losses)
        (True, 80)
    """
    G, D = toy_networks(seed)
    gen = seeded(1000 + seed)
    z_show = torch.randn(512, 2, generator=gen)
    target = toy_target(512, gen)
    with torch.no_grad():
        before = G(z_show)
    g_opt = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    mine = d_step is not None and g_step is not None
    d_fn = d_step if d_step is not None else library_d_step
    g_fn = g_step if g_step is not None else library_g_step
    run = ToyRun("your steps" if mine else "the library's steps", target, before, before)
    for _ in range(steps):
        real = toy_target(TOY_BATCH, gen)
        z = torch.randn(TOY_BATCH, 2, generator=gen)
        run.d_losses.append(answer_number(d_fn(D, d_opt, real, G(z)), "d_step's loss"))
        z = torch.randn(TOY_BATCH, 2, generator=gen)
        run.g_losses.append(answer_number(g_fn(G, D, g_opt, z), "g_step's loss"))
    with torch.no_grad():
        run.after = G(z_show)
    return run


def _params(m: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in m.parameters()]


def _fill_grads(m: nn.Module, gen: torch.Generator) -> list[torch.Tensor]:
    """Put leftover gradients on ``m`` (as an earlier step would leave them); returns them."""
    junk = []
    for p in m.parameters():
        p.grad = torch.randn(p.shape, generator=gen)
        junk.append(p.grad.clone())
    return junk


def _grads(loss: torch.Tensor, m: nn.Module) -> list[torch.Tensor]:
    return [g.detach() for g in torch.autograd.grad(loss, list(m.parameters()))]


def _step_matches(delta: list[torch.Tensor], lr: float, grads: list[torch.Tensor]) -> bool:
    """Whether the change ``delta`` is one SGD step ``-lr * grads`` (at scale 1 or 1/2)."""
    for s in (1.0, 0.5):
        if all(torch.allclose(d, -lr * s * g, rtol=1e-3, atol=1e-6) for d, g in zip(delta, grads)):
            return True
    return False


def _value_is(got: float, ref: float) -> bool:
    """``got`` equals ``ref`` or ``ref / 2`` (Mao et al. write the LSGAN losses with a factor 1/2)."""
    return any(math.isclose(got, s * ref, rel_tol=1e-4, abs_tol=1e-6) for s in (1.0, 0.5))


def _check_update(
    who: str, opt: str, net: nn.Module, before: list[torch.Tensor], net0: nn.Module,
    ref: torch.Tensor, lr: float, junk: list[torch.Tensor], no_change_hint: str,
) -> None:  # fmt: skip
    """Raise :class:`Wrong` unless ``net`` moved from ``before`` by one SGD step down ``ref`` at ``net0``."""
    delta = [p.detach() - b for p, b in zip(net.parameters(), before)]
    if all(d.abs().max() == 0 for d in delta):
        raise Wrong(
            f"the {who}'s weights did not change.",
            no_change_hint,
            "backward only computes the gradients; the optimiser's step changes the weights.",
        )
    right = _grads(ref, net0)
    if _step_matches(delta, lr, right):
        return
    if _step_matches([d + lr * j for d, j in zip(delta, junk)], lr, right):
        raise Wrong(
            "the step used the gradients left over from an earlier step as well.",
            f"call {opt}.zero_grad() before loss.backward().",
            "PyTorch adds new gradients to the old ones until they are cleared.",
        )
    raise Wrong(
        f"the {who}'s update is not one step down the LSGAN loss you returned.",
        "one step is: clear the gradients, backpropagate this loss, step the optimiser.",
        f"{opt}.zero_grad(), loss.backward(), {opt}.step(), in that order, on the loss you return.",
    )


def _check_d_piece(d_step: Callable[..., Any], seed: int) -> None:
    gen = seeded(90 + seed)
    G, D = toy_networks(seed)
    D0 = copy.deepcopy(D)
    real, z = toy_target(32, gen), torch.randn(32, 2, generator=gen)
    fake = G(z)  # still attached to G's graph: d_step must detach it
    lr = 0.05
    junk = _fill_grads(D, gen)
    before = _params(D)
    got = answer_number(
        call_answer(
            d_step, D, torch.optim.SGD(D.parameters(), lr=lr), real, fake, stub=D_STUB, want="the loss"
        ),  # fmt: skip
        "d_step's loss",
    )
    r, f = D0(real), D0(fake.detach())
    ref = lsgan_d_loss(r, f)
    ones, zeros = torch.ones_like(r), torch.zeros_like(f)
    bce = F.binary_cross_entropy_with_logits(r, ones) + F.binary_cross_entropy_with_logits(f, zeros)
    if not _value_is(got, ref.item()):
        if _value_is(got, lsgan_d_loss(f, r).item()):
            raise Wrong(
                "your loss is the LSGAN loss with the labels swapped.",
                "the discriminator should answer 'real' for real points and 'fake' for generated ones.",
                "in LSGAN the label of real is 1 and that of fake 0; which map goes with which label?",
            )
        if _value_is(got, bce.item()) or _value_is(got, F.binary_cross_entropy_with_logits(
                torch.cat([r, f]), torch.cat([ones, zeros])).item()):  # fmt: skip
            raise Wrong(
                "your loss is the binary cross-entropy of the original GAN.",
                "LSGAN replaces the cross-entropy by least squares.",
                "each score is pulled towards its label by a squared distance, averaged over the batch.",
            )
        raise Wrong(
            f"d_step returned {got:.4f}, not the discriminator's LSGAN loss on this batch "
            f"({ref.item():.4f}).",
            "return the loss you computed on D(real) and D(fake) before the update, as a number.",
            "two terms, real towards 1 and fake towards 0, each a mean of squared distances; return "
            "loss.item().",
        )
    if any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters()):
        raise Wrong(
            "the discriminator step sent gradients into the generator.",
            "use fake.detach() in d_step, so that backward stops at the generated points.",
            "this step trains D only: score fake.detach(), not fake.",
        )
    _check_update("discriminator", "d_opt", D, before, D0, ref, lr, junk,
                  "after loss.backward(), call d_opt.step().")  # fmt: skip


def _check_g_piece(g_step: Callable[..., Any], seed: int) -> None:
    gen = seeded(190 + seed)
    G, D = toy_networks(seed + 1)
    G0 = copy.deepcopy(G)
    x = torch.randn(32, 2, generator=gen)
    lr = 0.05
    junk = _fill_grads(G, gen)
    before_g, before_d = _params(G), _params(D)
    got = answer_number(
        call_answer(
            g_step, G, D, torch.optim.SGD(G.parameters(), lr=lr), x, stub=G_STUB, want="the loss"
        ),  # fmt: skip
        "g_step's loss",
    )
    if any(not torch.equal(p.detach(), b) for p, b in zip(D.parameters(), before_d)):
        raise Wrong(
            "g_step changed the discriminator's weights.",
            "the generator step updates the generator only: step g_opt, nothing else.",
            "gradients flow through D, but only G's optimiser may step.",
        )
    D0 = copy.deepcopy(D)
    scores = D0(G0(x))
    ref = lsgan_g_loss(scores)
    if not _value_is(got, ref.item()):
        if _value_is(got, scores.pow(2).mean().item()):
            raise Wrong(
                "your generator loss pulls D(G(x)) towards 0, the fake label.",
                "the generator wants the discriminator to answer 'real'.",
                "use the label the discriminator gives real points as the target.",
            )
        if _value_is(got, F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores)).item()):
            raise Wrong(
                "your loss is the binary cross-entropy of the original GAN.",
                "LSGAN replaces the cross-entropy by least squares.",
                "pull D(G(x)) towards the real label with a squared distance, averaged.",
            )
        raise Wrong(
            f"g_step returned {got:.4f}, not the generator's LSGAN loss on this batch ({ref.item():.4f}).",
            "score G(x) with D and pull the scores towards the label the generator wants.",
            "a mean of squared distances to 1, returned as a number (loss.item()).",
        )
    _check_update("generator", "g_opt", G, before_g, G0, ref, lr, junk,
                  "do not detach G(x) in g_step (the gradient must flow through D into G), and call "
                  "g_opt.step() after loss.backward().")  # fmt: skip


def check_lsgan_steps(
    d_step: Callable[..., Any],
    g_step: Optional[Callable[..., Any]] = None,
    seed: Optional[int] = None,
    hint: int = 1,
) -> Feedback:
    """09: ``d_step(D, d_opt, real, fake)`` and ``g_step(G, D, g_opt, x)``, one LSGAN step each.

    ``d_step`` updates the discriminator towards 1 on ``real`` and 0 on ``fake`` (which it gets
    still attached to the generator) and returns its loss; ``g_step`` updates the generator so
    that ``D(G(x))`` moves towards 1 and returns its loss. Checked piece by piece on the tiny
    problem (see the module docstring), then run together for :data:`TOY_STEPS` steps (``seed``
    picks the networks' initial weights and the data; fresh on every call when ``None``). The
    library's own steps and LSGAN losses are refused.

    Example:
        >>> check_lsgan_steps(library_d_step, library_g_step)  # doctest: +ELLIPSIS
        Not yet: this is the library's own library_d_step; write your own version. ...
    """

    def body(gen: torch.Generator) -> str:
        run_seed = randint(gen, 0, 2**31 - 1)
        _check_d_piece(d_step, run_seed)
        if g_step is None:
            raise Wrong("pass both of your functions: exercises.check_lsgan_steps(d_step, g_step).")
        _check_g_piece(g_step, run_seed)
        G, D = toy_networks(run_seed)
        data = seeded(290 + run_seed)
        real, z = toy_target(TOY_BATCH, data), torch.randn(TOY_BATCH, 2, generator=data)
        fixed = (real, G(z).detach())
        d_opt = torch.optim.Adam(D.parameters(), lr=0.008, betas=(0.5, 0.999))
        with torch.no_grad():
            start = float(lsgan_d_loss(D(fixed[0]), D(fixed[1])))
        with guarded():
            for _ in range(5):
                d_step(D, d_opt, *fixed)
        with torch.no_grad():
            end = float(lsgan_d_loss(D(fixed[0]), D(fixed[1])))
        if not end < start:
            raise Wrong(
                f"five d_steps on one fixed batch did not lower the discriminator's loss ({start:.3f} "
                f"-> {end:.3f}).",
                "step downhill: minimise the loss, do not maximise it.",
                "the optimiser moves against the gradient of the loss you call backward() on; "
                "check its sign.",
            )
        with guarded():
            run = lsgan_toy(d_step, g_step, seed=run_seed)
        before, after = run.gap(run.before), run.gap(run.after)
        # on a rare seed the tiny GAN itself learns slowly: then matching the library's steps is enough
        goal = max(0.5 * before, run.gap(lsgan_toy(seed=run_seed).after) + 0.05 * before)
        if not (after < goal and all(map(math.isfinite, run.d_losses + run.g_losses))):
            raise Wrong(
                f"in {TOY_STEPS} steps together the generated points' mean moved from {before:.2f} to "
                f"{after:.2f} away from the target's.",
                "each step alone is right; check that g_step scores the generator's output with the D "
                "you were given.",
                "g_step must not keep a network, an optimiser or a batch of its own between calls.",
            )
        return (
            f"one step of each matches LSGAN; in {TOY_STEPS} steps the generated points' mean moved from "
            f"{before:.2f} to {after:.2f} away from the target's."
        )

    answers = tuple(f for f in (d_step, g_step) if f is not None)
    library = (library_d_step, library_g_step, lsgan_d_loss, lsgan_g_loss)
    return run_check(body, *answers, seed=seed, hint=hint, library=library)


def check_frechet_1d(
    fn: Callable[[torch.Tensor, torch.Tensor], Any], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """09: ``fn(a, b)``: the Fréchet distance between Gaussians fitted to 1-D samples ``a`` and ``b``.

    Example:
        >>> check_frechet_1d(lambda a, b: (a.mean() - b.mean()) ** 2 + (a.std() - b.std()) ** 2).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        cases = (
            (uniform(gen, 0.5, 2.0), uniform(gen, 1.5, 3.0)),
            (-uniform(gen, 0.2, 1.0), uniform(gen, 0.3, 0.7)),
        )
        for shift, spread in cases:
            a = torch.randn(randint(gen, 2000, 5000), generator=gen, dtype=torch.float64)
            b = shift + spread * torch.randn(randint(gen, 2000, 5000), generator=gen, dtype=torch.float64)
            got = answer_number(
                call_answer(fn, a.clone(), b.clone(), stub="def frechet_1d(a, b): ...", want="a number"),
                "the distance",
            )
            ref = frechet_distance(a.numpy()[:, None], b.numpy()[:, None])
            if not math.isclose(got, ref, rel_tol=2e-3, abs_tol=1e-6):
                mean_only = float((a.mean() - b.mean()) ** 2)
                var_diff = float(mean_only + (a.var() - b.var()) ** 2)
                if math.isclose(got, mean_only, rel_tol=2e-3):
                    first = "you compared the means only; the spreads count too."
                elif math.isclose(got, var_diff, rel_tol=2e-3):
                    first = (
                        "you compared the variances: here the spread is measured in the data's own "
                        "units, not the variances."
                    )
                else:
                    first = "the Fréchet distance compares the two fitted Gaussians' means AND their spreads."
                raise Wrong(
                    f"your distance is {got:.4f}, the library's {ref:.4f}.",
                    first,
                    "in 1-D the trace term of section 2 collapses to the square of a difference, like "
                    "the mean term; of the variances or of their square roots?",
                )
        return "in 1-D the Fréchet distance is (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2."

    return run_check(body, fn, seed=seed, hint=hint, library=(frechet_distance,))


def check_saturation(
    fn: Callable[[torch.Tensor], Any], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """09: ``fn(image)``: mean HSV saturation of an RGB picture ``(3, H, W)`` in ``[0, 1]``.

    Saturation of a pixel is ``(max - min) / max`` over its R, G, B (0 where ``max`` is 0), as
    :func:`animegan_edu.metrics.patch_features` measures it. The reference is kornia's
    ``rgb_to_hsv``, refused as an answer like the library's own functions.

    Example:
        >>> check_saturation(lambda im: ((im.amax(0) - im.amin(0)) / im.amax(0)).mean()).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        for _ in range(2):
            h, w = randint(gen, 5, 21), randint(gen, 5, 21)
            im = 0.05 + 0.95 * torch.rand(3, h, w, generator=gen)
            got = answer_number(
                call_answer(fn, im.clone(), stub="def saturation(image): ...", want="a number"),
                "the saturation",
            )
            ref = float(kornia.color.rgb_to_hsv(im[None])[0, 1].mean())
            if not math.isclose(got, ref, rel_tol=1e-3, abs_tol=1e-5):
                spread = float((im.amax(0) - im.amin(0)).mean())
                first = (
                    "you left out the division by the largest channel."
                    if math.isclose(got, spread, rel_tol=1e-3)
                    else "saturation is per pixel: how far apart its channels are, relative to the "
                    "brightest one."
                )
                raise Wrong(
                    f"your saturation is {got:.4f}, the library's {ref:.4f}.",
                    first,
                    "work per pixel with the largest and smallest value over the channel axis (axis 0), "
                    "then average over the pixels; guard against dividing by 0.",
                )
        return "grey pixels score 0, pure colours 1: flat, bright clip art scores high."

    return run_check(body, fn, seed=seed, hint=hint, library=(kornia.color.rgb_to_hsv, patch_features))
