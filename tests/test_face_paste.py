"""animegan_edu.inference.face_paste: the crop size each face gets, and face2paint choosing it per face."""

from __future__ import annotations

import torch

from animegan_edu.inference import face as FA
from animegan_edu.inference import face_paste as FP
from animegan_edu.inference.face_paste import FACE_CROP_MAX, FACE_CROP_MIN, face_crop_size


def _face_with_eyes(eye_dist: float, centre: tuple[float, float] = (160.0, 120.0)) -> FA.Face:
    """A face whose five landmarks sit where the template puts them, eyes ``eye_dist`` apart."""
    side = 4.0 * eye_dist  # the template's crop covers four eye distances
    pts = FA.TEMPLATE * side + torch.tensor(centre, dtype=torch.float64) - side / 2
    box = torch.tensor(
        [centre[0] - eye_dist, centre[1] - eye_dist, centre[0] + eye_dist, centre[1] + eye_dist]
    )
    return FA.Face(box, pts, 0.99, 2 * eye_dist, 0.0)


def test_crop_size_follows_the_footprint_within_bounds() -> None:
    # 60 px between the eyes: a 240 px footprint, 1.5 crop pixels per image pixel = 360 px
    assert face_crop_size(_face_with_eyes(60.0)) == 360
    assert face_crop_size(_face_with_eyes(61.0)) % 8 == 0
    assert face_crop_size(_face_with_eyes(10.0)) == FACE_CROP_MIN  # a small face is still cropped at 256
    assert face_crop_size(_face_with_eyes(400.0)) == FACE_CROP_MAX  # a huge one is capped at 512
    sizes = [face_crop_size(_face_with_eyes(d)) for d in range(20, 120, 5)]
    assert sizes == sorted(sizes)  # never smaller for a bigger face


def test_face2paint_crops_each_face_at_its_own_size() -> None:
    image = torch.rand(3, 240, 480)
    small, big = _face_with_eyes(30.0, (100.0, 120.0)), _face_with_eyes(70.0, (330.0, 120.0))
    seen: list[tuple[int, ...]] = []

    def stylize(t: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(t.shape))
        return -t

    res = FP.face2paint(image, stylize, faces=[small, big], min_face=20, background="photo", keep_steps=True)
    assert seen == [(1, 3, 256, 256), (1, 3, 424, 424)]  # 30 px apart: the floor; 70 px: 1.5 x 280 px
    assert [s.crop.shape[-1] for s in res.steps] == [256, 424]
    # a fixed size still wins when given
    seen.clear()
    FP.face2paint(image, stylize, faces=[small, big], min_face=20, background="photo", size=128)
    assert seen == [(1, 3, 128, 128), (1, 3, 128, 128)]
