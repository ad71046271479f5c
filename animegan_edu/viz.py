"""Figure helpers for the notebooks and the Studio, readable on a projector.

Introduced in ``notebooks/08_studio.ipynb``; every notebook's figures can use it.

The rules these helpers keep (so a figure is readable from the back of a classroom):

* at least :data:`MIN_DPI` (100) dots per inch; the default is :data:`DPI` (110);
* every picture at least :data:`MIN_PICTURE_PX` (256) pixels tall as drawn;
* titles and labels at :data:`FONT_SIZE` points or more;
* heat maps have a labelled colour bar and labelled axes.

Functions:

* :func:`figure` - ``plt.subplots`` with a projector-friendly dpi;
* :func:`image_row` - a row (wrapped when too wide) of pictures with titles;
* :func:`heatmap` - a 2-D array on an axis, with a labelled colour bar;
* :func:`compare_image` / :func:`before_after_figure` - the before/after split view,
  as an array (for the live widget) and as a figure;
* :func:`png_bytes` - encode a picture as PNG.

Pictures may be PIL images, float tensors ``(3, H, W)`` / ``(1, 3, H, W)`` in ``[0, 1]``,
``(H, W, 3)`` ``uint8`` arrays, or 2-D arrays/tensors (shown grey, values in ``[0, 1]``).
matplotlib is imported only when a figure is made.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np
import torch
from PIL import Image

from .imageio import tensor01_to_pil

__all__ = [
    "DPI",
    "MIN_DPI",
    "MIN_PICTURE_PX",
    "FONT_SIZE",
    "figure",
    "image_row",
    "heatmap",
    "compare_image",
    "before_after_figure",
    "png_bytes",
]

#: Default and minimum figure resolution (dots per inch).
DPI = 110
MIN_DPI = 100
#: Smallest height of a picture as drawn, in pixels.
MIN_PICTURE_PX = 256
#: Font size (points) of titles and labels.
FONT_SIZE = 12

ImageLike = Union[Image.Image, torch.Tensor, np.ndarray]


def _hwc_uint8(image: ImageLike) -> np.ndarray:
    """Any supported picture -> ``(H, W, 3)`` ``uint8``."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 array, got {image.shape} {image.dtype}")
        return image
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    if isinstance(image, torch.Tensor):
        return np.asarray(tensor01_to_pil(image))
    raise TypeError(f"expected a PIL image, a (3, H, W) tensor in [0, 1] or an (H, W, 3) uint8 array, got {type(image).__name__}")


def _displayable(image: Any) -> np.ndarray:
    """A picture for ``imshow``: ``(H, W, 3)`` uint8, or ``(H, W)`` float for 2-D input."""
    if isinstance(image, torch.Tensor) and image.ndim == 2:
        return image.detach().float().cpu().numpy()
    if isinstance(image, np.ndarray) and image.ndim == 2:
        return image.astype(np.float32)
    return _hwc_uint8(image)


def figure(nrows: int = 1, ncols: int = 1, *, figsize: Optional[tuple[float, float]] = None, dpi: int = DPI, **kwargs: Any):
    """``plt.subplots`` with at least :data:`MIN_DPI` dpi (default :data:`DPI`).

    Args:
        nrows, ncols: the grid of axes.
        figsize: inches ``(width, height)``; default 4 x 3.2 per axis.
        dpi: dots per inch; values under 100 are raised to 100.
        **kwargs: passed to ``plt.subplots``.

    Returns:
        ``(fig, axes)`` as ``plt.subplots`` returns them.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig, ax = figure()
        >>> fig.dpi >= 100
        True
    """
    import matplotlib.pyplot as plt

    if figsize is None:
        figsize = (4.0 * ncols, 3.2 * nrows)
    return plt.subplots(nrows, ncols, figsize=figsize, dpi=max(MIN_DPI, int(dpi)), **kwargs)


def image_row(
    images: Sequence[ImageLike],
    titles: Optional[Sequence[str]] = None,
    height_px: int = 320,
    dpi: int = DPI,
    *,
    suptitle: Optional[str] = None,
    max_width_px: int = 1800,
    fontsize: int = FONT_SIZE,
):
    """Pictures side by side, each ``height_px`` pixels tall as drawn, with titles above.

    The figure is sized so that every picture keeps its aspect ratio at exactly
    ``height_px`` pixels (at least 256) and ``dpi`` (at least 100); a row wider than
    ``max_width_px`` wraps onto further rows, so a notebook never shrinks it to fit.

    Args:
        images: PIL images, ``(3, H, W)`` tensors in ``[0, 1]``, ``(H, W, 3)`` uint8 arrays
            or 2-D arrays (grey, ``[0, 1]``).
        titles: one per picture (or ``None``).
        height_px: picture height in pixels (raised to 256 if smaller).
        dpi: dots per inch (raised to 100 if smaller).
        suptitle: a title over the whole figure.
        max_width_px: wrap onto a new row beyond this width.
        fontsize: title size in points.

    Returns:
        the matplotlib ``Figure`` (one axis per picture, axes hidden).

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig = image_row([torch.rand(3, 30, 40), Image.new("RGB", (20, 20))], ["a", "b"])
        >>> [round(ax.get_window_extent().height) for ax in fig.axes]
        [320, 320]
    """
    import matplotlib.pyplot as plt

    if len(images) == 0:
        raise ValueError("image_row needs at least one picture")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} pictures but {len(titles)} titles")
    h_px = max(MIN_PICTURE_PX, int(height_px))
    dpi = max(MIN_DPI, int(dpi))
    pics = [_displayable(im) for im in images]
    widths = [h_px * p.shape[1] / p.shape[0] for p in pics]
    gap = 16.0
    rows: list[list[int]] = [[]]
    row_w = 0.0
    for i, w in enumerate(widths):
        if rows[-1] and row_w + gap + w > max_width_px:
            rows.append([])
            row_w = 0.0
        row_w += (gap if rows[-1] else 0.0) + w
        rows[-1].append(i)
    title_px = (fontsize * dpi / 72.0) * 1.8 if titles is not None else 8.0
    sup_px = (fontsize * dpi / 72.0) * (1.5 * (suptitle.count("\n") + 1) + 0.6) if suptitle else 0.0
    fig_w = max(sum(widths[i] for i in r) + gap * (len(r) + 1) for r in rows)
    fig_h = sup_px + len(rows) * (title_px + h_px) + gap
    fig = plt.figure(figsize=(fig_w / dpi, fig_h / dpi), dpi=dpi)
    top = fig_h - sup_px
    for r in rows:
        x = gap
        y = top - title_px - h_px
        for i in r:
            ax = fig.add_axes((x / fig_w, y / fig_h, widths[i] / fig_w, h_px / fig_h))
            pic = pics[i]
            if pic.ndim == 2:
                ax.imshow(pic, cmap="gray", vmin=0.0, vmax=1.0, aspect="auto", interpolation="antialiased")
            else:
                ax.imshow(pic, aspect="auto", interpolation="antialiased")
            ax.set_axis_off()
            if titles is not None:
                ax.set_title(titles[i], fontsize=fontsize)
            x += widths[i] + gap
        top = y
    if suptitle:
        fig.suptitle(suptitle, fontsize=fontsize, y=1.0 - 0.3 * (fontsize * dpi / 72.0) / fig_h, va="top")
    return fig


