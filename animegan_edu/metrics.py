"""Image quality figures: PSNR, SSIM, detail kept (Laplacian ratio) and edges kept (edge correlation).

Every function here compares pictures in ``[0, 1]`` (RGB ``(N, 3, H, W)``, or any shape
for PSNR). Generator outputs are ``[-1, 1]``: convert them first with
:func:`animegan_edu.imageio.from_generator_range`, e.g.
``psnr(from_generator_range(int8_out), from_generator_range(fp32_out))``.

PSNR and SSIM are kornia's (:func:`kornia.metrics.psnr`, :func:`kornia.metrics.ssim`);
PSNR is computed in float64 so that figures near 50 dB keep their decimals.
"""

from __future__ import annotations

import math

import kornia
import torch

__all__ = ["psnr", "ssim", "laplacian_ratio", "edge_correlation"]


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB of two tensors of one shape, values in ``[0, data_range]``.

    ``10 log10(data_range^2 / MSE)``, the MSE over every element; ``inf`` when they are equal.
    35 dB on ``[0, 1]`` pictures is an RMS error of about 1.8 % of the range.

    Raises:
        ValueError: the shapes differ.

    Example:
        >>> round(psnr(torch.zeros(4), torch.full((4,), 0.1)), 3)
        20.0
        >>> psnr(torch.ones(2), torch.ones(2))
        inf
    """
    if a.shape != b.shape:
        raise ValueError(f"psnr needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    return float(kornia.metrics.psnr(a.detach().double(), b.detach().double(), float(data_range)))


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 11) -> float:
    """Mean SSIM (kornia, Gaussian window ``window``) of two pictures ``(N, C, H, W)`` in ``[0, 1]``.

    1.0 means identical; structure, contrast and brightness are compared locally, so a
    shifted edge or a banded gradient costs more than an even noise of the same PSNR.
    Values above 0.999999 are rounded to 6 decimals (identical pictures give exactly 1.0).

    Raises:
        ValueError: the tensors are not ``(N, C, H, W)`` of one shape.

    Example:
        >>> x = torch.rand(1, 3, 32, 32)
        >>> ssim(x, x), ssim(x, 1 - x) < 0.5
        (1.0, True)
    """
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(
            f"ssim needs two (N, C, H, W) tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    value = float(kornia.metrics.ssim(a.detach().float(), b.detach().float(), window, max_val=1.0).mean())
    return round(value, 6) if value > 0.999999 else value


def _grey(x: torch.Tensor) -> torch.Tensor:
    return kornia.color.rgb_to_grayscale(x)


def laplacian_ratio(output: torch.Tensor, target: torch.Tensor) -> float:
    """Detail kept: std of the Laplacian of the grey ``output`` over that of the grey ``target``.

    Both ``(N, 3, H, W)`` RGB in ``[0, 1]``. 1 is as sharp as the target; a blurred output
    is far below 1, a noisy one above. ``nan`` when the target is flat.

    Example:
        >>> x = torch.rand(1, 3, 32, 32)
        >>> round(laplacian_ratio(x, x), 6), laplacian_ratio(x * 0.5, x) < 1
        (1.0, True)
    """
    lap_o = kornia.filters.laplacian(_grey(output), 3).std()
    lap_t = kornia.filters.laplacian(_grey(target), 3).std()
    return float(lap_o / lap_t) if lap_t > 0 else math.nan


def edge_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson correlation of the Sobel edge maps of two pictures ``(N, 3, H, W)`` in ``[0, 1]``.

    Are the edges of ``b`` where they are in ``a``? 0 when either picture is flat.

    Example:
        >>> x = torch.rand(1, 3, 32, 32)
        >>> round(edge_correlation(x, x), 6), edge_correlation(x, torch.zeros_like(x))
        (1.0, 0.0)
    """
    ea = kornia.filters.sobel(_grey(a)).flatten().double()
    eb = kornia.filters.sobel(_grey(b)).flatten().double()
    ea, eb = ea - ea.mean(), eb - eb.mean()
    den = float(ea.norm() * eb.norm())
    return float((ea * eb).sum()) / den if den > 0 else 0.0
