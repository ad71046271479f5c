"""Style figures: patch statistics, Fréchet and style distances (animegan_edu.metrics) and the
style scores of a generator (animegan_edu.training.style_eval). Tiny pictures, no weights."""

import itertools
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from animegan_edu.data.dataset import DataError
from animegan_edu.metrics import (
    STYLE_FEATURES,
    frechet_distance,
    mean_lab_ab,
    patch_features,
    style_distance,
)
from animegan_edu.training.style_eval import (
    StyleScores,
    StyleSet,
    confusion_table,
    load_style_set,
    style_scores,
)

GRAD, SAT, FLAT = (STYLE_FEATURES.index(k) for k in ("gradient energy", "saturation", "flat fraction"))


def _grey(v=0.5, h=64, w=64):
    return torch.full((3, h, w), v)


def _checker(block=2, size=64):
    idx = torch.arange(size) // block
    board = ((idx[:, None] + idx[None, :]) % 2).float()
    return board.expand(3, -1, -1).clone()


def _colour(rgb, size=64):
    return torch.tensor(rgb, dtype=torch.float32).view(3, 1, 1).expand(3, size, size).clone()


# --------------------------------------------------------------------------- frechet_distance
def test_frechet_1d_is_the_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 2.0, size=(500, 1))
    b = rng.normal(-0.5, 0.5, size=(300, 1))
    sa, sb = a.std(ddof=1), b.std(ddof=1)
    expected = (a.mean() - b.mean()) ** 2 + (sa - sb) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_frechet_diagonal_gaussians_is_the_closed_form():
    corners = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))  # sample covariance: exactly diagonal
    mu_a, s_a = np.array([0.0, 1.0, -2.0]), np.array([1.0, 2.0, 0.5])
    mu_b, s_b = np.array([3.0, 1.0, 0.0]), np.array([2.0, 2.0, 4.0])
    a, b = corners * s_a + mu_a, corners * s_b + mu_b
    var_a, var_b = s_a**2 * 8 / 7, s_b**2 * 8 / 7  # np.cov divides by n - 1
    expected = ((mu_a - mu_b) ** 2).sum() + ((np.sqrt(var_a) - np.sqrt(var_b)) ** 2).sum()
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(a, a + [0.0, 0.0, 2.0]) == pytest.approx(4.0, rel=1e-9)  # a pure shift


def test_frechet_full_covariance_matches_scipy_sqrtm():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    a = rng.normal(size=(400, 4)) @ rng.normal(size=(4, 4))
    b = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4)) + 1.0
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    cross = np.real(scipy_linalg.sqrtm(ca @ cb))
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * cross)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_frechet_is_symmetric_and_zero_for_the_same_set():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(200, 5)) @ rng.normal(size=(5, 5))
    b = rng.normal(size=(150, 5)) * 3 + 2
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    assert frechet_distance(a, b) > 1
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a, a[::-1].copy()) == pytest.approx(0.0, abs=1e-9)  # order does not matter


@pytest.mark.parametrize(
    "a, b",
    [
        (np.zeros(10), np.zeros(10)),  # 1-D
        (np.zeros((10, 2)), np.zeros((10, 3))),  # different numbers of features
        (np.zeros((1, 2)), np.zeros((10, 2))),  # one row: no covariance
        (np.zeros((10, 2)), np.zeros((10, 2, 1))),  # 3-D
    ],
)
def test_frechet_refuses_bad_shapes(a, b):
    with pytest.raises(ValueError, match="frechet_distance needs"):
        frechet_distance(a, b)


# --------------------------------------------------------------------------- patch_features
def test_a_flat_grey_picture_is_all_flat():
    f = patch_features([_grey()])
    assert f.shape == (4, len(STYLE_FEATURES)) and f.dtype == np.float64
    # gradient: kornia's Sobel magnitude is sqrt(gx^2 + gy^2 + 1e-6), so 0.001 on a flat picture
    assert np.all(f[:, FLAT] == 1.0) and np.allclose(f[:, GRAD], 0.0, atol=2e-3) and np.allclose(f[:, SAT], 0)
    assert np.allclose(f[:, STYLE_FEATURES.index("L spread")], 0.0)
    assert np.allclose(f[:, 1:3], 0.0, atol=1e-2)  # grey: a* = b* = 0
    assert f[0, 0] == pytest.approx(53.4, abs=0.1)  # L* of 50 % grey


def test_a_checkerboard_is_all_edges():
    flat, board = patch_features([_grey()]), patch_features([_checker()])
    assert board[:, GRAD].mean() > 0.2 and flat[:, GRAD].max() < 2e-3
    assert board[:, FLAT].mean() < 0.1
    assert board[:, STYLE_FEATURES.index("L spread")].mean() == pytest.approx(50.0, rel=0.01)  # black/white