def heatmap(ax: Any, array: Union[np.ndarray, torch.Tensor], label: str, *, cmap: str = "viridis",
            vmin: Optional[float] = None, vmax: Optional[float] = None, title: Optional[str] = None,
            fontsize: int = FONT_SIZE):
    """Show a 2-D array on ``ax`` with a colour bar labelled ``label`` and labelled axes.

    Args:
        ax: a matplotlib axis.
        array: ``(H, W)`` (or ``(1, H, W)``) numbers; NaNs are drawn blank.
        label: what the colours mean, with units, e.g. ``"|error| (0-1)"``.
        cmap, vmin, vmax: passed to ``imshow``.
        title: the axis title.
        fontsize: label size in points.

    Returns:
        the ``AxesImage``; its colour bar is ``.colorbar``.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig, ax = figure()
        >>> heatmap(ax, torch.rand(8, 8), "error").colorbar.ax.get_ylabel()
        'error'
    """
    arr = array.detach().float().cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D array, got shape {arr.shape}")
    im = ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label(label, fontsize=fontsize)
    cbar.ax.tick_params(labelsize=fontsize - 2)
    ax.set_xlabel("x (pixels)", fontsize=fontsize - 1)
    ax.set_ylabel("y (pixels)", fontsize=fontsize - 1)
    ax.tick_params(labelsize=fontsize - 2)
    if title:
        ax.set_title(title, fontsize=fontsize)
    return im


def compare_image(before: ImageLike, after: ImageLike, split: float = 0.5, line: int = 2) -> np.ndarray:
    """Before/after in one picture: ``before`` left of ``split`` (a fraction of the width), ``after`` right.

    Args:
        before, after: same-size PIL images or ``(3, H, W)`` / ``(1, 3, H, W)`` tensors in [0, 1].
        split: where the divider sits, 0 (all after) to 1 (all before).
        line: divider width in pixels (white).

    Returns:
        ``(H, W, 3)`` ``uint8`` array.

    Example:
        >>> a, b = Image.new("RGB", (10, 4), "black"), Image.new("RGB", (10, 4), "white")
        >>> compare_image(a, b, 0.3, line=0)[0, :, 0].tolist()
        [0, 0, 0, 255, 255, 255, 255, 255, 255, 255]
    """
    a, b = _hwc_uint8(before), _hwc_uint8(after)
    if a.shape != b.shape:
        raise ValueError(f"before and after must have the same size, got {a.shape[:2]} and {b.shape[:2]}")
    if not 0.0 <= split <= 1.0:
        raise ValueError(f"split must be in [0, 1], got {split}")
    w = a.shape[1]
    x = int(round(split * w))
    out = b.copy()
    out[:, :x] = a[:, :x]
    if line > 0 and 0 < x < w:
        out[:, max(0, x - line // 2) : min(w, x + (line + 1) // 2)] = 255
    return out


def before_after_figure(before: ImageLike, after: ImageLike, title: str = "", split: float = 0.5,
                        height_px: int = 320, dpi: int = DPI):
    """A static figure: before, after, and the split view, side by side (:func:`image_row`).

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig = before_after_figure(torch.zeros(3, 8, 8), torch.ones(3, 8, 8))
        >>> [ax.get_title() for ax in fig.axes]
        ['before', 'after', 'split at 50%']
    """
    a, b = _hwc_uint8(before), _hwc_uint8(after)
    return image_row([a, b, compare_image(a, b, split)], ["before", "after", f"split at {split:.0%}"],
                     height_px=height_px, dpi=dpi, suptitle=title or None)


def png_bytes(image: ImageLike) -> bytes:
    """Encode a picture as PNG bytes.

    Example:
        >>> png_bytes(torch.zeros(3, 2, 2))[:4]
        b'\\x89PNG'
    """
    buf = io.BytesIO()
    pic = image if isinstance(image, Image.Image) else Image.fromarray(_hwc_uint8(image))
    pic.save(buf, format="PNG")
    return buf.getvalue()
