"""The studio's logic, driven without a browser: render, compare, download, upload, events."""

from __future__ import annotations

import base64
import io
import json
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from animegan_edu.imageio import load_image
from animegan_edu.inference.grading import PRESETS, color_grade
from animegan_edu.studio import widgets as WG
from animegan_edu.viz import compare_image


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
    assert WG.grade_params(WG.StudioSettings(glow=None, grade_amount=0.5)).glow == pytest.approx(
        PRESETS["shinkai"].glow / 2
    )


def test_render_reports_progress_and_face_mode_without_faces():
    seen = []
    r = WG.render(
        _photo(),
        Negative(),
        WG.StudioSettings(size=64, face=True, grade="neutral"),
        lambda d, n, m: seen.append((d, n, m)),
    )
    assert "no face found" in r.message
    assert seen and seen[-1][0] == seen[-1][1]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="strength"):
        WG.StudioSettings(strength=2.0)
    with pytest.raises(ValueError, match="unknown grade"):
        WG.StudioSettings(grade="hayao")


def test_compare_image_splits_and_checks():
    a, b = Image.new("RGB", (20, 4), "black"), Image.new("RGB", (20, 4), "white")
    assert (compare_image(a, b, 0.0, line=0) == 255).all()
    assert (compare_image(a, b, 1.0, line=0) == 0).all()
    half = compare_image(a, b, 0.5, line=0)
    assert (half[:, :10] == 0).all() and (half[:, 10:] == 255).all()
    lined = compare_image(a, a, 0.5, line=2)
    assert (lined[:, 9:11] == 255).all() and (lined[:, :9] == 0).all()
    with pytest.raises(ValueError, match="same size"):
        compare_image(a, Image.new("RGB", (10, 4)), 0.5)


