"""INT8 quantization, fp32 paths, ONNX Runtime and the benchmark (correctness, not speed)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from animegan_edu.bench.profile import profile_layers
from animegan_edu.imageio import from_generator_range
from animegan_edu.inference.fastpaths import (
    OnnxRuntimeGenerator,
    export_onnx,
    fp32_channels_last,
    fp32_torchscript,
    quantize_onnx,
)
from animegan_edu.int8.calib import calibrate
from animegan_edu.int8.files import INT8_FORMAT, int8_generator, load_int8, save_int8
from animegan_edu.int8.layers import QConvNormLReLU, QParams, reflect_pad_q
from animegan_edu.int8.quantize import QuantizedGenerator, layer_names, quantize_generator
from animegan_edu.machine import num_threads
from animegan_edu.metrics import psnr
from animegan_edu.models import Generator
from animegan_edu.samples import sample_photos

# Random weights give activation ranges unlike trained ones, so the thresholds here are
# loose; the figures for the demo weights come from `animegan-edu bench`.
MIN_PSNR_DB = 30.0

# PyTorch 2.14 deprecates quantized tensor dtypes (this module still needs them)
pytestmark = pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")


@pytest.fixture(scope="module")
def gen() -> Generator:
    torch.manual_seed(0)
    return Generator().eval()


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    return sample_photos(48)


@pytest.fixture(scope="module")
def qgen(gen: Generator) -> QuantizedGenerator:
    return quantize_generator(gen, sample_photos(40))


def test_sample_photos_shape_and_range():
    p = sample_photos(24, names=("astronaut", "camera"))  # camera is greyscale
    assert p.shape == (2, 3, 24, 24)
    assert p.min() >= -1 and p.max() <= 1 and p.std() > 0.1


@pytest.mark.parametrize("pad", [(1, 1, 1, 1), (3, 3, 3, 3), (0, 1, 0, 1), (2, 0, 1, 3)])
def test_reflect_pad_q_equals_float_reflect_pad(pad):
    x = torch.randn(2, 5, 9, 7).contiguous(memory_format=torch.channels_last)
    q = torch.quantize_per_tensor(x, 0.05, 120, torch.quint8)
    out = reflect_pad_q(q, pad)
    assert torch.equal(out.dequantize(), F.pad(q.dequantize(), pad, mode="reflect"))
    assert (out.q_scale(), out.q_zero_point()) == (0.05, 120)
    assert out.is_contiguous(memory_format=torch.channels_last)


def test_reflect_pad_q_too_small_raises():
    q = torch.quantize_per_tensor(torch.randn(1, 2, 3, 3), 0.1, 128, torch.quint8)
    with pytest.raises(ValueError, match="larger than 3x3"):
        reflect_pad_q(q, (3, 3, 3, 3))


def test_calibrate_covers_every_activation(gen, photos):
    qp = calibrate(gen, photos[:2], observer="minmax", reduce_range=False)
    assert "block_e.2.act" in qp and "block_c.1.out" in qp and "out_layer.in" in qp
    for name, p in qp.items():
        if isinstance(p, QParams):
            assert p.scale > 0 and 0 <= p.zero_point <= 255, name


def test_calibrate_rejects_bad_photos(gen):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        calibrate(gen, torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="observer"):
        calibrate(gen, torch.zeros(1, 3, 32, 32), observer="kmeans")


def test_int8_output_close_to_fp32(gen, qgen, photos):
    with torch.no_grad():
        ref, out = gen(photos), qgen(photos)
    assert out.shape == ref.shape and out.dtype == torch.float32
    assert psnr(from_generator_range(out), from_generator_range(ref)) >= MIN_PSNR_DB
    # odd sizes work too (the decoder resizes to the encoder's sizes)
    x = torch.rand(1, 3, 37, 50) * 2 - 1
    with torch.no_grad():
        assert qgen(x).shape == (1, 3, 37, 50)


def test_int8_keeps_float_layers(gen, photos):
    q = quantize_generator(gen, photos[:2], float_layers=("block_a.0", "block_c.2"))
    assert isinstance(q.block_a[0], torch.nn.Module) and not isinstance(q.block_a[0], QConvNormLReLU)
    assert isinstance(q.block_a[1], QConvNormLReLU)
    with torch.no_grad():
        assert psnr(from_generator_range(q(photos)), from_generator_range(gen(photos))) >= MIN_PSNR_DB
    with pytest.raises(ValueError, match="unknown layer names"):
        quantize_generator(gen, photos[:1], float_layers=("block_z.0",))


def test_int8_save_load_round_trip(qgen, photos, tmp_path):
    path = tmp_path / "g.int8.safetensors"
    n = save_int8(qgen, path)
    assert n == path.stat().st_size and n <= 2.5e6  # the size target
    assert not list(tmp_path.glob("*.partial"))
    loaded = load_int8(path)
    with torch.no_grad():
        assert torch.equal(loaded(photos), qgen(photos))
    # the file is plain data: int8 weights and float scales, readable without PyTorch pickles
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        assert f.metadata()["format"] == INT8_FORMAT
        assert f.get_tensor("block_a.0.conv.weight_int8").dtype == torch.int8
        # the units kept in float (the decoder's, by default) store int8 weights too
        assert (
            f.get_tensor("block_e.2.1.weight_int8").dtype == torch.int8
            and "block_e.2.1.weight" not in f.keys()
        )


def test_int8_save_load_with_float_layers(gen, photos, tmp_path):
    q = quantize_generator(gen, photos[:1], float_layers=("block_e.2",))
    save_int8(q, tmp_path / "m.safetensors")
    loaded = load_int8(tmp_path / "m.safetensors")
    assert loaded.float_layers == ("block_e.2",)
    with torch.no_grad():
        assert torch.equal(loaded(photos[:1]), q(photos[:1]))


def test_load_int8_errors(gen, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such INT8 model file"):
        load_int8(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file at all")
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_int8(bad)
    from safetensors.torch import save_file

    fp32 = tmp_path / "fp32.safetensors"
    save_file({k: v.contiguous() for k, v in gen.state_dict().items()}, str(fp32))
    with pytest.raises(ValueError, match="not an animegan-edu INT8 generator"):
        load_int8(fp32)


def test_quantized_generator_rejects_bad_input(qgen):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        qgen(torch.zeros(1, 4, 32, 32))


def test_fp32_paths_match_eager(gen, photos):
    x = photos[:1]
    with torch.no_grad():
        ref = gen(x)
        assert torch.allclose(fp32_channels_last(gen)(x), ref, atol=1e-4)
        assert torch.allclose(fp32_torchscript(gen, x)(x), ref, atol=1e-4)


def test_num_threads_restores():
    before = torch.get_num_threads()
    with num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"), num_threads(0):
        pass


def test_onnx_fp32_matches_torch_any_size(gen, tmp_path):
    path = export_onnx(gen, tmp_path / "g.onnx")
    sess = OnnxRuntimeGenerator(path, threads=1)
    for shape in [(1, 3, 48, 48), (2, 3, 37, 58)]:  # one export, dynamic sizes
        x = torch.rand(*shape) * 2 - 1
        with torch.no_grad():
            assert (sess(x) - gen(x)).abs().max().item() < 1e-4


def test_onnx_export_rejects_tf1_mode(tmp_path):
    with pytest.raises(ValueError, match="tf1"):
        export_onnx(Generator(upsample="tf1"), tmp_path / "g.onnx")


def test_onnxruntime_int8_close(gen, photos, tmp_path):
    fp32 = export_onnx(gen, tmp_path / "g.onnx")
    int8 = quantize_onnx(fp32, tmp_path / "g8.onnx", photos[:2])
    assert int8.stat().st_size < fp32.stat().st_size / 2
    sess = OnnxRuntimeGenerator(int8)
    with torch.no_grad():
        assert psnr(from_generator_range(sess(photos)), from_generator_range(gen(photos))) >= MIN_PSNR_DB


def test_profile_layers_names(qgen, gen, photos):
    names = layer_names(gen)
    for model in (gen, qgen, fp32_channels_last(gen)):
        prof = profile_layers(model, photos[:1], repeat=1)
        assert set(prof) == set(names) | {"out_layer", "other"}
        assert all(v >= 0 for k, v in prof.items() if k != "other")


def test_bench_json_has_all_keys(capsys, monkeypatch, tmp_path):
    from animegan_edu.cli.main import main

    monkeypatch.setenv("ANIMEGAN_EDU_HOME", str(tmp_path))
    argv = [
        "bench",
        "--size",
        "32",
        "--size",
        "40",
        "--repeat",
        "1",
        "--json",
        "--no-compile",
        "--quiet",
        "--calib-size",
        "32",
        "--no-e2e",
    ]
    assert main(argv) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("fp32_eager", "fp32_best", "int8", "onnxruntime_fp32", "onnxruntime_int8", "int8_psnr_db"):
        assert isinstance(res[key], float) and res[key] > 0, key
    assert res["fp32_best_method"] in ("channels_last", "torchscript", "compile")
    assert res["int8_size_bytes"] < res["fp32_size_bytes"] / 3
    assert res["threads"] == torch.get_num_threads() and res["torch_version"] == torch.__version__
    assert set(res["by_size"]) == {"32", "40"} and res["size"] == 32
    assert res["by_size"]["40"]["onnxruntime_fp32_max_abs_diff"] < 1e-4


def test_bench_rejects_tiny_size(capsys):
    from animegan_edu.cli.main import main

    assert main(["bench", "--size", "4", "--no-compile", "--quiet"]) == 2
    assert "at least 8" in capsys.readouterr().err


def test_stylize_int8_cli(gen, tmp_path, monkeypatch):
    from PIL import Image
    from safetensors.torch import save_file

    from animegan_edu.cli.main import main

    monkeypatch.setenv("ANIMEGAN_EDU_HOME", str(tmp_path / "home"))
    weights = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in gen.state_dict().items()}, str(weights))
    Image.fromarray((sample_photos(40)[0].permute(1, 2, 0).add(1).mul(127.5)).byte().numpy()).save(
        tmp_path / "in.png"
    )
    out = tmp_path / "out.png"
    assert (
        main(
            [
                "stylize",
                str(tmp_path / "in.png"),
                "-o",
                str(out),
                "--int8",
                "--weights",
                str(weights),
                "--size",
                "40",
            ]
        )
        == 0
    )
    assert Image.open(out).size == (40, 40)
    cached = list((tmp_path / "home" / "int8").glob("*.safetensors"))
    assert len(cached) == 1  # calibrated once, reused on the next run
    assert (
        main(
            [
                "stylize",
                str(tmp_path / "in.png"),
                "-o",
                str(out),
                "--int8",
                "--weights",
                str(weights),
                "--size",
                "40",
            ]
        )
        == 0
    )


# --------------------------------------------------------------------------------------
# INT8 files are data checked on load: SHA-256 sidecar, finite quantization parameters
# --------------------------------------------------------------------------------------
def _tamper(path, key: str = "block_b.0.in_qp", value: float = float("nan"), rehash: bool = False) -> None:
    """Rewrite ``path`` with ``key[0]`` (a scale) set to ``value``; ``rehash``: fix the sidecar too."""
    import hashlib

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    tensors = load_file(str(path))
    tensors[key] = tensors[key].clone()
    tensors[key][0] = value
    save_file(tensors, str(path), metadata=meta)
    if rehash:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")


def test_save_int8_records_the_hash(qgen, tmp_path):
    import hashlib

    path = tmp_path / "g.safetensors"
    save_int8(qgen, path)
    sidecar = tmp_path / "g.safetensors.sha256"
    assert sidecar.read_text().split()[0] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.safetensors", "g.safetensors.sha256"]


def test_load_int8_refuses_a_file_without_its_hash(qgen, tmp_path):
    path = tmp_path / "g.safetensors"
    save_int8(qgen, path)
    (tmp_path / "g.safetensors.sha256").unlink()
    with pytest.raises(ValueError, match="no SHA-256") as err:
        load_int8(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_load_int8_refuses_a_changed_file(qgen, tmp_path):
    path = tmp_path / "g.safetensors"
    save_int8(qgen, path)
    _tamper(path)
    with pytest.raises(ValueError, match="SHA-256") as err:
        load_int8(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("key", "index", "value"),
    [
        ("block_b.0.in_qp", 0, float("nan")),  # activation scale
        ("block_c.1.out_qp", 0, float("inf")),  # residual-add output scale
        ("block_a.0.norm_qp", 1, float("nan")),  # zero point
        ("block_a.1.conv.out_qp", 0, 0.0),  # a zero scale
        ("block_a.1.act_qp", 1, 300.0),  # zero point outside quint8
        ("block_b.1.conv.weight_scale", 3, float("nan")),  # per-channel weight scale
        ("block_e.2.1.weight_scale", 3, 0.0),  # weight scale of a unit kept in float
    ],
)
def test_load_int8_refuses_bad_quantization_parameters(qgen, tmp_path, key, index, value):
    import hashlib

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path = tmp_path / "g.safetensors"
    save_int8(qgen, path)
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    tensors = load_file(str(path))
    tensors[key] = tensors[key].clone()
    tensors[key][index] = value
    save_file(tensors, str(path), metadata=meta)
    # the hash matches (a file written so on purpose): the values themselves are checked
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "g.safetensors.sha256").write_text(f"{digest}  g.safetensors\n")
    with pytest.raises(ValueError) as err:
        load_int8(path)
    msg = str(err.value)
    assert str(path) in msg and key in msg and "\n" not in msg, msg


def test_int8_cache_tampered_is_refused_and_rebuilt(gen, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANIMEGAN_EDU_HOME", str(tmp_path))
    first = int8_generator(gen, calib_size=32)
    (path,) = (tmp_path / "int8").glob("*.safetensors")
    assert path.with_name(path.name + ".sha256").is_file()
    _tamper(path, rehash=True)  # a NaN scale behind a matching hash
    x = sample_photos(32)[:1]
    capsys.readouterr()
    again = int8_generator(gen, calib_size=32)
    err = capsys.readouterr().err.splitlines()[0]  # then the progress bar of the rebuild
    assert "rebuilding" in err and str(path) in err and "NaN" in err
    with torch.no_grad():
        out = again(x)
        assert torch.isfinite(out).all() and torch.equal(out, first(x))
    load_int8(path)  # the rebuilt cache file loads again
