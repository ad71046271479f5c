"""Solutions to notebook 04's exercises."""

import torch

from animegan_edu.teaching import exercises_losses as exercises
from animegan_edu.teaching import exercises_projects as projects
from animegan_edu.training import losses


def g_loss(d_fake: torch.Tensor) -> torch.Tensor:
    return (d_fake - 1).pow(2).mean()


def g_total(terms: dict, weights) -> torch.Tensor:  # noqa: ANN001 - a LossWeights
    return sum(getattr(weights, name) * value for name, value in terms.items())


def g_step(G, D, feat, g_opt, photo, style_gray, w) -> dict:  # noqa: ANN001 - nets, optimiser, LossWeights
    fake = G(photo)
    f_fake = feat(fake)
    terms = {
        "g_adv": losses.lsgan_g_loss(D(fake)),
        "content": losses.content_loss(f_fake, feat(photo)),
        "style": losses.style_loss(f_fake, feat(style_gray)),
        "colour": losses.colour_loss(fake, photo),
        "tv": losses.total_variation_loss(fake),
    }
    total = sum(getattr(w, name) * value for name, value in terms.items())
    g_opt.zero_grad()
    total.backward()
    g_opt.step()
    return {**{name: value.item() for name, value in terms.items()}, "total": total.item()}


RESULTS = [
    exercises.check_lsgan_g_loss(g_loss),
    exercises.check_generator_loss(g_total),
    projects.check_generator_step(g_step),
]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
