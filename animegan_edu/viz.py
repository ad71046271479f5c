"""Figure helpers for the notebooks and the Studio, readable on a projector.

Introduced in ``notebooks/08_studio.ipynb``; every notebook's figures can use it.

The rules these helpers keep (so a figure is readable from the back of a classroom):

* at least :data:`MIN_DPI` (100) dots per inch; the default is :data:`DPI` (110);
* every picture at least :data:`MIN_PICTURE_PX` (256) pixels tall as drawn;
* titles and labels at :data:`FONT_SIZE` points or more;
* heat maps have a labelled colour bar and labelled axes.

Functions:

* :func:`projector_style` - matplotlib defaults (dpi, font sizes) for every later figure;
* :func:`figure` - ``plt.subplots`` with a projector-friendly dpi;
* :func:`image_row` - a row (wrapped when too wide) of pictures with titles, and heat maps
  with one shared colour bar;
* :func:`heatmap` - a 2-D array on an axis, with a labelled colour bar;
* :func:`overlay` - a coarse 2-D map (e.g. a discriminator's patch scores) laid over a
  picture, with a labelled colour bar;
* :func:`rgb_histograms` - the red, green and blue histograms of a picture on one axis;
* :func:`legend_outside` - a legend right of the axes, where it cannot hide the data;
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

from animegan_edu.imageio import tensor01_to_pil

__all__ = [
    "running_mean",
    "DPI",
    "MIN_DPI",
    "MIN_PICTURE_PX",
    "FONT_SIZE",
    "projector_style",
    "figure",
    "image_row",
    "heatmap",
    "overlay",
    "rgb_histograms",
    "legend_outside",
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
    raise TypeError(
        "expected a PIL image, a (3, H, W) tensor in [0, 1] or an (H, W, 3) uint8 array, got "
        f"{type(image).__name__}"
    )


def _displayable(image: Any) -> np.ndarray:
    """A picture for ``imshow``: ``(H, W, 3)`` uint8, or ``(H, W)`` float for 2-D input."""
    if isinstance(image, torch.Tensor) and image.ndim == 2:
        return image.detach().float().cpu().numpy()
    if isinstance(image, np.ndarray) and image.ndim == 2:
        return image.astype(np.float32)
    return _hwc_uint8(image)


def projector_style(dpi: int = DPI, fontsize: int = FONT_SIZE) -> dict[str, Any]:
    """Set matplotlib's defaults so that every later figure is readable on a projector.

    Figure dpi at least :data:`MIN_DPI`, titles and axis labels at ``fontsize`` points,
    tick labels and legends one to two points smaller (never below 10). Call it once at
    the top of a notebook; the helpers below keep these rules on their own as well.

    Args:
        dpi: figure resolution (raised to 100 if smaller).
        fontsize: title and label size in points.

    Returns:
        the ``rcParams`` entries that were set.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> projector_style()["figure.dpi"], plt.rcParams["axes.titlesize"]
        (110, 12.0)
    """
    import matplotlib.pyplot as plt

    small = max(10, fontsize - 2)
    rc = {
        "figure.dpi": max(MIN_DPI, int(dpi)),
        "savefig.dpi": "figure",
        "font.size": fontsize,
        "axes.titlesize": fontsize,
        "axes.labelsize": fontsize,
        "xtick.labelsize": small,
        "ytick.labelsize": small,
        "legend.fontsize": max(10, fontsize - 1),
        "figure.titlesize": fontsize + 1,
    }
    plt.rcParams.update(rc)
    return rc


def figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: Optional[tuple[float, float]] = None,
    dpi: int = DPI,
    **kwargs: Any,
):
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


def _wrap_rows(
    widths: Sequence[float], gap: float, max_width: float, ncols: Optional[int]
) -> list[list[int]]:
    """Indices of the pictures on each row: a row ends before it would pass ``max_width`` or ``ncols``.

    Example:
        >>> _wrap_rows([100, 100, 100], 10, 250, None)
        [[0, 1], [2]]
    """
    rows: list[list[int]] = [[]]
    row_w = 0.0
    for i, w in enumerate(widths):
        full = ncols is not None and len(rows[-1]) >= ncols
        if rows[-1] and (full or row_w + gap + w > max_width):
            rows.append([])
            row_w = 0.0
        row_w += (gap if rows[-1] else 0.0) + w
        rows[-1].append(i)
    return rows


def image_row(
    images: Sequence[ImageLike],
    titles: Optional[Sequence[str]] = None,
    height_px: int = 320,
    dpi: int = DPI,
    *,
    suptitle: Optional[str] = None,
    max_width_px: int = 1800,
    fontsize: int = FONT_SIZE,
    ncols: Optional[int] = None,
    cmap: str = "gray",
    vmin: Optional[float] = 0.0,
    vmax: Optional[float] = 1.0,
    colorbar_label: Optional[str] = None,
):
    """Pictures side by side, each ``height_px`` pixels tall as drawn, with titles above.

    The figure is sized so that every picture keeps its aspect ratio at exactly
    ``height_px`` pixels (at least 256) and ``dpi`` (at least 100); a row wider than
    ``max_width_px`` (or longer than ``ncols`` pictures) wraps onto further rows, so a
    notebook never shrinks it to fit. 2-D pictures are heat maps: all of them share
    ``cmap`` and one colour scale, and ``colorbar_label`` adds one labelled colour bar
    for them at the right.

    Args:
        images: PIL images, ``(3, H, W)`` tensors in ``[0, 1]``, ``(H, W, 3)`` uint8 arrays
            or 2-D arrays (grey, ``[0, 1]``).
        titles: one per picture (or ``None``); a title may have several lines.
        height_px: picture height in pixels (raised to 256 if smaller).
        dpi: dots per inch (raised to 100 if smaller).
        suptitle: a title over the whole figure.
        max_width_px: wrap onto a new row beyond this width.
        fontsize: title size in points.
        ncols: at most this many pictures per row (``None``: as many as fit).
        cmap: colour map of the 2-D pictures.
        vmin, vmax: their colour scale; ``None`` takes the minimum / maximum over all of them.
        colorbar_label: what the colours of the 2-D pictures mean (adds a colour bar).

    Returns:
        the matplotlib ``Figure`` (one axis per picture, axes hidden; the colour bar's
        axis, if any, comes last).

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig = image_row([torch.rand(3, 30, 40), Image.new("RGB", (20, 20))], ["a", "b"])
        >>> [round(ax.get_window_extent().height) for ax in fig.axes]
        [320, 320]
        >>> fig = image_row([np.zeros((8, 8)), np.ones((8, 8))], ncols=1, colorbar_label="error")
        >>> len(fig.axes), fig.axes[-1].get_ylabel()
        (3, 'error')
    """
    import matplotlib.pyplot as plt

    if len(images) == 0:
        raise ValueError("image_row needs at least one picture")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} pictures but {len(titles)} titles")
    h_px = max(MIN_PICTURE_PX, int(height_px))
    dpi = max(MIN_DPI, int(dpi))
    pics = [_displayable(im) for im in images]
    flat = [p for p in pics if p.ndim == 2]
    if flat and vmin is None:
        vmin = float(np.nanmin([np.nanmin(p) for p in flat]))
    if flat and vmax is None:
        vmax = float(np.nanmax([np.nanmax(p) for p in flat]))
    widths = [h_px * p.shape[1] / p.shape[0] for p in pics]
    gap = 16.0
    cbar_px = 5.5 * fontsize * dpi / 72.0 + 2 * gap if (colorbar_label and flat) else 0.0
    rows = _wrap_rows(widths, gap, max_width_px - cbar_px, ncols)
    lines = max((str(t).count("\n") + 1 for t in titles), default=1) if titles is not None else 0
    title_px = (fontsize * dpi / 72.0) * (1.25 * lines + 0.55) if titles is not None else 8.0
    sup_px = (fontsize * dpi / 72.0) * (1.5 * (suptitle.count("\n") + 1) + 0.6) if suptitle else 0.0
    pics_w = max(sum(widths[i] for i in r) + gap * (len(r) + 1) for r in rows)
    fig_w = pics_w + cbar_px
    fig_h = sup_px + len(rows) * (title_px + h_px) + gap
    fig = plt.figure(figsize=(fig_w / dpi, fig_h / dpi), dpi=dpi)
    top = fig_h - sup_px
    mappable = None
    for r in rows:
        x = gap
        y = top - title_px - h_px
        for i in r:
            ax = fig.add_axes((x / fig_w, y / fig_h, widths[i] / fig_w, h_px / fig_h))
            pic = pics[i]
            if pic.ndim == 2:
                mappable = ax.imshow(
                    pic, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="antialiased"
                )
            else:
                ax.imshow(pic, aspect="auto", interpolation="antialiased")
            ax.set_axis_off()
            if titles is not None:
                ax.set_title(titles[i], fontsize=fontsize)
            x += widths[i] + gap
        top = y
    if mappable is not None and cbar_px:
        pic_top = fig_h - sup_px - title_px
        cax = fig.add_axes((pics_w / fig_w, top / fig_h, 18.0 / fig_w, (pic_top - top) / fig_h))
        cbar = fig.colorbar(mappable, cax=cax)
        cbar.set_label(colorbar_label, fontsize=fontsize)
        cbar.ax.tick_params(labelsize=max(10, fontsize - 2))
    if suptitle:
        fig.suptitle(suptitle, fontsize=fontsize, y=1.0 - 0.3 * (fontsize * dpi / 72.0) / fig_h, va="top")
    return fig


def _float_array(x: Union[np.ndarray, torch.Tensor]) -> np.ndarray:
    """A float32 NumPy copy of a tensor (any device) or array: what the heat maps draw."""
    return x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, np.float32)


def heatmap(
    ax: Any,
    array: Union[np.ndarray, torch.Tensor],
    label: str,
    *,
    cmap: str = "viridis",
    vmin: Optional[float] = None,
    vmax: Optional[float] = None,
    title: Optional[str] = None,
    fontsize: int = FONT_SIZE,
    axis_labels: tuple[str, str] = ("x (pixels)", "y (pixels)"),
    ticks: Optional[tuple[Sequence[str], Sequence[str]]] = None,
    values: Optional[str] = None,
):
    """Show a 2-D array on ``ax`` with a colour bar labelled ``label`` and labelled axes.

    Args:
        ax: a matplotlib axis.
        array: ``(H, W)`` (or ``(1, H, W)``) numbers; NaNs are drawn blank.
        label: what the colours mean, with units, e.g. ``"|error| (0-1)"``.
        cmap, vmin, vmax: passed to ``imshow``.
        title: the axis title.
        fontsize: label size in points.
        axis_labels: the x and y axis labels; ``ticks``: a name per column and per row (a table).
        values: a format (``".2f"``) to write each cell's value in it (white on dark cells).

    Returns:
        the ``AxesImage``; its colour bar is ``.colorbar``.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig, ax = figure()
        >>> heatmap(ax, torch.rand(8, 8), "error").colorbar.ax.get_ylabel()
        'error'
        >>> _ = heatmap(ax, np.eye(2), "p", ticks=(["a", "b"], ["c", "d"]), values=".1f")
        >>> [t.get_text() for t in ax.texts]
        ['1.0', '0.0', '0.0', '1.0']
    """
    arr = _float_array(array)
    arr = arr[0] if arr.ndim == 3 and arr.shape[0] == 1 else arr
    if arr.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D array, got shape {arr.shape}")
    im = ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label(label, fontsize=fontsize)
    cbar.ax.tick_params(labelsize=fontsize - 2)
    ax.set_xlabel(axis_labels[0], fontsize=fontsize - 1)
    ax.set_ylabel(axis_labels[1], fontsize=fontsize - 1)
    if ticks is not None:
        ax.set_xticks(range(arr.shape[1]), ticks[0])
        ax.set_yticks(range(arr.shape[0]), ticks[1])
    for (i, j), v in np.ndenumerate(arr) if values else ():  # white on dark cells, black on light
        ink = "white" if np.dot(im.cmap(im.norm(v))[:3], (0.299, 0.587, 0.114)) < 0.5 else "black"
        ax.text(j, i, format(v, values), ha="center", va="center", fontsize=fontsize, color=ink)
    ax.tick_params(labelsize=fontsize - 2)
    if title:
        ax.set_title(title, fontsize=fontsize)
    return im


def shared_colorbar(
    fig: Any, mappable: Any, axes: Any, label: str, *, extend: str = "neither", fontsize: int = FONT_SIZE
) -> Any:
    """One labelled colour bar for several heat maps drawn with the same ``vmin``/``vmax``.

    Args:
        fig: the figure.
        mappable: one of the ``AxesImage`` objects (all share its colour scale).
        axes: the axes (one, or an array) the bar is placed beside.
        label: what the colours mean, e.g. ``"absolute error (0-1)"``.
        extend: ``"max"`` draws an arrow for values above ``vmax``.
        fontsize: label size in points (ticks one point smaller).

    Returns:
        the ``Colorbar``.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, axes = plt.subplots(1, 2)
        >>> im = axes[0].imshow(np.zeros((4, 4)), vmin=0, vmax=0.1)
        >>> shared_colorbar(fig, im, axes, "error", extend="max").ax.get_ylabel()
        'error'
        >>> plt.close(fig)
    """
    cbar = fig.colorbar(mappable, ax=axes, fraction=0.03, pad=0.02, extend=extend)
    cbar.set_label(label, fontsize=fontsize)
    cbar.ax.tick_params(labelsize=fontsize - 1)
    return cbar


def overlay(
    ax: Any,
    image: ImageLike,
    values: Union[np.ndarray, torch.Tensor],
    label: str,
    *,
    cmap: str = "coolwarm",
    alpha: float = 0.55,
    vmin: Optional[float] = None,
    vmax: Optional[float] = None,
    title: Optional[str] = None,
    fontsize: int = FONT_SIZE,
):
    """Lay a 2-D map over a picture, stretched to cover it, with a colour bar labelled ``label``.

    Each value of an ``(h, w)`` map covers an ``H/h x W/w`` block of the picture, as a
    patch discriminator's score covers a patch of its input.

    Args:
        ax: a matplotlib axis (its ticks are hidden).
        image: the picture, any form :func:`image_row` takes (``(3, H, W)`` in ``[0, 1]``...).
        values: ``(h, w)``, ``(1, h, w)`` or ``(1, 1, h, w)`` numbers.
        label: what the colours mean.
        cmap, alpha, vmin, vmax: how the map is drawn over the picture.
        title: the axis title.
        fontsize: label size in points.

    Returns:
        the map's ``AxesImage``; its colour bar is ``.colorbar``.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig, ax = figure()
        >>> im = overlay(ax, torch.rand(3, 64, 64), torch.rand(1, 1, 4, 4), "score")
        >>> im.get_extent(), im.colorbar.ax.get_ylabel()
        ([0, 64, 64, 0], 'score')
    """
    pic = _displayable(image[0] if isinstance(image, torch.Tensor) and image.ndim == 4 else image)
    arr = _float_array(values)
    arr = arr.reshape(arr.shape[-2:]) if arr.ndim > 2 and int(np.prod(arr.shape[:-2])) == 1 else arr
    if arr.ndim != 2:
        raise ValueError(f"overlay needs a 2-D map, got shape {arr.shape}")
    h, w = pic.shape[:2]
    ax.imshow(pic, cmap="gray" if pic.ndim == 2 else None)
    im = ax.imshow(
        arr, cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax, extent=(0, w, h, 0), interpolation="nearest"
    )
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label(label, fontsize=fontsize)
    cbar.ax.tick_params(labelsize=max(10, fontsize - 2))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)
    return im


def rgb_histograms(
    ax: Any,
    image: ImageLike,
    title: Optional[str] = None,
    *,
    bins: int = 64,
    legend: bool = True,
    fontsize: int = FONT_SIZE,
):
    """Histograms of a picture's red, green and blue channels, overlaid on ``ax``.

    Args:
        ax: a matplotlib axis.
        image: ``(3, H, W)`` / ``(1, 3, H, W)`` in ``[0, 1]``, a PIL image or ``(H, W, 3)`` uint8.
        title: the axis title.
        bins: histogram bins over ``[0, 1]``.
        legend: draw the legend (channel 0 = red, ...) in the upper left corner.
        fontsize: label size in points.

    Returns:
        the three bar containers (R, G, B).

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig, ax = figure()
        >>> len(rgb_histograms(ax, torch.rand(1, 3, 8, 8), "noise")), ax.get_xlabel()
        (3, 'value (0-1)')
    """
    arr = _hwc_uint8(image[0] if isinstance(image, torch.Tensor) and image.ndim == 4 else image)
    bars = []
    for c, colour in enumerate(("red", "green", "blue")):
        label = f"channel {c} ({colour[0].upper()})"
        _, _, patches = ax.hist(arr[..., c].ravel() / 255.0, bins=bins, range=(0, 1), color=colour,
                                alpha=0.45, label=label)  # fmt: skip
        bars.append(patches)
    ax.set_xlabel("value (0-1)", fontsize=fontsize - 1)
    ax.set_ylabel("pixels", fontsize=fontsize - 1)
    ax.tick_params(labelsize=max(10, fontsize - 2))
    if legend:
        ax.legend(fontsize=max(10, fontsize - 2), loc="upper left")
    if title:
        ax.set_title(title, fontsize=fontsize)
    return bars


def running_mean(values: Sequence[float], n: int = 10) -> np.ndarray:
    """The mean of each ``n`` consecutive values (``len(values) - n + 1`` of them): a smoother loss curve.

    Example:
        >>> running_mean([1.0, 2.0, 3.0, 4.0], n=2).tolist()
        [1.5, 2.5, 3.5]
    """
    v = np.asarray(values, dtype=float)
    return np.convolve(v, np.ones(n) / n, mode="valid")


def legend_outside(ax: Any, *, fontsize: int = FONT_SIZE - 1, **kwargs: Any):
    """A legend to the right of ``ax``, outside the plotting area, so it never hides data.

    Use it with ``bbox_inches="tight"`` (the notebook default) or ``fig.tight_layout()``,
    which make room for it.

    Args:
        ax: a matplotlib axis with labelled artists.
        fontsize: legend text size in points (at least 10).
        **kwargs: passed to ``ax.legend``.

    Returns:
        the ``Legend``.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig, ax = figure()
        >>> _ = ax.plot([0, 1], [0, 1], label="line")
        >>> leg = legend_outside(ax)
        >>> fig.canvas.draw(); bool(leg.get_window_extent().x0 > ax.get_window_extent().x1)
        True
    """
    kwargs.setdefault("loc", "upper left")
    kwargs.setdefault("bbox_to_anchor", (1.02, 1.0))
    kwargs.setdefault("borderaxespad", 0.0)
    return ax.legend(fontsize=max(10, fontsize), **kwargs)


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


def before_after_figure(
    before: ImageLike,
    after: ImageLike,
    title: str = "",
    split: float = 0.5,
    height_px: int = 320,
    dpi: int = DPI,
):
    """A static figure: before, after, and the split view, side by side (:func:`image_row`).

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig = before_after_figure(torch.zeros(3, 8, 8), torch.ones(3, 8, 8))
        >>> [ax.get_title() for ax in fig.axes]
        ['before', 'after', 'split at 50%']
    """
    a, b = _hwc_uint8(before), _hwc_uint8(after)
    return image_row(
        [a, b, compare_image(a, b, split)],
        ["before", "after", f"split at {split:.0%}"],
        height_px=height_px,
        dpi=dpi,
        suptitle=title or None,
    )


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