def test_download_link_carries_the_png():
    img = torch.rand(1, 3, 12, 16)
    html = WG.download_link_html(img, "my photo.png")
    assert 'download="myphoto.png"' in html
    b64 = re.search(r"base64,([A-Za-z0-9+/=]+)", html).group(1)
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))
    assert back.shape == (12, 16, 3)
    assert np.array_equal(back, (img[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def test_an_upload_is_read_by_the_one_image_reader():
    buf = io.BytesIO()
    _photo().save(buf, format="JPEG")
    assert load_image(buf.getvalue(), name="a.jpg").size == (80, 60)
    with pytest.raises(ValueError, match="notes.txt: not a readable image"):
        load_image(b"hello", name="notes.txt")


def test_load_model_random_is_seeded_and_says_so():
    m1, note = WG.load_model(WG.RANDOM, seed=3)
    WG._MODELS.clear()
    m2, _ = WG.load_model(WG.RANDOM, seed=3)
    assert "untrained" in note.lower()
    for p1, p2 in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(p1, p2)
    assert WG.weight_choices()[-1][1] == WG.RANDOM


def test_the_weights_menu_offers_the_bundled_styles():
    values = [v for _, v in WG.weight_choices()]
    assert {"demo", "wesnoth", "hedgewars"} <= set(values), values
    for name in ("wesnoth", "hedgewars"):
        model, note = WG.load_model(name)
        assert name in note.lower() and not model.training


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


def test_studio_style_menu_mix_and_reference_art():
    """The style-conditioned weights: a style menu, a mixing slider and reference art (issue 26)."""
    from animegan_edu.studio import styles as SS

    if not SS.styles_available():
        pytest.fail("weights/styles.safetensors (the bundled style-conditioned generator) is missing")
    st = WG.Studio(settings=WG.StudioSettings(size=128, grade="neutral", strength=1.0),
                   samples={"a": _photo()}, snapshot=False)  # fmt: skip
    assert st.style.disabled and st.mix.disabled  # not the style-conditioned weights yet
    st.weights.value = SS.STYLES
    assert not st.style.disabled and st.mix.continuous_update is False
    g = SS.conditioned_model()
    names = list(g.style_names)
    assert [v for _, v in st.style.options] == names + [SS.REFERENCE]

    def expected(code: torch.Tensor) -> torch.Tensor:  # the same photo through the model under `code`
        with torch.no_grad():
            return (g(st.last.photo * 2 - 1, code) + 1) / 2

    first = st.last.raw.clone()
    assert torch.allclose(first, expected(g.style_code(names[0])).clamp(0, 1), atol=1e-5)
    st.style.value = names[1]
    assert not torch.allclose(st.last.raw, first, atol=1e-3) and names[1] in st.status.value
    st.mix_with.value = names[0]
    st.mix.value = 0.25
    want = 0.75 * g.style_code(names[1]) + 0.25 * g.style_code(names[0])
    assert torch.allclose(st.last.raw, expected(want).clamp(0, 1), atol=1e-5)
    assert f"{names[1]} with 25% {names[0]}" in st.status.value
    # reference art: the encoder's code for the uploaded pictures; a bad file is one line
    buf = io.BytesIO()
    _photo(96, 64).save(buf, format="PNG")
    st._on_reference({"new": ({"name": "art.png", "content": memoryview(buf.getvalue())},)})
    assert st.style.value == SS.REFERENCE and "1 reference picture" in st.status.value
    assert "(read as " in st.status.value and "%" in st.status.value  # the encoder's reading, shown
    st._on_reference({"new": ({"name": "junk.png", "content": memoryview(b"no")},)})
    assert "junk.png: not a readable image" in st.status.value and "Traceback" not in st.status.value
    st.weights.value = "demo"
    assert st.style.disabled


def test_a_broken_styles_file_is_offered_and_says_why(monkeypatch):
    from animegan_edu.studio import styles as SS
    from animegan_edu.weights.files import IntegrityError

    if not SS.styles_available():
        pytest.fail("weights/styles.safetensors (the bundled style-conditioned generator) is missing")

    def broken(source: str = SS.STYLES):
        raise IntegrityError("styles.safetensors: SHA-256 differs from the one recorded beside it; refused")

    monkeypatch.setattr(SS, "conditioned_model", broken)
    monkeypatch.setattr(WG, "conditioned_model", broken)
    assert SS.style_names() == ()
    label = {v: k for k, v in WG.weight_choices()}[SS.STYLES]
    assert "unreadable" in label
    st = WG.Studio(settings=WG.StudioSettings(size=128, grade="neutral"), samples={"a": _photo()},
                   snapshot=False)  # fmt: skip
    st.weights.value = SS.STYLES
    assert "SHA-256 differs" in st.status.value and "Traceback" not in st.status.value


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
    from animegan_edu.models import Generator
    from animegan_edu.weights import hub as W

    torch.manual_seed(5)
    path = tmp_path / "tiny.pt"
    reference = Generator().state_dict()
    torch.save(reference, path)
    monkeypatch.setattr(W, "resolve_default", lambda: str(path))
    monkeypatch.setattr(WG, "_MODELS", {})
    model, note = WG.load_model()
    assert note == f"{path} (local file, no recorded hash)"
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), reference.values()))
    assert WG.weight_choices()[0] == (f"default ({path})", WG.DEFAULT)


def test_load_model_falls_back_and_says_so(monkeypatch):
    from animegan_edu.weights import hub as W
    from animegan_edu.weights import registry
    from animegan_edu.weights.files import WeightsNotAvailableError

    def none_available():
        raise WeightsNotAvailableError("no generator weights available: run something")

    monkeypatch.setattr(W, "resolve_default", none_available)
    monkeypatch.setattr(registry, "is_cached", lambda entry: False)  # a machine with no weights at all
    monkeypatch.setattr(WG, "styles_choice", lambda: None)  # nor the style-conditioned ones
    monkeypatch.setattr(WG, "_MODELS", {})
    model, note = WG.load_model()
    assert "UNTRAINED" in note and "no generator weights available" in note
    assert WG.weight_choices()[0][1] == WG.RANDOM


