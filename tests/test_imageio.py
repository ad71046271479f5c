"""Shared image I/O: one decoder for files and bytes, conversions, resizing, atomic writes."""

from __future__ import annotations

import io as _bio
import struct
import time
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from animegan_edu import imageio as io
from animegan_edu.files import FileWriteError


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


@pytest.mark.parametrize(
    ("size", "target", "expected"),
    [
        ((400, 300), 256, (256, 192)),
        ((300, 400), 256, (192, 256)),
        ((1000, 30), 512, (512, 16)),
        ((64, 64), 64, (64, 64)),
        ((10, 7), 100, (100, 72)),
    ],
)
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
    cases = {
        tmp_path / "none.png": "no such file",
        tmp_path: "is a directory",
        tmp_path / "t.png": "not a readable image",
        tmp_path / "cut.png": "corrupt or truncated",
    }
    for path, needle in cases.items():
        with pytest.raises(io.ImageLoadError) as info:
            io.load_image(path)
        assert needle in str(info.value) and "\n" not in str(info.value) and str(path) in str(info.value)


def test_save_png_atomic(tmp_path):
    dest = io.save_png_atomic(torch.rand(3, 6, 5), tmp_path / "o.png")
    assert Image.open(dest).size == (5, 6)
    assert [p.name for p in tmp_path.iterdir()] == ["o.png"]  # no temporary left
    with pytest.raises(FileWriteError, match="does not exist"):
        io.save_png_atomic(Image.new("RGB", (2, 2)), tmp_path / "missing" / "o.png")


