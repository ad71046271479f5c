"""Training data for AnimeGANv2: folders, edge-smoothed style images, colour offset, crops.

Introduced in ``notebooks/03_losses_and_data.ipynb``; the demo training set is assembled
by ``animegan-edu data prepare-demo`` (:func:`animegan_edu.data.demoset.prepare_demo`).

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

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import kornia
import torch
import torch.nn.functional as F

from animegan_edu import imageio
from animegan_edu.imageio import ImageLoadError, pil_to_tensor01, resize_longest, tensor01_to_pil

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
        raise DataError(
            f"{folder}: not a folder of images (expected the layout train_photo/, <Style>/style/, ...)"
        )
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


def read_image(path: str | os.PathLike, max_side: int | None = None) -> torch.Tensor:
    """Read an image file as ``(3, H, W)`` float RGB in ``[0, 1]``: :func:`animegan_edu.imageio.read_image`.

    The toolkit's one decoder (EXIF orientation, transparency over white, 16-bit and float
    images scaled, pixel limit checked before decoding). ``max_side`` then shrinks (never
    enlarges, Lanczos) so that the longest side is at most that.

    Raises:
        DataError: one line naming the file and what to do.

    Example:
        >>> import os, tempfile
        >>> from PIL import Image
        >>> p = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> Image.new("RGB", (40, 20)).save(p)
        >>> tuple(read_image(p, max_side=10).shape)
        (3, 5, 10)
    """
    try:
        t = imageio.read_image(path)
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
    blurred = kornia.filters.gaussian_blur2d(
        image, (blur_kernel, blur_kernel), (blur_sigma, blur_sigma), border_type="reflect"
    )
    return torch.where(band, blurred, image)


class EdgeSmooth(torch.nn.Module):
    """Module form of :func:`edge_smooth`."""

    def __init__(self, **kwargs: float) -> None:
        super().__init__()
        self.kwargs = kwargs

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return edge_smooth(image, **self.kwargs)


def colour_offset(
    style: Sequence[torch.Tensor], reference: Sequence[torch.Tensor] | None = None
) -> torch.Tensor:
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
        photo_dir: the photos' folder name.
        photo_root: the folder holding ``photo_dir`` (default ``root``): a style set of
            ``prepare-styles`` is trained with the demo set's photos.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        style: str,
        max_side: int | None = 512,
        paired: bool = False,
        remove_colour_offset: bool = True,
        photo_dir: str = "train_photo",
        photo_root: str | os.PathLike | None = None,
    ) -> None:
        root = Path(root)
        self.photo_names, self.photos = _load_folder(Path(photo_root or root) / photo_dir, max_side)
        _, self.styles = _load_folder(root / style / "style", max_side)
        smooth_names, self.smooths = _load_folder(root / style / "smooth", max_side)
        if len(self.smooths) != len(self.styles):
            raise DataError(
                f"{root / style}: style/ and smooth/ hold different numbers of images; re-run edge smoothing"
            )
        self.targets: list[torch.Tensor] | None = None
        if paired:
            names, targets = _load_folder(root / style / "paired", max_side)
            if names != self.photo_names:
                raise DataError(
                    f"{root / style / 'paired'}: file names differ from {photo_dir}/; re-run prepare-demo"
                )
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
            x = F.interpolate(
                x[None], scale_factor=size / min(x.shape[-2:]) + 1e-3, mode="bilinear", align_corners=False
            )[0]
        x = x[:, top : top + size, left : left + size]
        return x.flip(-1) if flip else x

    def batch(self, step: int, batch_size: int, crop: int, seed: int = 0, rank: int = 0) -> Batch:
        """The batch for training step ``step``: random crops of ``crop`` px, random flips."""
        gen = torch.Generator().manual_seed(((seed * 1_000_003 + step) * 7919 + rank) % (2**63))
        photos, targets, styles, smooths = [], [], [], []
        for _ in range(batch_size):
            i = int(torch.randint(0, len(self.photos), (1,), generator=gen))
            top, left, flip = self._crop(self.photos[i], crop, gen)
            photos.append(self._take(self.photos[i], crop, top, left, flip))
            if self.targets is not None:
                targets.append(self._take(self.targets[i], crop, top, left, flip))
            j = int(torch.randint(0, len(self.styles), (1,), generator=gen))
            top, left, flip = self._crop(self.styles[j], crop, gen)
            styles.append(self._take(self.styles[j], crop, top, left, flip))
            smooths.append(self._take(self.smooths[j], crop, top, left, flip))
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