def test_an_upload_composites_alpha_over_white_like_the_cli(tmp_path):
    """Defect: transparent pixels of an upload became black (the CLI made them white)."""
    img = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    img.paste((0, 0, 255, 255), (0, 0, 4, 8))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    up = np.asarray(load_image(buf.getvalue(), name="clear.png"))
    assert up[0, 7].tolist() == [255, 255, 255] and up[0, 0].tolist() == [0, 0, 255]
    img.save(tmp_path / "clear.png")

    assert np.array_equal(up, np.asarray(load_image(tmp_path / "clear.png")))


def test_an_upload_16bit_and_size_limit(monkeypatch):
    from animegan_edu import imageio as IO

    grey16 = Image.fromarray(np.full((4, 4), 32768, np.uint16))
    buf = io.BytesIO()
    grey16.save(buf, format="PNG")
    assert np.asarray(load_image(buf.getvalue(), name="g16.png"))[0, 0].tolist() == [
        128,
        128,
        128,
    ]  # not clipped to white
    monkeypatch.setenv(IO.MAX_PIXELS_ENV, "10")
    with pytest.raises(ValueError, match="g16.png: 4x4 pixels .* over the limit"):
        load_image(buf.getvalue(), name="g16.png")


@pytest.mark.parametrize(
    "kw",
    [
        {"glow": float("inf")},
        {"glow": float("nan")},
        {"grade_amount": float("nan")},
        {"grade_amount": float("inf")},
        {"size": 100000},
    ],
)
def test_settings_refuse_non_finite_and_huge(kw):
    """Defect: StudioSettings(glow=inf) or grade_amount=nan passed the checks (``nan < 0`` is False)."""
    with pytest.raises(ValueError):
        WG.StudioSettings(**kw)


def test_studio_pipeline_is_the_shared_one():
    from animegan_edu.inference import pipeline as P

    x = _photo()
    s = WG.StudioSettings(size=64, strength=0.7, grade="shinkai", grade_amount=0.8, glow=0.3)
    r = WG.render(x, Negative(), s)
    expected = P.stylize(x, Negative(), size=64, strength=0.7, grade="shinkai", grade_amount=0.8, glow=0.3)
    assert torch.allclose(r.result[0], expected, atol=1e-6)


# --------------------------------------------------------------------------- findings from the browser run


def test_weights_dropdown_shows_its_default_on_first_display():
    """Defect: the first option's value was None, which ipywidgets shows as a blank dropdown."""
    st = WG.Studio(settings=WG.StudioSettings(size=128), samples={"a": _photo()}, snapshot=False)
    values = [v for _, v in st.weights.options]
    assert st.weights.value is not None and st.weights.value in values
    assert st.weights.value == values[0] and st.weights.label == st.weights.options[0][0] and st.weights.label
    assert all(v is not None for v in values)
    if st.weights.value == WG.DEFAULT:  # the sentinel means load_model(None), the same cached model
        assert st.weights.label.startswith("default")
        assert (
            st.model()[0] is WG.load_model(None)[0] and WG.load_model(WG.DEFAULT)[0] is WG.load_model(None)[0]
        )
    assert st.last is not None  # it rendered with that choice


#: Glow at the slider's maximum must change the demo-stylised rocket and chelsea by at least this
#: mean absolute amount (all pixels and channels, [0, 1] scale). Glow is local - only highlights
#: and their halo change - so the whole-image mean is small even when the bloom is obvious; before
#: the fix it was 0.0 (rocket) and 0.0016 (chelsea), after it about 0.007 and 0.013 with the v1
#: demo weights, and 0.0042 and 0.017 with v2 (whose rocket is a darker night sky: 3% of its pixels
#: change by more than 0.02, and its top 1% by 0.23).
GLOW_MIN_MEAN = 0.003
#: ... and the most-changed 1 % of pixels must move by at least this much (0.15 = 38 of 255 grey
#: levels, far above the ~2-3 levels the eye notices): the bloom is visible where it is. Before the
#: fix: 0 (rocket), under 0.1 (chelsea); after it about 0.27 on both.
GLOW_MIN_P99 = 0.15


