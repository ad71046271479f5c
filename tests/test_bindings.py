"""Caches and checkpoints prove what they belong to (issue 24, class 2), never their file name.

* An INT8 file records the SHA-256 of the float weights it was made from and its recipe; the
  INT8 cache rebuilds a file made from other weights, with another recipe or without the
  record, and ``load_int8(path, weights=...)`` refuses one.
* A training checkpoint records the settings that change the run; resuming under another
  config is a one-line refusal naming the settings that differ, and ``--no-resume`` starts afresh.
"""

from __future__ import annotations

import shutil

import pytest
import torch
import yaml

from animegan_edu.files import write_sidecar
from animegan_edu.imageio import from_generator_range
from animegan_edu.int8.files import Int8SourceError, int8_generator, load_int8, save_int8
from animegan_edu.int8.quantize import QuantizedGenerator, int8_recipe, quantize_generator, weights_sha256
from animegan_edu.metrics import psnr
from animegan_edu.models import Generator
from animegan_edu.samples import sample_photos
from animegan_edu.training.config import BOOKKEEPING_FIELDS, ConfigError, TrainConfig, run_differences
from animegan_edu.training.train import Trainer, train
from tests.test_train import _cfg

pytestmark = pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")

CALIB = 32  # tiny calibration photos: the binding, not the quality, is under test


def _gen(seed: int) -> Generator:
    torch.manual_seed(seed)
    return Generator().eval()


@pytest.fixture(scope="module")
def gen_a() -> Generator:
    return _gen(1)


@pytest.fixture(scope="module")
def gen_b() -> Generator:
    return _gen(2)


@pytest.fixture(scope="module")
def x() -> torch.Tensor:
    return sample_photos(32)[:2]


def _cached(gen: Generator) -> object:
    return int8_generator(gen, calib_size=CALIB, check=False, progress=False)


def _only_file(home) -> object:
    (path,) = (home / "int8").glob("*.safetensors")
    return path


def _rewrite_meta(path, **changes: str | None) -> None:
    """Rewrite an INT8 file's header (``None`` drops a key) and record its new SHA-256, as by hand."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata())
    tensors = load_file(str(path))
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    save_file(tensors, str(path), metadata=meta)
    write_sidecar(path)


def _db(a: torch.Tensor, b: torch.Tensor) -> float:
    return psnr(from_generator_range(a), from_generator_range(b))


# ---------------------------------------------------------------------------- INT8 files


def test_weights_sha256_depends_on_the_weights_only(gen_a):
    twin = Generator()
    twin.load_state_dict(gen_a.state_dict())
    assert weights_sha256(twin) == weights_sha256(gen_a)  # another object, the same weights
    with torch.no_grad():
        next(twin.parameters()).view(-1)[0] += 1e-6  # one number changed
    assert weights_sha256(twin) != weights_sha256(gen_a)


def test_an_int8_file_records_its_float_weights_and_recipe(gen_a, tmp_path):
    q = quantize_generator(gen_a, sample_photos(CALIB)[:2], float_dtype="float32")
    assert q.weights_sha256 == weights_sha256(gen_a)
    assert q.recipe == int8_recipe((2, 3, CALIB, CALIB), float_dtype="float32")
    save_int8(q, tmp_path / "a.safetensors")
    back = load_int8(tmp_path / "a.safetensors", weights=gen_a, recipe=q.recipe)
    assert (back.weights_sha256, back.recipe) == (q.weights_sha256, q.recipe)


def test_swapped_int8_cache_is_rebuilt_for_the_weights_in_use(gen_a, gen_b, x, tmp_path, monkeypatch, capsys):
    """The issue's example: A's cache file, with its own valid .sha256, under B's cache name."""
    monkeypatch.setenv("ANIMEGAN_EDU_HOME", str(tmp_path))
    fresh_b = _cached(gen_b)
    path_b = _only_file(tmp_path)
    path_b.rename(tmp_path / "b.safetensors")  # keep B's own file aside; its name is free again
    path_b.with_name(path_b.name + ".sha256").unlink()
    q_a = _cached(gen_a)
    path_a = next(p for p in (tmp_path / "int8").glob("*.safetensors"))
    shutil.copyfile(path_a, path_b)  # A's INT8 model under B's name...
    write_sidecar(path_b)  # ...with a valid SHA-256 of its own
    with torch.no_grad():
        assert _db(q_a(x), fresh_b(x)) < 30  # A's INT8 is not B's picture
    capsys.readouterr()
    again = _cached(gen_b)
    err = capsys.readouterr().err.strip()
    assert "rebuilding" in err and "other float weights" in err and str(path_b) in err and "\n" not in err
    with torch.no_grad():
        assert _db(again(x), fresh_b(x)) > 60  # B's own INT8 (the same recipe gives the same model)
    assert load_int8(path_b, weights=gen_b).weights_sha256 == weights_sha256(gen_b)  # the file is B's now


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        ({"recipe": "int8-recipe/0 minmax float=:float32 calib=4x3x32x32"}, "int8-recipe/0"),  # older code
        ({"weights_sha256": "0" * 64}, "other float weights"),  # a hand-edited hash
        ({"weights_sha256": None, "recipe": None}, "older file"),  # a cache from before the record
        ({"upsample": "tf1"}, "upsample"),  # the same tensors, another resize convention
    ],
)
def test_int8_cache_with_another_record_is_rebuilt(gen_b, x, tmp_path, monkeypatch, capsys, edit, said):
    monkeypatch.setenv("ANIMEGAN_EDU_HOME", str(tmp_path))
    fresh = _cached(gen_b)
    path = _only_file(tmp_path)
    _rewrite_meta(path, **edit)
    capsys.readouterr()
    again = _cached(gen_b)
    err = capsys.readouterr().err.strip()
    assert "rebuilding" in err and said in err and str(path) in err and "\n" not in err, err
    with torch.no_grad():
        assert _db(again(x), fresh(x)) > 60
    capsys.readouterr()
    _cached(gen_b)  # the rebuilt file is used as it is
    assert capsys.readouterr().err == ""


