"""Trainer: a step lowers the loss, resume is exact, DDP ranks agree, configs are checked."""

import math
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from animegan_edu.training.config import ConfigError, TrainConfig, load_config
from animegan_edu.training.losses import STYLE_PRESETS, LossWeights
from animegan_edu.training.train import Trainer


def _cfg(root, out, **kw):
    base = dict(
        name="t", data_root=str(root), style="Demo", out_dir=str(out), threads=1,
        init_steps=2, init_loss="l1", init_lr=1e-3, adv_steps=3, g_lr=1e-3, d_lr=2e-4,
        crop=32, batch_size=2, final_steps=1, final_crop=40, final_batch_size=1,
        style_preset=None, g_adv=0.1, d_adv=1.0, content=0.0, style_weight=0.0, colour=1.0, tv=0.1,
        guide=1.0, guide_colour=1.0, d_channels=8, d_layers=2,
        sample_every=0, checkpoint_every=0, sample_images=("coffee",), sample_size=32,
    )  # fmt: skip
    base.update(kw)
    return TrainConfig(**base)


def test_one_init_step_lowers_the_loss_on_a_fixed_batch(tiny_dataset, tmp_path):
    tr = Trainer(_cfg(tiny_dataset, tmp_path))
    batch = tr.dataset.batch(0, 2, 32)

    def loss():
        with torch.no_grad():
            return (tr.generator(batch.photo) - batch.photo).abs().mean().item()

    before = loss()
    tr.dataset.batch = lambda *a, **k: batch  # the same batch for the step
    tr.train_step()
    assert loss() < before


def test_adversarial_step_updates_both_networks(tiny_dataset, tmp_path):
    tr = Trainer(_cfg(tiny_dataset, tmp_path, init_steps=0))
    g0 = [p.detach().clone() for p in tr.generator.parameters()]
    d0 = [p.detach().clone() for p in tr.discriminator.parameters()]
    row = tr.train_step()
    assert {"d", "g_adv", "colour", "tv", "guide", "g"} <= set(row)
    assert any(not torch.equal(a, b) for a, b in zip(g0, tr.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, tr.discriminator.parameters()))


def test_resume_is_exact(tiny_dataset, tmp_path):
    straight = Trainer(_cfg(tiny_dataset, tmp_path / "a"))
    straight.fit(progress=False)

    first = Trainer(_cfg(tiny_dataset, tmp_path / "b"))
    first.fit(steps=3, progress=False)  # stops inside the adversarial phase
    ckpt = first.save_checkpoint()
    torch.manual_seed(123)  # disturb the global RNG: the checkpoint must restore it
    second = Trainer(_cfg(tiny_dataset, tmp_path / "b"))
    assert second.load_checkpoint(ckpt)
    assert second.step == 3
    second.fit(progress=False)

    for (k, a), b in zip(straight.generator.state_dict().items(), second.generator.state_dict().values()):
        assert torch.equal(a, b), k
    for (k, a), b in zip(
        straight.discriminator.state_dict().items(), second.discriminator.state_dict().values()
    ):
        assert torch.equal(a, b), k
    assert [r["g"] for r in straight.history.rows if "g" in r] == [
        r["g"] for r in second.history.rows if "g" in r
    ]


def test_checkpoint_loads_with_weights_only_and_exports_safetensors(tiny_dataset, tmp_path):
    from safetensors.torch import load_file

    from animegan_edu.models import Generator

    tr = Trainer(_cfg(tiny_dataset, tmp_path))
    tr.fit(steps=1, progress=False)
    state = torch.load(tr.save_checkpoint(), weights_only=True)
    assert state["step"] == 1
    path = tr.export_generator(tmp_path / "g.safetensors")
    g = Generator()
    g.load_state_dict(load_file(path), strict=True)
    assert not list(tmp_path.glob("*.partial"))


def test_sample_grid_shape(tiny_dataset, tmp_path):
    tr = Trainer(_cfg(tiny_dataset, tmp_path))
    grid = tr.sample_grid()
    assert grid.shape == (3, 64, 32) and grid.min() >= 0 and grid.max() <= 1


