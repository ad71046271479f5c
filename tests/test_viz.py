"""animegan_edu.viz: figures readable on a projector (dpi, picture size, labels, colour bars)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

from animegan_edu import viz


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _heights(fig) -> list[float]:
    fig.canvas.draw()
    return [ax.get_window_extent().height for ax in fig.axes]


def test_image_row_pictures_are_tall_enough_and_titled():
    pics = [
        torch.rand(3, 30, 40),
        Image.new("RGB", (64, 32)),
        np.zeros((20, 20, 3), np.uint8),
        torch.rand(16, 16),
    ]
    fig = viz.image_row(pics, ["tensor", "PIL", "array", "grey"])
    assert fig.dpi >= 100
    assert all(abs(h - 320) < 1 for h in _heights(fig))
    assert [ax.get_title() for ax in fig.axes] == ["tensor", "PIL", "array", "grey"]
    assert all(ax.title.get_fontsize() >= 10 for ax in fig.axes)


def test_image_row_never_goes_below_256_px_or_100_dpi():
    fig = viz.image_row([torch.rand(3, 8, 8)], ["tiny"], height_px=64, dpi=50)
    assert fig.dpi == 100 and all(h >= 256 - 0.5 for h in _heights(fig))


def test_image_row_wraps_instead_of_shrinking():
    fig = viz.image_row([torch.rand(3, 40, 80)] * 5, None, height_px=300, max_width_px=1400)
    w_px = fig.get_size_inches()[0] * fig.dpi
    assert w_px <= 1400 + 1 and all(abs(h - 300) < 1 for h in _heights(fig))
    assert len({round(ax.get_position().y0, 3) for ax in fig.axes}) > 1  # more than one row


def test_image_row_checks_its_arguments():
    with pytest.raises(ValueError, match="2 titles"):
        viz.image_row([torch.rand(3, 4, 4)], ["a", "b"])
    with pytest.raises(ValueError, match="at least one"):
        viz.image_row([])


def test_heatmap_has_a_labelled_colour_bar_and_axes():
    fig, ax = viz.figure()
    im = viz.heatmap(ax, torch.rand(1, 12, 10), "|error| (0-1)", title="error")
    assert im.colorbar is not None and im.colorbar.ax.get_ylabel() == "|error| (0-1)"
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "error"
    with pytest.raises(ValueError, match="2-D"):
        viz.heatmap(ax, np.zeros((2, 3, 4)), "x")


def test_figure_default_dpi():
    fig, axes = viz.figure(1, 2)
    assert fig.dpi >= 100 and len(axes) == 2
    assert viz.figure(dpi=72)[0].dpi == 100


def test_before_after_figure_is_readable():
    """Defect: the Studio's static figure was 72 dpi with pictures about 150 px tall."""
    a, b = torch.zeros(3, 48, 64), torch.ones(3, 48, 64)
    fig = viz.before_after_figure(a, b, "title\nsecond line", split=0.25)
    assert fig.dpi >= 100 and all(h >= 256 for h in _heights(fig))
    assert [ax.get_title() for ax in fig.axes] == ["before", "after", "split at 25%"]


def test_png_bytes_roundtrip():
    img = torch.rand(3, 5, 7)
    back = np.asarray(Image.open(__import__("io").BytesIO(viz.png_bytes(img))))
    assert back.shape == (5, 7, 3)


def test_projector_style_sets_readable_defaults():
    saved = dict(plt.rcParams)
    try:
        rc = viz.projector_style(dpi=60, fontsize=12)
        assert rc["figure.dpi"] == 100 and plt.rcParams["figure.dpi"] == 100
        assert plt.rcParams["axes.labelsize"] == 12 and plt.rcParams["xtick.labelsize"] >= 10
        assert plt.figure().dpi >= 100
    finally:
        plt.rcParams.update(saved)


def test_image_row_heat_maps_share_one_labelled_colour_bar():
    """Defect: notebook 07's difference heat maps had no colour bar."""
    maps = [np.zeros((16, 16)), np.full((16, 16), 0.2), torch.rand(3, 16, 16)]
    fig = viz.image_row(
        maps, ["a", "b", "photo"], cmap="magma", vmin=None, vmax=None, colorbar_label="|error| (0-1)"
    )
    *pics, cbar_ax = fig.axes
    assert len(pics) == 3 and cbar_ax.get_ylabel() == "|error| (0-1)"
    assert pics[0].images[0].get_clim() == pytest.approx((0.0, 0.2))  # one scale for all maps
    assert all(abs(h - 320) < 1 for h in _heights(fig)[:3])
    fig.canvas.draw()
    assert cbar_ax.get_window_extent().x0 >= max(ax.get_window_extent().x1 for ax in pics)


def test_image_row_ncols_wraps_rows():
    fig = viz.image_row([torch.rand(3, 8, 8)] * 6, ncols=3)
    assert len({round(ax.get_position().y0, 3) for ax in fig.axes}) == 2
    assert all(h >= 256 - 0.5 for h in _heights(fig))


def test_legend_outside_does_not_overlap_the_axes():
    fig, ax = viz.figure()
    ax.plot([0, 1], [0, 1], label="one")
    ax.plot([0, 1], [1, 0], label="two")
    leg = viz.legend_outside(ax)
    fig.canvas.draw()
    assert leg.get_window_extent().x0 > ax.get_window_extent().x1
    assert all(t.get_fontsize() >= 10 for t in leg.get_texts())


def test_image_row_makes_room_for_two_line_titles():
    fig = viz.image_row([torch.rand(3, 8, 8)] * 2, ["one line", "two\nlines"], suptitle="over all")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tops = [ax.title.get_window_extent(renderer).y1 for ax in fig.axes]
    sup = fig._suptitle.get_window_extent(renderer)
    assert max(tops) <= sup.y0 + 1 and max(tops) <= fig.bbox.height


def test_overlay_covers_the_picture_and_has_a_colour_bar():
    fig, ax = viz.figure()
    im = viz.overlay(ax, torch.rand(1, 3, 40, 60), torch.rand(1, 1, 5, 6), "D score", title="t")
    assert list(im.get_extent()) == [0.0, 60.0, 40.0, 0.0]
    assert im.colorbar.ax.get_ylabel() == "D score" and ax.get_title() == "t"
    with pytest.raises(ValueError, match="2-D"):
        viz.overlay(ax, torch.rand(3, 8, 8), torch.rand(2, 3, 4), "x")


def test_rgb_histograms_label_the_axes_and_channels():
    fig, ax = viz.figure()
    bars = viz.rgb_histograms(ax, torch.rand(3, 16, 16), "t")
    assert len(bars) == 3 and ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_legend().get_texts()][0].startswith("channel 0")
