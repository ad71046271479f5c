"""animegan_edu.samples: the default and validation photos, and the one loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from animegan_edu.imageio import pil_to_tensor01, resize_longest, to_generator_range
from animegan_edu.samples import (
    DEFAULT_PHOTOS,
    VALIDATION_PHOTOS,
    sample_photo01,
    sample_photo_array,
    sample_photos,
)


def test_photo_lists():
    assert DEFAULT_PHOTOS == ("astronaut", "coffee", "chelsea", "rocket")
    assert VALIDATION_PHOTOS[:4] == DEFAULT_PHOTOS
    assert len(set(VALIDATION_PHOTOS)) == len(VALIDATION_PHOTOS) == 8


def test_every_validation_photo_is_there_offline():
    for name in VALIDATION_PHOTOS:
        arr = sample_photo_array(name)
        assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3, name
        assert min(arr.shape[:2]) >= 256, name


def test_greyscale_photos_get_three_channels_and_unknown_names_one_line():
    arr = sample_photo_array("camera")
    assert arr.shape[2] == 3 and (arr[..., 0] == arr[..., 2]).all()
    for bad in ("no_such_photo", "_fetch"):
        with pytest.raises(ValueError) as info:
            sample_photo_array(bad)
        assert "unknown sample photo" in str(info.value) and "\n" not in str(info.value)


def test_whole_photo_is_lanczos_resized_with_sides_snapped():
    arr = sample_photo_array("chelsea")  # 300 x 451
    whole = sample_photo01("chelsea", 160)
    assert whole.dtype == torch.float32 and tuple(whole.shape) == (3, 108, 160)
    assert 0.0 <= float(whole.min()) and float(whole.max()) <= 1.0
    assert torch.equal(whole, pil_to_tensor01(resize_longest(Image.fromarray(arr), 160)))
    assert tuple(sample_photo01("chelsea", 160, multiple=1).shape) == (3, 106, 160)


def test_enlarge_false_leaves_a_small_photo_as_it_is():
    arr = sample_photo_array("chelsea")
    kept = sample_photo01("chelsea", 512, multiple=1, enlarge=False)
    assert torch.equal(kept, torch.from_numpy(arr.copy()).permute(2, 0, 1).float() / 255)
    assert tuple(sample_photo01("chelsea", 512).shape) == (3, 340, 512)  # enlarged by default
    assert tuple(sample_photo01("chelsea", 200, multiple=1, enlarge=False).shape) == (3, 133, 200)


def test_square_is_the_centre_crop():
    arr = sample_photo_array("chelsea")
    full = sample_photo01("chelsea", 300, square=True)  # the crop's own size: not resampled
    assert torch.equal(full, torch.from_numpy(arr[:, 75:375].copy()).permute(2, 0, 1).float() / 255)
    small = sample_photo01("chelsea", 64, square=True)
    crop = Image.fromarray(np.ascontiguousarray(arr[:, 75:375]))
    assert torch.equal(small, pil_to_tensor01(crop.resize((64, 64), Image.Resampling.LANCZOS)))


def test_sample_photos_are_the_square_loader_in_generator_range():
    x = sample_photos(32, ("coffee", "grace_hopper"))
    assert x.shape == (2, 3, 32, 32) and x.dtype == torch.float32
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    assert torch.equal(x[1], to_generator_range(sample_photo01("grace_hopper", 32, square=True)))
    assert sample_photos(16).shape == (len(DEFAULT_PHOTOS), 3, 16, 16)
