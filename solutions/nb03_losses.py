"""Solutions to notebook 03's exercises."""

import kornia
import torch

from animegan_edu.teaching import exercises_losses as exercises
from animegan_edu.teaching import exercises_projects as projects


def my_gram(feat: torch.Tensor) -> torch.Tensor:
    n, c, h, w = feat.shape
    f = feat.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def d_loss(real: torch.Tensor, fake: torch.Tensor, gray: torch.Tensor, smooth: torch.Tensor) -> torch.Tensor:
    return (real - 1).pow(2).mean() + fake.pow(2).mean() + gray.pow(2).mean() + smooth.pow(2).mean()


def tv(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()


def edge_band(image: torch.Tensor, low: float, high: float, dilate: int) -> torch.Tensor:
    _, edges = kornia.filters.canny(kornia.color.rgb_to_grayscale(image), low, high)
    return kornia.morphology.dilation(edges, torch.ones(dilate, dilate)) > 0.5


def blur(image: torch.Tensor, sigma: float, ksize: int) -> torch.Tensor:
    return kornia.filters.gaussian_blur2d(image, (ksize, ksize), (sigma, sigma), border_type="reflect")


def composite(image: torch.Tensor, blurred: torch.Tensor, band: torch.Tensor) -> torch.Tensor:
    return torch.where(band, blurred, image)


RESULTS = [
    exercises.check_gram(my_gram),
    exercises.check_lsgan_d_loss(d_loss),
    exercises.check_total_variation(tv),
    projects.check_edge_smoothing(edge_band, blur, composite),
]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
