"""Solutions to notebook 04's exercises."""

import torch

from animegan_edu.teaching import exercises_losses as exercises


def g_loss(d_fake: torch.Tensor) -> torch.Tensor:
    return (d_fake - 1).pow(2).mean()


def g_total(terms: dict, weights) -> torch.Tensor:  # noqa: ANN001 - a LossWeights
    return sum(getattr(weights, name) * value for name, value in terms.items())


RESULTS = [exercises.check_lsgan_g_loss(g_loss), exercises.check_generator_loss(g_total)]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
