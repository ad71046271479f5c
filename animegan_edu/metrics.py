"""Image quality figures: PSNR, SSIM, detail kept (Laplacian ratio) and edges kept (edge correlation).

Every function here compares pictures in ``[0, 1]`` (RGB ``(N, 3, H, W)``, or any shape
for PSNR). Generator outputs are ``[-1, 1]``: convert them first with
:func:`animegan_edu.imageio.from_generator_range`, e.g.
``psnr(from_generator_range(int8_out), from_generator_range(fp32_out))``.

PSNR and SSIM are kornia's (:func:`kornia.metrics.psnr`, :func:`kornia.metrics.ssim`);
PSNR is computed in float64 so that figures near 50 dB keep their decimals.

The style distance (:func:`style_distance`) compares two sets of pictures by the statistics
of their patches (:data:`STYLE_FEATURES`: Lab mean and spread, gradient energy, saturation,
flat fraction), features that no training loss uses: the Fréchet distance between Gaussians
fitted to the two sets' patch features, each feature first scaled by the reference set's
spread, so that 0 is "the same statistics" and 1 is about one reference standard deviation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import kornia
import numpy as np
import torch

__all__ = [
    "psnr", "ssim", "laplacian_ratio", "edge_correlation",
    "STYLE_FEATURES", "patch_features", "frechet_distance", "style_distance", "mean_lab_ab",
]  # fmt: skip


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


#: What :func:`patch_features` measures per patch, in column order.
STYLE_FEATURES: tuple[str, ...] = (
    "L mean", "a* mean", "b* mean", "L spread", "chroma spread", "gradient energy", "saturation",
    "flat fraction",
)  # fmt: skip
#: A pixel is "flat" when its Sobel gradient magnitude (L* / 100 units) is below this.
FLAT_GRADIENT = 0.02


def patch_features(images: Iterable[torch.Tensor], patch: int = 32) -> np.ndarray:
    """Statistics of every non-overlapping ``patch`` x ``patch`` patch: ``(P, 8)`` float64.

    Args:
        images: pictures ``(3, H, W)`` or ``(1, 3, H, W)`` RGB in ``[0, 1]`` (any sizes; compare
            sets at a similar scale, e.g. longest side 512). Sides smaller than ``patch`` give
            no patch.

    Returns:
        one row per patch, columns as :data:`STYLE_FEATURES` (Lab in CIE units, gradient of
        L* / 100, saturation and flat fraction in ``[0, 1]``).

    Example:
        >>> f = patch_features([torch.full((3, 64, 96), 0.5)])
        >>> f.shape, round(float(f[0, 0]), 1), float(f[0, 7])
        ((6, 8), 53.4, 1.0)
    """
    rows = []
    for img in images:
        x = img if img.ndim == 4 else img[None]
        x = x.float().clamp(0, 1)
        h, w = (x.shape[-2] // patch) * patch, (x.shape[-1] // patch) * patch
        if h == 0 or w == 0:
            continue
        x = x[..., :h, :w]
        lab = kornia.color.rgb_to_lab(x)[0]
        grad = kornia.filters.sobel(lab[None, :1] / 100)[0, 0]
        hsv_s = kornia.color.rgb_to_hsv(x)[0, 1]
        chans = [lab[0], lab[1], lab[2], grad, hsv_s, (grad < FLAT_GRADIENT).float()]
        # (C, h/p, p, w/p, p) -> (C, h/p, w/p, p*p)
        t = torch.stack(chans).reshape(6, h // patch, patch, w // patch, patch).permute(0, 1, 3, 2, 4)
        t = t.reshape(6, -1, patch * patch).double()
        mean, std = t.mean(-1), t.std(-1, correction=0)
        chroma_spread = (t[1].var(-1, correction=0) + t[2].var(-1, correction=0)).sqrt()
        rows.append(
            torch.stack([mean[0], mean[1], mean[2], std[0], chroma_spread, mean[3], mean[4], mean[5]], 1)
        )
    if not rows:
        return np.zeros((0, len(STYLE_FEATURES)))
    return torch.cat(rows).numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the rows of ``a`` ``(P, D)`` and ``b`` ``(Q, D)``.

    ``|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))``, computed in float64 through the
    symmetric form ``(C_a^(1/2) C_b C_a^(1/2))^(1/2)``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(4000, 2))
        >>> round(frechet_distance(x, x), 6), round(frechet_distance(x, x + [3, 0]), 1)
        (0.0, 9.0)
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(
            f"frechet_distance needs (P, D) and (Q, D) arrays with P, Q >= 2, got {a.shape}, {b.shape}"
        )
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    vals, vecs = np.linalg.eigh(ca)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = np.linalg.eigvalsh(root_a @ cb @ root_a)
    cross = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(max(0.0, ((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * cross))


def style_distance(features: np.ndarray, reference: np.ndarray) -> float:
    """How far a set's patch statistics are from a reference set's (0: the same; see the module docstring).

    Both are :func:`patch_features` arrays; each column is scaled by the reference's standard
    deviation first, so every feature counts alike and the figure has no units.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> ref = rng.normal(size=(3000, 8)) * 10
        >>> near, far = ref + 1, ref + 10
        >>> style_distance(near, ref) < style_distance(far, ref)
        True
    """
    scale = np.asarray(reference, np.float64).std(0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    return frechet_distance(np.asarray(features) / scale, np.asarray(reference) / scale)


def mean_lab_ab(images: Iterable[torch.Tensor]) -> tuple[float, float]:
    """Mean Lab ``(a*, b*)`` of pictures ``(3, H, W)`` RGB in ``[0, 1]`` (each picture weighs alike).

    Example:
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1).expand(3, 8, 8)
        >>> [round(v) for v in mean_lab_ab([red])]  # pure red: a* and b* both strongly positive
        [80, 67]
    """
    means = [kornia.color.rgb_to_lab((x if x.ndim == 4 else x[None]).float().clamp(0, 1))[0, 1:].mean((1, 2))
             for x in images]  # fmt: skip
    m = torch.stack(means).mean(0)
    return float(m[0]), float(m[1])
