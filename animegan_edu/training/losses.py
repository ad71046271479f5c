"""The AnimeGANv2 losses: adversarial (LSGAN), content, gram style, colour, total variation.

Introduced in ``notebooks/03_losses_and_data.ipynb``.

All image arguments are generator-range tensors ``(N, 3, H, W)`` RGB in ``[-1, 1]``
unless stated otherwise. Every loss returns a scalar tensor (mean over the batch).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import kornia
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from animegan_edu.files import open_regular, read_sidecar, sha256_file
from animegan_edu.weights.files import (
    ArchitectureError,
    CorruptFileError,
    IntegrityError,
    UnsafeFileError,
    load_state_dict,
)

__all__ = [
    "LossWeights",
    "STYLE_PRESETS",
    "lsgan_d_loss",
    "lsgan_g_loss",
    "gram",
    "content_loss",
    "style_loss",
    "colour_loss",
    "pixel_chroma_l1",
    "yuv",
    "total_variation_loss",
    "gradient_loss",
    "mean_chroma",
    "mean_chroma_loss",
    "colour_reference",
    "shift_chroma",
    "VGG19Features",
    "vgg19_features",
]


# --------------------------------------------------------------------------------------
# Weights of the original recipe
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LossWeights:
    """Weights of the generator's loss terms (and the discriminator's adversarial weight).

    ``guide`` and ``guide_colour`` weight the paired L1 / colour losses towards a target
    image; they are 0 in the original (unpaired) recipes and used by the demo recipe.
    """

    g_adv: float = 300.0
    d_adv: float = 300.0
    content: float = 1.5
    style: float = 2.5
    colour: float = 15.0
    tv: float = 1.0
    guide: float = 0.0
    guide_colour: float = 0.0
    guide_grad: float = 0.0
    #: weights of the discriminator's real, fake, grey and smooth terms (lsgan_d_loss)
    d_terms: tuple[float, float, float, float] = (1.2, 1.2, 1.2, 0.8)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


#: The original TensorFlow recipe's weights per style (the AnimeGANv2 repository's training
#: defaults; the discriminator's per-term weights are those the original repository gives per
#: style in its comments).
STYLE_PRESETS: dict[str, LossWeights] = {
    "hayao": LossWeights(content=1.5, style=2.5, colour=15.0, tv=1.0, d_terms=(1.2, 1.2, 1.2, 0.8)),
    "paprika": LossWeights(content=2.0, style=0.6, colour=50.0, tv=0.1, d_terms=(1.0, 1.0, 1.0, 0.005)),
    "shinkai": LossWeights(content=1.2, style=2.0, colour=10.0, tv=1.0, d_terms=(1.7, 1.7, 1.7, 1.0)),
}


# --------------------------------------------------------------------------------------
# Adversarial (least squares GAN)
# --------------------------------------------------------------------------------------
def lsgan_d_loss(
    real: torch.Tensor,
    fake: torch.Tensor,
    gray: torch.Tensor | None = None,
    smooth: torch.Tensor | None = None,
    weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
) -> torch.Tensor:
    """Discriminator LSGAN loss on score maps: real anime -> 1; generated, greyscale anime
    and edge-smoothed anime -> 0.

    ``w_real * mean((real - 1)^2) + w_fake * mean(fake^2) + w_gray * mean(gray^2) +
    w_smooth * mean(smooth^2)``. The grey term teaches colour (an anime frame without its
    colours is not real), the smooth term teaches crisp edges.
    """
    wr, wf, wg, ws = weights
    loss = wr * (real - 1).pow(2).mean() + wf * fake.pow(2).mean()
    if gray is not None:
        loss = loss + wg * gray.pow(2).mean()
    if smooth is not None:
        loss = loss + ws * smooth.pow(2).mean()
    return loss


def lsgan_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Generator LSGAN loss: ``mean((D(G(x)) - 1)^2)``, the generator wants "real"."""
    return (fake - 1).pow(2).mean()


# --------------------------------------------------------------------------------------
# VGG19 features (content and style)
# --------------------------------------------------------------------------------------
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
# vgg19.features indices: conv4_4 is layer 25, its ReLU 26.
_CONV4_4 = 25
_warned_random = False