def test_load_int8_with_weights_refuses_a_file_of_other_weights(gen_a, gen_b, tmp_path):
    path = tmp_path / "a.safetensors"
    q = quantize_generator(gen_a, sample_photos(CALIB)[:1])
    save_int8(q, path)
    load_int8(path)  # without weights: nothing to compare
    load_int8(path, weights=gen_a)
    load_int8(path, weights=weights_sha256(gen_a))  # the hash alone will do
    with pytest.raises(Int8SourceError, match="other float weights") as err:
        load_int8(path, weights=gen_b)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(Int8SourceError, match="upsample"):
        twin = Generator(upsample="tf1")
        twin.load_state_dict(gen_a.state_dict())
        load_int8(path, weights=twin)
    with pytest.raises(Int8SourceError, match="int8-recipe"):
        load_int8(path, weights=gen_a, recipe=int8_recipe((4, 3, 512, 512)))
    save_int8(QuantizedGenerator(gen_a), tmp_path / "bare.safetensors")  # built by hand: no record
    with pytest.raises(Int8SourceError, match="records no SHA-256"):
        load_int8(tmp_path / "bare.safetensors", weights=gen_a)


# ---------------------------------------------------------------------------- checkpoints


def _run_cfg(root, out, **kw) -> TrainConfig:
    return _cfg(root, out, init_steps=1, adv_steps=1, final_steps=0, **kw)


def test_resume_under_another_config_is_refused_naming_the_keys(tiny_dataset, tmp_path):
    """The issue's example: another name, seed and learning rate, the same out_dir."""
    out = tmp_path / "run"
    first = train(_run_cfg(tiny_dataset, out, name="first"), steps=1)
    ckpt = out / "checkpoint.pt"
    before = ckpt.read_bytes()
    second = _run_cfg(tiny_dataset, out, name="second", seed=7, g_lr=5e-4)
    with pytest.raises(ConfigError) as err:
        train(second, steps=2)
    msg = str(err.value)
    assert "\n" not in msg and str(ckpt) in msg and "--no-resume" in msg and "another out_dir" in msg
    for part in ("name: 'first' -> 'second'", "seed: 0 -> 7", "g_lr: 0.001 -> 0.0005"):
        assert part in msg, msg
    assert ckpt.read_bytes() == before  # the first run's checkpoint is untouched
    assert first.step == 1


