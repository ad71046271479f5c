"""The demo training set: photographs from package registries, their cel-shaded targets.

``animegan-edu data prepare-demo`` (see :func:`prepare_demo`) assembles, at ``--out``::

    train_photo/*.png       photographs from Debian and PyPI packages (longest side <= max_side)
    Demo/style/*.png        each photo through animegan_edu.data.dataset.cartoonize
    Demo/paired/*.png       the same renderings, named as the photos (paired guide loss)
    Demo/smooth/*.png       the renderings with their edges blurred (edge_smooth)
    val/photo/*.png         the validation photos (never trained on), VALIDATION_PHOTOS
    val/target/*.png        their renderings
    MANIFEST.json           per file: source package + version, path inside it, licence, SHA-256

Which photographs are taken (and of what kind: people, animal, food...) is data:
``animegan_edu/assets/demo_sources.json``; finding them in Debian and PyPI packages (fetched
once into a cache folder beside ``--out``), their licences and reading them is
:mod:`animegan_edu.data.demo_sources`. This module writes the set, and replaces a previous
set it wrote without ever deleting a folder it did not write.

The validation photos come from pip-installed packages only (scikit-image, scikit-learn,
matplotlib), so every user has them offline: see :mod:`animegan_edu.samples`.

Images handed around are float tensors ``(3, H, W)`` RGB in ``[0, 1]``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from animegan_edu.data.dataset import DEMO_STYLE, DataError, cartoonize, edge_smooth
from animegan_edu.data.demo_sources import (
    SOURCES_FILE,
    Photo,
    collect_photos,
    load_photo,
    pypi_version,
    validation_photos,
)
from animegan_edu.data.setfolder import (
    check_out,
    install_or_keep,
    new_set_folder,
    remove_new_set_folder,
)
from animegan_edu.files import sha256_file
from animegan_edu.imageio import save_png_atomic

__all__ = [
    "MARKER",
    "VALIDATION_LICENCES",
    "SUBFOLDERS",
    "prepare_demo",
]

#: ``MANIFEST.json["made_by"]`` of a set this module wrote; any other folder is never replaced.
MARKER = "animegan-edu data prepare-demo"
#: Licences of the pip-installed validation photos (from each package's own notes).
VALIDATION_LICENCES = {
    "astronaut": (
        "scikit-image", "skimage.data astronaut", "public domain (NASA; skimage.data docstring)",
    ),
    "coffee": (
        "scikit-image", "skimage.data coffee",
        "CC0-1.0 (photographer Rachel Michetti; skimage.data docstring)",
    ),
    "chelsea": (
        "scikit-image", "skimage.data chelsea",
        "CC0-1.0 (photographer Stefan van der Walt; skimage.data docstring)",
    ),
    "rocket": ("scikit-image", "skimage.data rocket", "public domain (SpaceX; skimage.data docstring)"),
    "stereo_motorcycle": (
        "scikit-image", "skimage.data stereo_motorcycle (left view)",
        "Middlebury stereo data set, as shipped by scikit-image (BSD-3-Clause package)",
    ),
    "china": (
        "scikit-learn", "sklearn/datasets/images/china.jpg",
        "CC-BY-2.0 (danielbuechele; sklearn datasets/images/README.txt)",
    ),
    "flower": (
        "scikit-learn", "sklearn/datasets/images/flower.jpg",
        "CC-BY-2.0 (vultilion; sklearn datasets/images/README.txt)",
    ),
    "grace_hopper": (
        "matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "public domain (US Navy photograph)",
    ),
}  # fmt: skip



def _pixel_hash(t: torch.Tensor) -> str:
    arr = (t.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes() + str(arr.shape).encode()).hexdigest()


def _save_png(t: torch.Tensor, path: Path) -> str:
    """Write ``(3, H, W)`` in ``[0, 1]`` as PNG (no timestamps: same pixels, same bytes); its SHA-256."""
    return sha256_file(save_png_atomic(t, path))


# --------------------------------------------------------------------------------------
# Assembly, and replacing a previous set without ever deleting a folder we did not write
# --------------------------------------------------------------------------------------
LEGACY_WHAT = "animegan-edu demo training set (see weights/MODEL_CARD.md)"  # format 1 (no marker)


#: How a set of ours is recognised (``MANIFEST.json`` key and value); the second is format 1.
MARKERS = [("made_by", MARKER), ("what", LEGACY_WHAT)]


def prepare_demo(
    out: str | os.PathLike,
    max_side: int = 512,
    sources: str | os.PathLike | None = None,
    packages: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
) -> Path:
    """Assemble the demo training set at ``out`` (layout in the module docstring).

    Photos (``[0, 1]``, shrunk to ``max_side``) come from the sources table; each goes
    through :func:`~animegan_edu.data.dataset.cartoonize` (``style``, ``paired``) and
    :func:`~animegan_edu.data.dataset.edge_smooth` (``smooth``). The validation photos are written
    to ``val/`` and checked never to be trained on (by source and by pixel hash).

    The set is built in a temporary folder beside ``out``. An identical existing set is
    kept untouched; a previous set of ours is moved aside and only the files it listed are
    deleted; any other existing folder is refused (:class:`~animegan_edu.data.dataset.DataError`).
    Deterministic: a rerun writes the same bytes.

    Args:
        out: the output folder.
        max_side: longest side of the stored images, in pixels.
        sources: the sources table (default :data:`SOURCES_FILE`).
        packages: folder of unpacked Debian packages to use instead of installed/fetched ones.
        cache: where fetched packages are kept (default ``.<out>-sources`` beside ``out``).
        progress: show a tqdm progress bar.

    Example:
        >>> import tempfile, json, os
        >>> d = tempfile.mkdtemp(); t = os.path.join(d, "s.json")
        >>> _ = open(t, "w").write(json.dumps({"what": "", "debian": [], "pypi": [
        ...     {"package": "scikit-image", "module": "skimage.data",
        ...      "files": [["camera", "people", "CC0-1.0"]]}]}))
        >>> out = prepare_demo(os.path.join(d, "demo"), max_side=16, sources=t, progress=False)
        >>> sorted(os.listdir(out / "train_photo"))
        ['scikit-image_camera.png']
    """
    out = Path(out)
    check_out(out, MARKERS, "a demo set")  # refuse before any work
    cache = Path(cache) if cache else out.parent / f".{out.name}-sources"
    photos = collect_photos(cache, sources, packages)
    if not photos:
        raise DataError(f"{sources or SOURCES_FILE}: no photographs listed; add some")
    val = validation_photos(max_side)
    tmp = new_set_folder(out)
    try:
        files = _write_images(tmp, photos, val, max_side, progress)
        text = json.dumps(_manifest(photos, list(val), files, max_side), indent=1, sort_keys=True) + "\n"
        (tmp / "MANIFEST.json").write_text(text)
        install_or_keep(tmp, out, files, MARKERS, "a demo set")
    except BaseException:
        with contextlib.suppress(OSError):  # the error being raised matters more
            remove_new_set_folder(tmp, out)
        raise
    return out


#: The set's folders, relative to its root.
SUBFOLDERS = (
    "train_photo",
    f"{DEMO_STYLE}/style",
    f"{DEMO_STYLE}/smooth",
    f"{DEMO_STYLE}/paired",
    "val/photo",
    "val/target",
)


def _write_images(
    tmp: Path, photos: list[Photo], val: dict[str, torch.Tensor], max_side: int, progress: bool
) -> dict[str, dict]:
    """Write every PNG of the set under ``tmp``; the manifest's record of each file, by relative path.

    Refuses (:class:`~animegan_edu.data.dataset.DataError`) a training photo that is a
    validation photo, by source or by pixel hash.
    """
    from tqdm.auto import tqdm

    val_hashes = {_pixel_hash(t): name for name, t in val.items()}
    val_sources = {(VALIDATION_LICENCES[n][0], VALIDATION_LICENCES[n][1]) for n in val}
    for sub in SUBFOLDERS:
        (tmp / sub).mkdir(parents=True)
    files: dict[str, dict] = {}

    def record(
        rel: str,
        t: torch.Tensor,
        role: str,
        package: str,
        version: str,
        path: str,
        licence: str,
        kind: str,
    ) -> None:
        files[rel] = {"sha256": _save_png(t, tmp / rel), "role": role, "package": package, "version": version,
                      "path": path, "licence": licence, "kind": kind}  # fmt: skip

    for ph in tqdm(photos, desc="demo set", unit="photo", disable=not progress):
        x = load_photo(ph, max_side)
        if _pixel_hash(x) in val_hashes or (ph.package, ph.path) in val_sources:
            raise DataError(
                f"{ph.path} ({ph.package}) is the validation photo {val_hashes.get(_pixel_hash(x))}; "
                "remove it from the sources table"
            )
        with torch.no_grad():
            style = cartoonize(x[None])
            smooth = edge_smooth(style)[0]
        src = (ph.package, ph.version, ph.path, ph.licence, ph.kind)
        record(f"train_photo/{ph.stem}.png", x, "photo", *src)
        record(f"{DEMO_STYLE}/style/{ph.stem}.png", style[0], "style (cartoonize of the photo)", *src)
        paired = "paired target (cartoonize of the photo)"
        record(f"{DEMO_STYLE}/paired/{ph.stem}.png", style[0], paired, *src)
        record(f"{DEMO_STYLE}/smooth/{ph.stem}.png", smooth, "smooth (edge_smooth of the style)", *src)
    for name, x in val.items():
        pkg, path, licence = VALIDATION_LICENCES[name]
        with torch.no_grad():
            target = cartoonize(x[None])[0]
        src = (pkg, pypi_version(pkg), path, licence, "validation")
        record(f"val/photo/{name}.png", x, "validation photo (never trained on)", *src)
        record(f"val/target/{name}.png", target, "validation target (cartoonize)", *src)
    train_sha = {v["sha256"] for k, v in files.items() if k.startswith("train_photo/")}
    assert not train_sha & {v["sha256"] for k, v in files.items() if k.startswith("val/photo/")}
    return files


def _manifest(photos: list[Photo], validation: list[str], files: dict[str, dict], max_side: int) -> dict:
    """``MANIFEST.json``: what the set is, counts by kind and licence, and every file's record."""
    return {
        "made_by": MARKER,
        "format": 2,
        "what": (
            "animegan-edu demo training set: photographs from Debian and PyPI packages "
            "(see weights/MODEL_CARD.md)"
        ),
        "max_side": max_side,
        "style": (
            "animegan_edu.data.dataset.cartoonize (procedural cel shading) of each photo; "
            "smooth = edge_smooth of it"
        ),
        "train_photos": len(photos),
        "kinds": dict(sorted(Counter(p.kind for p in photos).items())),
        "licences": dict(sorted(Counter(p.licence for p in photos).items())),
        "validation": validation,
        "files": files,
    }
