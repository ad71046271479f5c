"""How good is a generator? Figures on held-out photos against the recipe's target.

Introduced in ``notebooks/04_training.ipynb``; command line:
``animegan-edu evaluate [--weights W] [--size 512] [--json]`` (:mod:`animegan_edu.cli.training`).

The demo style has a paired target, :func:`animegan_edu.data.dataset.cartoonize` of each photo,
so a stylization can be scored directly. For each validation photo (never trained on,
:data:`animegan_edu.samples.VALIDATION_PHOTOS`) at a given longest side:

* ``psnr_db``: PSNR of the output against the target (higher is closer);
* ``input_psnr_db``: the same for the unchanged photo, the do-nothing baseline a model
  must beat;
* ``lab_shift``: distance between the mean CIE-Lab colour of output and target (a global
  colour cast shows up here; 1 is about a just-noticeable difference);
* ``laplacian_ratio``: std of the Laplacian of the grey output over that of the target
  (detail kept; a blurred output is far below 1);
* ``edge_corr``: correlation of the Sobel edge maps of output and input (are the
  photo's edges where they were?).

All images here are RGB ``(N, 3, H, W)`` in ``[0, 1]``; the generator works in
``[-1, 1]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import kornia
import torch
from torch import nn

from animegan_edu.data.dataset import cartoonize
from animegan_edu.metrics import edge_correlation, laplacian_ratio, psnr
from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01

__all__ = ["PhotoScore", "image_metrics", "evaluate_generator", "summarize", "scores_table"]


@dataclass
class PhotoScore:
    """The figures of one validation photo at one size (see the module docstring)."""

    name: str
    size: int
    psnr_db: float
    input_psnr_db: float
    lab_shift: float
    laplacian_ratio: float
    edge_corr: float


def image_metrics(output: torch.Tensor, target: torch.Tensor, photo: torch.Tensor) -> dict[str, float]:
    """Compare one stylized image with its target and its input photo.

    Args:
        output, target, photo: ``(3, H, W)`` or ``(1, 3, H, W)`` RGB in ``[0, 1]``, same size.

    Returns:
        ``psnr_db``, ``input_psnr_db``, ``lab_shift``, ``laplacian_ratio``, ``edge_corr``.

    Example:
        >>> x = torch.rand(3, 32, 32)
        >>> m = image_metrics(x, x, x)
        >>> m["psnr_db"] == float("inf"), round(m["lab_shift"], 6), round(m["laplacian_ratio"], 6)
        (True, 0.0, 1.0)
    """
    o, t, p = (v.reshape(1, 3, *v.shape[-2:]).float().clamp(0, 1) for v in (output, target, photo))
    if not (o.shape == t.shape == p.shape):
        raise ValueError(
            "output, target and photo must have one shape, "
            f"got {tuple(o.shape)}, {tuple(t.shape)}, {tuple(p.shape)}"
        )
    lab_o = kornia.color.rgb_to_lab(o).mean(dim=(-2, -1))
    lab_t = kornia.color.rgb_to_lab(t).mean(dim=(-2, -1))
    return {
        "psnr_db": psnr(o, t),
        "input_psnr_db": psnr(p, t),
        "lab_shift": float((lab_o - lab_t).norm()),
        "laplacian_ratio": laplacian_ratio(o, t),
        "edge_corr": edge_correlation(o, p),
    }


@torch.no_grad()
def evaluate_generator(
    model: nn.Module,
    size: int = 512,
    names: Sequence[str] | None = None,
    progress: bool = False,
) -> list[PhotoScore]:
    """Score ``model`` on the validation photos at longest side ``size``.

    The target is :func:`animegan_edu.data.dataset.cartoonize` of the photo at that size (the
    demo recipe's look). ``model`` maps ``(1, 3, H, W)`` in ``[-1, 1]`` to the same.

    Example:
        >>> from animegan_edu.models import Generator
        >>> _ = torch.manual_seed(0)
        >>> s = evaluate_generator(Generator().eval(), size=64, names=["coffee"])
        >>> s[0].name, s[0].size, s[0].psnr_db < s[0].input_psnr_db
        ('coffee', 64, True)
    """
    from tqdm.auto import tqdm

    model.eval()
    scores = []
    for name in tqdm(list(names or VALIDATION_PHOTOS), desc=f"evaluate {size}px", disable=not progress):
        photo = sample_photo01(name, size)[None]  # (1, 3, H, W) in [0, 1]
        target = cartoonize(photo)
        out = ((model(photo * 2 - 1).float() + 1) / 2).clamp(0, 1)
        if not torch.isfinite(out).all():
            raise ValueError(f"the generator produced non-finite values on {name}: its weights are broken")
        scores.append(PhotoScore(name=name, size=size, **image_metrics(out, target, photo)))
    return scores


def summarize(scores: Sequence[PhotoScore]) -> dict[str, float]:
    """Means over photos, and the smallest margin over the unchanged input (dB).

    Example:
        >>> s = [PhotoScore("a", 8, 25.0, 20.0, 1.0, 0.9, 0.8), PhotoScore("b", 8, 23.0, 21.0, 3.0, 0.7, 0.6)]
        >>> summarize(s)["min_margin_db"]
        2.0
    """

    def mean(key: str) -> float:
        return sum(getattr(s, key) for s in scores) / len(scores)

    return {
        "mean_psnr_db": mean("psnr_db"),
        "mean_input_psnr_db": mean("input_psnr_db"),
        "min_margin_db": min(s.psnr_db - s.input_psnr_db for s in scores),
        "max_lab_shift": max(s.lab_shift for s in scores),
        "mean_laplacian_ratio": mean("laplacian_ratio"),
        "min_laplacian_ratio": min(s.laplacian_ratio for s in scores),
        "mean_edge_corr": mean("edge_corr"),
    }


def scores_table(scores: Sequence[PhotoScore]) -> str:
    """The scores as a text table, one row per photo, then a line of the :func:`summarize` figures."""
    head = (
        f"{'photo':<18}{'size':>5}{'PSNR dB':>9}{'input dB':>10}{'margin':>8}"
        f"{'Lab shift':>10}{'lap ratio':>10}{'edge corr':>10}"
    )
    rows = [head, "-" * len(head)]
    for s in scores:
        rows.append(
            f"{s.name:<18}{s.size:>5}{s.psnr_db:>9.2f}{s.input_psnr_db:>10.2f}"
            f"{s.psnr_db - s.input_psnr_db:>+8.2f}"
            f"{s.lab_shift:>10.2f}{s.laplacian_ratio:>10.2f}{s.edge_corr:>10.2f}"
        )
    m = summarize(scores)
    rows.append("-" * len(head))
    rows.append(
        f"mean PSNR {m['mean_psnr_db']:.2f} dB (input {m['mean_input_psnr_db']:.2f}); smallest margin "
        f"{m['min_margin_db']:+.2f} dB; largest Lab shift {m['max_lab_shift']:.2f}; smallest Laplacian ratio "
        f"{m['min_laplacian_ratio']:.2f}"
    )
    return "\n".join(rows)