def test_saturated_colour_has_higher_saturation():
    red, pale = patch_features([_colour([1.0, 0.0, 0.0])]), patch_features([_colour([0.8, 0.6, 0.6])])
    assert red[:, SAT].mean() == pytest.approx(1.0) and pale[:, SAT].mean() == pytest.approx(0.25, abs=1e-3)
    assert red[:, STYLE_FEATURES.index("a* mean")].mean() > pale[:, STYLE_FEATURES.index("a* mean")].mean()


def test_one_row_per_whole_patch():
    assert patch_features([_grey(h=70, w=100)]).shape == (2 * 3, 8)  # partial patches dropped
    assert patch_features([_grey(h=64, w=64)[None], _grey(h=32, w=96)]).shape == (4 + 3, 8)  # NCHW too
    assert patch_features([_grey(h=64, w=64)], patch=16).shape == (16, 8)
    assert patch_features([_grey(h=20, w=200)]).shape == (0, 8)  # smaller than a patch: none
    assert patch_features([]).shape == (0, 8)


def test_patches_are_measured_where_they_are():
    x = _grey(h=32, w=64)
    x[:, :, 32:] = _checker(size=32)  # left patch flat, right patch a checkerboard
    f = patch_features([x])
    assert f[0, FLAT] >= 31 / 32 and f[1, FLAT] < 0.1  # (the column beside the board is an edge)