def test_a_changed_data_folder_alone_is_refused(tiny_dataset, tmp_path):
    from tests.conftest import make_tiny_dataset

    other = make_tiny_dataset(tmp_path / "other_data")
    out = tmp_path / "run"
    Trainer(_run_cfg(tiny_dataset, out)).save_checkpoint()
    with pytest.raises(ConfigError, match="data_root: .* -> .*other_data") as err:
        Trainer(_run_cfg(other, out)).load_checkpoint()
    assert "seed" not in str(err.value)  # only what differs is named


def test_bookkeeping_settings_may_change_between_sessions(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    Trainer(_run_cfg(tiny_dataset, out)).save_checkpoint()
    moved = _run_cfg(
        str(tiny_dataset) + "/.", tmp_path / "elsewhere", threads=2, precision="fp32", sample_every=1,
        checkpoint_every=1, val_every=1, sample_size=16,
    )  # fmt: skip
    assert Trainer(moved).load_checkpoint(out / "checkpoint.pt")  # the same data folder, named another way
    assert set(BOOKKEEPING_FIELDS) <= set(TrainConfig().__dict__)


def test_an_old_checkpoint_is_checked_on_its_whole_config(tiny_dataset, tmp_path):
    """A checkpoint from before the record holds the whole config: checked the same way."""
    out = tmp_path / "run"
    tr = Trainer(_run_cfg(tiny_dataset, out))
    ckpt = tr.save_checkpoint()
    state = torch.load(ckpt, weights_only=True)
    del state["run_config"], state["run_config_sha256"]
    torch.save(state, ckpt)
    assert Trainer(_run_cfg(tiny_dataset, out)).load_checkpoint()
    with pytest.raises(ConfigError, match="crop: 32 -> 40"):
        Trainer(_run_cfg(tiny_dataset, out, crop=40)).load_checkpoint()
    del state["config"]  # no record at all: cannot be shown to belong to this run
    torch.save(state, ckpt)
    with pytest.raises(ConfigError, match="records no config.*--no-resume"):
        Trainer(_run_cfg(tiny_dataset, out)).load_checkpoint()


def test_a_deliberate_branch_loads_another_configs_state(tiny_dataset, tmp_path):
    ckpt = Trainer(_run_cfg(tiny_dataset, tmp_path / "a")).save_checkpoint()
    assert Trainer(_run_cfg(tiny_dataset, tmp_path / "b", g_adv=0.5)).load_checkpoint(ckpt, other_config=True)


def test_run_differences_cuts_long_values():
    old = TrainConfig(data_root="d" * 300).run_fields()
    (line,) = run_differences(old, TrainConfig(data_root="e" * 300))
    assert line.startswith("data_root: ") and len(line) < 200


def test_cli_no_resume_starts_afresh(tiny_dataset, tmp_path, capsys):
    from animegan_edu.cli.main import main

    out = tmp_path / "run"

    def write(name: str, cfg: TrainConfig) -> str:
        values = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(cfg).items()}
        (tmp_path / name).write_text(yaml.safe_dump(values))
        return str(tmp_path / name)

    first = write("first.yaml", _run_cfg(tiny_dataset, out, name="first"))
    second = write("second.yaml", _run_cfg(tiny_dataset, out, name="second", seed=7, g_lr=5e-4))
    assert main(["train", "--config", first, "--steps", "2"]) == 0
    (out / "notes.txt").write_text("mine")  # a file of the user's in out_dir
    capsys.readouterr()
    assert main(["train", "--config", second, "--steps", "1"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seed: 0 -> 7" in err and "--no-resume" in err
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 2  # not overwritten
    assert main(["train", "--config", second, "--steps", "1", "--no-resume"]) == 0
    assert "starting afresh" in capsys.readouterr().err
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] == 1 and state["config"]["name"] == "second"  # a fresh run, its own checkpoint
    assert (out / "notes.txt").read_text() == "mine"
    assert main(["train", "--config", second, "--steps", "2"]) == 0  # and it resumes as its own
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 2