#: The largest VGG19 weights file read (bytes): torchvision's ``vgg19-dcbb9e9d.pth`` is 575 MB.
MAX_VGG_BYTES = 2**30

_VGG_SAFE_HOWTO = (
    "provide a safe file instead: torchvision's vgg19-dcbb9e9d.pth (its name carries its SHA-256 "
    "prefix), or the original vgg19.npy converted once, where you trust it, to plain arrays "
    "(np.savez('vgg19.npz', **{f'{k}_{p}': a for k, (w, b) in d.items() "
    "for p, a in (('weights', w), ('biases', b))})) "
    "with its hash recorded (sha256sum vgg19.npz > vgg19.npz.sha256)"
)


def _check_vgg_hash(path: Path) -> None:
    """Refuse VGG19 weights without a matching recorded SHA-256, and any pickled ``.npy``.

    The recorded hash is a ``<file>.sha256`` sidecar, or the hex prefix in a torch-hub name
    (``vgg19-dcbb9e9d.pth``: the file's SHA-256 starts with ``dcbb9e9d``).
    """
    import re

    if path.suffix == ".npy":  # the original format is a pickled dict: never unpickled here
        try:
            open_regular(path, "VGG19 weights").close()  # a FIFO or /dev/zero: refused, never waited on
            np.load(path, allow_pickle=False, mmap_mode="r")
        except ValueError:
            raise UnsafeFileError(
                f"{path}: refused: a pickled .npy (loading it could run code); {_VGG_SAFE_HOWTO}"
            ) from None
        except OSError as exc:
            raise UnsafeFileError(
                f"{path}: unreadable .npy ({exc.strerror or type(exc).__name__}); {_VGG_SAFE_HOWTO}"
            ) from None
        raise UnsafeFileError(f"{path}: a single .npy array is not VGG19 weights; {_VGG_SAFE_HOWTO}")
    got = sha256_file(path)
    recorded = read_sidecar(path)
    if recorded is None:
        m = re.search(r"-([0-9a-f]{8,64})\.[A-Za-z]+$", path.name)
        if m is None:
            if path.with_name(path.name + ".sha256").exists():
                raise IntegrityError(f"{path}: {path.name}.sha256 is empty or unreadable; {_VGG_SAFE_HOWTO}")
            raise IntegrityError(
                f"{path}: no recorded SHA-256 for these VGG19 weights, refused unchecked; {_VGG_SAFE_HOWTO}"
            )
        if not got.startswith(m.group(1)):
            raise IntegrityError(
                f"{path}: SHA-256 {got[:16]}... does not start with {m.group(1)} as its name says "
                "(tampered or corrupted); download it again"
            )
    elif got != recorded:
        raise IntegrityError(
            f"{path}: SHA-256 {got} does not match {path.name}.sha256 (tampered or corrupted); "
            "download it again"
        )


