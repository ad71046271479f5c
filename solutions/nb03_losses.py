"""Solutions to notebook 03's exercises."""

import torch

from animegan_edu.teaching import exercises_losses as exercises


def my_gram(feat: torch.Tensor) -> torch.Tensor:
    n, c, h, w = feat.shape
    f = feat.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def d_loss(real: torch.Tensor, fake: torch.Tensor, gray: torch.Tensor, smooth: torch.Tensor) -> torch.Tensor:
    return (real - 1).pow(2).mean() + fake.pow(2).mean() + gray.pow(2).mean() + smooth.pow(2).mean()


def tv(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()


RESULTS = [
    exercises.check_gram(my_gram),
    exercises.check_lsgan_d_loss(d_loss),
    exercises.check_total_variation(tv),
]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
