"""face2paint's second half: stylise each aligned face crop and paste it back into the image.

:mod:`animegan_edu.inference.face` finds the faces and aligns them; this module crops each one at the
size it needs (:func:`face_crop_size`), runs the generator on it, warps it back with the
inverse transform and blends it in through a feathered mask (:func:`feather_mask`).

Conventions: images are RGB float tensors in ``[0, 1]``, ``(3, H, W)`` or ``(1, 3, H, W)``;
the ``stylize`` callable takes and returns generator tensors ``(N, 3, h, w)`` in ``[-1, 1]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal, Optional

import torch
import torch.nn as nn

from animegan_edu.imageio import from_generator_range, to_generator_range
from animegan_edu.inference.face import TEMPLATE, Face, align_face, as_image_batch, detect_faces, warp_back

__all__ = [
    "FACE_CROP_MIN",
    "FACE_CROP_MAX",
    "FaceStep",
    "FaceReport",
    "Face2PaintResult",
    "feather_mask",
    "face_crop_size",
    "face2paint",
    "Face2Paint",
]

Stylize = Callable[[torch.Tensor], torch.Tensor]
Progress = Callable[[int, int, str], None]


def feather_mask(
    size: int = 512, inner: float = 0.34, outer: float = 0.48, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Soft elliptical mask over the face region of a crop: 1 inside, 0 outside, cosine ramp between.

    Distances are measured from the template's face centre in crop units, the vertical
    axis shrunk by 0.85 so the ellipse is taller than wide (faces are).

    Args:
        size: crop side.
        inner: radius (crop units) inside which the mask is 1.
        outer: radius where it reaches 0 (``> inner``, at most 0.5 to stay inside the crop).

    Returns:
        ``(1, 1, size, size)`` in [0, 1].

    Example:
        >>> m = feather_mask(64)
        >>> m.shape, float(m[0, 0, 0, 0]), float(m[0, 0, 36, 32])
        (torch.Size([1, 1, 64, 64]), 0.0, 1.0)
    """
    if not 0.0 <= inner < outer:
        raise ValueError(f"need 0 <= inner < outer, got inner={inner}, outer={outer}")
    coords = torch.linspace(0.0, 1.0, size, dtype=torch.float64)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    cx, cy = 0.5, float(TEMPLATE[:, 1].mean())  # between eyes and mouth
    r = torch.sqrt((xx - cx) ** 2 + ((yy - cy) * 0.85) ** 2)
    t = ((r - inner) / (outer - inner)).clamp(0.0, 1.0)
    mask = 0.5 * (1.0 + torch.cos(math.pi * t))
    return mask.to(dtype)[None, None]


# --------------------------------------------------------------------------- detection


#: Bounds of :func:`face_crop_size` (pixels).
FACE_CROP_MIN, FACE_CROP_MAX = 256, 512


def face_crop_size(face: Face, oversample: float = 1.5) -> int:
    """The aligned crop's side for one face: ``oversample`` crop pixels per image pixel of its footprint.

    The crop (:data:`TEMPLATE`: the eyes a quarter of the side apart) covers four eye
    distances of the image; a bigger crop than ``oversample`` times that only upsamples the
    photo, and the generator's time grows with the crop's area. The side is rounded up to a
    multiple of 8 and kept within ``[FACE_CROP_MIN, FACE_CROP_MAX]`` (256 to 512).

    Example:
        >>> lm = torch.tensor([[100.0, 100], [145, 100], [122, 125], [105, 150], [140, 150]])
        >>> face_crop_size(Face(torch.tensor([80.0, 60, 170, 180]), lm, 0.99, 90.0, 0.0))
        272
    """
    footprint = 4.0 * face.eye_distance
    side = int(math.ceil(footprint * oversample / 8.0) * 8)
    return max(FACE_CROP_MIN, min(FACE_CROP_MAX, side))


@dataclass
class FaceStep:
    """Everything face2paint computed for one face (kept with ``keep_steps=True``)."""

    face: Face
    matrix: torch.Tensor  # (1, 2, 3) image -> crop
    crop: torch.Tensor  # (1, 3, s, s) in [0, 1]
    stylised_crop: torch.Tensor  # (1, 3, s, s) in [0, 1]
    warped_back: torch.Tensor  # (1, 3, H, W) in [0, 1]
    mask: torch.Tensor  # (1, 1, H, W) in [0, 1]


@dataclass
class FaceReport:
    """What face2paint did: faces found, used, and skipped with the reason."""

    found: int
    used: list[Face] = field(default_factory=list)
    skipped: list[tuple[Face, str]] = field(default_factory=list)
    message: str = ""

    def __str__(self) -> str:
        return self.message


@dataclass
class Face2PaintResult:
    """``image``: ``(1, 3, H, W)`` in [0, 1]; ``report``; ``steps`` (empty unless kept); ``background``."""

    image: torch.Tensor
    report: FaceReport
    steps: list[FaceStep] = field(default_factory=list)
    background: Optional[torch.Tensor] = None


