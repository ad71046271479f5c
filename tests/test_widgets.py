"""The studio's logic, driven without a browser: render, compare, download, upload, events."""

from __future__ import annotations

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from animegan_edu import widgets as WG
from animegan_edu.grading import PRESETS, color_grade


class Negative(nn.Module):
    """A cheap deterministic 'generator' that counts its calls: the photographic negative."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return -x


def _photo(w: int = 80, h: int = 60) -> Image.Image:
    g = np.random.default_rng(0)
    arr = (g.random((h // 4, w // 4, 3)) * 255).astype(np.uint8)
    return Image.fromarray(arr).resize((w, h), Image.Resampling.BICUBIC)


def test_render_strength_zero_neutral_is_the_photo():
    r = WG.render(_photo(), Negative(), WG.StudioSettings(size=64, strength=0.0, grade="neutral"))
    assert r.result.shape == (1, 3, 48, 64)
    assert torch.equal(r.result, r.photo)
    assert torch.allclose(r.raw, 1 - r.photo, atol=1e-6)
    assert r.message == "stylised the whole image"


def test_render_applies_strength_then_grade():
    s = WG.StudioSettings(size=64, strength=0.5, grade="shinkai", grade_amount=0.5, glow=0.2)
    r = WG.render(_photo(), Negative(), s)
    blend = (r.photo + (1 - r.photo)) / 2
    expected = color_grade(blend, PRESETS["shinkai"].scaled(0.5).replace(glow=0.2))
    assert torch.allclose(r.result, expected, atol=1e-6)
    assert WG.grade_params(s).glow == 0.2
    assert WG.grade_params(WG.StudioSettings(glow=None, grade_amount=0.5)).glow == pytest.approx(PRESETS["shinkai"].glow / 2)


def test_render_reports_progress_and_face_mode_without_faces():
    seen = []
    r = WG.render(_photo(), Negative(), WG.StudioSettings(size=64, face=True, grade="neutral"), lambda d, n, m: seen.append((d, n, m)))
    assert "no face found" in r.message
    assert seen and seen[-1][0] == seen[-1][1]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="strength"):
        WG.StudioSettings(strength=2.0)
    with pytest.raises(ValueError, match="unknown grade"):
        WG.StudioSettings(grade="hayao")


def test_compare_image_splits_and_checks():
    a, b = Image.new("RGB", (20, 4), "black"), Image.new("RGB", (20, 4), "white")
    assert (WG.compare_image(a, b, 0.0, line=0) == 255).all()
    assert (WG.compare_image(a, b, 1.0, line=0) == 0).all()
    half = WG.compare_image(a, b, 0.5, line=0)
    assert (half[:, :10] == 0).all() and (half[:, 10:] == 255).all()
    lined = WG.compare_image(a, a, 0.5, line=2)
    assert (lined[:, 9:11] == 255).all() and (lined[:, :9] == 0).all()
    with pytest.raises(ValueError, match="same size"):
        WG.compare_image(a, Image.new("RGB", (10, 4)), 0.5)


def test_download_link_carries_the_png():
    img = torch.rand(1, 3, 12, 16)
    html = WG.download_link_html(img, "my photo.png")
    assert 'download="myphoto.png"' in html
    b64 = re.search(r"base64,([A-Za-z0-9+/=]+)", html).group(1)
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))
    assert back.shape == (12, 16, 3)
    assert np.array_equal(back, (img[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def test_decode_upload():
    buf = io.BytesIO()
    _photo().save(buf, format="JPEG")
    assert WG.decode_upload("a.jpg", buf.getvalue()).size == (80, 60)
    with pytest.raises(ValueError, match="notes.txt: not a readable image"):
        WG.decode_upload("notes.txt", b"hello")


def test_load_model_random_is_seeded_and_says_so():
    m1, note = WG.load_model(WG.RANDOM, seed=3)
    WG._MODELS.clear()
    m2, _ = WG.load_model(WG.RANDOM, seed=3)
    assert "untrained" in note.lower()
    for p1, p2 in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(p1, p2)
    assert WG.weight_choices()[-1][1] == WG.RANDOM


def test_studio_runs_headless_and_reuses_the_stylised_image():
    model = Negative()
    samples = {"a": _photo(), "b": _photo(64, 64).transpose(Image.Transpose.FLIP_LEFT_RIGHT)}
    st = WG.Studio(model=model, settings=WG.StudioSettings(size=128, grade="neutral"), samples=samples)
    assert model.calls == 1 and st.last is not None
    assert st.last.result.shape == (1, 3, 96, 128)
    assert st.view.value[:4] == b"\x89PNG" and "Download" in st.download.value
    # look controls do not re-run the generator
    st.strength.value = 0.0
    assert model.calls == 1 and torch.equal(st.last.result, st.last.photo)
    st.grade.value = "shinkai"
    assert model.calls == 1 and st.glow.value == pytest.approx(PRESETS["shinkai"].glow)
    before = st.view.value
    st.split.value = 0.1
    assert st.view.value != before
    # picking another photo or size does
    st.choose_sample("b")
    assert model.calls == 2 and st.last.photo.shape[-2:] == (128, 128)
    st.size.value = 192
    assert model.calls == 3
    st.run_button.click()
    assert model.calls == 4


def test_studio_upload_good_and_bad(tmp_path):
    model = Negative()
    st = WG.Studio(model=model, settings=WG.StudioSettings(size=128), samples={"a": _photo()})
    st._on_upload({"new": ({"name": "junk.bin", "content": memoryview(b"\x00\x01")},)})
    assert "junk.bin: not a readable image" in st.status.value
    buf = io.BytesIO()
    _photo(40, 80).save(buf, format="PNG")
    st._on_upload({"new": ({"name": "tall.png", "content": memoryview(buf.getvalue())},)})
    assert st.photo_name == "tall.png" and st.last.photo.shape[-2:] == (128, 64)
    assert "tall-anime.png" in st.download.value


def test_studio_static_figure():
    st = WG.Studio(model=Negative(), settings=WG.StudioSettings(size=128), samples={"a": _photo()})
    fig = st.figure()
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes][:2] == ["before", "after"]
    matplotlib.pyplot.close(fig)


def test_load_model_uses_default_weights_when_they_exist(tmp_path, monkeypatch):
    from animegan_edu import weights as W
    from animegan_edu.models import Generator

    torch.manual_seed(5)
    path = tmp_path / "tiny.pt"
    reference = Generator().state_dict()
    torch.save(reference, path)
    monkeypatch.setattr(W, "resolve_default", lambda: str(path))
    monkeypatch.setattr(WG, "_MODELS", {})
    model, note = WG.load_model()
    assert note == f"{path} (local file, no recorded hash)"
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), reference.values()))
    assert WG.weight_choices()[0] == (f"default ({path})", None)


def test_load_model_falls_back_and_says_so(monkeypatch):
    from animegan_edu import weights as W

    def none_available():
        raise W.WeightsNotAvailableError("no generator weights available: run something")

    monkeypatch.setattr(W, "resolve_default", none_available)
    monkeypatch.setattr(W, "is_cached", lambda entry: False)  # a machine with no weights at all
    monkeypatch.setattr(WG, "_MODELS", {})
    model, note = WG.load_model()
    assert "UNTRAINED" in note and "no generator weights available" in note
    assert WG.weight_choices()[0][1] == WG.RANDOM


def test_decode_upload_composites_alpha_over_white_like_the_cli(tmp_path):
    """Defect: transparent pixels of an upload became black (the CLI made them white)."""
    img = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    img.paste((0, 0, 255, 255), (0, 0, 4, 8))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    up = np.asarray(WG.decode_upload("clear.png", buf.getvalue()))
    assert up[0, 7].tolist() == [255, 255, 255] and up[0, 0].tolist() == [0, 0, 255]
    img.save(tmp_path / "clear.png")
    from animegan_edu.imageio import load_image

    assert np.array_equal(up, np.asarray(load_image(tmp_path / "clear.png")))


def test_decode_upload_16bit_and_size_limit(monkeypatch):
    from animegan_edu import imageio as IO

    grey16 = Image.fromarray(np.full((4, 4), 32768, np.uint16))
    buf = io.BytesIO()
    grey16.save(buf, format="PNG")
    assert np.asarray(WG.decode_upload("g16.png", buf.getvalue()))[0, 0].tolist() == [128, 128, 128]  # not clipped to white
    monkeypatch.setenv(IO.MAX_PIXELS_ENV, "10")
    with pytest.raises(ValueError, match="g16.png: 4x4 pixels .* over the limit"):
        WG.decode_upload("g16.png", buf.getvalue())


@pytest.mark.parametrize(
    "kw", [{"glow": float("inf")}, {"glow": float("nan")}, {"grade_amount": float("nan")}, {"grade_amount": float("inf")}, {"size": 100000}]
)
def test_settings_refuse_non_finite_and_huge(kw):
    """Defect: StudioSettings(glow=inf) or grade_amount=nan passed the checks (``nan < 0`` is False)."""
    with pytest.raises(ValueError):
        WG.StudioSettings(**kw)


def test_studio_pipeline_is_the_shared_one():
    from animegan_edu import pipeline as P

    x = _photo()
    s = WG.StudioSettings(size=64, strength=0.7, grade="shinkai", grade_amount=0.8, glow=0.3)
    r = WG.render(x, Negative(), s)
    expected = P.stylize(x, Negative(), size=64, strength=0.7, grade="shinkai", grade_amount=0.8, glow=0.3)
    assert torch.allclose(r.result[0], expected, atol=1e-6)