def test_lr_schedule_and_crop_stages(tiny_dataset, tmp_path):
    tr = Trainer(_cfg(tiny_dataset, tmp_path, lr_decay_to=0.1))
    assert tr._lrs(0) == (1e-3, 2e-4)
    g_start, _ = tr._lrs(2)
    g_end, _ = tr._lrs(5)
    assert g_start == pytest.approx(1e-3) and g_end == pytest.approx(1e-4)
    assert tr.cfg.crop_at(0) == (32, 2) and tr.cfg.crop_at(4) == (40, 1)


def test_config_errors_name_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("crop: 64\nlearning_rate: 3\n")
    with pytest.raises(ConfigError, match="bad.yaml.*learning_rate"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad.write_text("crop: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_shipped_configs_load():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs"
    for name in ("demo", "hayao", "shinkai", "paprika"):
        cfg = load_config(root / f"{name}.yaml")
        w = cfg.loss_weights()
        if name != "demo":
            assert (cfg.crop, cfg.batch_size, cfg.init_lr, cfg.g_lr, cfg.d_lr) == (256, 12, 2e-4, 2e-5, 4e-5)
            assert (
                w.g_adv == w.d_adv == 300 and cfg.d_channels == 64 and cfg.d_layers == 3 and cfg.spectral_norm
            )


def test_shipped_configs_keep_their_loss_weights():
    """The recipes train as before: the original ones get their preset, the demo its own fields."""
    for name in ("hayao", "shinkai", "paprika"):
        assert load_config(name).loss_weights() == STYLE_PRESETS[name]  # g_adv = d_adv = 300, no guide
    assert load_config("demo").loss_weights() == LossWeights(
        g_adv=0.1, d_adv=1.0, content=0.0, style=0.0, colour=0.0, tv=0.0,
        guide=1.0, guide_colour=2.0, guide_grad=4.0, d_terms=(1.0, 1.0, 1.0, 1.0),
    )  # fmt: skip


def test_a_loss_field_set_in_python_is_used_even_with_a_preset():
    """The default style_preset ("hayao") used to replace content=99 with its own 1.5, silently."""
    assert TrainConfig(content=99.0).loss_weights().content == 99.0
    w = TrainConfig(style_preset="paprika", style_weight=0.0, colour=3.0, tv=0.5).loss_weights()
    assert (w.content, w.style, w.colour, w.tv) == (2.0, 0.0, 3.0, 0.5)  # content: paprika's own
    assert w.d_terms == STYLE_PRESETS["paprika"].d_terms
    w = TrainConfig(style_preset="shinkai", d_loss_weights=(1.0, 2.0, 3.0, 4.0)).loss_weights()
    assert w.d_terms == (1.0, 2.0, 3.0, 4.0) and w.content == STYLE_PRESETS["shinkai"].content
    assert TrainConfig().loss_weights() == STYLE_PRESETS["hayao"]  # nothing set: the preset
    none = TrainConfig(style_preset=None).loss_weights()  # no preset: LossWeights' values
    assert (none.content, none.style, none.colour, none.tv, none.d_terms) == (1.5, 2.5, 15.0, 1.0, (1.0,) * 4)


def test_a_loss_field_set_in_yaml_is_used_even_with_a_preset(tmp_path):
    (tmp_path / "c.yaml").write_text("style_preset: shinkai\ncontent: 7.0\ntv: 0\n")
    w = load_config(tmp_path / "c.yaml").loss_weights()
    assert (w.content, w.tv, w.style, w.colour) == (7.0, 0.0, 2.0, 10.0)  # style, colour: shinkai's
    (tmp_path / "c.yaml").write_text("content: 99\n")  # the default preset
    assert load_config(tmp_path / "c.yaml").loss_weights().content == 99.0
    (tmp_path / "c.yaml").write_text("content: null\n")  # explicitly "the preset's"
    assert load_config(tmp_path / "c.yaml").loss_weights().content == 1.5


def test_trainer_uses_the_loss_fields_it_was_given(tiny_dataset, tmp_path):
    tr = Trainer(_cfg(tiny_dataset, tmp_path, style_preset="hayao", colour=1.0, tv=0.1))
    assert (tr.weights.colour, tr.weights.tv, tr.weights.content) == (1.0, 0.1, 0.0)


def test_cli_train_writes_generator(tiny_dataset, tmp_path):
    import yaml

    from animegan_edu.cli.main import main

    cfg = {k: v for k, v in vars(_cfg(tiny_dataset, tmp_path / "run")).items()}
    cfg["sample_images"] = list(cfg["sample_images"])
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--steps", "2"]) == 0
    assert (tmp_path / "run" / "generator.safetensors").exists()
    assert (tmp_path / "run" / "checkpoint.pt").exists()


DDP_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from animegan_edu.training.train import Trainer
    from tests.test_train import _cfg
    root, out = sys.argv[1], sys.argv[2]
    tr = Trainer(_cfg(root, out))
    assert tr.distributed and tr.world == 2
    tr.fit(progress=False)
    torch.save(tr.generator.state_dict(), f"{out}/rank{tr.rank}.pt")
    """
)


def test_ddp_two_cpu_ranks_end_identical(tiny_dataset, tmp_path):
    """torchrun --nproc_per_node 2 with gloo: both ranks hold the same generator at the end."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "PYTHONPATH": repo, "OMP_NUM_THREADS": "1"}
    import socket

    with socket.socket() as sock:  # a free port on loopback for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", port,
           str(script), str(tiny_dataset), str(tmp_path)]  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=repo, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    single = Trainer(_cfg(tiny_dataset, tmp_path / "single"))
    assert any(not torch.equal(a[k], v) for k, v in single.generator.state_dict().items())  # it did train


# ---------------------------------------------------------------- checked configs and safe stops
@pytest.mark.parametrize(
    "text, match",
    [
        ("crop: big\n", r"c\.yaml: crop: expected a whole number"),
        ("init_lr: .inf\n", r"c\.yaml: init_lr: expected a finite number"),
        ("init_lr: 0\n", r"c\.yaml: init_lr: must be a positive"),
        ("adv_steps: -5\n", r"c\.yaml: adv_steps: must be a whole number from 0 to 100000000, got -5"),
        ("betas: [0.5]\n", r"c\.yaml: betas: expected a list of 2 values"),
        ("spectral_norm: 1\n", r"c\.yaml: spectral_norm: expected true or false"),
        ("precision: fp8\n", r"c\.yaml: precision: use auto, bf16 or fp32"),
        ("crop_schedule: [[0, 4, 2]]\n", r"c\.yaml: crop_schedule\[0\]"),
        # issue 24: whole numbers are range-checked before PyTorch or OpenMP see them
        ("seed: 18446744073709551616\n", r"c\.yaml: seed: must be a whole number from 0 to 4294967295, got"),
        ("seed: -1\n", r"c\.yaml: seed: must be a whole number from 0 to 4294967295, got -1"),
        ("threads: 100000\n", r"c\.yaml: threads: must be a whole number from 0 to \d+, got 100000"),
        ("init_steps: 1000000000000\n", r"c\.yaml: init_steps: must be a whole number from 0 to 100000000"),
        ("d_layers: 0\n", r"c\.yaml: d_layers: must be a whole number from 1 to 16"),
        ("d_channels: 100000\n", r"c\.yaml: d_channels: must be a whole number from 1 to 1024"),
        ("crop_schedule: [[1000000000000, 64, 2]]\n", r"c\.yaml: crop_schedule\[0\]"),
    ],
)
def test_config_values_are_checked_and_named(tmp_path, text, match):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(tmp_path / "c.yaml")


def test_cli_refuses_negative_steps_and_trains_nothing(tiny_dataset, tmp_path, capsys):
    import yaml

    from animegan_edu.cli.main import main

    cfg = {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in vars(_cfg(tiny_dataset, tmp_path / "run")).items()
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--steps", "-3"]) == 2
    assert "--steps -3" in capsys.readouterr().err
    assert not (tmp_path / "run" / "generator.safetensors").exists()


def test_unwritable_out_dir_fails_before_training(tiny_dataset, tmp_path):
    from animegan_edu.training.train import TrainingError, train

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TrainingError, match="cannot write there"):
        train(_cfg(tiny_dataset, blocker / "run"))


def test_nan_generator_is_neither_resumed_nor_exported(tiny_dataset, tmp_path):
    from animegan_edu.training.train import TrainingError

    tr = Trainer(_cfg(tiny_dataset, tmp_path))
    with torch.no_grad():
        next(tr.generator.parameters()).fill_(float("nan"))
    with pytest.raises(TrainingError, match="non-finite"):
        tr.export_generator(tmp_path / "g.safetensors")
    assert not (tmp_path / "g.safetensors").exists()
    ckpt = tr.save_checkpoint()
    with pytest.raises(TrainingError, match="non-finite"):
        Trainer(_cfg(tiny_dataset, tmp_path)).load_checkpoint(ckpt)
    with pytest.raises(TrainingError, match="diverged"):
        tr.train_step()


def test_mismatched_checkpoint_is_one_line(tiny_dataset, tmp_path):
    tr = Trainer(_cfg(tiny_dataset, tmp_path, d_channels=8))
    ckpt = tr.save_checkpoint()
    with pytest.raises(ConfigError) as info:
        Trainer(_cfg(tiny_dataset, tmp_path, d_channels=16)).load_checkpoint(ckpt)
    assert "another config (d_channels: 8 -> 16)" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ConfigError) as info:  # a deliberate branch still meets the shape check
        Trainer(_cfg(tiny_dataset, tmp_path, d_channels=16)).load_checkpoint(ckpt, other_config=True)
    assert "does not match this config" in str(info.value) and "\n" not in str(info.value)


