"""The sample photos every user has offline, and the one way to load them.

The photos ship inside pip-installed wheels: scikit-image (astronaut, coffee, chelsea,
rocket, stereo_motorcycle's left view, and every other ``skimage.data`` image),
scikit-learn (china, flower) and matplotlib (grace_hopper). Licences: scikit-image's
photos are public domain / CC0, scikit-learn's ``china`` and ``flower`` are CC BY 2.0
(``sklearn/datasets/images/README.txt``), matplotlib's ``grace_hopper`` is public domain;
see ``animegan_edu.data.demoset.VALIDATION_LICENCES``.

* :data:`DEFAULT_PHOTOS`: the four photos shown and measured by default (the trainer's
  sample grid, the INT8 quality check, the Studio gallery);
* :data:`VALIDATION_PHOTOS`: the eight photos never trained on (evaluation; the four
  that are not default photos calibrate INT8).

:func:`sample_photo_array` gives a photo as it is stored; :func:`sample_photo01` is the
one loader (resized with PIL's Lanczos filter, whole or centre-cropped square);
:func:`sample_photos` stacks square ones in the generator's range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from animegan_edu.imageio import pil_to_tensor01, resize_longest, to_generator_range

__all__ = ["DEFAULT_PHOTOS", "VALIDATION_PHOTOS", "sample_photo_array", "sample_photo01", "sample_photos"]

#: The default sample photos, in this order.
DEFAULT_PHOTOS: tuple[str, ...] = ("astronaut", "coffee", "chelsea", "rocket")
#: Validation photos (never trained on): the default four and four more.
VALIDATION_PHOTOS: tuple[str, ...] = (
    *DEFAULT_PHOTOS,
    "stereo_motorcycle",
    "china",
    "flower",
    "grace_hopper",
)


def sample_photo_array(name: str) -> np.ndarray:
    """One sample photo by name as stored, ``(H, W, 3)`` ``uint8`` RGB (0..255), offline.

    ``name`` is one of :data:`VALIDATION_PHOTOS` or any other ``skimage.data`` image
    (greyscale ones are repeated to three channels).

    Raises:
        ValueError: unknown name (one line, listing the known ones).

    Example:
        >>> sample_photo_array("china").shape
        (427, 640, 3)
    """
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        arr = load_sample_image(f"{name}.jpg")
    elif name == "grace_hopper":
        from matplotlib.cbook import get_sample_data

        with Image.open(get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
            arr = np.asarray(im.convert("RGB"))
    else:
        from skimage import data

        loader = getattr(data, name, None)
        if not callable(loader) or name.startswith("_"):
            raise ValueError(
                f"unknown sample photo {name!r}; "
                f"use one of {', '.join(VALIDATION_PHOTOS)} or a skimage.data image"
            )
        arr = loader()
        arr = arr[0] if isinstance(arr, tuple) else arr  # stereo_motorcycle: (left, right, disparity)
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=-1)
    return np.ascontiguousarray(arr[..., :3].astype(np.uint8))


def sample_photo01(
    name: str, size: int, *, square: bool = False, multiple: int = 4, enlarge: bool = True
) -> torch.Tensor:
    """The one sample-photo loader: ``(3, H, W)`` float32 RGB in ``[0, 1]``, Lanczos-resized.

    Args:
        name: see :func:`sample_photo_array`.
        size: ``square=False``: the longest side (:func:`~animegan_edu.imageio.resize_longest`,
            sides rounded to multiples of ``multiple``); ``square=True``: the side of the
            centred square crop.
        square: crop the centred square first.
        multiple: round the sides of a whole photo to a multiple of this (1: no rounding).
        enlarge: ``False`` leaves a photo smaller than ``size`` as it is (a whole photo).

    Example:
        >>> sample_photo01("coffee", 160).shape, sample_photo01("coffee", 16, square=True).shape
        (torch.Size([3, 108, 160]), torch.Size([3, 16, 16]))
        >>> sample_photo01("chelsea", 512, multiple=1, enlarge=False).shape
        torch.Size([3, 300, 451])
    """
    arr = sample_photo_array(name)
    h, w = arr.shape[:2]
    if square:
        s = min(h, w)
        crop = Image.fromarray(arr[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s])
        return pil_to_tensor01(crop if s == size else crop.resize((size, size), Image.Resampling.LANCZOS))
    img = Image.fromarray(arr)
    if enlarge or max(h, w) > size:
        img = resize_longest(img, size, multiple)
    return pil_to_tensor01(img)


def sample_photos(size: int = 256, names: Sequence[str] = DEFAULT_PHOTOS) -> torch.Tensor:
    """Sample photos by name, centre-cropped square (:func:`sample_photo01`), in the generator's range.

    Returns ``(N, 3, size, size)`` float32 RGB in ``[-1, 1]``. Used for the trainer's
    sample grids, INT8 calibration and its error against fp32; ``names=VALIDATION_PHOTOS``
    gives the validation set.

    Example:
        >>> sample_photos(16, ("coffee", "grace_hopper")).shape
        torch.Size([2, 3, 16, 16])
    """
    return torch.stack([to_generator_range(sample_photo01(n, size, square=True)) for n in names])
