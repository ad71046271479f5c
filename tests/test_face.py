"""Tests for animegan_edu.inference.face: geometry (exact, no detector), then MTCNN on real photos.

Ground truth for rotated faces is independent of the detector's own answer on the rotated
picture: the landmarks found on the upright photo are rotated with the same matrix that
rotates the picture, and the detector must find them again there.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from kornia.geometry.transform import invert_affine_transform

from animegan_edu.inference import face as FA
from animegan_edu.inference import face_paste as FP

# --------------------------------------------------------------------------- helpers


def _rotation(deg: float, scale: float = 1.0, shift=(0.0, 0.0)) -> torch.Tensor:
    a = math.radians(deg)
    c, s = math.cos(a) * scale, math.sin(a) * scale
    return torch.tensor([[c, -s, shift[0]], [s, c, shift[1]]], dtype=torch.float64)


def _smooth_image(h: int = 96, w: int = 96) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    low = torch.rand(1, 3, 6, 6, generator=g)
    return F.interpolate(low, size=(h, w), mode="bicubic", align_corners=True).clamp(0, 1)


def _blobs(points: torch.Tensor, h: int, w: int, sigma: float = 1.5) -> torch.Tensor:
    yy, xx = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    img = torch.zeros(h, w, dtype=torch.float64)
    for x, y in points.tolist():
        img = torch.maximum(img, torch.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2)))
    return img.float().expand(1, 3, h, w).contiguous()


def _peak(img: torch.Tensor, near: torch.Tensor, radius: int = 6) -> torch.Tensor:
    """Sub-pixel centre of mass of the blob nearest ``near`` (x, y)."""
    x0, y0 = (int(round(v)) for v in near.tolist())
    patch = img[0, 0, y0 - radius : y0 + radius + 1, x0 - radius : x0 + radius + 1].double()
    patch = (patch - patch.max() * 0.5).clamp(min=0)
    ys, xs = torch.meshgrid(
        torch.arange(-radius, radius + 1.0), torch.arange(-radius, radius + 1.0), indexing="ij"
    )
    wsum = patch.sum()
    return torch.tensor([x0 + float((xs * patch).sum() / wsum), y0 + float((ys * patch).sum() / wsum)])


def _negative(t: torch.Tensor) -> torch.Tensor:
    """A cheap deterministic 'style': the photographic negative, in [-1, 1]."""
    return -t


# --------------------------------------------------------------------------- geometry, no detector


def test_template_points_scale_with_size_and_eyes_are_level():
    for size in (128, 512):
        t = FA.template_points(size)
        assert t.shape == (5, 2)
        assert float(t[0, 1]) == float(t[1, 1])  # eyes level
        assert float(t[0, 0]) < float(t[2, 0]) < float(t[1, 0])  # nose between the eyes
        assert float(t[3, 1]) > float(t[2, 1]) > float(t[0, 1])  # eyes, nose, mouth top to bottom
    with pytest.raises(ValueError):
        FA.template_points(8)


@pytest.mark.parametrize("deg,scale", [(0.0, 1.0), (37.0, 0.6), (-120.0, 2.5), (180.0, 1.3)])
def test_estimate_similarity_recovers_a_known_transform(deg, scale):
    m = _rotation(deg, scale, (12.0, -7.5))
    src = torch.tensor(
        [[10.0, 20.0], [50.0, 22.0], [31.0, 40.0], [15.0, 60.0], [47.0, 61.0]], dtype=torch.float64
    )
    dst = FA.transform_points(m, src)
    est = FA.estimate_similarity(src, dst)
    assert torch.allclose(est, m, atol=1e-9)
    assert float(torch.linalg.det(est[:, :2])) > 0  # a rotation, never a mirror


def test_estimate_similarity_is_batched_and_checks_input():
    src = torch.rand(4, 5, 2, dtype=torch.float64) * 100
    ms = torch.stack([_rotation(10.0 * i, 1 + i, (i, -i)) for i in range(4)])
    dst = FA.transform_points(ms, src)
    assert torch.allclose(FA.estimate_similarity(src, dst), ms, atol=1e-8)
    with pytest.raises(ValueError, match="K >= 2"):
        FA.estimate_similarity(torch.zeros(5, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="same point"):
        FA.estimate_similarity(torch.ones(5, 2), torch.rand(5, 2))


def test_least_squares_with_noise_is_close():
    g = torch.Generator().manual_seed(2)
    m = _rotation(-25.0, 1.7, (30.0, 5.0))
    src = torch.rand(5, 2, generator=g, dtype=torch.float64) * 100
    dst = FA.transform_points(m, src) + 0.3 * torch.randn(5, 2, generator=g, dtype=torch.float64)
    assert torch.allclose(FA.estimate_similarity(src, dst), m, atol=0.05 * 1.7 + 1.0)


@pytest.mark.parametrize("deg", [0.0, 30.0, -75.0, 160.0])
def test_template_landmarks_land_on_the_template(deg):
    """Five dots where a (rotated, scaled) face's landmarks are: after alignment they sit on the template."""
    size, h, w = 128, 160, 200
    # landmarks of a synthetic face: the template sent into the image by a known similarity
    to_img = _rotation(deg, 0.8, (0.0, 0.0))
    pts = FA.transform_points(to_img, FA.template_points(size) - size / 2) + torch.tensor(
        [100.0, 80.0], dtype=torch.float64
    )
    image = _blobs(pts, h, w)
    crop, m = FA.align_face(image, pts, size)
    assert crop.shape == (1, 3, size, size) and m.shape == (1, 2, 3)
    mapped = FA.transform_points(m[0].double(), pts)
    assert torch.allclose(mapped, FA.template_points(size), atol=1e-3)
    for found_at, expected in zip(
        [_peak(crop, t) for t in FA.template_points(size)], FA.template_points(size)
    ):
        assert float((found_at - expected).norm()) < 0.5  # sub-pixel: the dots really moved there
    eyes = FA.template_points(size)[:2]
    assert abs(float(_peak(crop, eyes[0])[1] - _peak(crop, eyes[1])[1])) < 0.5  # upright: eyes level


