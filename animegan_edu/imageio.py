"""Image input and output shared by the command line, the notebooks and the other modules.

Introduced in ``notebooks/01_generator.ipynb`` (loading a photo for the generator).

Two value conventions meet here:

* user images: PIL ``RGB`` images (``uint8``) or float tensors ``(3, H, W)`` /
  ``(N, 3, H, W)`` with values in ``[0, 1]``;
* generator tensors: ``(N, 3, H, W)`` RGB with values in ``[-1, 1]``.

:func:`to_generator_range` and :func:`from_generator_range` convert between the two.
Every error a user can cause (missing file, not an image, truncated file) is an
:class:`ImageLoadError` with a one-line message naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ImageLoadError",
    "ImageSaveError",
    "load_image",
    "pil_to_tensor01",
    "tensor01_to_pil",
    "to_generator_range",
    "from_generator_range",
    "resize_longest",
    "save_png_atomic",
]


class ImageLoadError(ValueError):
    """An input image could not be read; the message is one line and names the file."""


class ImageSaveError(OSError):
    """An output image could not be written; the message is one line and names the file."""


def load_image(path: str | os.PathLike) -> Image.Image:
    """Read an image file as an RGB PIL image, with its EXIF orientation applied.

    The whole file is decoded here (not lazily), so a truncated file fails now rather than
    later. Transparent images are composited on white; greyscale, palette and CMYK images
    are converted to RGB.

    Args:
        path: a file PIL can read (PNG, JPEG, WebP, BMP, TIFF, ...).

    Returns:
        an ``RGB`` PIL image (``uint8``, values 0..255), upright.

    Raises:
        ImageLoadError: the file is missing, is a directory, is not an image, or is
            truncated/corrupt. The message is one line and names the file.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> Image.new("L", (5, 3)).save(p)
        >>> load_image(p).mode, load_image(p).size
        ('RGB', (5, 3))
    """
    p = Path(path)
    if not p.exists():
        raise ImageLoadError(f"{p}: no such file")
    if p.is_dir():
        raise ImageLoadError(f"{p}: is a directory, not an image file")
    try:
        with Image.open(p) as im:
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im = Image.alpha_composite(background, rgba)
            return im.convert("RGB")
    except UnidentifiedImageError:
        raise ImageLoadError(f"{p}: not an image file PIL can read (expected PNG, JPEG, WebP, ...)") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated / corrupt data
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageLoadError(f"{p}: corrupt or truncated image ({reason})") from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(f"{p}: image too large ({exc})") from None


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
    """
    if t.ndim == 4 and t.shape[0] == 1:
        t = t[0]
    if t.ndim != 3 or t.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) or (1, 3, H, W) tensor in [0, 1], got shape {tuple(t.shape)}")
    arr = t.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(np.ascontiguousarray(arr), "RGB")


def to_generator_range(x01: torch.Tensor) -> torch.Tensor:
    """``[0, 1]`` image values -> ``[-1, 1]`` generator values (``2 x - 1``); any shape."""
    return x01 * 2.0 - 1.0


def from_generator_range(x: torch.Tensor) -> torch.Tensor:
    """``[-1, 1]`` generator values -> ``[0, 1]`` image values (``(x + 1) / 2``, clipped); any shape."""
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)


def resize_longest(img: Image.Image, size: int, multiple: int = 4) -> Image.Image:
    """Resize so the longest side is ``size`` pixels, keeping the aspect ratio.

    Both sides are then rounded to a multiple of ``multiple`` (at least ``multiple``),
    which keeps the generator's stride-2 encoder and the decoder's resize exact; this
    changes the aspect ratio by at most ``multiple / 2`` pixels per side. Images are both
    upscaled and downscaled (Lanczos).

    Args:
        img: a PIL image.
        size: target length of the longest side, ``>= multiple``.
        multiple: round both sides to a multiple of this (1 disables rounding).

    Raises:
        ValueError: ``size`` is smaller than ``multiple`` or not positive.

    Example:
        >>> resize_longest(Image.new("RGB", (400, 300)), 256).size
        (256, 192)
    """
    if size < max(1, multiple):
        raise ValueError(f"size must be >= {max(1, multiple)}, got {size}")
    w, h = img.size
    scale = size / max(w, h)

    def snap(v: float) -> int:
        return max(multiple, int(round(v / multiple)) * multiple) if multiple > 1 else max(1, int(round(v)))

    new = (snap(w * scale), snap(h * scale))
    if new == (w, h):
        return img.copy()
    return img.resize(new, Image.Resampling.LANCZOS)


def save_png_atomic(img: Image.Image | torch.Tensor, path: str | os.PathLike) -> Path:
    """Write ``img`` as a PNG at ``path`` without ever leaving a half-written file.

    The image goes to a temporary file in the same folder, which is then renamed over
    ``path`` (``os.replace`` is atomic on one file system). The parent folder must exist.

    Args:
        img: a PIL image, or a ``(3, H, W)`` / ``(1, 3, H, W)`` tensor in ``[0, 1]``.
        path: destination file (its extension is not checked; the format is PNG).

    Returns:
        the destination path.

    Raises:
        ImageSaveError: the folder is missing or not writable (one-line message).
    """
    dest = Path(path)
    if isinstance(img, torch.Tensor):
        img = tensor01_to_pil(img)
    if not dest.parent.is_dir():
        raise ImageSaveError(f"{dest}: output folder {dest.parent} does not exist")
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        with os.fdopen(fd, "wb") as fh:
            img.save(fh, format="PNG")
        os.replace(tmp_name, dest)
        tmp_name = None
    except OSError as exc:
        raise ImageSaveError(f"{dest}: cannot write PNG ({exc.strerror or exc})") from None
    finally:
        if tmp_name is not None and os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return dest


def sample_photos(size: int = 256, names: Sequence[str] = ("astronaut", "coffee", "chelsea", "rocket")) -> torch.Tensor:
    """Public-domain photos from ``skimage.data``, centre-cropped square and resized.

    Returns ``(N, 3, size, size)`` float32 RGB in ``[-1, 1]`` (generator input range).
    Used for the trainer's sample grids, INT8 calibration and its error against fp32.
    """
    from skimage import data

    out = []
    for name in names:
        img = getattr(data, name)()
        if img.ndim == 2:
            img = img[..., None].repeat(3, axis=-1)
        t = torch.from_numpy(img[..., :3].copy()).permute(2, 0, 1).float() / 255.0
        h, w = t.shape[-2:]
        s = min(h, w)
        t = t[:, (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
        t = torch.nn.functional.interpolate(t[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
        out.append(t.clamp(0, 1) * 2 - 1)
    return torch.stack(out)