@pytest.mark.parametrize("name", ["rocket", "chelsea"])
def test_glow_slider_visibly_changes_demo_stylised_photos(name):
    """Defect: on the rocket the Glow slider changed 0 pixels (no stylised highlight reached luma 0.7)."""
    from animegan_edu.inference.grading import glow

    model, _ = WG.load_model("demo")
    st = WG.Studio(
        model=model, settings=WG.StudioSettings(size=384), samples=WG.sample_images((name,)), snapshot=False
    )
    assert st.grade.value == "shinkai"
    st.glow.value = 0.0
    off = st.last.result.clone()
    st.glow.value = st.glow.max  # the slider's maximum
    on = st.last.result.clone()
    change = (on - off).abs()
    assert float(change.mean()) >= GLOW_MIN_MEAN, float(change.mean())
    per_pixel = change.amax(1).flatten()
    p99 = float(per_pixel.kthvalue(int(0.99 * per_pixel.numel())).values)
    assert p99 >= GLOW_MIN_P99, p99
    assert bool((on >= off - 1e-6).all())  # glow only adds light
    # glow 0 is exactly the identity: on the stylised image, and in the studio with no grade
    assert torch.equal(glow(off, 0.0), off)
    st.grade.value = "neutral"
    assert st.glow.value == 0.0  # (photo + 1 * (raw - photo) is raw up to float rounding)
    assert torch.allclose(st.last.result, st.last.raw, atol=1e-6)


def test_generator_controls_report_on_release_cheap_ones_live():
    """Defect: the size slider re-ran the generator on every step; cheap sliders lagged behind."""
    st = WG.Studio(
        model=Negative(), settings=WG.StudioSettings(size=128), samples={"a": _photo()}, snapshot=False
    )
    assert st.size.continuous_update is False  # re-runs the generator
    for cheap in (st.strength, st.grade_amount, st.glow, st.split):  # re-finish the cached image only
        assert cheap.continuous_update is True
    # weights and face re-run it too; a dropdown and a checkbox fire once per choice (no dragging)
    assert not hasattr(st.weights, "continuous_update") and not hasattr(st.face, "continuous_update")


def test_size_changes_are_debounced_in_a_running_kernel():
    """Keyboard steps on the size slider (each one a committed change) make one generator pass."""
    import asyncio

    model = Negative()
    st = WG.Studio(model=model, settings=WG.StudioSettings(size=128), samples={"a": _photo()}, snapshot=False)
    st.debounce_s = 0.05

    async def press_arrows() -> None:
        for v in (192, 256, 320):
            st.size.value = v
        assert model.calls == 1 and "re-rendering" in st.status.value
        await asyncio.sleep(0.5)

    asyncio.run(press_arrows())
    assert model.calls == 2 and st.last.photo.shape[-1] == 320


def test_gallery_buttons_fit_names_up_to_17_characters():
    """Defect: 'astronaut' was cut to 'astron…' (76 px buttons)."""
    samples = {"astronaut": _photo(), "stereo_motorcycle": _photo(64, 64)}
    st = WG.Studio(model=Negative(), settings=WG.StudioSettings(size=128), samples=samples, snapshot=False)
    buttons = [box.children[1] for box in st.gallery.children]
    assert [b.description for b in buttons] == list(samples)
    for b in buttons:
        width = int(b.layout.width.removesuffix("px"))
        # 17 characters of JupyterLab's 13 px UI font (< 8 px each) plus the button's 2 x 12 px padding
        assert width >= 17 * 8 + 24
        assert b.tooltip == b.description
    assert st.gallery.layout.flex_flow == "row wrap"  # wide buttons wrap instead of overflowing
    longer = WG.Studio(
        model=Negative(),
        settings=WG.StudioSettings(size=128),
        samples={"a_very_long_photo_name_here": _photo()},
        snapshot=False,
    )
    assert int(longer.gallery.children[0].children[1].layout.width.removesuffix("px")) >= 27 * 8 + 24


def test_no_drag_and_drop_promise():
    """ipywidgets 8's FileUpload only opens the file chooser; the docs must not promise dropping files."""
    for doc in (WG.Studio.__doc__, WG.__doc__):
        text = " ".join(doc.lower().split())
        assert "drag a file onto" not in text and "drag-and-drop upload" not in text
        assert "no drag-and-drop" in text or "does not work" in text  # it says so instead
    st = WG.Studio(
        model=Negative(), settings=WG.StudioSettings(size=128), samples={"a": _photo()}, snapshot=False
    )
    assert "drag" not in st.upload.description.lower()