def test_inverse_warp_returns_the_image():
    image = _smooth_image(120, 140)
    pts = FA.transform_points(_rotation(25.0, 0.5), FA.template_points(128) - 64) + torch.tensor(
        [70.0, 60.0], dtype=torch.float64
    )
    crop, m = FA.align_face(image, pts, 128)
    back = FA.warp_back(crop, m, (120, 140))
    covered = FA.warp_back(torch.ones(1, 1, 128, 128), m, (120, 140))
    inside = covered[0, 0] > 0.999
    inside = -F.max_pool2d(-inside.float()[None, None], 5, 1, 2)[0, 0] > 0.5  # stay two pixels from the edge
    assert int(inside.sum()) > 1000
    err = (back - image).abs().amax(dim=1)[0][inside]
    assert float(err.max()) < 0.02 and float(err.mean()) < 0.003
    # the matrices themselves compose to the identity
    inv = invert_affine_transform(m)
    full = lambda a: torch.cat([a[0], torch.tensor([[0.0, 0.0, 1.0]])])  # noqa: E731
    assert torch.allclose(full(inv) @ full(m), torch.eye(3), atol=1e-5)


def test_feather_mask_is_soft_and_centred():
    m = FP.feather_mask(64)
    assert m.shape == (1, 1, 64, 64)
    assert float(m.min()) == 0.0 and float(m.max()) == 1.0
    assert float(m[0, 0, 0, 0]) == 0.0
    centre = FA.template_points(64)[:, :].mean(0)
    assert float(m[0, 0, int(centre[1]), int(centre[0])]) == 1.0
    assert ((m > 0.05) & (m < 0.95)).sum() > 100  # a real feather, not a hard edge
    assert torch.allclose(m, m.flip(-1))  # symmetric left-right
    with pytest.raises(ValueError):
        FP.feather_mask(64, inner=0.5, outer=0.3)


def _fake_face(center=(100.0, 80.0), eye_dist=40.0, deg=0.0) -> FA.Face:
    size = 512
    s = eye_dist / (0.25 * (size - 1))
    pts = FA.transform_points(_rotation(deg, s), FA.template_points(size) - (size - 1) / 2) + torch.tensor(
        center, dtype=torch.float64
    )
    side = eye_dist * 2.0
    return FA.Face(
        torch.tensor(
            [center[0] - side / 2, center[1] - side / 2, center[0] + side / 2, center[1] + side / 2]
        ),
        pts,
        0.99,
        side,
        deg,
    )


def test_face2paint_zero_faces_stylises_the_whole_image_and_says_so():
    image = _smooth_image(64, 80)
    res = FP.face2paint(image, _negative, faces=[], size=64)
    assert torch.allclose(res.image, 1 - image, atol=1e-6)
    assert res.report.found == 0 and not res.report.used
    assert "no face found" in res.report.message and "whole image" in res.report.message


def test_face2paint_pastes_each_face_and_skips_tiny_ones():
    image = _smooth_image(200, 320)
    faces = [
        _fake_face((80.0, 100.0), 40.0, 20.0),
        _fake_face((230.0, 100.0), 44.0, -35.0),
        _fake_face((300.0, 30.0), 8.0),
    ]
    calls = []

    def stylize(t: torch.Tensor) -> torch.Tensor:
        calls.append(tuple(t.shape))
        return -t

    steps_seen = []
    res = FP.face2paint(
        image,
        stylize,
        faces=faces,
        size=96,
        min_face=48,
        background="photo",
        keep_steps=True,
        progress=lambda d, n, msg: steps_seen.append((d, n)),
    )
    assert res.report.found == 3
    assert len(res.report.used) == 2 and len(res.report.skipped) == 1
    assert "too small" in res.report.skipped[0][1] and "16 px" in res.report.skipped[0][1]
    assert "skipped" in res.report.message
    assert calls == [(1, 3, 96, 96), (1, 3, 96, 96)]  # background is the photo: only the two crops
    assert steps_seen[-1][0] == steps_seen[-1][1]  # progress reaches its total
    # the centre of each used face is the negative; the far corner and the tiny face are untouched
    for f in res.report.used:
        cx, cy = (int(round(float(v))) for v in f.landmarks[:3].mean(0))
        assert torch.allclose(res.image[0, :, cy, cx], 1 - image[0, :, cy, cx], atol=0.03)
    assert torch.equal(res.image[0, :, 190, 5], image[0, :, 190, 5])
    assert torch.equal(res.image[0, :, 30, 300], image[0, :, 30, 300])
    assert len(res.steps) == 2 and res.steps[0].mask.shape == (1, 1, 200, 320)


