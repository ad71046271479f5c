"""Shared image I/O: loading, conversions, resizing, atomic PNG writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from animegan_edu import imageio as io


def test_tensor_roundtrip_exact():
    arr = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    img = Image.fromarray(arr)
    t = io.pil_to_tensor01(img)
    assert t.shape == (3, 5, 7) and t.dtype == torch.float32 and 0 <= t.min() and t.max() <= 1
    assert np.array_equal(np.asarray(io.tensor01_to_pil(t)), arr)
    assert np.array_equal(np.asarray(io.tensor01_to_pil(t[None])), arr)
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        io.tensor01_to_pil(torch.zeros(4, 5, 5))


def test_generator_range_roundtrip():
    x = torch.rand(2, 3, 4, 4)
    g = io.to_generator_range(x)
    assert g.min() >= -1 and g.max() <= 1
    assert torch.allclose(io.from_generator_range(g), x, atol=1e-6)
    assert io.from_generator_range(torch.tensor([-3.0, 3.0])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize(("size", "target", "expected"), [((400, 300), 256, (256, 192)), ((300, 400), 256, (192, 256)), ((1000, 30), 512, (512, 16)), ((64, 64), 64, (64, 64)), ((10, 7), 100, (100, 72))])
def test_resize_longest(size, target, expected):
    out = io.resize_longest(Image.new("RGB", size), target)
    assert out.size == expected
    assert out.size[0] % 4 == 0 and out.size[1] % 4 == 0


def test_resize_longest_rejects_tiny():
    with pytest.raises(ValueError):
        io.resize_longest(Image.new("RGB", (10, 10)), 2)


def test_load_image_errors_are_one_line(tmp_path):
    (tmp_path / "t.png").write_text("text")
    Image.new("RGB", (50, 50)).save(tmp_path / "full.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "full.png").read_bytes()[:60])
    cases = {tmp_path / "none.png": "no such file", tmp_path: "is a directory", tmp_path / "t.png": "not an image", tmp_path / "cut.png": "corrupt or truncated"}
    for path, needle in cases.items():
        with pytest.raises(io.ImageLoadError) as info:
            io.load_image(path)
        assert needle in str(info.value) and "\n" not in str(info.value) and str(path) in str(info.value)


def test_save_png_atomic(tmp_path):
    dest = io.save_png_atomic(torch.rand(3, 6, 5), tmp_path / "o.png")
    assert Image.open(dest).size == (5, 6)
    assert [p.name for p in tmp_path.iterdir()] == ["o.png"]  # no temporary left
    with pytest.raises(io.ImageSaveError, match="does not exist"):
        io.save_png_atomic(Image.new("RGB", (2, 2)), tmp_path / "missing" / "o.png")