def test_progress_is_non_zero_before_the_generator_runs():
    """Defect: at 1024 px the bar sat empty for the whole 17-30 s generator pass."""
    seen: list[tuple[int, int, str]] = []
    at_call: list[tuple[int, int, str]] = []

    def model(x: torch.Tensor) -> torch.Tensor:
        at_call.append(seen[-1])
        return -x

    WG.render(
        _photo(), model, WG.StudioSettings(size=64, grade="neutral"), lambda d, n, m: seen.append((d, n, m))
    )
    done, total, msg = at_call[0]
    assert 0 < done < total and msg.startswith("generating")
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1]

    # the studio's bar: blue "generating…" part-way while the generator runs, full and green after
    bar_at_call: list[tuple[int, int, str, str]] = []
    holder: dict = {}

    class Watch(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if "st" in holder:  # the first render happens inside the constructor
                p = holder["st"].progress
                bar_at_call.append((p.value, p.max, p.bar_style, p.description))
            return -x

    st = WG.Studio(
        model=Watch(), settings=WG.StudioSettings(size=128), samples={"a": _photo()}, snapshot=False
    )
    holder["st"] = st
    st.run_button.click()
    value, maximum, style, description = bar_at_call[-1]
    assert 0 < value < maximum and style == "info" and description == "generating…"
    assert st.progress.value == st.progress.max and st.progress.bar_style == "success"


# --------------------------------------------------------------------------- saved notebooks reopen cleanly

from animegan_edu.studio import live as WL  # noqa: E402

NOTEBOOK_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "notebooks"


def _interactive_and_standin_outputs():
    import ipywidgets as W

    ui = W.interactive(lambda k=1: None, k=W.IntSlider(1, 0, 5))
    raw = {"output_type": "display_data", "metadata": {}, "data": ui._repr_mimebundle_()}
    data, meta = WL.LiveView(
        ui, picture=Image.new("RGB", (8, 6), "red"), text="[sliders]"
    )._repr_mimebundle_()
    return ui, raw, {"output_type": "display_data", "metadata": meta, "data": data}


def test_live_view_carries_a_standin_never_raw_text():
    """Defect: before a run, or untrusted, a widget output showed 'interactive(children=(IntSlider(…'."""
    ui, raw, live = _interactive_and_standin_outputs()
    assert raw["data"]["text/plain"].startswith("interactive(children=")  # what ipywidgets gives
    assert live["data"][WL.WIDGET_VIEW]["model_id"] == ui.model_id  # the live widget ...
    assert live["data"]["text/plain"] == "[sliders]"  # ... and readable stand-ins
    jpeg = Image.open(io.BytesIO(base64.b64decode(live["data"]["image/jpeg"])))
    assert jpeg.format == "JPEG" and jpeg.size == (8, 6) and jpeg.info["dpi"] == (100, 100)
    assert live["metadata"][WL.STANDIN_KEY] is True


def test_strip_widget_views_leaves_standins_and_drops_raw_text():
    """Defect: a saved widget view pointed at a dead model ("Error displaying widget: model not found")."""
    _, raw, live = _interactive_and_standin_outputs()
    text = {"output_type": "stream", "name": "stdout", "text": "hello\n"}
    nb = {
        "metadata": {"widgets": {WL.WIDGET_STATE: {"state": {}}}},
        "cells": [
            {"cell_type": "code", "outputs": [raw, text, live]},
            {"cell_type": "markdown", "source": "x"},
        ],
    }
    problems = WL.widget_output_problems(nb)
    assert (
        sum("model not found" in p for p in problems) == 2
        and sum("raw widget text" in p for p in problems) == 1
    )
    assert WL.strip_widget_views(nb) == 2
    outs = nb["cells"][0]["outputs"]
    assert outs[0] == text and sorted(outs[1]["data"]) == ["image/jpeg", "text/plain"]
    assert "widgets" not in nb["metadata"] and WL.widget_output_problems(nb) == []
    assert WL.strip_widget_views(nb) == 0  # idempotent
    # raw text alone (ipywidgets' repr) is a problem too, even without a view
    raw_only = {
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"text/plain": "interactive(children=(IntSlider(value=1),))"},
                    }
                ],
            }
        ],
    }
    assert WL.widget_output_problems(raw_only) == [
        "cell 0: raw widget text 'interactive(children=(IntSlider(value=1)'"
    ]


