"""face2paint: detect faces, align each to a canonical template, stylise, paste back.

Introduced in ``notebooks/05_face_alignment.ipynb``.

A generator trained on aligned portraits (``face_paint_512_v2``) keeps eyes, nose and
mouth in place only when the face it sees is framed the way its training faces were:
upright, centred, at a known scale. face2paint therefore

1. finds faces and five landmarks (eye, eye, nose tip, mouth corner, mouth corner) with
   facenet-pytorch's MTCNN (:func:`detect_faces`; its weights ship inside the wheel);
2. estimates the similarity transform (rotation, uniform scale, shift) that sends the
   landmarks onto a fixed five-point template (:func:`estimate_similarity`, Umeyama's
   least-squares solution);
3. warps the face into an upright square crop (:func:`align_face`; face2paint picks its side
   per face, 256 to 512 px, :func:`animegan_edu.inference.face_paste.face_crop_size`;
   kornia's ``warp_affine``);
4. stylises the crop;
5. warps it back with the inverse transform (kornia's ``invert_affine_transform``);
6. blends it into the (stylised) image through a feathered mask warped the same way.

This module does steps 1-3; :func:`animegan_edu.inference.face_paste.face2paint` runs the
whole recipe (steps 4-6 live there).

Tilted heads: MTCNN itself copes with roughly +-50 degrees of roll but its landmarks drift
as the roll grows. :func:`detect_faces` therefore also looks in the image turned by 90,
180 and 270 degrees, and then *refines* each face: it aligns the face with the first
landmarks, detects again in that nearly upright crop, and maps the new landmarks back.
A candidate that is not found again there is dropped as a false detection.

Conventions: images are RGB float tensors in ``[0, 1]``, ``(3, H, W)`` or ``(1, 3, H, W)``;
the ``stylize`` callable takes and returns generator tensors ``(N, 3, h, w)`` in
``[-1, 1]`` (a :class:`animegan_edu.models.Generator` is one). Points are ``(x, y)`` pixel
coordinates, pixel centres at integers (OpenCV's and kornia's ``align_corners=True``
convention); 2x3 matrices map image points to crop points.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from kornia.geometry.transform import invert_affine_transform, warp_affine

__all__ = [
    "TEMPLATE",
    "template_points",
    "Face",
    "get_detector",
    "detect_faces",
    "estimate_similarity",
    "transform_points",
    "align_face",
    "warp_back",
    "rotate_expanded",
    "as_image_batch",
]

#: Five-point template in crop units (``x, y`` in ``[0, 1]`` of the crop side): left eye,
#: right eye (as seen in the picture), nose tip, left and right mouth corners. The framing
#: follows FFHQ's, on which the public face models were trained: the eyes a quarter of the
#: crop apart a little above the centre, so hair, chin and some background fit in the crop.
TEMPLATE = torch.tensor(
    [
        [0.375, 0.455],
        [0.625, 0.455],
        [0.500, 0.585],
        [0.400, 0.700],
        [0.600, 0.700],
    ],
    dtype=torch.float64,
)


def template_points(size: int = 512) -> torch.Tensor:
    """The template landmarks in pixels of a ``size`` x ``size`` crop, ``(5, 2)`` float64.

    Example:
        >>> template_points(512)[:2].tolist()
        [[191.625, 232.505], [319.375, 232.505]]
    """
    if size < 16:
        raise ValueError(f"crop size must be >= 16 pixels, got {size}")
    return TEMPLATE * (size - 1)


# --------------------------------------------------------------------------- geometry


def estimate_similarity(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Least-squares similarity transform (Umeyama 1991) sending ``src`` points onto ``dst``.

    Finds the scale ``s``, rotation ``R`` (no reflection) and shift ``t`` minimising
    ``sum_i |dst_i - (s R src_i + t)|^2``, in closed form: centre both point sets, take the
    SVD of their 2x2 cross-covariance, fix the sign so ``det R = +1``.

    Args:
        src: ``(*, K, 2)`` points ``(x, y)``, ``K >= 2`` and not all equal.
        dst: ``(*, K, 2)`` target points.

    Returns:
        ``(*, 2, 3)`` matrices ``[s R | t]``, in ``src``'s dtype.

    Raises:
        ValueError: shapes disagree, fewer than two points, or degenerate ``src``.

    Example:
        >>> src = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> estimate_similarity(src, 2 * src + 1).round(decimals=4).tolist()
        [[2.0, 0.0, 1.0], [0.0, 2.0, 1.0]]
    """
    if src.shape != dst.shape or src.ndim < 2 or src.shape[-1] != 2 or src.shape[-2] < 2:
        raise ValueError(
            f"src and dst must both be (*, K, 2) with K >= 2, got {tuple(src.shape)} and {tuple(dst.shape)}"
        )
    dtype = src.dtype if src.is_floating_point() else torch.float32
    s64, d64 = src.to(torch.float64), dst.to(torch.float64)
    mu_s, mu_d = s64.mean(-2, keepdim=True), d64.mean(-2, keepdim=True)
    sc, dc = s64 - mu_s, d64 - mu_d
    var_s = (sc**2).sum(dim=(-2, -1)) / src.shape[-2]
    if bool((var_s < 1e-12).any()):
        raise ValueError("src points are all the same point: no transform is defined")
    cov = dc.transpose(-2, -1) @ sc / src.shape[-2]  # (*, 2, 2)
    u, sig, vh = torch.linalg.svd(cov)
    d = torch.ones_like(sig)
    d[..., 1] = torch.sign(torch.linalg.det(u) * torch.linalg.det(vh))
    d[..., 1] = torch.where(d[..., 1] == 0, torch.ones_like(d[..., 1]), d[..., 1])
    rot = u @ torch.diag_embed(d) @ vh
    scale = (sig * d).sum(-1) / var_s
    lin = scale[..., None, None] * rot
    t = mu_d.transpose(-2, -1) - lin @ mu_s.transpose(-2, -1)
    return torch.cat([lin, t], dim=-1).to(dtype)