# --------------------------------------------------------------------------- style_distance, mean_lab_ab
def _reference(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    units = np.array([100.0, 20.0, 20.0, 10.0, 10.0, 0.1, 0.5, 0.3])  # like Lab, gradient, fractions
    return rng.normal(size=(n, 8)) * units + units


def test_style_distance_orders_near_and_far():
    ref = _reference()
    std = ref.std(0)
    near, far = ref + 0.1 * std, ref + 2 * std
    assert style_distance(ref, ref) == pytest.approx(0.0, abs=1e-9)
    assert 0 < style_distance(near, ref) < style_distance(far, ref)
    one = ref.copy()
    one[:, 5] += std[5]  # one reference standard deviation in one feature: distance 1
    assert style_distance(one, ref) == pytest.approx(1.0, rel=1e-6)


def test_style_distance_has_no_units():
    ref = _reference()
    other = _reference(2000, seed=1) * 1.3 + 5
    scale = np.array([1e-3, 1.0, 7.0, 1e3, 0.5, 2.0, 1e2, 3.0])
    assert style_distance(other * scale, ref * scale) == pytest.approx(style_distance(other, ref), rel=1e-6)
    # it is the reference's spread that sets the unit, not the compared set's
    assert style_distance(other, ref) != pytest.approx(frechet_distance(other, ref), rel=1e-3)


def test_style_distance_with_a_constant_reference_feature():
    ref = _reference()
    ref[:, 7] = 1.0  # a feature that never varies in the reference (e.g. all patches flat)
    d = style_distance(ref + [0, 0, 0, 0, 0, 0, 0, 0.5], ref)
    assert math.isfinite(d) and d == pytest.approx(0.25, rel=1e-6)  # unscaled: 0.5 ** 2


def test_mean_lab_ab():
    a, b = mean_lab_ab([_grey()])
    assert abs(a) < 1e-2 and abs(b) < 1e-2
    red, blue = _colour([1.0, 0.0, 0.0], 8), _colour([0.0, 0.0, 1.0], 32)
    ra, rb = mean_lab_ab([red])
    ba, bb = mean_lab_ab([blue[None]])
    assert ra > 70 and rb > 60 and bb < -100
    both = mean_lab_ab([red, blue])  # each picture weighs alike, whatever its size
    assert both == pytest.approx(((ra + ba) / 2, (rb + bb) / 2), rel=1e-5)


# --------------------------------------------------------------------------- style_eval
class _Constant(nn.Module):
    """A "generator" that ignores its input: flat grey (0 in [-1, 1])."""

    def forward(self, x):
        return torch.zeros_like(x)


class _Broken(nn.Module):
    def forward(self, x):
        return torch.full_like(x, float("nan"))


def _sets():
    flat = StyleSet("Flat", patch_features([_grey()] * 2), (0.0, 0.0), 2)
    noisy = StyleSet("Noisy", patch_features([torch.rand(3, 64, 64) for _ in range(2)]), (5.0, 5.0), 2)
    return [flat, noisy]


def test_the_photos_themselves_keep_all_their_edges():
    s = style_scores(None, _sets(), size=64, names=["coffee"])
    assert s.edge_corr == pytest.approx(1.0, abs=1e-9)
    assert s.output_ab == s.photo_ab and s.size == 64
    assert set(s.distance) == {"Flat", "Noisy"} and all(d > 0 for d in s.distance.values())
    assert s.set_ab == {"Flat": (0.0, 0.0), "Noisy": (5.0, 5.0)}


def test_a_constant_generator_keeps_no_content():
    model = _Constant().train()
    s = style_scores(model, _sets(), size=64, names=["coffee", "chelsea"])
    assert not model.training  # scored in eval mode
    assert s.edge_corr == pytest.approx(0.0, abs=1e-6)
    assert s.distance["Flat"] == pytest.approx(0.0, abs=1e-9) and s.nearest() == "Flat"
    assert s.output_ab == pytest.approx((0.0, 0.0), abs=1e-2) and s.output_ab != s.photo_ab
    with pytest.raises(ValueError, match="non-finite values on coffee"):
        style_scores(_Broken(), _sets(), size=64, names=["coffee"])


def test_cast_ok_and_nearest():
    s = StyleScores(512, {"A": 2.0, "B": 0.5}, 0.7, output_ab=(10.0, 0.0), photo_ab=(0.0, 0.0),
                    set_ab={"A": (12.0, 0.0), "B": (-10.0, 0.0), "C": (5.0, 0.0)})  # fmt: skip
    assert s.cast_ok("A")  # the outputs moved towards A's colour
    assert not s.cast_ok("B")  # ... and away from B's
    assert s.cast_ok("C")  # just as far as the photos: not a cast
    assert s.nearest() == "B"


def test_confusion_table_stars_each_rows_nearest_set():
    a = StyleScores(512, {"Wesnoth": 1.25, "Hedgewars": 3.0, "Clipart": 2.0}, 0.61, (0.0, 0.0), (0.0, 0.0))
    b = StyleScores(512, {"Wesnoth": 4.0, "Hedgewars": 3.0, "Clipart": 0.5}, 0.9, (0.0, 0.0), (0.0, 0.0))
    lines = confusion_table({"model a": a, "model b": b}).splitlines()
    assert len(lines) == 3
    assert lines[0].split() == ["model", "Wesnoth", "Hedgewars", "Clipart", "edge", "corr"]
    assert lines[1].split() == ["model", "a", "1.25*", "3.00", "2.00", "0.61"]
    assert lines[2].split() == ["model", "b", "4.00", "3.00", "0.50*", "0.90"]
    for name, cell in (("Wesnoth", "1.25"), ("Hedgewars", "3.00"), ("Clipart", "2.00")):  # columns line up
        assert lines[0].index(name) + len(name) == lines[1].index(cell) + len(cell) + 1
    long = confusion_table({"demo (bundled) weights": a}).splitlines()
    assert long[1].split()[:4] == ["demo", "(bundled)", "weights", "1.25*"]


def test_load_style_set(tmp_path):
    (tmp_path / "Red" / "style").mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (64, 32), (200, 30 * i, 30)).save(tmp_path / "Red" / "style" / f"{i}.png")
    s = load_style_set(tmp_path / "Red")
    assert (s.name, s.count, s.features.shape) == ("Red", 3, (6, 8)) and s.ab[0] > 40
    assert load_style_set(tmp_path / "Red", "Mine", limit=1).count == 1
    flat = tmp_path / "loose"  # a folder of pictures without style/
    flat.mkdir()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(flat / "g.png")
    assert load_style_set(flat).ab[0] < -40
    (tmp_path / "empty" / "style").mkdir(parents=True)
    (tmp_path / "empty" / "style" / "notes.txt").write_text("no pictures")
    with pytest.raises(DataError, match="no pictures") as err:
        load_style_set(tmp_path / "empty")
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- evaluate --styles
def test_cli_evaluate_styles(tmp_path, capsys):
    import json

    from animegan_edu.cli.main import main

    for name, colour in (("Red", (200, 40, 40)), ("Hedgewars", (40, 40, 200))):
        (tmp_path / "styles" / name / "style").mkdir(parents=True)
        Image.new("RGB", (64, 64), colour).save(tmp_path / "styles" / name / "style" / "a.png")
    (tmp_path / "styles" / "MANIFEST.json").write_text("{}")  # not a set: ignored
    args = ["evaluate", "--styles", str(tmp_path / "styles"), "--size", "64", "--photos", "coffee"]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("weights: demo") and "64 px" in out[0]
    assert out[1].split() == ["model", "Hedgewars", "Red", "edge", "corr"]
    assert out[2].startswith("this model") and out[3].startswith("the photos")
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    photos = report["sizes"]["64"]["photos"]
    assert sorted(photos["distance"]) == ["Hedgewars", "Red"] and photos["edge_corr"] == pytest.approx(1.0)
    assert report["sizes"]["64"]["weights"]["edge_corr"] < 1
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", "--styles", str(tmp_path / "empty"), "--size", "64"]) == 2
    err = capsys.readouterr().err
    assert "no style sets" in err and len(err.strip().splitlines()) == 1