def _run(stylize: Stylize, x01: torch.Tensor) -> torch.Tensor:
    out = stylize(to_generator_range(x01))
    if not isinstance(out, torch.Tensor) or out.shape != x01.shape:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"stylize must return a tensor shaped like its input {tuple(x01.shape)}, got {got}")
    return from_generator_range(out.to(x01.dtype))


def face2paint(
    image: torch.Tensor,
    stylize: Stylize,
    *,
    size: Optional[int] = None,
    min_face: float = 48.0,
    background: Literal["stylize", "photo"] = "stylize",
    faces: Optional[list[Face]] = None,
    keep_steps: bool = False,
    progress: Optional[Progress] = None,
    **detect_kwargs: object,
) -> Face2PaintResult:
    """Stylise an image with every face aligned, stylised upright, and pasted back.

    Zero faces: the whole image is stylised, and the report says so. Several faces: each
    is processed in turn. Faces smaller than ``min_face`` pixels hold too little detail to
    gain from a ``size``-pixel crop (it would only upsample them); they are skipped and
    reported, and the whole-image stylisation covers them.

    Args:
        image: ``(3, H, W)`` or ``(1, 3, H, W)`` RGB in [0, 1].
        stylize: maps ``(N, 3, h, w)`` in [-1, 1] to the same shape in [-1, 1], e.g. a
            :class:`animegan_edu.models.Generator`. It is called once on the whole image
            (when ``background="stylize"``) and once per face crop.
        size: crop side for each face; ``None`` (the default) picks it per face with
            :func:`face_crop_size`: enough pixels for the face's footprint on the image, not
            512 for a face that covers 150 image pixels (the generator's time grows with the
            crop's area).
        min_face: smallest face (pixels, detector box side) worth its own crop.
        background: ``"stylize"`` pastes faces into the stylised image, ``"photo"`` into the photo.
        faces: skip detection and use these faces (e.g. from :func:`detect_faces`).
        keep_steps: keep every intermediate (crops, masks, warps) in ``result.steps``.
        progress: called as ``progress(done, total, message)`` after each stage.
        **detect_kwargs: passed to :func:`detect_faces`.

    Returns:
        a :class:`Face2PaintResult`.

    Raises:
        TypeError, ValueError: bad image, ``background`` or ``stylize`` output.
    """
    x = as_image_batch(image)
    if background not in ("stylize", "photo"):
        raise ValueError(f"background must be 'stylize' or 'photo', got {background!r}")
    h, w = x.shape[-2:]
    found = detect_faces(x, **detect_kwargs) if faces is None else list(faces)  # type: ignore[arg-type]
    report = FaceReport(found=len(found))
    for f in found:
        if f.size < min_face:
            report.skipped.append((f, f"too small: {f.size:.0f} px < min_face {min_face:.0f} px"))
        else:
            report.used.append(f)
    total = 1 + len(report.used) + 1
    done = 0

    def tick(msg: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, msg)

    if progress is not None:
        progress(0, total, f"found {len(found)} face(s)")
    with torch.no_grad():
        base = _run(stylize, x) if background == "stylize" else x.clone()
        tick("stylised the whole image" if background == "stylize" else "kept the photo as background")
        out = base.clone()
        steps: list[FaceStep] = []
        for i, f in enumerate(report.used):
            side = size if size is not None else face_crop_size(f)
            feather = feather_mask(side, dtype=x.dtype)
            crop, m = align_face(x, f.landmarks, side)
            styl = _run(stylize, crop)
            back = warp_back(styl, m, (h, w)).clamp(0.0, 1.0)
            mask = warp_back(feather, m, (h, w)).clamp(0.0, 1.0)
            out = out * (1.0 - mask) + back * mask
            if keep_steps:
                steps.append(FaceStep(f, m, crop, styl, back, mask))
            tick(f"face {i + 1}/{len(report.used)} stylised")
    parts = []
    if not found:
        parts.append(
            "no face found: stylised the whole image"
            if background == "stylize"
            else "no face found: image unchanged"
        )
    else:
        parts.append(f"{len(found)} face(s) found, {len(report.used)} aligned and stylised")
        for f, why in report.skipped:
            c = f.landmarks.mean(0)
            parts.append(f"skipped the face at ({float(c[0]):.0f}, {float(c[1]):.0f}): {why}")
        if not report.used:
            parts.append("stylised the whole image" if background == "stylize" else "image unchanged")
    report.message = "; ".join(parts)
    tick("done")
    return Face2PaintResult(out.clamp(0.0, 1.0), report, steps, base if keep_steps else None)


class Face2Paint(nn.Module):
    """Module form of :func:`face2paint` around a generator: ``forward(image01) -> (1, 3, H, W)``.

    The last :class:`FaceReport` is kept in ``self.last_report``.
    """

    def __init__(self, generator: nn.Module, size: Optional[int] = None, min_face: float = 48.0) -> None:
        super().__init__()
        self.generator, self.size, self.min_face = generator, size, min_face
        self.last_report: Optional[FaceReport] = None

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        res = face2paint(image, self.generator, size=self.size, min_face=self.min_face)
        self.last_report = res.report
        return res.image
