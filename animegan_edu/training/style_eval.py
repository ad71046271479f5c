"""Did a generator learn a style? Style distance, content kept and colour cast, on held-out photos.

Introduced in ``notebooks/09_learn_a_style.ipynb``; command line:
``animegan-edu evaluate --styles data/styles [--weights W] [--size 512]``.

For the validation photos (never trained on, :data:`animegan_edu.samples.VALIDATION_PHOTOS`)
at a longest side (512 px by default), a generator's outputs are compared with each style
set (``<styles>/<Set>/style/*.png`` of ``animegan-edu data prepare-styles``):

* ``distance[Set]``: :func:`animegan_edu.metrics.style_distance` between the outputs' patch
  statistics and the set's (lower is closer; no training loss uses these features);
* ``edge_corr``: mean correlation of the Sobel edges of output and photo (content kept);
* ``output_ab`` / ``photo_ab``: mean Lab ``(a*, b*)`` of the outputs and of the photos; a
  colour cast away from a style shows as ``output_ab`` farther from that set's mean colour
  (``set_ab``) than ``photo_ab`` is (:meth:`StyleScores.cast_ok`).

Pictures are RGB ``(3, H, W)`` in ``[0, 1]``; generators map ``[-1, 1]`` NCHW to the same.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from animegan_edu.data.dataset import DataError, list_images, read_image
from animegan_edu.metrics import edge_correlation, mean_lab_ab, patch_features, style_distance
from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01

__all__ = [
    "StyleSet", "load_style_set", "load_style_sets", "StyleScores", "style_scores", "confusion_table"]


@dataclass
class StyleSet:
    """A style set's patch statistics and mean colour (what the scores compare with)."""

    name: str
    features: np.ndarray  #: :func:`~animegan_edu.metrics.patch_features` of its pictures
    ab: tuple[float, float]  #: mean Lab (a*, b*)
    count: int  #: number of pictures


def load_style_set(folder: str | os.PathLike, name: str | None = None, limit: int | None = None) -> StyleSet:
    """Read ``folder/style/*.png`` (or ``folder`` itself when it has no ``style/``) into a :class:`StyleSet`.

    Example:
        >>> import tempfile, os
        >>> from PIL import Image
        >>> d = tempfile.mkdtemp(); os.makedirs(os.path.join(d, "style"))
        >>> Image.new("RGB", (64, 64), (200, 40, 40)).save(os.path.join(d, "style", "a.png"))
        >>> s = load_style_set(d, "Red")
        >>> s.count, s.features.shape, s.ab[0] > 40
        (1, (4, 8), True)
    """
    folder = Path(folder)
    pics_dir = folder / "style" if (folder / "style").is_dir() else folder
    files = list_images(pics_dir)[:limit]
    if not files:
        raise DataError(f"{pics_dir}: no pictures; run 'animegan-edu data prepare-styles' first")
    pics = [read_image(f) for f in files]
    return StyleSet(name or folder.name, patch_features(pics), mean_lab_ab(pics), len(pics))


def load_style_sets(root: str | os.PathLike, names: Sequence[str] | None = None) -> list[StyleSet]:
    """The sets ``root/<name>/style/`` (``names``: every folder of ``root`` that has one, sorted).

    Raises:
        DataError: ``root`` holds no set, or a named one is missing (one line: what to run).

    Example:
        >>> import tempfile, os
        >>> from PIL import Image
        >>> d = tempfile.mkdtemp()
        >>> for n in ("B", "A"):
        ...     os.makedirs(os.path.join(d, n, "style"))
        ...     Image.new("RGB", (32, 32), (90, 90, 90)).save(os.path.join(d, n, "style", "x.png"))
        >>> [s.name for s in load_style_sets(d)]
        ['A', 'B']
    """
    root = Path(root)
    if names is None:
        names = [d.name for d in sorted(root.iterdir()) if (d / "style").is_dir()] if root.is_dir() else []
    if not names:
        raise DataError(f"{root}: no style sets (<Set>/style/); run 'animegan-edu data prepare-styles' first")
    return [load_style_set(root / n, n) for n in names]


@dataclass
class StyleScores:
    """One generator's figures against every style set (see the module docstring)."""

    size: int
    distance: dict[str, float]
    edge_corr: float
    output_ab: tuple[float, float]
    photo_ab: tuple[float, float]
    set_ab: dict[str, tuple[float, float]] = field(default_factory=dict)

    def cast_ok(self, name: str) -> bool:
        """Whether the outputs' mean colour is no farther from set ``name``'s than the photos' is."""
        return math.dist(self.output_ab, self.set_ab[name]) <= math.dist(self.photo_ab, self.set_ab[name])

    def nearest(self) -> str:
        """The set the outputs are closest to."""
        return min(self.distance, key=self.distance.__getitem__)


@torch.no_grad()
def style_scores(
    model: nn.Module | None,
    sets: Sequence[StyleSet],
    size: int = 512,
    names: Sequence[str] | None = None,
) -> StyleScores:
    """Score ``model`` (``None``: the photos themselves) against ``sets`` on the validation photos.

    Example:
        >>> flat = StyleSet("Flat", patch_features([torch.full((3, 64, 64), 0.5)] * 2), (0.0, 0.0), 2)
        >>> s = style_scores(None, [flat], size=64, names=["coffee"])
        >>> round(s.edge_corr, 6), s.distance["Flat"] > 0
        (1.0, True)
    """
    if model is not None:
        model.eval()
    photos, outputs = [], []
    for name in names or VALIDATION_PHOTOS:
        photo = sample_photo01(name, size)[None]
        out = photo if model is None else ((model(photo * 2 - 1).float() + 1) / 2).clamp(0, 1)
        if not torch.isfinite(out).all():
            raise ValueError(f"the generator produced non-finite values on {name}: its weights are broken")
        photos.append(photo)
        outputs.append(out)
    feats = patch_features(outputs)
    return StyleScores(
        size=size,
        distance={s.name: style_distance(feats, s.features) for s in sets},
        edge_corr=float(np.mean([edge_correlation(o, p) for o, p in zip(outputs, photos)])),
        output_ab=mean_lab_ab(outputs),
        photo_ab=mean_lab_ab(photos),
        set_ab={s.name: s.ab for s in sets},
    )


def confusion_table(scores: Mapping[str, StyleScores]) -> str:
    """Rows: generators; columns: style sets; cells: style distance (the row's nearest set starred).

    Example:
        >>> s = StyleScores(512, {"A": 1.0, "B": 2.0}, 0.6, (0.0, 0.0), (0.0, 0.0))
        >>> print(confusion_table({"a-model": s}))
        model                A       B   edge corr
        a-model          1.00*   2.00         0.60
    """
    sets = list(next(iter(scores.values())).distance)
    width = {n: max(8, len(n) + 2) for n in sets}  # a long set name (Hedgewars) keeps a space before it
    lw = max(14, *(len(label) + 2 for label in scores))
    lines = [f"{'model':<{lw}}" + "".join(f"{n:>{width[n]}}" for n in sets) + f"{'edge corr':>12}"]
    for label, s in scores.items():
        best = s.nearest()
        cells = "".join(f"{s.distance[n]:>{width[n] - 1}.2f}{'*' if n == best else ' '}" for n in sets)
        lines.append(f"{label:<{lw}}{cells}{s.edge_corr:>12.2f}")
    return "\n".join(lines)