def test_jupyter_saves_notebooks_without_widget_views(tmp_path):
    """The server extension strips on every save, also after jupytext replaces the contents manager."""
    import logging

    import nbformat
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from traitlets.config import Config

    _, raw, live = _interactive_and_standin_outputs()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("ui")
    cell.outputs = [nbformat.from_dict(raw), nbformat.from_dict(live)]
    nb.cells.append(cell)

    class App:  # what the extension sees of jupyter_server's ServerApp
        config = Config()
        log = logging.getLogger("test")
        contents_manager = FileContentsManager(root_dir=str(tmp_path))

    WL._load_jupyter_server_extension(App)
    # jupytext's extension loads later and makes a new contents manager from the server's config
    later = FileContentsManager(root_dir=str(tmp_path), config=App.config)
    for i, cm in enumerate((App.contents_manager, later)):
        cm.save({"type": "notebook", "content": json.loads(nbformat.writes(nb))}, f"n{i}.ipynb")
        saved = json.loads((tmp_path / f"n{i}.ipynb").read_text())
        assert WL.WIDGET_VIEW not in json.dumps(saved) and WL.widget_output_problems(saved) == []
        assert [sorted(o["data"]) for o in saved["cells"][0]["outputs"]] == [["image/jpeg", "text/plain"]]
    conf = json.loads(WL.install_jupyter_config(tmp_path / "etc").read_text())
    assert conf == {"ServerApp": {"jpserver_extensions": {"animegan_edu.studio.live": True}}}
    # nbconvert --to notebook (after --execute) strips too: the same config names the preprocessor
    WL.install_jupyter_config(tmp_path / "etc")  # twice: listed once
    nbc = json.loads((tmp_path / "etc" / "jupyter_nbconvert_config.json").read_text())
    assert nbc == {"NotebookExporter": {"preprocessors": [WL.NBCONVERT_PREPROCESSOR]}}
    from animegan_edu.studio.nbconvert import StripWidgetViews

    out, _ = StripWidgetViews().preprocess(nbformat.from_dict(json.loads(nbformat.writes(nb))), {})
    assert WL.widget_output_problems(out) == [] and WL.WIDGET_VIEW not in nbformat.writes(out)


