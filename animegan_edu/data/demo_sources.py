"""Where the demo training set's photographs come from, and reading them.

Introduced in ``notebooks/03_losses_and_data.ipynb`` (section "The demo set").

Which photographs are taken (and of what kind: people, animal, food...) is data:
``animegan_edu/assets/demo_sources.json`` (:data:`SOURCES_FILE`, read by
:func:`load_sources`). :func:`collect_photos` turns it into :class:`Photo` records: Debian
packages are used where installed, or fetched once with ``apt-get download`` and unpacked
with ``dpkg-deb -x`` into a cache folder; the licence of each file is read from the
package's DEP-5 copyright file (:func:`copyright_licence`). PyPI photos are
``skimage.data`` images, through the one sample-photo loader (:mod:`animegan_edu.samples`).

:func:`load_photo` reads one photograph (cut-outs composited on a plain background, the
longest side shrunk to ``max_side``); :func:`validation_photos` reads the validation photos,
which come from pip-installed packages only, so every user has them offline. The set itself
is written by :func:`animegan_edu.data.demoset.prepare_demo`.

Images handed around are float tensors ``(3, H, W)`` RGB in ``[0, 1]``.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from animegan_edu.data.dataset import DataError
from animegan_edu.files import MAX_RECORD_BYTES, read_regular
from animegan_edu.imageio import open_image
from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01, sample_photo_array

__all__ = [
    "SOURCES_FILE",
    "VERSION_FILE",
    "CUTOUT_BACKGROUND",
    "Photo",
    "load_sources",
    "copyright_licence",
    "collect_photos",
    "pypi_version",
    "load_photo",
    "validation_photos",
    "debian_root",
]

#: The table of photographs (package, folder, file, kind); data, edited by hand.
SOURCES_FILE = Path(__file__).resolve().parents[1] / "assets" / "demo_sources.json"
#: Plain background for cut-out photos (Tux Paint stamps have transparency).
CUTOUT_BACKGROUND = (188, 188, 188)

@dataclass(frozen=True)
class Photo:
    """One training photograph: where it comes from and what it shows."""

    stem: str  #: output file name without ``.png``
    package: str  #: Debian or PyPI package name
    version: str  #: package version
    path: str  #: path inside the package (Debian) or ``module name`` (PyPI)
    licence: str  #: licence string (Debian: from its copyright file)
    kind: str  #: people, animal, food, vehicle, nature, sky_night, indoor, street_building, object
    file: Path | None = None  #: the file to read (Debian)
    cutout: bool = False  #: transparent cut-out: composite on a plain background


def load_sources(path: str | os.PathLike | None = None) -> dict:
    """The table of photographs (``demo_sources.json``), checked for its shape.

    Example:
        >>> sorted(load_sources())
        ['debian', 'pypi', 'what']
    """
    path = Path(path) if path else SOURCES_FILE
    try:
        table = json.loads(read_regular(path, MAX_RECORD_BYTES, "sources table").decode())
        for group in table["debian"] + table["pypi"]:
            assert isinstance(group["package"], str) and all(len(f) >= 2 for f in group["files"])
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise DataError(
            f"{path}: not a demo sources table ({type(exc).__name__}: {exc}); restore it from git"
        ) from None
    return table


# --------------------------------------------------------------------------------------
# Debian packages: find or fetch, version, licence per file
# --------------------------------------------------------------------------------------
def copyright_licence(copyright_file: str | os.PathLike, path: str, exact: bool = False) -> str:
    """The ``License:`` of ``path`` in a DEP-5 (machine-readable) Debian copyright file.

    As DEP-5 says, the last ``Files:`` stanza whose pattern matches wins. Patterns are
    relative to the source tree: with ``exact``, ``path`` is a source-tree path and must
    match a pattern as a whole; otherwise ``path`` is an installed path and a pattern
    matches a trailing part of it, or names the same file.

    Example:
        >>> import tempfile, os
        >>> f = os.path.join(tempfile.mkdtemp(), "copyright")
        >>> _ = open(f, "w").write(
        ...     "Files: *\\nLicense: GPL-2+\\n\\nFiles: nature/*.jpg\\nLicense: CC0-1.0\\n")
        >>> copyright_licence(f, "usr/share/backgrounds/nature/a.jpg")
        'CC0-1.0'
    """
    try:
        text = read_regular(copyright_file, MAX_RECORD_BYTES, "copyright file").decode(errors="replace")
    except OSError:
        raise DataError(
            f"{copyright_file}: package copyright file missing; reinstall the package or delete its cache "
            "folder"
        ) from None
    parts = path.split("/")
    suffixes = [path] if exact else ["/".join(parts[i:]) for i in range(len(parts))]
    licence = None
    for stanza in text.split("\n\n"):
        files, lic, key = [], None, None
        for line in stanza.splitlines():
            if line.startswith("Files:"):
                files, key = line[6:].split(), "files"
            elif line.startswith("License:"):
                lic, key = line[8:].strip(), None
            elif line[:1] in (" ", "\t") and key == "files":
                files += line.split()
            elif line.strip():
                key = None
        if not files or not lic:
            continue
        for pat in files:
            base = pat.rsplit("/", 1)[-1]
            if any(fnmatch.fnmatchcase(s, pat) for s in suffixes) or (
                not exact and not any(c in base for c in "*?[") and base == parts[-1]
            ):
                licence = lic
    if licence is None:
        raise DataError(
            f"{copyright_file}: no Files: stanza covers {path}; check the package's copyright file"
        )
    return licence


#: Marks a package folder unpacked by this module (it holds the package version).
VERSION_FILE = ".animegan-edu-version"


def _unpacked_by_us(root: Path) -> bool:
    """Whether ``root`` is a real folder (not a link) holding our version marker as a real file."""
    marker = root / VERSION_FILE
    return root.is_dir() and not root.is_symlink() and marker.is_file() and not marker.is_symlink()


def debian_root(package: str, cache: Path, needed: Sequence[str]) -> tuple[Path, str]:
    """Root folder holding ``package``'s files (``/`` if installed) and its version."""
    if all(Path("/", p).exists() for p in needed):
        try:
            version = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", package], check=True, capture_output=True, text=True
            ).stdout.strip()
            return Path("/"), version
        except (OSError, subprocess.CalledProcessError):
            pass  # files there but not from this package: use the package itself
    root = cache / package
    if (root / VERSION_FILE).exists() and all((root / p).exists() for p in needed):
        return root, read_regular(root / VERSION_FILE, MAX_RECORD_BYTES, "version file").decode().strip()
    debdir = cache / "debs"
    debdir.mkdir(parents=True, exist_ok=True)
    try:
        for attempt in (0, 1):
            try:
                subprocess.run(["apt-get", "download", package], cwd=debdir, check=True, capture_output=True)
                break
            except subprocess.CalledProcessError:
                if attempt:
                    raise
                subprocess.run(
                    ["apt-get", "update", "-qq"], check=True, capture_output=True
                )  # no package lists yet
        deb = sorted(debdir.glob(f"{package}_*.deb"))[-1]
        version = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
        ).stdout.strip()
        if (root.exists() or root.is_symlink()) and not _unpacked_by_us(root):
            raise DataError(
                f"{root}: exists but was not unpacked by animegan-edu (no {VERSION_FILE}); "
                "move it away or pass another --cache folder"
            )
        unpack = Path(
            tempfile.mkdtemp(prefix=f".{package}-", dir=cache)
        )  # complete before it takes root's place
        try:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(unpack)], check=True, capture_output=True)
            (unpack / VERSION_FILE).write_text(version + "\n")
            if root.exists() or root.is_symlink():  # an older unpacking: replaced only if ours
                if not _unpacked_by_us(root):
                    raise DataError(f"{root}: was not unpacked by animegan-edu; move it away")
                shutil.rmtree(root)  # a real folder (not a link) with our version marker (a real file)
            os.replace(unpack, root)
        finally:
            if unpack.exists():
                shutil.rmtree(unpack, ignore_errors=True)  # our own temporary folder
    except (OSError, subprocess.CalledProcessError, IndexError) as exc:
        raise DataError(
            f"could not get Debian's {package} package (apt-get download {package}: {exc}); "
            f"install it with 'apt-get install {package}' or pass --packages DIR with {package}/ unpacked "
            "in it"
        ) from None
    return root, version