class VGG19Features(nn.Module):
    """VGG19 up to ``conv4_4`` (before its ReLU, as the original), frozen, eval mode.

    Input ``(N, 3, H, W)`` RGB in ``[-1, 1]``; output ``(N, 512, H/8, W/8)``.
    ``source`` says where the weights came from: ``"torchvision"``, ``"vgg19.npz"`` or
    ``"random(seed=0)"``. Weights are data, never code: ``.pth`` through
    ``torch.load(weights_only=True)``, ``.npz`` with ``allow_pickle=False``, and every file
    must match a recorded SHA-256 (a ``.sha256`` sidecar, or the hash prefix of a torch-hub
    name); a pickled ``vgg19.npy`` is refused with a one-line message saying how to
    provide a safe file.
    """

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        from torchvision.models import vgg19

        self.features = vgg19(weights=None).features[: _CONV4_4 + 1]
        self.bgr_caffe = False
        self.source = self._load(weights)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def _candidates(self, weights: str | os.PathLike | None) -> list[Path]:
        if weights is not None:
            return [Path(weights)]
        hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints"
        home = Path(os.environ.get("ANIMEGAN_EDU_HOME", Path.home() / ".cache" / "animegan-edu"))
        names = ("vgg19.safetensors", "vgg19.npz", "vgg19-dcbb9e9d.pth", "vgg19.npy")
        return sorted(hub.glob("vgg19-*.pth")) + [home / n for n in names]

    def _load(self, weights: str | os.PathLike | None) -> str:
        global _warned_random
        for path in self._candidates(weights):
            if not path.exists():
                continue
            _check_vgg_hash(path)  # also refuses a pickled vgg19.npy before anything reads it
            if path.suffix == ".npz":
                self._load_npz(path)
                self.bgr_caffe = True
                return "vgg19.npz"
            self._load_torchvision(path)
            return "torchvision"
        if weights is not None:
            raise FileNotFoundError(
                f"{weights}: VGG19 weights not found; "
                "give a torchvision vgg19-*.pth, .safetensors or vgg19.npz"
            )
        if not _warned_random:
            warnings.warn(
                "No pretrained VGG19 weights found (torchvision's vgg19-dcbb9e9d.pth in the torch hub "
                "cache, or vgg19.safetensors / vgg19.npz in $ANIMEGAN_EDU_HOME): "
                "content and style losses use a fixed-seed random VGG19. "
                "Random conv features still respond to structure and texture, but weaker than learned ones.",
                stacklevel=3,
            )
            _warned_random = True
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for m in self.features:
                if isinstance(m, nn.Conv2d):
                    fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                    m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                    m.bias.zero_()
        return "random(seed=0)"

    def _load_torchvision(self, path: Path) -> None:
        """A torchvision ``vgg19`` state dict (``.pth`` read ``weights_only=True``, or ``.safetensors``)."""
        # never unpickles code; one-line errors naming the file; torchvision's file is 575 MB
        sd = load_state_dict(path, max_bytes=MAX_VGG_BYTES)
        sd = {k[len("features.") :]: v for k, v in sd.items() if k.startswith("features.")}
        wanted = self.features.state_dict()
        missing = [k for k in wanted if k not in sd or sd[k].shape != wanted[k].shape]
        if missing:
            raise ArchitectureError(
                f"{path}: not torchvision VGG19 weights (missing or misshapen: features.{missing[0]})"
            )
        self.features.load_state_dict({k: sd[k].float() for k in wanted})

    def _load_npz(self, path: Path) -> None:
        # The original project's vgg19.npy converted to plain arrays (see _VGG_SAFE_HOWTO):
        # conv{b}_{i}_weights (HWIO) and conv{b}_{i}_biases, BGR caffe convention.
        names = [f"conv{b}_{i}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4)) for i in range(1, n + 1)]
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)]
        try:
            with np.load(path, allow_pickle=False) as blob:
                arrays = {k: blob[k] for k in blob.files}
        except (ValueError, OSError, EOFError) as exc:
            raise CorruptFileError(
                f"{path}: not a readable .npz of plain arrays "
                f"({str(exc).splitlines()[0][:120]}); {_VGG_SAFE_HOWTO}"
            ) from None
        with torch.no_grad():
            for conv, name in zip(convs, names):
                w, b = arrays.get(f"{name}_weights"), arrays.get(f"{name}_biases")
                if (
                    w is None
                    or b is None
                    or w.shape != tuple(conv.weight.shape[i] for i in (2, 3, 1, 0))
                    or b.shape != tuple(conv.bias.shape)
                ):
                    raise ArchitectureError(
                        f"{path}: missing or misshapen {name}_weights/{name}_biases; {_VGG_SAFE_HOWTO}"
                    )
                conv.weight.copy_(
                    torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1), dtype=np.float32))
                )
                conv.bias.copy_(torch.from_numpy(b.astype(np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x01 = (x + 1) / 2
        if self.bgr_caffe:
            x = x01.flip(1) * 255 - torch.tensor([103.939, 116.779, 123.68], device=x.device).view(1, 3, 1, 1)
        else:
            x = (x01 - self.mean) / self.std
        return self.features(x)


_VGG: VGG19Features | None = None


def vgg19_features() -> VGG19Features:
    """The shared, lazily built :class:`VGG19Features` (pretrained when available)."""
    global _VGG
    if _VGG is None:
        _VGG = VGG19Features()
    return _VGG


def content_loss(feat_fake: torch.Tensor, feat_photo: torch.Tensor) -> torch.Tensor:
    """L1 between VGG features of the generated image and of the photo it came from."""
    return F.l1_loss(feat_fake, feat_photo)


def gram(feat: torch.Tensor) -> torch.Tensor:
    """Gram matrix ``(N, C, C)`` of ``(N, C, H, W)`` features, divided by ``C * H * W``."""
    n, c, h, w = feat.shape
    f = feat.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def style_loss(feat_fake: torch.Tensor, feat_style_gray: torch.Tensor) -> torch.Tensor:
    """L1 between gram matrices: texture statistics of the output vs. greyscale anime.

    The style image is greyscale so that the style loss carries texture and not colour
    (colour is the colour loss's job).
    """
    return F.l1_loss(gram(feat_fake), gram(feat_style_gray))


def yuv(x: torch.Tensor) -> torch.Tensor:
    """``[-1, 1]`` RGB to YUV (kornia; Y in ``[0, 1]``, U and V about ``[-0.5, 0.5]``)."""
    return kornia.color.rgb_to_yuv((x + 1) / 2)


def pixel_chroma_l1(fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 on RGB plus twice L1 on the YUV chroma (RGB ``[-1, 1]`` NCHW): a paired pixel loss.

    The init phase's ``init_loss: l1`` (the target is the photo) and the multi-style run's
    distillation (the target is a teacher's output) use it.

    Example:
        >>> x = torch.zeros(1, 3, 2, 2)
        >>> float(pixel_chroma_l1(x, x)), round(float(pixel_chroma_l1(x + 0.5, x)), 4)  # grey: no chroma
        (0.0, 0.5)
    """
    return (fake - target).abs().mean() + 2 * (yuv(fake)[:, 1:] - yuv(target)[:, 1:]).abs().mean()


def colour_loss(fake: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """Colour fidelity: L1 on Y plus Huber (smooth L1, delta 1) on U and V, in YUV.

    L1 on luminance keeps shading; Huber on chroma lets colours move a little (towards the
    style's palette) without large hue shifts.
    """
    a, b = yuv(fake), yuv(photo)
    return F.l1_loss(a[:, 0], b[:, 0]) + F.huber_loss(a[:, 1], b[:, 1]) + F.huber_loss(a[:, 2], b[:, 2])


def total_variation_loss(x: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between vertical and horizontal neighbours (smoothness)."""
    dh = x[..., 1:, :] - x[..., :-1, :]
    dw = x[..., :, 1:] - x[..., :, :-1]
    return dh.pow(2).mean() + dw.pow(2).mean()


def gradient_loss(fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between the image gradients (kornia's Sobel-normalised ``spatial_gradient``).

    A pixel L1 alone lets a generator blur a thin line a little at low cost; matching the
    gradients as well rewards edges and ink lines that sit exactly where the target's do.

    Example:
        >>> x = torch.rand(2, 3, 16, 16) * 2 - 1
        >>> float(gradient_loss(x, x))
        0.0
    """
    return (kornia.filters.spatial_gradient(fake) - kornia.filters.spatial_gradient(target)).abs().mean()


def mean_chroma(images: list[torch.Tensor]) -> torch.Tensor:
    """Mean YUV chroma ``(U, V)`` of pictures ``(3, H, W)``: float in ``[0, 1]`` or uint8; each weighs alike.

    Example:
        >>> grey = torch.full((3, 4, 4), 0.5)
        >>> [round(v, 6) for v in mean_chroma([grey]).tolist()]
        [0.0, 0.0]
    """
    means = []
    for im in images:
        x = im.float() / 255 if im.dtype == torch.uint8 else im.float()
        means.append(kornia.color.rgb_to_yuv(x[None])[0, 1:].mean((1, 2)))
    return torch.stack(means).mean(0)


def shift_chroma(x: torch.Tensor, delta_uv: torch.Tensor) -> torch.Tensor:
    """``x`` (RGB ``[-1, 1]`` NCHW) with ``delta_uv`` (``(2,)``, or ``(N, 2)`` one per picture) added to its
    YUV chroma, clipped to the range.

    The colour loss's reference when ``colour_target: style_tint``: the photo, tinted by how
    much the style set's mean chroma differs from the photos', so that the generator may take
    on the style's average tint without drifting elsewhere.

    Example:
        >>> x = torch.zeros(1, 3, 2, 2)
        >>> y = shift_chroma(x, torch.tensor([0.0, 0.1]))  # more V: redder
        >>> bool(y[0, 0].mean() > 0 > y[0, 1].mean())
        True
    """
    yuv = kornia.color.rgb_to_yuv((x + 1) / 2)
    yuv = torch.cat([yuv[:, :1], yuv[:, 1:] + delta_uv.to(x).view(-1, 2, 1, 1)], dim=1)
    return kornia.color.yuv_to_rgb(yuv).clamp(0, 1) * 2 - 1


def colour_reference(
    photo: torch.Tensor, target: str, chroma: torch.Tensor | None, pull: float
) -> torch.Tensor:
    """The colour losses' reference for a batch of photos (RGB ``[-1, 1]`` NCHW), by ``colour_target``.

    * ``photo``: the photo itself (the original recipe);
    * ``style_tint``: the photo with ``chroma`` ``(2,)`` (the style set's mean YUV chroma minus
      the training photos') added: every picture gets the same tint;
    * ``style_pull``: each photo's mean chroma moved the fraction ``pull`` of the way to
      ``chroma`` ``(2,)`` (the style set's mean chroma): a warm photo is cooled towards a cool
      style and a cool one warmed, so no picture's overall colour moves away from the style's.

    Example:
        >>> p = torch.zeros(2, 3, 4, 4); p[1, 0] = 0.4  # a grey and a reddish photo
        >>> ref = colour_reference(p, "style_pull", torch.tensor([0.0, 0.0]), 1.0)  # towards grey
        >>> bool(mean_chroma_loss(ref, torch.zeros_like(p)) < 1e-3)
        True
    """
    if target == "photo" or chroma is None:
        return photo
    if target == "style_tint":
        return shift_chroma(photo, chroma)
    own = yuv(photo)[:, 1:].mean((2, 3))
    return shift_chroma(photo, pull * (chroma.to(photo).view(1, 2) - own))


def mean_luma_loss(fake: torch.Tensor, photo: torch.Tensor, luma: float, pull: float) -> torch.Tensor:
    """L1 between each output's mean luma (YUV Y) and its photo's, moved ``pull`` of the way to ``luma``.

    ``fake`` and ``photo``: RGB ``[-1, 1]`` NCHW; ``luma``: a style set's mean Y in ``[0, 1]``
    (:func:`mean_luma`). A set much brighter or darker than photos (clip art on white) pulls
    each picture's overall brightness towards its own.

    Example:
        >>> photo = torch.zeros(1, 3, 4, 4)  # mid grey: Y = 0.5
        >>> round(float(mean_luma_loss(photo, photo, 0.9, 0.5)), 4)  # wants Y 0.7
        0.2
    """
    own = yuv(photo)[:, 0].mean((1, 2))
    target = own + pull * (luma - own)
    return (yuv(fake)[:, 0].mean((1, 2)) - target).abs().mean()


def mean_luma(images: list[torch.Tensor]) -> float:
    """Mean YUV luma of pictures ``(3, H, W)`` (float in ``[0, 1]`` or uint8); each weighs alike.

    Example:
        >>> mean_luma([torch.ones(3, 2, 2), torch.zeros(3, 2, 2)])
        0.5
    """
    values = []
    for im in images:
        x = im.float() / 255 if im.dtype == torch.uint8 else im.float()
        values.append(float(kornia.color.rgb_to_yuv(x[None])[0, 0].mean()))
    return sum(values) / len(values)


def mean_chroma_loss(fake: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """L1 between each picture's mean YUV chroma ``(U, V)`` and its reference's (RGB ``[-1, 1]`` NCHW).

    A colour cast is a shift of the whole picture's colour; this term sees only that, so local
    colours stay free to take on a style's palette. (The Huber chroma term of
    :func:`colour_loss` is quadratic for the small differences a cast makes, so its pull on a
    cast is weak.)

    Example:
        >>> x = torch.zeros(1, 3, 4, 4)
        >>> float(mean_chroma_loss(x, x)), float(mean_chroma_loss(x + 0.2, x)) < 1e-6
        (0.0, True)
    """
    a = yuv(fake)[:, 1:].mean((2, 3))
    b = yuv(reference)[:, 1:].mean((2, 3))
    return (a - b).abs().mean()