@pytest.mark.parametrize("path", sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_stored_notebooks_reopen_cleanly(path):
    """No stored widget view without saved state, no raw widget text, in any committed notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert WL.widget_output_problems(nb) == []
    assert WL.WIDGET_VIEW not in json.dumps(nb)


def test_studio_displays_one_output_the_live_studio_with_its_figure_as_standin(monkeypatch):
    """Defect: a stale static figure sat under the live Studio and never followed the controls."""
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    st = WG.Studio(model=Negative(), settings=WG.StudioSettings(size=128), samples={"a": _photo()})
    st._ipython_display_()
    assert len(shown) == 1 and isinstance(shown[0], WL.LiveView)  # one output, nothing under it
    data, meta = shown[0]._repr_mimebundle_()
    assert (
        data[WL.WIDGET_VIEW]["model_id"] == st.ui.model_id and "image/jpeg" in data and meta[WL.STANDIN_KEY]
    )
    shown.clear()
    WG.Studio(
        model=Negative(), settings=WG.StudioSettings(size=128), samples={"a": _photo()}, snapshot=False
    ).show()
    assert sorted(shown[0]._repr_mimebundle_()[0]) == [WL.WIDGET_VIEW, "text/plain"]


# --------------------------------------------------------------------------- progress through a long pass


def test_progress_bar_moves_during_the_generator_pass():
    """Defect: at 1024 px the bar sat still for 17-30 s during the whole-image pass."""
    from animegan_edu.models import Generator
    from animegan_edu.studio.progress import pass_progress

    torch.manual_seed(0)
    gen = Generator().eval()
    st = WG.Studio(
        model=gen,
        settings=WG.StudioSettings(size=128, grade="neutral"),
        samples={"a": _photo()},
        snapshot=False,
    )
    seen: list[tuple[int, str]] = []
    st.progress.observe(lambda c: seen.append((c["new"], st.progress.description)), names="value")
    st.run_button.click()
    values = [v for v, _ in seen]
    inside = [(v, d) for v, d in seen if d.startswith("generating… ") and d.endswith("%")]
    assert len({v for v, _ in inside}) >= 10  # unit by unit through the pass
    assert values[1:] == sorted(values[1:]) and values[-1] == st.progress.max  # forward only, then full
    assert st.progress.bar_style == "success"
    # the hooks are gone afterwards, and a plain function (no units) reports nothing
    assert all(not m._forward_hooks for m in gen.modules())
    with pass_progress(lambda t: -t, seen.append):
        pass


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
def test_progress_bar_moves_when_the_default_path_runs_int8(monkeypatch):
    """Defect: with INT8 the default path, the bar jumped 0 -> 50 -> 100 (hooks sat on the float model)."""
    from animegan_edu.inference import pipeline as P
    from animegan_edu.int8.files import int8_generator
    from animegan_edu.models import Generator

    torch.manual_seed(0)
    gen = Generator().eval()
    q = int8_generator(gen, cache=False, calib_size=32, check=False, progress=False)
    monkeypatch.setattr(P, "int8_model", lambda m: q)
    monkeypatch.setattr(P, "default_path", lambda m, pixels=None: type("C", (), {"path": "int8"})())
    # 192 x 192 px: above the size where "auto" may leave fp32 eager (128 x 128 pixels)
    st = WG.Studio(
        model=gen,
        settings=WG.StudioSettings(size=192, grade="neutral"),
        samples={"a": _photo(96, 96)},
        snapshot=False,
    )
    seen: list[str] = []
    st.progress.observe(lambda c: seen.append(st.progress.description), names="value")
    st.run_button.click()
    inside = {d for d in seen if d.startswith("generating… ") and d.endswith("%")}
    assert len(inside) >= 10, seen  # unit by unit through the INT8 pass
    assert st.progress.bar_style == "success"
    assert all(not m._forward_hooks for m in [*gen.modules(), *q.modules()])


# --------------------------------------------------------------------------- notebooks: portable, readable


def _code_lines(path):
    in_markdown = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
        elif not in_markdown and not line.startswith("#"):
            yield n, line


@pytest.mark.parametrize("name", ["06_color_grading_and_glow", "07_quantized_cpu_inference", "08_studio"])
def test_widget_notebooks_code_lines_fit(name):
    """Defect: long code lines ran off the right edge in 06 and 07."""
    long = [f"line {n}: {len(t)}" for n, t in _code_lines(NOTEBOOK_DIR / f"{name}.py") if len(t) > 88]
    assert long == []


@pytest.mark.parametrize("path", sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py")), ids=lambda p: p.stem)
def test_notebooks_find_files_without_relative_paths(path):
    """Defect: notebooks found ../benchmarks and ../configs relative to their folder (lost when copied)."""
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""\.\./(benchmarks|configs|weights|shared)|Path\(\s*["']\.\.["']\s*\)""", text)


@pytest.mark.parametrize("name", ["00_quickstart", "07_quantized_cpu_inference"])
def test_sliders_that_rerun_the_generator_report_on_release(name):
    """Sliders whose every change re-runs the generator (0.3 s and more) report only when released."""
    code = "\n".join(t for _, t in _code_lines(NOTEBOOK_DIR / f"{name}.py"))
    calls = re.findall(r"(?:W|widgets)\.(?:Int|Float)Slider\((.*?)\)\n", code, re.S)
    assert len(calls) >= 2
    assert all("continuous_update=False" in c for c in calls), calls