def _largest(folder: Path) -> Path:
    """Of a Plasma wallpaper's ``contents/images/WxH.ext`` files, the one with most pixels."""

    def pixels(p: Path) -> int:
        try:
            w, h = p.stem.split("x")
            return int(w) * int(h)
        except ValueError:
            return -1

    images = sorted(folder.glob("contents/images/*"), key=lambda p: (pixels(p), p.name))
    if not images:
        raise DataError(
            f"{folder}: no contents/images/ in this wallpaper; check the package or the sources table"
        )
    return images[-1]


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(filter(None, keep.split("-")))


def collect_photos(
    cache: str | os.PathLike,
    sources: str | os.PathLike | None = None,
    packages: str | os.PathLike | None = None,
) -> list[Photo]:
    """Every training photograph of the sources table, fetched where needed, sorted by stem.

    Args:
        cache: folder for downloaded ``.deb`` files and their unpacked trees.
        sources: the sources table (default :data:`SOURCES_FILE`).
        packages: a folder with one sub-folder per Debian package, already unpacked (with
            a ``.animegan-edu-version`` file); used instead of installed or fetched ones.

    Example:
        >>> import tempfile, json, os
        >>> t = os.path.join(tempfile.mkdtemp(), "s.json")
        >>> _ = open(t, "w").write(json.dumps({"what": "", "debian": [], "pypi": [
        ...     {"package": "scikit-image", "module": "skimage.data",
        ...      "files": [["camera", "people", "CC0-1.0"]]}]}))
        >>> [p.stem for p in collect_photos(tempfile.mkdtemp(), t)]
        ['scikit-image_camera']
    """
    table = load_sources(sources)
    photos: list[Photo] = []
    for group in table["debian"]:
        pkg, layout = group["package"], group.get("layout", "plain")
        base = Path(group["dir"])
        rels = [str(base / name) for name, *_ in group["files"]]
        if packages is not None:
            root = Path(packages) / pkg
            if not root.is_dir():
                raise DataError(
                    f"{root}: package folder missing; unpack {pkg} there (dpkg-deb -x) or drop --packages"
                )
            vfile = root / VERSION_FILE
            version = (
                read_regular(vfile, MAX_RECORD_BYTES, "version file").decode().strip()
                if vfile.exists()
                else "unknown"
            )
        else:
            root, version = debian_root(pkg, Path(cache), rels if layout != "largest" else [str(base)])
        copyright_file = root / "usr/share/doc" / pkg / "copyright"
        for name, kind, *_ in group["files"]:
            file = root / base / name
            if layout == "largest":
                file = _largest(file)
            rel = str(file.relative_to(root))
            if not file.is_file():
                raise DataError(
                    f"{file}: listed in the sources table but not in {pkg} {version}; fix {SOURCES_FILE.name}"
                )
            stem = f"{pkg}_{_slug(str(Path(name).with_suffix('')))}"
            if (
                "source_dir" in group
            ):  # where the file sits in the source tree, as the copyright file names it
                licence = copyright_licence(copyright_file, f"{group['source_dir']}/{name}", exact=True)
            else:
                licence = copyright_licence(copyright_file, rel)
            photos.append(Photo(stem, pkg, version, rel, licence, kind, file, layout == "cutout"))
    for group in table["pypi"]:
        pkg = group["package"]
        module = importlib.import_module(group["module"])
        version = pypi_version(pkg)
        for name, kind, licence in group["files"]:
            if name in VALIDATION_PHOTOS:
                raise DataError(
                    f"{SOURCES_FILE.name}: {name} is a validation photo; remove it from the training sources"
                )
            photos.append(
                Photo(f"{pkg}_{_slug(name)}", pkg, version, f"{group['module']} {name}", licence, kind, None)
            )
            getattr(module, name)  # fail here, not halfway, if the name is wrong
    stems = Counter(p.stem for p in photos)
    if any(n > 1 for n in stems.values()):
        raise DataError(
            f"sources table: duplicate names {sorted(s for s, n in stems.items() if n > 1)}; rename them"
        )
    return sorted(photos, key=lambda p: p.stem)