def transform_points(matrix: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Apply ``(*, 2, 3)`` affine matrices to ``(*, K, 2)`` points.

    Example:
        >>> m = torch.tensor([[1.0, 0.0, 5.0], [0.0, 1.0, -1.0]])
        >>> transform_points(m, torch.tensor([[1.0, 2.0]])).tolist()
        [[6.0, 1.0]]
    """
    m = matrix.to(points.dtype)
    return points @ m[..., :2].transpose(-2, -1) + m[..., 2].unsqueeze(-2)


def as_image_batch(image: torch.Tensor) -> torch.Tensor:
    """``image`` as a ``(1, 3, H, W)`` float batch, after checking it is one RGB image.

    Accepts ``(3, H, W)`` or ``(1, 3, H, W)`` float tensors (values in ``[0, 1]``, not
    checked); anything else raises a one-line ``TypeError``/``ValueError``.

    Example:
        >>> as_image_batch(torch.zeros(3, 4, 5)).shape
        torch.Size([1, 3, 4, 5])
    """
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"image must be a torch.Tensor (3, H, W) in [0, 1], got {type(image).__name__}")
    if image.ndim == 3:
        image = image.unsqueeze(0)
    if image.ndim != 4 or image.shape[:2] != (1, 3):
        raise ValueError(f"image must be (3, H, W) or (1, 3, H, W) RGB in [0, 1], got {tuple(image.shape)}")
    if not image.is_floating_point():
        raise TypeError(f"image must be a float tensor in [0, 1], got dtype {image.dtype}")
    return image


def align_face(
    image: torch.Tensor, landmarks: torch.Tensor, size: int = 512
) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp a face to an upright ``size`` x ``size`` crop whose landmarks sit on :data:`TEMPLATE`.

    Args:
        image: ``(3, H, W)`` or ``(1, 3, H, W)`` in [0, 1].
        landmarks: ``(5, 2)`` points in image pixels, in :data:`TEMPLATE`'s order.
        size: crop side in pixels.

    Returns:
        ``(crop, matrix)``: crop ``(1, 3, size, size)`` in [0, 1] (areas outside the image
        are mirrored in), matrix ``(1, 2, 3)`` mapping image pixels to crop pixels.

    Example:
        >>> lm = template_points(64).float() * 2 + 10
        >>> crop, m = align_face(torch.rand(3, 160, 160), lm, 64)
        >>> crop.shape, m.shape
        (torch.Size([1, 3, 64, 64]), torch.Size([1, 2, 3]))
    """
    x = as_image_batch(image)
    lm = torch.as_tensor(landmarks, dtype=torch.float64).reshape(5, 2)
    m = estimate_similarity(lm, template_points(size)).to(x.dtype).unsqueeze(0)
    crop = warp_affine(x, m, (size, size), mode="bilinear", padding_mode="reflection", align_corners=True)
    return crop.clamp(0.0, 1.0), m


def warp_back(crop: torch.Tensor, matrix: torch.Tensor, out_size: tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`align_face`: warp a ``(N, C, s, s)`` crop back into an ``(H, W)`` image.

    Pixels that the crop does not cover are 0 (warp a mask the same way to know which).

    Example:
        >>> m = torch.tensor([[[2.0, 0.0, -10.0], [0.0, 2.0, -10.0]]])
        >>> warp_back(torch.ones(1, 1, 64, 64), m, (100, 100)).shape
        torch.Size([1, 1, 100, 100])
    """
    inv = invert_affine_transform(matrix.to(crop.dtype))
    return warp_affine(crop, inv, tuple(out_size), mode="bilinear", padding_mode="zeros", align_corners=True)


def rotate_expanded(image: torch.Tensor, deg: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn a picture by ``deg`` degrees (counter-clockwise as seen) onto a canvas that holds all of it.

    Args:
        image: ``(3, H, W)`` RGB in ``[0, 1]``.
        deg: the angle; the borders are filled by repeating the edge pixels.

    Returns:
        the turned ``(3, H', W')`` picture and the ``(2, 3)`` float64 matrix that maps
        input pixel coordinates to output ones (:func:`transform_points`).

    Example:
        >>> out, m = rotate_expanded(torch.rand(3, 20, 40), 90)
        >>> corner = transform_points(m, torch.tensor([[0.0, 0.0]], dtype=torch.float64))[0]
        >>> tuple(out.shape), [round(v) for v in corner.tolist()]
        ((3, 40, 20), [0, 39])
    """
    _, h, w = as_image_batch(image)[0].shape
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    nw = int(math.ceil(abs(w * c) + abs(h * s) - 1e-9))
    nh = int(math.ceil(abs(w * s) + abs(h * c) - 1e-9))
    # y points down, so a counter-clockwise turn on screen is [[c, s], [-s, c]]
    lin = torch.tensor([[c, s], [-s, c]], dtype=torch.float64)
    centre_in = torch.tensor([(w - 1) / 2, (h - 1) / 2], dtype=torch.float64)
    centre_out = torch.tensor([(nw - 1) / 2, (nh - 1) / 2], dtype=torch.float64)
    m = torch.cat([lin, (centre_out - lin @ centre_in)[:, None]], dim=1)
    out = warp_affine(
        as_image_batch(image), m[None].to(image.dtype), (nh, nw), align_corners=True, padding_mode="border"
    )
    return out[0], m


@dataclass
class Face:
    """One detected face, in the coordinates of the image it was found in.

    Attributes:
        box: ``(4,)`` axis-aligned box ``x0, y0, x1, y1`` around the face.
        landmarks: ``(5, 2)`` points, :data:`TEMPLATE`'s order.
        prob: detector confidence.
        size: face size in pixels (the detector box side measured upright, so tilting a
            face does not change it).
        roll: head roll in degrees (the eye line against the horizontal; positive is clockwise
            in the picture).
        refined: whether the landmarks come from the second, upright detection.
    """

    box: torch.Tensor
    landmarks: torch.Tensor
    prob: float
    size: float
    roll: float
    refined: bool = False

    @property
    def eye_distance(self) -> float:
        return float(torch.linalg.norm(self.landmarks[1] - self.landmarks[0]))


@functools.lru_cache(maxsize=1)
def get_detector() -> nn.Module:
    """The MTCNN detector (facenet-pytorch, CPU, all faces), created once and cached."""
    from facenet_pytorch import MTCNN

    return MTCNN(keep_all=True, device="cpu", post_process=False, min_face_size=20)


def _to_uint8_hwc(image: torch.Tensor) -> np.ndarray:
    x = as_image_batch(image)[0]
    return np.ascontiguousarray(
        x.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    )


def _mtcnn(arr: np.ndarray) -> list[tuple[np.ndarray, float, np.ndarray]]:
    det = get_detector()
    if min(arr.shape[:2]) < det.min_face_size:
        return []  # smaller than the smallest face MTCNN looks for (its first scale would be empty)
    boxes, probs, points = det.detect(arr, landmarks=True)
    if boxes is None:
        return []
    return [
        (np.asarray(b, dtype=np.float64), float(p), np.asarray(lm, dtype=np.float64))
        for b, p, lm in zip(boxes, probs, points)
    ]


def _rot90_points_back(pts: np.ndarray, k: int, h: int, w: int) -> np.ndarray:
    """Map ``(x, y)`` points found in ``np.rot90(img, k)`` (counter-clockwise) back into ``img`` (h x w)."""
    p = pts.copy()
    hh, ww = (h, w) if k % 2 == 0 else (w, h)  # size of the rotated image
    for _ in range(k % 4):
        # one counter-clockwise step maps (x, y) in an (h0, w0) image to (y, w0 - 1 - x);
        # undo it: (x', y') -> (w0 - 1 - y', x'), where the un-rotated image has width w0 = hh.
        x, y = p[..., 0].copy(), p[..., 1].copy()
        p[..., 0], p[..., 1] = hh - 1 - y, x
        hh, ww = ww, hh
    return p


def _roll_deg(lm: np.ndarray | torch.Tensor) -> float:
    lm = np.asarray(lm, dtype=np.float64)
    d = lm[1] - lm[0]
    return float(np.degrees(np.arctan2(d[1], d[0])))


def _same_face(a: np.ndarray, b: np.ndarray) -> bool:
    """Two landmark sets describe one face when their centroids are close.

    Centroids, not eye centres: MTCNN also "finds" an upside-down face in the image turned
    by 180 degrees, with eyes and mouth swapped; its centroid still lands near the nose.
    """
    ca, cb = a.mean(0), b.mean(0)
    ea, eb = np.linalg.norm(a[1] - a[0]), np.linalg.norm(b[1] - b[0])
    return float(np.linalg.norm(ca - cb)) < 0.6 * max(ea, eb, 1.0)


def _refine(
    image: torch.Tensor, lm: np.ndarray, size: int, min_prob: float
) -> Optional[tuple[np.ndarray, float, float, np.ndarray]]:
    """Detect again in an upright crop; ``None`` if the face is not found there again.

    Returns ``(landmarks, prob, upright box side, axis-aligned box)`` in image pixels.
    """
    crop, m = align_face(image, torch.from_numpy(lm), size)
    found = _mtcnn(_to_uint8_hwc(crop))
    if not found:
        return None
    expect = template_points(size).numpy()
    best = min(found, key=lambda f: float(np.linalg.norm(f[2] - expect, axis=1).mean()))
    box, prob, pts = best
    if prob < min_prob or not _same_face(pts, expect):
        return None
    inv = invert_affine_transform(m.to(torch.float64))[0]
    pts_img = transform_points(inv, torch.from_numpy(pts)).numpy()
    scale = float(torch.linalg.norm(m[0, :, 0].to(torch.float64)))  # crop px per image px
    side = min(box[2] - box[0], box[3] - box[1]) / scale
    corners = torch.tensor(
        [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]], dtype=torch.float64
    )
    c = transform_points(inv, corners).numpy()
    box_img = np.array([c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max()])
    return pts_img, prob, side, box_img


def detect_faces(
    image: torch.Tensor,
    *,
    rotations: Sequence[int] = (0, 90, 180, 270),
    refine: bool = True,
    min_prob: float = 0.95,
    refine_size: int = 192,
    stop_if_upright: Optional[float] = 0.99,
) -> list[Face]:
    """Find faces and their five landmarks with MTCNN, tilted and upside-down ones included.

    The detector runs on the image turned by each angle in ``rotations`` (multiples of 90,
    exact, no resampling); detections are mapped back and duplicates merged. With
    ``refine=True`` each face is then aligned upright with its first landmarks and detected
    again in that crop, twice; the landmarks found there are mapped back. This corrects the
    landmark drift MTCNN shows on strongly tilted heads, and a candidate that is not found
    again is dropped.

    Args:
        image: ``(3, H, W)`` or ``(1, 3, H, W)`` RGB in [0, 1].
        rotations: angles (degrees, counter-clockwise, multiples of 90) to search.
        refine: run the upright second detection.
        min_prob: minimum detector confidence.
        refine_size: side of the crop used for the second detection.
        stop_if_upright: when the first angle of ``rotations`` yields a face at least this
            confident that is upright (roll under 30 degrees) and is found again when
            aligned, the other angles are not searched (they cost about two thirds of the
            detection time); ``None`` always searches every angle. A second face that is
            turned by 90 degrees or more, beside a confident upright one, is then missed.

    Returns:
        faces sorted from left to right, each a :class:`Face` in ``image``'s pixels.

    Raises:
        ValueError: an angle that is not a multiple of 90.
    """
    x = as_image_batch(image)
    h, w = x.shape[-2:]
    arr = _to_uint8_hwc(x)
    candidates: list[
        tuple[np.ndarray, float, np.ndarray, float, float]
    ] = []  # landmarks, prob, box, side, |roll|
    for angle in rotations:
        if angle % 90 != 0:
            raise ValueError(f"rotations must be multiples of 90 degrees, got {angle}")
        k = (angle // 90) % 4
        rotated = np.ascontiguousarray(np.rot90(arr, k)) if k else arr
        for box, prob, pts in _mtcnn(rotated):
            if prob < min_prob:
                continue
            side = float(min(box[2] - box[0], box[3] - box[1]))
            roll_here = abs(_roll_deg(pts))
            lm = _rot90_points_back(pts, k, h, w)
            corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
            c = _rot90_points_back(corners, k, h, w)
            box_img = np.array([c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max()])
            candidates.append((lm, prob, box_img, side, roll_here))
        if (
            stop_if_upright is not None
            and angle == rotations[0]
            and any(
                c[1] >= stop_if_upright
                and abs(_roll_deg(c[0])) < 30
                and _refine(x, c[0], refine_size, min_prob) is not None
                for c in candidates
            )
        ):
            break
    # Merge duplicates, preferring the most confident view, then the most upright one.
    candidates.sort(key=lambda c: (-round(c[1], 3), c[4]))
    kept: list[tuple[np.ndarray, float, np.ndarray, float, float]] = []
    for cand in candidates:
        if not any(_same_face(cand[0], k[0]) for k in kept):
            kept.append(cand)
    faces: list[Face] = []
    for lm, prob, box_img, side, _ in kept:
        refined = False
        if refine:
            ok = True
            for _ in range(2):
                r = _refine(x, lm, refine_size, min_prob)
                if r is None:
                    ok = False
                    break
                lm, prob, side, box_img = r
                refined = True
            if not ok and not refined:
                continue  # not found again when upright: a false detection
        lm_t = torch.from_numpy(lm)
        faces.append(Face(torch.from_numpy(box_img), lm_t, float(prob), float(side), _roll_deg(lm), refined))
    # refinement can make two candidates converge on one face
    unique: list[Face] = []
    for f in sorted(faces, key=lambda f: -f.prob):
        if not any(_same_face(f.landmarks.numpy(), u.landmarks.numpy()) for u in unique):
            unique.append(f)
    unique.sort(key=lambda f: float(f.landmarks[:, 0].mean()))
    return unique
