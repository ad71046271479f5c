"""Typical wrong answers to the LSGAN-steps exercise (notebook 09), shared by the exercise tests."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from animegan_edu.teaching import (
    exercises_gan,
    exercises_inference,
    exercises_int8,
    exercises_losses,
    exercises_models,
    exercises_projects,
    exercises_styles,
    exercises_video,
)

#: every module of checked exercises
TOPICS = (
    exercises_models,
    exercises_losses,
    exercises_inference,
    exercises_int8,
    exercises_video,
    exercises_gan,
    exercises_styles,
    exercises_projects,
)


def update(loss: torch.Tensor, opt: torch.optim.Optimizer) -> float:
    """One optimiser step down ``loss``, done right; returns the loss as a number."""
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def d_swapped(D, d_opt, real, fake):  # noqa: ANN001, ANN201
    return update(D(real).pow(2).mean() + (D(fake.detach()) - 1).pow(2).mean(), d_opt)


def d_bce(D, d_opt, real, fake):  # noqa: ANN001, ANN201
    r, f = D(real), D(fake.detach())
    bce = F.binary_cross_entropy_with_logits
    return update(bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)), d_opt)


def g_swapped(G, D, g_opt, x):  # noqa: ANN001, ANN201
    return update(D(G(x)).pow(2).mean(), g_opt)