def pypi_version(package: str) -> str:
    """The installed version of the PyPI ``package``, or ``"unknown"``.

    Example:
        >>> pypi_version("no-such-package-animegan-edu")
        'unknown'
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------------------
# Reading and resizing
# --------------------------------------------------------------------------------------
def _shrink(im: Image.Image, max_side: int) -> Image.Image:
    if max(im.size) > max_side:
        s = max_side / max(im.size)
        im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.Resampling.LANCZOS)
    return im


def _cutout(im: Image.Image) -> Image.Image:
    """A transparent stamp cropped to its visible part plus a margin, on a plain background."""
    rgba = im.convert("RGBA")
    box = rgba.getchannel("A").point(lambda a: 255 if a > 16 else 0).getbbox() or (0, 0, *rgba.size)
    rgba = rgba.crop(box)
    m = max(8, round(0.08 * max(rgba.size)))
    canvas = Image.new("RGBA", (rgba.width + 2 * m, rgba.height + 2 * m), CUTOUT_BACKGROUND + (255,))
    canvas.alpha_composite(rgba, (m, m))
    return canvas.convert("RGB")


def load_photo(photo: Photo, max_side: int = 512) -> torch.Tensor:
    """One photograph as ``(3, H, W)`` float RGB in ``[0, 1]``, longest side ``<= max_side``.

    Example:
        >>> p = Photo("x", "scikit-image", "0", "skimage.data camera", "CC0-1.0", "people")
        >>> load_photo(p, 64).shape
        torch.Size([3, 64, 64])
    """
    try:
        if photo.file is None:
            im = Image.fromarray(_pypi_array(photo.path))
        else:
            with open_image(photo.file) as src:
                src.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale
                src = ImageOps.exif_transpose(src)
                has_alpha = src.mode in ("RGBA", "LA", "PA") or (
                    src.mode == "P" and "transparency" in src.info
                )
                im = _cutout(src) if (photo.cutout or has_alpha) else src.convert("RGB")
        arr = np.asarray(_shrink(im, max_side), dtype=np.uint8).copy()
    except (OSError, ValueError) as exc:  # ImageLoadError is a ValueError naming the file
        raise DataError(
            f"{photo.file or photo.path}: cannot read image ({exc}); delete the cache folder and rerun"
        ) from None
    return torch.from_numpy(arr).permute(2, 0, 1).float() / 255.0


def _pypi_array(path: str) -> np.ndarray:
    """``"skimage.data NAME"`` as ``(H, W, 3)`` uint8, through the one sample-photo loader."""
    module, name = path.split()
    if module != "skimage.data":
        raise DataError(f"{path}: only skimage.data photos can be named as PyPI sources")
    return sample_photo_array(name)


def validation_photos(max_side: int = 512) -> dict[str, torch.Tensor]:
    """The :data:`VALIDATION_PHOTOS` as ``(3, H, W)`` in ``[0, 1]``, longest side ``<= max_side``.

    Example:
        >>> sorted(validation_photos(32))[:2]
        ['astronaut', 'chelsea']
    """
    return {name: sample_photo01(name, max_side, multiple=1, enlarge=False) for name in VALIDATION_PHOTOS}