# --------------------------------------------------------------------------- test images made by hand


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _png_bytes(arr: np.ndarray, bit_depth: int, color_type: int, trns: bytes = b"") -> bytes:
    """A PNG written byte by byte (Pillow cannot write 16-bit RGB, or 2/4-bit grey with tRNS).

    ``arr`` is (H, W) or (H, W, C) samples at ``bit_depth`` (1, 2, 4, 8 or 16); ``trns`` the raw tRNS chunk.
    """
    h, w = arr.shape[:2]
    if bit_depth < 8:  # pack 8 // bit_depth samples per byte, first sample in the high bits
        per = 8 // bit_depth
        padded = np.zeros((h, -(-w // per) * per), np.uint8)
        padded[:, :w] = arr
        groups = padded.reshape(h, -1, per)
        rows = sum(groups[..., i] << (bit_depth * (per - 1 - i)) for i in range(per)).astype("u1")
    else:
        rows = arr.astype(">u2" if bit_depth == 16 else "u1")
    raw = b"".join(b"\x00" + rows[y].tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + (_chunk(b"tRNS", trns) if trns else b"")
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def _png(path, arr: np.ndarray, bit_depth: int, color_type: int) -> None:
    """:func:`_png_bytes` written to ``path``."""
    path.write_bytes(_png_bytes(arr, bit_depth, color_type))


def _huge_png(path, w: int, h: int) -> None:
    """A valid 1-bit greyscale PNG of w x h pixels, compressed row by row (a few hundred KB)."""
    comp = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * ((w + 7) // 8)
    idat = b"".join(comp.compress(row) for _ in range(h)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _ramp16(w: int = 16, h: int = 4) -> np.ndarray:
    return np.round(np.linspace(0, 65535, w)).astype(np.uint16)[None].repeat(h, 0)


# --------------------------------------------------------------------------- read_image: value scaling


def test_16bit_grey_png_is_scaled_not_clipped(tmp_path):
    """Defect: a 16-bit greyscale PNG came out nearly all white (values clipped to 255)."""
    _png(tmp_path / "g16.png", _ramp16(), 16, 0)
    t = io.read_image(tmp_path / "g16.png")
    assert t.shape == (3, 4, 16) and t.dtype == torch.float32
    assert torch.allclose(t[0, 0], torch.linspace(0, 1, 16), atol=1e-4)
    assert torch.equal(t[0], t[1]) and torch.equal(t[1], t[2])
    assert abs(float(t.mean()) - 0.5) < 0.01
    assert np.asarray(io.load_image(tmp_path / "g16.png"))[0, :, 0].tolist() == [
        round(v * 255) for v in np.linspace(0, 1, 16)
    ]


def test_16bit_rgb_png_and_tiff_keep_their_colours(tmp_path):
    g = _ramp16()
    rgb = np.stack([g, g // 2, 65535 - g], -1)
    _png(tmp_path / "rgb16.png", rgb, 16, 2)
    _png(tmp_path / "rgba16.png", np.concatenate([rgb, np.full_like(g, 65535)[..., None]], -1), 16, 6)
    for name in ("rgb16.png", "rgba16.png"):
        t = io.read_image(tmp_path / name)
        assert torch.allclose(
            t[:, 0, :], torch.from_numpy(rgb[0].T / 65535.0).float(), atol=1 / 255 + 1e-6
        ), name


def test_float_tiff_is_read_as_0_to_1(tmp_path):
    """Defect: a float32 TIFF with values in [0, 1] came out nearly all black."""
    ramp = np.linspace(0, 1, 16, dtype=np.float32)[None].repeat(4, 0)
    Image.fromarray(ramp).save(tmp_path / "f.tif")
    t = io.read_image(tmp_path / "f.tif")
    assert torch.allclose(t[1, 2], torch.from_numpy(ramp[2]), atol=1e-6)
    Image.fromarray(np.full((4, 4), 3.0, np.float32)).save(tmp_path / "over.tif")
    assert float(io.read_image(tmp_path / "over.tif").min()) == 1.0  # clipped to [0, 1]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_tiff_with_non_finite_pixels_is_refused(tmp_path, bad):
    arr = np.full((4, 4), 0.5, np.float32)
    arr[1, 2] = bad
    Image.fromarray(arr).save(tmp_path / "nan.tif")
    with pytest.raises(io.ImageLoadError) as info:
        io.read_image(tmp_path / "nan.tif")
    msg = str(info.value)
    assert "nan.tif" in msg and "NaN or infinite" in msg and "\n" not in msg


def test_int32_and_16bit_tiffs_use_their_full_range(tmp_path):
    """Defect: an int32 TIFF came out nearly all white (anything above 255 clipped)."""
    ramp = np.linspace(0, 2**31 - 1, 16)
    Image.fromarray(ramp.astype(np.int32)[None].repeat(4, 0)).save(tmp_path / "i32.tif")
    t = io.read_image(tmp_path / "i32.tif")
    assert torch.allclose(t[0, 0], torch.linspace(0, 1, 16), atol=1e-4)
    Image.fromarray(np.array([[-5, 0]], np.int32)).save(tmp_path / "neg.tif")
    assert io.read_image(tmp_path / "neg.tif")[0, 0].tolist() == [0.0, 0.0]
    Image.fromarray(_ramp16()).save(tmp_path / "g16.tif")
    assert torch.allclose(io.read_image(tmp_path / "g16.tif")[2, 1], torch.linspace(0, 1, 16), atol=1e-4)


# --------------------------------------------------------------------------- read_image: alpha, EXIF, bytes


def _transparent_rgba() -> Image.Image:
    img = Image.new("RGBA", (8, 4), (200, 0, 0, 0))  # fully transparent: colour must not leak
    img.paste((0, 0, 255, 255), (0, 0, 4, 4))  # left half opaque blue
    img.putpixel((6, 1), (0, 0, 0, 128))  # half-transparent black over white -> mid grey
    return img


def test_alpha_is_composited_over_white_for_files_and_bytes(tmp_path):
    """Defect: transparent pixels became white in the CLI but black in the Studio upload."""
    img = _transparent_rgba()
    img.save(tmp_path / "a.png")
    buf = _bio.BytesIO()
    img.save(buf, format="PNG")
    from_file = io.read_image(tmp_path / "a.png")
    from_bytes = io.read_image(buf.getvalue(), name="upload.png")
    assert torch.equal(from_file, from_bytes)
    assert from_file[:, 1, 6].tolist() == pytest.approx([127 / 255] * 3, abs=1e-6)
    assert from_file[:, 0, 7].tolist() == [1.0, 1.0, 1.0]
    assert from_file[:, 0, 0].tolist() == [0.0, 0.0, 1.0]
    img.convert("LA").save(tmp_path / "la.png")
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([0, 0, 0] * 256)  # index 0 is black, and transparent
    pal.save(tmp_path / "p.png", transparency=0)
    assert io.read_image(tmp_path / "la.png")[:, 0, 7].tolist() == [1.0, 1.0, 1.0]
    assert float(io.read_image(tmp_path / "p.png").min()) == 1.0


# One alpha rule for every mode and bit depth. A 16 x 2 test picture: grey G = 0, 17, ..., 255 per column,
# colour C = (G, 255 - G, 100), alpha A opaque but column 3 and 7 (clear) and 5 (half). Transparent colour
# keys (tRNS) pick column 2: grey 34, colour (34, 221, 100).
_G = np.repeat((np.arange(16) * 17).astype(np.uint8)[None], 2, 0)
_C = np.stack([_G, 255 - _G, np.full_like(_G, 100)], -1)
_A = np.full_like(_G, 255)
_A[:, [3, 7]] = 0
_A[:, 5] = 128
_KEY = _G == 34
_NONE = np.zeros_like(_KEY)


def _saved(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = _bio.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _over_white(rgb8: np.ndarray, alpha8=None, key=None) -> np.ndarray:
    """What the rule says: colour in [0, 1], alpha over white, keyed pixels white."""
    rgb = (np.repeat(rgb8[..., None], 3, -1) if rgb8.ndim == 2 else rgb8).astype(np.float64) / 255.0
    if alpha8 is not None:
        a = alpha8[..., None] / 255.0
        rgb = rgb * a + (1.0 - a)
    if key is not None:
        rgb[key] = 1.0
    return rgb


def _palette_image() -> Image.Image:
    img = Image.fromarray(np.repeat(np.arange(16, dtype=np.uint8)[None], 2, 0), "P")
    img.putpalette(_C[0].reshape(-1).tolist())
    return img


def _i16b(values: np.ndarray, key=None) -> Image.Image:
    img = Image.frombytes("I;16B", values.shape[::-1], values.astype(">u2").tobytes())
    if key is not None:
        img.info["transparency"] = key
    return img


_W16 = _G.astype(np.uint16) * 257


def _rgb16_odd_key() -> np.ndarray:
    c16 = _C.astype(np.uint16) * 257
    c16[_KEY] = (0x2280, 0xDD01, 0x64FE)  # the key pixels: high bytes 34, 221, 100
    return c16

_RGB16_KEY = struct.pack(">HHH", 34 * 257, 221 * 257, 100 * 257)
# case -> () -> (file bytes or an in-memory PIL image, expected (H, W, 3) in [0, 1], fully transparent pixels)
_MODE_CASES = {
    "1": lambda: (_saved(Image.fromarray(_G >= 128)), _over_white((_G >= 128) * 255), _NONE),
    "1+tRNS": lambda: (_saved(Image.fromarray(_G >= 128), transparency=0), _over_white(_G | 255), _G < 128),
    "L": lambda: (_saved(Image.fromarray(_G)), _over_white(_G), _NONE),
    "L+tRNS": lambda: (_saved(Image.fromarray(_G), transparency=34), _over_white(_G, key=_KEY), _KEY),
    "L;2+tRNS": lambda: (
        _png_bytes(_G // 85, 2, 0, struct.pack(">H", 1)),
        _over_white(_G // 85 * 85, key=_G // 85 == 1),
        _G // 85 == 1,
    ),
    "L;4+tRNS": lambda: (_png_bytes(_G // 17, 4, 0, struct.pack(">H", 2)), _over_white(_G, key=_KEY), _KEY),
    "LA": lambda: (_saved(Image.fromarray(np.stack([_G, _A], -1), "LA")), _over_white(_G, _A), _A == 0),
    "LA16": lambda: (_png_bytes(np.stack([_W16, _A.astype(np.uint16) * 257], -1), 16, 4),
                     _over_white(_G, _A), _A == 0),
    "P": lambda: (_saved(_palette_image()), _over_white(_C), _NONE),
    "P+tRNS": lambda: (_saved(_palette_image(), transparency=2), _over_white(_C, key=_KEY), _KEY),
    "P+alpha": lambda: (_saved(_palette_image(), transparency=bytes(_A[0])), _over_white(_C, _A), _A == 0),
    "GIF+tRNS": lambda: (_saved(_palette_image(), "GIF", transparency=2), _over_white(_C, key=_KEY), _KEY),
    "I;16": lambda: (_saved(Image.fromarray(_W16)), _over_white(_G), _NONE),
    "I;16+tRNS": lambda: (
        _saved(Image.fromarray(_W16), transparency=34 * 257), _over_white(_G, key=_KEY), _KEY
    ),
    "I;16B": lambda: (_saved(_i16b(_W16), "TIFF"), _over_white(_G), _NONE),
    "I;16B+tRNS": lambda: (_i16b(_W16, 34 * 257), _over_white(_G, key=_KEY), _KEY),
    "I": lambda: (
        _saved(Image.fromarray(np.round(_G / 255.0 * (2**31 - 1)).astype(np.int32)), "TIFF"),
        _over_white(_G),
        _NONE,
    ),
    "F": lambda: (_saved(Image.fromarray((_G / 255.0).astype(np.float32)), "TIFF"), _over_white(_G), _NONE),
    "RGB": lambda: (_saved(Image.fromarray(_C)), _over_white(_C), _NONE),
    "RGB+tRNS": lambda: (
        _saved(Image.fromarray(_C), transparency=(34, 221, 100)), _over_white(_C, key=_KEY), _KEY
    ),
    "RGB16+tRNS": lambda: (
        _png_bytes(_C.astype(np.uint16) * 257, 16, 2, _RGB16_KEY), _over_white(_C, key=_KEY), _KEY
    ),
    "RGB16+tRNS odd key": lambda: (  # a key whose low byte is not its high byte (Pillow matched the low byte)
        _png_bytes(_rgb16_odd_key(), 16, 2, struct.pack(">HHH", 0x2280, 0xDD01, 0x64FE)),
        _over_white(_C, key=_KEY),
        _KEY,
    ),
    "RGBA": lambda: (_saved(Image.fromarray(np.dstack([_C, _A]))), _over_white(_C, _A), _A == 0),
    "RGBA16": lambda: (
        _png_bytes(np.dstack([_C, _A]).astype(np.uint16) * 257, 16, 6), _over_white(_C, _A), _A == 0
    ),
    "RGBa": lambda: (Image.fromarray(np.dstack([_C, _A])).convert("RGBa"), _over_white(_C, _A), _A == 0),
    "La": lambda: (Image.fromarray(np.stack([_G, _A], -1), "LA").convert("La"), _over_white(_G, _A), _A == 0),
}


def _decode_case(case: str):
    source, expected, clear = _MODE_CASES[case]()
    if isinstance(source, Image.Image):  # a mode no file format stores: straight to the decoder's core
        arr = io._to_rgb(source, case)
        got = arr / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float64)
    else:
        got = io.read_image(source, name=case).permute(1, 2, 0).double().numpy()
    return got, expected, clear


@pytest.mark.parametrize("case", list(_MODE_CASES))
def test_alpha_rule_holds_for_every_mode_and_bit_depth(case):
    """Defect: a 16-bit grey PNG's tRNS colour came out black (2/4-bit grey and 16-bit RGB keys: opaque)."""
    got, expected, clear = _decode_case(case)
    assert got.shape == expected.shape
    assert bool((got[clear] == 1.0).all()), f"{case}: a fully transparent pixel is not white"
    tol = 1 / 255 + 1e-6 if case in ("RGBa", "La") else 1e-6  # premultiplied: rounded when un-premultiplied
    assert np.abs(got - expected).max() <= tol, case


@pytest.mark.parametrize(
    ("eight", "sixteen"),
    [
        ("L", "I;16"),
        ("L", "I;16B"),
        ("L", "I"),
        ("L", "F"),
        ("L+tRNS", "I;16+tRNS"),
        ("L+tRNS", "I;16B+tRNS"),
        ("L+tRNS", "L;4+tRNS"),
        ("LA", "LA16"),
        ("RGB+tRNS", "RGB16+tRNS"),
        ("RGBA", "RGBA16"),
        ("P+tRNS", "RGB+tRNS"),
    ],
)
def test_8bit_image_and_its_twin_decode_alike(eight, sixteen):
    """An 8-bit image and its twin at another depth or mode decode to the same [0, 1] values (1/255)."""
    a, b = _decode_case(eight)[0], _decode_case(sixteen)[0]
    assert a.shape == b.shape and np.abs(a - b).max() <= 1 / 255


def test_16bit_grey_png_with_transparent_colour_is_white_like_its_8bit_twin(tmp_path):
    """The issue's example, as files: the transparent colour of a 16-bit grey PNG was black."""
    (tmp_path / "g16.png").write_bytes(_png_bytes(_W16, 16, 0, struct.pack(">H", 34 * 257)))
    Image.fromarray(_G).save(tmp_path / "g8.png", transparency=34)
    t16, t8 = io.read_image(tmp_path / "g16.png"), io.read_image(tmp_path / "g8.png")
    assert t16[:, 0, 2].tolist() == [1.0, 1.0, 1.0] and t8[:, 0, 2].tolist() == [1.0, 1.0, 1.0]
    assert (t16 - t8).abs().max() <= 1 / 255
    assert np.asarray(io.load_image(tmp_path / "g16.png"))[0, 2].tolist() == [255, 255, 255]


def test_exif_orientation_applied_for_files_and_bytes(tmp_path):
    img = Image.new("RGB", (40, 24), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 24))
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(tmp_path / "rot.jpg", exif=exif.tobytes())
    for src in (tmp_path / "rot.jpg", (tmp_path / "rot.jpg").read_bytes()):
        t = io.read_image(src, name="rot.jpg")
        assert t.shape == (3, 40, 24)
        assert t[0, 5, 12] > 0.8 and t[2, 35, 12] > 0.8  # stored left (red) half is on top


def test_bytes_errors_name_the_upload():
    for data, needle in ((b"hello", "not a readable image"), (b"", "empty file")):
        with pytest.raises(io.ImageLoadError) as info:
            io.read_image(data, name="notes.txt")
        assert str(info.value).startswith("notes.txt: ") and needle in str(info.value)


# --------------------------------------------------------------------------- read_image: pixel limit


def test_pixel_limit_is_checked_before_decoding(tmp_path, monkeypatch):
    """Defect: a ~400 KB PNG of 144 megapixels was decoded in full (about 2.5 GB)."""
    from PIL import ImageFile

    big = tmp_path / "bomb.png"
    _huge_png(big, 12000, 12000)
    assert big.stat().st_size < 1_000_000

    def no_decoding(self):
        raise AssertionError("decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    t0 = time.perf_counter()
    with pytest.raises(io.ImageLoadError) as info:
        io.read_image(big)
    msg = str(info.value)
    assert time.perf_counter() - t0 < 2.0
    assert (
        str(big) in msg
        and "12000x12000" in msg
        and "144.0 MP" in msg
        and "limit of 40 MP" in msg
        and "\n" not in msg
    )
    with pytest.raises(io.ImageLoadError, match="limit of 0.0001 MP"):
        io.read_image(big.read_bytes(), name="bomb.png", max_pixels=100)
    monkeypatch.setenv(io.MAX_PIXELS_ENV, "1000")
    Image.new("RGB", (40, 30)).save(tmp_path / "small.png")
    monkeypatch.undo()
    monkeypatch.setenv(io.MAX_PIXELS_ENV, "1000")
    with pytest.raises(io.ImageLoadError, match="1200 pixels|40x30"):
        io.read_image(tmp_path / "small.png")
    assert io.read_image(tmp_path / "small.png", max_pixels=1200).shape == (3, 30, 40)


def test_decompression_bomb_error_is_one_line(tmp_path):
    """Above Pillow's own bomb limit (2 x MAX_IMAGE_PIXELS) Pillow raises at open: one line too."""
    big = tmp_path / "bigger.png"
    side = int((2 * Image.MAX_IMAGE_PIXELS) ** 0.5) + 10
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # header only: Pillow refuses before any data
    big.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00"))
        + _chunk(b"IEND", b"")
    )
    with pytest.raises(io.ImageLoadError) as info:
        io.read_image(big, max_pixels=10**12)
    assert str(big) in str(info.value) and "too large" in str(info.value) and "\n" not in str(info.value)


def test_unsupported_mode_is_one_line():
    with pytest.raises(io.ImageLoadError) as info:
        io._to_rgb(_FakeMode(), "odd.tif")  # a mode the toolkit does not convert
    assert str(info.value).startswith("odd.tif: unsupported image mode 'HSV2'") and "\n" not in str(
        info.value
    )


class _FakeMode:
    mode = "HSV2"
    info: dict = {}


# ------------------------------------------------------------------ the other callers use the same decoder


def test_data_read_image_is_the_same_decoder(tmp_path):
    """Defect: data.read_image decoded on its own (16-bit clipped to white, alpha dropped, no size limit)."""
    from animegan_edu.data import dataset as data

    _png(tmp_path / "g16.png", _ramp16(), 16, 0)
    _transparent_rgba().save(tmp_path / "a.png")
    for name in ("g16.png", "a.png"):
        assert torch.equal(data.read_image(tmp_path / name), io.read_image(tmp_path / name)), name
    shrunk = data.read_image(tmp_path / "g16.png", max_side=8)
    assert shrunk.shape == (3, 2, 8) and 0.4 < float(shrunk.mean()) < 0.6
    _huge_png(tmp_path / "bomb.png", 12000, 12000)
    (tmp_path / "t.png").write_text("text")
    for name, needle in (
        ("bomb.png", "over the limit"),
        ("t.png", "not a readable image"),
        ("none.png", "no such file"),
    ):
        with pytest.raises(data.DataError) as info:
            data.read_image(tmp_path / name)
        assert (
            str(tmp_path / name) in str(info.value)
            and needle in str(info.value)
            and "\n" not in str(info.value)
        )