def test_crop_schedule_warmup_and_precision(tiny_dataset, tmp_path):
    tr = Trainer(
        _cfg(tiny_dataset, tmp_path, crop_schedule=((0, 32, 2), (3, 40, 1)), warmup_steps=2, precision="fp32")
    )
    assert tr.cfg.crop_at(0) == (32, 2) and tr.cfg.crop_at(2) == (32, 2) and tr.cfg.crop_at(3) == (40, 1)
    assert tr._lrs(0)[0] == pytest.approx(0.5e-3) and tr._lrs(1)[0] == pytest.approx(1e-3)
    assert not tr.bf16 and tr.memory_format == torch.contiguous_format
    bf = Trainer(_cfg(tiny_dataset, tmp_path, precision="bf16"))
    assert bf.bf16 and bf.memory_format == torch.channels_last
    row = bf.train_step()  # bf16 autocast runs (emulated where the CPU has no bf16)
    assert math.isfinite(row["init"])


def test_validate_scores_the_held_out_photos(tiny_dataset, tmp_path):
    tr = Trainer(_cfg(tiny_dataset, tmp_path, val_size=64))
    res = tr.validate()
    assert set(res) == {"val_recon_db", "val_target_db", "val_input_db"}
    assert all(math.isfinite(v) for v in res.values())


def test_threads_override_applies_and_is_checked(tmp_path, capsys):
    from animegan_edu.cli.main import main

    assert load_config("demo", threads=1).threads == 1
    with pytest.raises(ConfigError, match=r"demo\.yaml: threads: must be a whole number from 0 to"):
        load_config("demo", threads=100000)  # an override is checked like the file's own value
    assert load_config("demo").threads == 2  # the recipe's own value when not overridden
    for bad in ("-1", "100000"):  # refused by the parser: usage line, one error line, status 2
        with pytest.raises(SystemExit) as exit_:
            main(["train", "--config", "demo", "--threads", bad, "--out-dir", str(tmp_path / "run")])
        assert exit_.value.code == 2
        assert "--threads: expected a number of threads from 1 to" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