def test_face2paint_checks_its_inputs():
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        FP.face2paint(torch.rand(2, 3, 8, 8), _negative, faces=[])
    with pytest.raises(ValueError, match="background"):
        FP.face2paint(torch.rand(3, 8, 8), _negative, faces=[], background="none")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stylize must return"):
        FP.face2paint(torch.rand(3, 8, 8), lambda t: t[..., :4], faces=[])


# --------------------------------------------------------------------------- real detector


@pytest.fixture(scope="module")
def portrait() -> torch.Tensor:
    """The face region of skimage's astronaut (NASA, public domain), 300 x 300."""
    from skimage import data

    arr = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float() / 255
    return arr[:, 0:300, 80:380].contiguous()


@pytest.fixture(scope="module")
def upright_face(portrait) -> FA.Face:
    faces = FA.detect_faces(portrait)
    assert len(faces) == 1
    return faces[0]


def test_detects_the_astronaut_with_sensible_landmarks(upright_face):
    f = upright_face
    assert f.prob > 0.95 and f.refined
    assert abs(f.roll) < 8
    lm = f.landmarks
    assert float(lm[0, 0]) < float(lm[2, 0]) < float(lm[1, 0])
    assert float(lm[2, 1]) < float(lm[3, 1])
    assert 60 < f.size < 130


@pytest.mark.parametrize("deg", [35.0, -70.0, 180.0])
def test_rotated_head_comes_out_upright(portrait, upright_face, deg):
    rotated, m = FA.rotate_expanded(portrait, deg)
    truth = FA.transform_points(m, upright_face.landmarks)
    faces = FA.detect_faces(rotated)
    assert len(faces) == 1, [f.landmarks.tolist() for f in faces]
    f = faces[0]
    eye_d = float((truth[1] - truth[0]).norm())
    err = (f.landmarks - truth).norm(dim=1)
    assert float(err[:2].max()) < 0.15 * eye_d, err  # eyes found where they really are
    # the aligned crop is upright: the true eyes land on a level line near the template eyes
    crop, mm = FA.align_face(rotated, f.landmarks, 256)
    eyes = FA.transform_points(mm[0].double(), truth[:2])
    roll = math.degrees(math.atan2(float(eyes[1, 1] - eyes[0, 1]), float(eyes[1, 0] - eyes[0, 0])))
    assert abs(roll) < 6.0
    assert float((eyes - FA.template_points(256)[:2]).norm(dim=1).max()) < 0.1 * 256


def test_several_faces_each_found_and_processed(portrait):
    two = torch.cat([portrait, portrait.flip(-1)], dim=-1)  # 300 x 600, two faces
    res = FP.face2paint(two, _negative, size=128)
    assert res.report.found == 2 and len(res.report.used) == 2
    xs = [float(f.landmarks[:, 0].mean()) for f in res.report.used]
    assert xs[0] < 300 < xs[1]
    assert "2 face(s) found, 2 aligned" in res.report.message


def test_small_face_is_found_but_skipped(portrait):
    small = F.interpolate(portrait[None], scale_factor=0.4, mode="area")[0]  # face about 35 px
    res = FP.face2paint(small, _negative, size=128, min_face=48)
    assert res.report.found == 1 and not res.report.used
    assert "too small" in res.report.message and "stylised the whole image" in res.report.message
    assert torch.allclose(res.image, 1 - small, atol=1e-6)


def test_no_face_in_a_cup_of_coffee():
    from skimage import data

    cup = torch.from_numpy(data.coffee()[::2, ::2].copy()).permute(2, 0, 1).float() / 255
    res = FP.face2paint(cup, _negative, size=128)
    assert res.report.found == 0
    assert res.report.message == "no face found: stylised the whole image"


@pytest.mark.parametrize("hw", [(8, 8), (19, 40), (24, 24)])
def test_images_too_small_for_any_face(hw):
    image = torch.rand(3, *hw)
    assert FA.detect_faces(image) == []
    res = FP.face2paint(image, _negative, size=32)
    assert res.report.found == 0 and torch.allclose(res.image, 1 - image[None], atol=1e-6)
