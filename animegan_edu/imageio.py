"""Image input and output shared by the command line, the Studio, the notebooks and the data code.

Introduced in ``notebooks/01_generator.ipynb`` (loading a photo for the generator).

**One front door for images.** :func:`read_image` decodes every image the toolkit reads,
from a file or from bytes (a Studio upload), always the same way:

* upright (EXIF orientation applied);
* transparency composited over **white** (:data:`ALPHA_BACKGROUND`), in every caller, by one
  rule for every mode and bit depth: an alpha band, a palette's transparency, or a
  transparent colour (PNG ``tRNS``, also at 1, 2, 4 and 16 bits) all make the same picture;
* values scaled by the full range of the stored sample type: 8-bit by 255, 16-bit
  (greyscale or RGB PNG/TIFF) by 65535, 32-bit signed integers by 2**31 - 1 (negatives
  become 0); float images are taken to be ``[0, 1]`` (clipped) and refused when they
  hold NaN or infinity;
* a pixel limit (:data:`DEFAULT_MAX_PIXELS`, 40 megapixels; ``max_pixels=`` or the
  environment variable ``ANIMEGAN_EDU_MAX_PIXELS`` change it) checked from the header
  **before** anything is decoded.

:func:`load_image` is the same as a PIL image. Every error a user can cause (missing
file, not an image, truncated, too large, unsupported mode) is an :class:`ImageLoadError`
whose message is one line, names the file and says what to do.

**Writes are atomic.** :func:`save_png_atomic` writes PNGs through
:func:`animegan_edu.files.atomic_write` (a temporary file in the same folder, then
``os.replace``, with the permissions a normal ``open()`` would give).

Two value conventions meet here:

* user images: PIL ``RGB`` images (``uint8``) or float tensors ``(3, H, W)`` /
  ``(N, 3, H, W)`` with values in ``[0, 1]``;
* generator tensors: ``(N, 3, H, W)`` RGB with values in ``[-1, 1]``.

:func:`to_generator_range` and :func:`from_generator_range` convert between the two.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from animegan_edu.files import FileReadError, atomic_write, open_regular

__all__ = [
    "ALPHA_BACKGROUND",
    "DEFAULT_MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "ImageLoadError",
    "read_image",
    "load_image",
    "open_image",
    "max_pixels_default",
    "pil_to_tensor01",
    "snapped_size",
    "tensor01_to_pil",
    "to_generator_range",
    "from_generator_range",
    "resize_longest",
    "save_png_atomic",
]

#: Transparent pixels are composited over this colour (``[0, 1]`` RGB): white, everywhere.
ALPHA_BACKGROUND = (1.0, 1.0, 1.0)
#: Default pixel limit (width x height) for decoded images: 40 megapixels.
DEFAULT_MAX_PIXELS = 40_000_000
#: Environment variable that overrides :data:`DEFAULT_MAX_PIXELS` (a number of pixels).
MAX_PIXELS_ENV = "ANIMEGAN_EDU_MAX_PIXELS"

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview]
_FORMATS = "use a PNG, JPEG, WebP, BMP or TIFF photo"


class ImageLoadError(ValueError):
    """An input image could not be read; the message is one line, names the file and says what to do."""


def max_pixels_default() -> int:
    """The pixel limit in force: ``$ANIMEGAN_EDU_MAX_PIXELS`` if set (a positive integer), else 40 MP.

    Raises:
        ValueError: the environment variable is not a positive integer.

    Example:
        >>> max_pixels_default() >= 1
        True
    """
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(float(text))
    except (ValueError, OverflowError):
        raise ValueError(
            f"{MAX_PIXELS_ENV}={text!r}: expected a positive number of pixels, e.g. 40000000"
        ) from None
    if value < 1:
        raise ValueError(f"{MAX_PIXELS_ENV}={text!r}: expected a positive number of pixels, e.g. 40000000")
    return value


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sample_bits(im: Image.Image) -> int:
    """Bits per stored sample as the file declares them, read before decoding (a decoded copy forgets).

    PNG: from the raw mode (``L;2``, ``L;4``, ``I;16B``, ``RGB;16B``...); TIFF: its BitsPerSample
    tag; otherwise 16 for integer (``I``) images and 8 for the rest.
    """
    if im.format == "TIFF":
        bits = getattr(im, "tag_v2", {}).get(258, (8,))
        return int(bits[0] if isinstance(bits, tuple) else bits)
    if im.format == "PNG" and im.tile:
        args = im.tile[0].args
        rawmode = args if isinstance(args, str) else str(args[0] if args else "")
        for suffix, bits in ((";16", 16), (";4", 4), (";2", 2)):
            if suffix in rawmode:
                return bits
    return 16 if im.mode.startswith("I") else 8


def _key_mask(im: Image.Image, bits: int) -> Optional[np.ndarray]:
    """``(H, W)`` bool, True where a pixel is the file's transparent colour (PNG ``tRNS``), else None.

    The key is stored at the file's own bit depth; it is compared with the samples at that
    depth (16-bit greyscale), or brought to Pillow's 8-bit scale: 1/2/4-bit greyscale
    samples are scaled up (a 2-bit 1 is 85), 16-bit RGB samples are kept as their high byte.
    """
    key = im.info.get("transparency")
    if im.mode.startswith("I") and isinstance(key, int):
        return np.asarray(im) == key
    if im.mode in ("1", "L") and isinstance(key, int):
        if im.mode == "L" and bits != 8:
            key = key >> (bits - 8) if bits > 8 else key * 255 // ((1 << bits) - 1)
        return np.asarray(im.convert("L")) == key
    if im.mode == "RGB" and isinstance(key, tuple) and len(key) == 3:
        keys = [int(k) >> (bits - 8) if bits > 8 else int(k) for k in key]
        return (np.asarray(im) == np.asarray(keys, dtype=np.int64)).all(axis=-1)
    return None


def _alpha(im: Image.Image, bits: int) -> Optional[np.ndarray]:
    """``(H, W, 1)`` float32 opacity in ``[0, 1]``, or None when every pixel is opaque.

    From an alpha band (``RGBA``, ``LA``, ``PA``), a palette with transparency (one index, or
    an alpha per index), or a transparent colour (``tRNS``) of a ``1`` / ``L`` / ``I;16`` /
    ``I`` / ``RGB`` image, at any bit depth.
    """
    if im.mode in ("RGBA", "LA", "PA"):
        alpha8 = np.asarray(im.getchannel("A"))
    elif im.mode == "P" and "transparency" in im.info:
        alpha8 = np.asarray(im.convert("RGBA").getchannel("A"))
    else:
        mask = _key_mask(im, bits)
        if mask is None or not mask.any():
            return None
        return (~mask).astype(np.float32)[..., None]
    if bool((alpha8 == 255).all()):
        return None
    alpha = alpha8.astype(np.float32)
    alpha /= 255.0
    return alpha[..., None]


def _colour(im: Image.Image, label: str, bits: int) -> np.ndarray:
    """``(H, W, 3)`` RGB ignoring alpha: ``uint8`` for 8-bit modes, else float32 in ``[0, 1]``.

    Scaled by the full range of the sample type: 16-bit by 65535, 32-bit integers by
    2**31 - 1 (negatives become 0), floats taken as ``[0, 1]`` (clipped, NaN/inf refused).
    """
    mode = im.mode
    if mode == "F" or mode.startswith("I"):
        arr = np.asarray(im)
        if mode == "F":
            arr = arr.astype(np.float32, copy=False)
            finite = np.isfinite(arr)
            if not finite.all():
                raise ImageLoadError(
                    f"{label}: {int((~finite).sum())} pixel(s) are NaN or infinite; "
                    "fix or re-export the image with finite values in [0, 1]"
                )
        else:
            full = 65535.0 if mode.startswith("I;16") or bits <= 16 else 2.0**31 - 1
            arr = arr.astype(np.float64) / full
        grey = np.clip(arr, 0.0, 1.0).astype(np.float32)
        return np.repeat(grey[..., None], 3, axis=-1)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        return np.asarray(im if mode == "RGBA" else im.convert("RGBA"))[..., :3]
    if mode in ("1", "L", "P", "RGB", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        return np.asarray(im if mode == "RGB" else im.convert("RGB"))
    raise ImageLoadError(
        f"{label}: unsupported image mode {mode!r}; convert it to 8- or 16-bit RGB or greyscale first"
    )


_PREMULTIPLIED = {"RGBa": "RGBA", "La": "LA"}  # un-premultiplied first, then like their straight twins


def _to_rgb(im: Image.Image, label: str, bits: int = 8) -> np.ndarray:
    """Decoded PIL image (any supported mode) -> ``(H, W, 3)`` RGB, alpha composited over white.

    One path for every mode and bit depth: the colour in its type's full range
    (:func:`_colour`), the opacity from whatever the image stores (:func:`_alpha`), then one
    composite over :data:`ALPHA_BACKGROUND`.
    ``uint8`` (0..255) for opaque 8-bit images (no float copy, exact), else ``float32`` in ``[0, 1]``.
    """
    if im.mode in _PREMULTIPLIED:
        im = im.convert(_PREMULTIPLIED[im.mode])
    rgb = _colour(im, label, bits)
    alpha = _alpha(im, bits)
    if alpha is None:
        return rgb
    out = rgb.astype(np.float32, copy=False)  # uint8: a new array; float: _colour's own, fresh one
    # composited in place, a channel at a time (no full-size temporaries)
    if rgb.dtype == np.uint8:
        out /= 255.0
    clear = 1.0 - alpha[..., 0]
    for ch, background in enumerate(ALPHA_BACKGROUND):
        out[..., ch] *= alpha[..., 0]
        out[..., ch] += np.float32(background) * clear
    return out


def read_image(
    source: ImageSource,
    *,
    name: Optional[str] = None,
    max_pixels: Optional[int] = None,
) -> torch.Tensor:
    """Decode an image file or bytes to a float RGB tensor ``(3, H, W)`` in ``[0, 1]``.

    The one decoder of the toolkit (see the module docstring for the rules): upright,
    alpha over white, samples scaled by their type's full range (8-bit, 16-bit, 32-bit
    integer, float in ``[0, 1]``), size checked from the header before decoding.

    Args:
        source: a path (str or ``os.PathLike``), or the file's bytes (e.g. an upload).
        name: what to call the image in error messages (default: the path, or ``"<bytes>"``).
        max_pixels: refuse images with more pixels (width x height) than this; default
            :func:`max_pixels_default` (40 MP unless ``$ANIMEGAN_EDU_MAX_PIXELS`` says otherwise).

    Returns:
        ``(3, H, W)`` float32 tensor, RGB, values in ``[0, 1]``.

    Raises:
        ImageLoadError: missing file, a folder, not an image, truncated/corrupt, too many
            pixels, an unsupported mode, or NaN/inf pixels. One line naming the file.

    Example:
        >>> import io as _io
        >>> buf = _io.BytesIO(); Image.new("LA", (4, 2), (0, 0)).save(buf, format="PNG")
        >>> t = read_image(buf.getvalue(), name="clear.png")
        >>> tuple(t.shape), float(t.min())   # fully transparent -> white
        ((3, 2, 4), 1.0)
    """
    arr = _decode(source, name, max_pixels)
    if arr.dtype == np.uint8:
        with warnings.catch_warnings():  # PIL's buffer is read-only; .float() copies it at once
            warnings.simplefilter("ignore", UserWarning)
            return torch.from_numpy(arr).permute(2, 0, 1).contiguous().float().div_(255.0)
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def load_image(
    source: ImageSource, *, name: Optional[str] = None, max_pixels: Optional[int] = None
) -> Image.Image:
    """:func:`read_image` as an ``RGB`` PIL image (``uint8``, values rounded to 0..255).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> Image.new("L", (5, 3)).save(p)
        >>> load_image(p).mode, load_image(p).size
        ('RGB', (5, 3))
    """
    arr = _decode(source, name, max_pixels)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(arr))


@contextlib.contextmanager
def open_image(
    source: ImageSource, *, name: Optional[str] = None, max_pixels: Optional[int] = None
) -> Iterator[Image.Image]:
    """Open an image file or bytes as a PIL image, with every check, for ``with`` blocks.

    The one place files are opened: the pixel count is checked from the header before any
    pixel is decoded (``max_pixels``, default :func:`max_pixels_default`), and every failure
    is an :class:`ImageLoadError` naming the file. :func:`read_image` uses it; so does code
    that needs the file's own mode (e.g. the demo set's alpha cut-outs).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> Image.new("RGBA", (5, 3)).save(p)
        >>> with open_image(p) as im:
        ...     im.mode, im.size
        ('RGBA', (5, 3))
    """
    limit = max_pixels_default() if max_pixels is None else int(max_pixels)
    with contextlib.ExitStack() as stack:  # closes the file opened below
        yield from _open_checked(source, name, limit, stack)


def _open_checked(
    source: ImageSource, name: Optional[str], limit: int, stack: contextlib.ExitStack
) -> Iterator[Image.Image]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "<bytes>"
        if len(source) == 0:
            raise ImageLoadError(f"{label}: empty file, not an image; {_FORMATS}")
        opener = lambda: Image.open(io.BytesIO(bytes(source)))  # noqa: E731
    else:
        p = Path(source)
        label = name or str(p)
        if not p.exists():
            raise ImageLoadError(f"{label}: no such file; check the path")
        if p.is_dir():
            raise ImageLoadError(
                f"{label}: is a directory, not an image file; give the image files inside it"
            )
        try:  # a regular file only: a FIFO or /dev/zero given as a photo would never end
            fh = stack.enter_context(open_regular(p, "image"))
        except FileReadError as exc:
            raise ImageLoadError(f"{label}: {exc.strerror}") from None
        except OSError as exc:
            reason = (exc.strerror or _one_line(exc)).lower()
            raise ImageLoadError(f"{label}: cannot read ({reason}); check the file's permissions") from None
        opener = lambda: Image.open(fh)  # noqa: E731
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies below
            # Pillow skips damaged metadata (EXIF tags past the end...) with a warning: the picture is read
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with opener() as im:
                w, h = im.size
                if w * h > limit:
                    raise ImageLoadError(
                        f"{label}: {w}x{h} pixels ({w * h / 1e6:.1f} MP) is over the limit "
                        f"of {limit / 1e6:g} MP; "
                        f"shrink the image first, or raise the limit (--max-megapixels, or {MAX_PIXELS_ENV})"
                    )
                yield im
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(
            f"{label}: image too large to decode safely ({_one_line(exc)}); shrink it first"
        ) from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{label}: not a readable image file; {_FORMATS}") from None
    except MemoryError:
        raise ImageLoadError(f"{label}: not enough memory to decode this image; shrink it first") from None
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        IndexError,
        struct.error,
    ) as exc:  # truncated / corrupt data
        raise ImageLoadError(
            f"{label}: corrupt or truncated image ({_one_line(exc)}); re-export or re-download it"
        ) from None


def _decode(source: ImageSource, name: Optional[str], max_pixels: Optional[int]) -> np.ndarray:
    """The one decoder: ``(H, W, 3)`` uint8 or float32 in [0, 1] (see :func:`_to_rgb`)."""
    label = name or ("<bytes>" if isinstance(source, (bytes, bytearray, memoryview)) else str(source))
    with open_image(source, name=name, max_pixels=max_pixels) as im:
        bits = _sample_bits(im)  # before load (the PNG raw mode) and exif_transpose (the TIFF tags)
        im.load()
        return _to_rgb(ImageOps.exif_transpose(im), label, bits)


def pil_to_tensor01(img: Image.Image) -> torch.Tensor:
    """PIL image -> float tensor ``(3, H, W)`` with values in ``[0, 1]`` (RGB).

    Example:
        >>> pil_to_tensor01(Image.new("RGB", (4, 2), (255, 0, 0)))[:, 0, 0]
        tensor([1., 0., 0.])
    """
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div_(255.0)


def tensor01_to_pil(t: torch.Tensor) -> Image.Image:
    """Float tensor ``(3, H, W)`` or ``(1, 3, H, W)`` in ``[0, 1]`` -> RGB PIL image.

    Values outside ``[0, 1]`` are clipped; rounding is to the nearest ``uint8``.

    Raises:
        ValueError: the tensor is not ``(3, H, W)`` or ``(1, 3, H, W)``.

    Example:
        >>> tensor01_to_pil(torch.ones(3, 2, 5)).size
        (5, 2)
    """
    if t.ndim == 4 and t.shape[0] == 1:
        t = t[0]
    if t.ndim != 3 or t.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) or (1, 3, H, W) tensor in [0, 1], got shape {tuple(t.shape)}")
    arr = t.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(np.ascontiguousarray(arr), "RGB")


def to_generator_range(x01: torch.Tensor) -> torch.Tensor:
    """``[0, 1]`` image values -> ``[-1, 1]`` generator values (``2 x - 1``); any shape.

    Example:
        >>> to_generator_range(torch.tensor([0.0, 0.5, 1.0])).tolist()
        [-1.0, 0.0, 1.0]
    """
    return x01 * 2.0 - 1.0


def from_generator_range(x: torch.Tensor) -> torch.Tensor:
    """``[-1, 1]`` generator values -> ``[0, 1]`` image values (``(x + 1) / 2``, clipped); any shape.

    Example:
        >>> from_generator_range(torch.tensor([-3.0, 0.0, 1.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)


def snapped_size(w: int, h: int, size: int, multiple: int = 4) -> tuple[int, int]:
    """``(w, h)`` after :func:`resize_longest` to ``size`` (without resizing anything).

    Example:
        >>> snapped_size(400, 300, 256), snapped_size(1920, 1080, 512)
        ((256, 192), (512, 288))
    """
    scale = size / max(w, h)

    def snap(v: float) -> int:
        return max(multiple, int(round(v / multiple)) * multiple) if multiple > 1 else max(1, int(round(v)))

    return snap(w * scale), snap(h * scale)


def resize_longest(
    img: Union[Image.Image, torch.Tensor], size: int, multiple: int = 4
) -> Union[Image.Image, torch.Tensor]:
    """Resize so the longest side is ``size`` pixels, keeping the aspect ratio.

    Both sides are then rounded to a multiple of ``multiple`` (at least ``multiple``),
    which keeps the generator's stride-2 encoder and the decoder's resize exact; this
    changes the aspect ratio by at most ``multiple / 2`` pixels per side. Images are both
    upscaled and downscaled: PIL images with Lanczos, tensors with antialiased bicubic
    interpolation (clipped back to ``[0, 1]``).

    Args:
        img: a PIL image, or a float tensor ``(3, H, W)`` / ``(N, 3, H, W)`` in ``[0, 1]``.
        size: target length of the longest side, ``>= multiple``.
        multiple: round both sides to a multiple of this (1 disables rounding).

    Returns:
        the same kind of image (a new object; the input is not changed).

    Raises:
        ValueError: ``size`` is smaller than ``multiple`` or not positive.

    Example:
        >>> resize_longest(Image.new("RGB", (400, 300)), 256).size
        (256, 192)
        >>> tuple(resize_longest(torch.rand(1, 3, 30, 40), 32).shape)
        (1, 3, 24, 32)
    """
    if size < max(1, multiple):
        raise ValueError(f"size must be >= {max(1, multiple)}, got {size}")
    if isinstance(img, torch.Tensor):
        h, w = img.shape[-2:]
        new = snapped_size(int(w), int(h), size, multiple)
        if new == (w, h):
            return img.clone()
        x = img if img.ndim == 4 else img.unsqueeze(0)
        out = F.interpolate(
            x.float(), size=(new[1], new[0]), mode="bicubic", align_corners=False, antialias=True
        ).clamp_(0.0, 1.0)
        return out.to(img.dtype) if img.ndim == 4 else out[0].to(img.dtype)
    w, h = img.size
    new = snapped_size(w, h, size, multiple)
    if new == (w, h):
        return img.copy()
    return img.resize(new, Image.Resampling.LANCZOS)


def save_png_atomic(img: Union[Image.Image, torch.Tensor], path: Union[str, os.PathLike]) -> Path:
    """Write ``img`` as a PNG at ``path`` without ever leaving a half-written file.

    Uses :func:`animegan_edu.files.atomic_write` (temporary file in the same folder,
    ``os.replace``, permissions ``0o666 & ~umask``). The parent folder must exist.

    Args:
        img: a PIL image, or a ``(3, H, W)`` / ``(1, 3, H, W)`` tensor in ``[0, 1]``.
        path: destination file (its extension is not checked; the format is PNG).

    Returns:
        the destination path.

    Raises:
        animegan_edu.files.FileWriteError: the folder is missing or not writable (one-line message).

    Example:
        >>> import tempfile, os
        >>> p = save_png_atomic(torch.zeros(3, 4, 6), os.path.join(tempfile.mkdtemp(), "o.png"))
        >>> Image.open(p).size
        (6, 4)
    """
    if isinstance(img, torch.Tensor):
        img = tensor01_to_pil(img)
    return atomic_write(path, lambda tmp: img.save(tmp, format="PNG"))
