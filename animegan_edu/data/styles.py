"""Style sets of real artwork: ``animegan-edu data prepare-styles``.

Introduced in ``notebooks/09_learn_a_style.ipynb``. Which pictures make each set is data:
``animegan_edu/assets/style_sources.json`` (:data:`STYLE_SOURCES_FILE`): per set, folders
inside Debian packages and filters (smallest side, opaque fraction, saturation). The
packages are used where installed, or fetched once with ``apt-get download`` into a cache
folder (:func:`animegan_edu.data.demo_sources.debian_root`). :func:`prepare_styles` writes::

    <out>/<Set>/style/*.png     the artwork, longest side <= max_side (transparent parts on white)
    <out>/<Set>/smooth/*.png    the same with their edges blurred (edge_smooth), for the discriminator
    <out>/MANIFEST.json         per file: set, package, version, path inside it, licence, SHA-256

A folder of the user's own pictures becomes a set the same way (:func:`prepare_user_style`,
``--from DIR --name NAME``). Training photos are not copied: a fine-tune reads them from the
demo set (``photo_root`` in the config). A rerun with the same packages writes the same
bytes; a previous set of ours is replaced without touching anything else
(:mod:`animegan_edu.data.setfolder`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from animegan_edu.data.dataset import IMAGE_EXTENSIONS, DataError, edge_smooth
from animegan_edu.data.demo_sources import copyright_licence, debian_root
from animegan_edu.data.setfolder import (
    check_out,
    install_or_keep,
    new_set_folder,
    our_manifest,
    remove_new_set_folder,
)
from animegan_edu.files import MAX_RECORD_BYTES, read_regular, sha256_file
from animegan_edu.imageio import ImageLoadError, load_image, open_image, resize_longest, save_png_atomic

__all__ = [
    "STYLE_SOURCES_FILE",
    "STYLES_MARKER",
    "StyleImage",
    "load_style_sources",
    "style_set_names",
    "collect_style_images",
    "trim_to_drawing",
    "prepare_styles",
    "prepare_user_style",
]

#: The table of style sets (packages, folders, filters); data, edited by hand.
STYLE_SOURCES_FILE = Path(__file__).resolve().parents[1] / "assets" / "style_sources.json"
#: ``MANIFEST.json["made_by"]`` of a styles folder this module wrote.
STYLES_MARKER = "animegan-edu data prepare-styles"
_MARKERS = [("made_by", STYLES_MARKER)]
#: Most images a set may hold (a bound on what a sources table or a user folder makes us read).
MAX_SET_IMAGES = 2000


@dataclass(frozen=True)
class StyleImage:
    """One picture of a style set: where it comes from and under which licence."""

    set: str  #: the set's name (its folder)
    stem: str  #: output file name without ``.png``
    package: str  #: Debian package (or ``user``)
    version: str  #: package version
    path: str  #: path inside the package (or the user's file name)
    licence: str
    file: Path  #: the file to read
    trim: bool = False  #: crop to the drawing (:func:`trim_to_drawing`; the set's ``trim_to_drawing``)


def load_style_sources(path: str | os.PathLike | None = None) -> dict:
    """The style table (``style_sources.json``), checked for its shape.

    Example:
        >>> [s["name"] for s in load_style_sources()["sets"]]
        ['Wesnoth', 'Hedgewars', 'Clipart']
    """
    path = Path(path or STYLE_SOURCES_FILE)
    try:
        table = json.loads(read_regular(path, MAX_RECORD_BYTES, "style sources table").decode())
        for s in table["sets"]:
            assert isinstance(s["name"], str) and s["name"].isidentifier()
            assert int(s["limit"]) >= 1 and int(s["min_side"]) >= 1
            assert isinstance(s.get("trim_to_drawing", False), bool)
            for src in s["sources"]:
                assert isinstance(src["package"], str) and all(isinstance(d, str) for d in src["dirs"])
                assert ("licence" in src) == ("licence_phrase" in src)  # a named licence is checked
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise DataError(f"{path}: not a valid style sources table ({type(exc).__name__}); fix or restore it")
    return table


def style_set_names(path: str | os.PathLike | None = None) -> list[str]:
    """Names of the bundled style sets, in table order.

    Example:
        >>> style_set_names()
        ['Wesnoth', 'Hedgewars', 'Clipart']
    """
    return [s["name"] for s in load_style_sources(path)["sets"]]


def _licence(src: dict, root: Path, rel: str) -> str:
    """The licence of ``rel`` in package ``src["package"]``, checked against its copyright file."""
    copyright_file = root / "usr/share/doc" / src["package"] / "copyright"
    if "licence" in src:  # a free-text copyright file: the table names the licence and a phrase
        text = read_regular(copyright_file, MAX_RECORD_BYTES, "copyright file").decode("utf-8", "replace")
        if src["licence_phrase"] not in " ".join(text.split()):
            raise DataError(
                f"{copyright_file}: does not say '{src['licence_phrase']}'; the package's licence may have "
                f"changed: check it and fix {STYLE_SOURCES_FILE.name}"
            )
        return str(src["licence"])
    if "source_dir" in src:  # where the file sits in the source tree, as the copyright file names it
        inside = rel.split("/Data/", 1)[-1] if "/Data/" in rel else rel
        return copyright_licence(copyright_file, f"{src['source_dir']}/{inside}")
    return copyright_licence(copyright_file, rel)


def _passes(file: Path, s: dict) -> bool:
    """Whether an image file passes set ``s``'s filters (size, opaque fraction, saturation)."""
    try:
        with open_image(file) as im:
            if min(im.size) < int(s["min_side"]):
                return False
            im.draft("RGB", (512, 512))
            small = im.convert("RGBA").reduce(max(1, min(im.size) // 128))
    except ImageLoadError:
        return False
    rgba = np.asarray(small, dtype=np.float32) / 255
    opaque = rgba[..., 3] > 250 / 255
    if opaque.mean() < float(s.get("min_opaque", 0.0)):
        return False
    rgb = rgba[..., :3][opaque] if opaque.any() else rgba[..., :3].reshape(-1, 3)
    saturation = (rgb.max(-1) - rgb.min(-1)) / np.maximum(rgb.max(-1), 1e-6)
    return float(saturation.mean()) >= float(s.get("min_saturation", 0.0))


def _spread(items: list, limit: int) -> list:
    """At most ``limit`` of ``items``, spread evenly over the list (all of them if fewer)."""
    if len(items) <= limit:
        return items
    return [items[(i * len(items)) // limit] for i in range(limit)]


def collect_style_images(
    cache: str | os.PathLike,
    sources: str | os.PathLike | None = None,
    sets: list[str] | None = None,
) -> list[StyleImage]:
    """The pictures of every set (or of ``sets``), fetching packages where needed.

    Raises:
        DataError: a package cannot be had, a licence cannot be confirmed, or a set ends up
            with no pictures; one line saying what to do.
    """
    out: list[StyleImage] = []
    for s in load_style_sources(sources)["sets"]:
        if sets is not None and s["name"] not in sets:
            continue
        kept: list[tuple[Path, dict, Path, str, str]] = []
        for src in s["sources"]:
            rules = {**s, **src}  # a source may set its own filters and limit
            root, version = debian_root(src["package"], Path(cache), src["dirs"])
            found = []
            for d in src["dirs"]:
                for file in sorted((root / d).rglob("*")):
                    if file.is_file() and not file.is_symlink() and file.suffix.lower() in IMAGE_EXTENSIONS:
                        found.append((file, src, root, version, str(file.relative_to(root))))
            kept += _spread([f for f in found if _passes(f[0], rules)], int(rules["limit"]))
        kept = _spread(kept, min(int(s["limit"]), MAX_SET_IMAGES))
        if not kept:
            raise DataError(f"style set {s['name']}: no picture passes its filters; check the sources table")
        for i, (file, src, root, version, rel) in enumerate(kept):
            stem = f"{i:03d}-{_slug(Path(rel).stem)}"
            lic, trim = _licence(src, root, rel), bool(s.get("trim_to_drawing", False))
            out.append(StyleImage(s["name"], stem, src["package"], version, rel, lic, file, trim))
    return out


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(filter(None, keep.split("-")))[:40]


def trim_to_drawing(im: Image.Image, margin: int = 8, white: int = 245) -> Image.Image:
    """``im`` cropped to its drawing: the box around every pixel not near white, plus ``margin`` px.

    Clip art drawn on an empty white page would otherwise teach (and be scored by) the page:
    a third of such a set's 32-px patches are plain white. A pixel counts as page when all
    three channels are at least ``white`` (of 255); a picture that is all page is kept whole.

    Example:
        >>> page = Image.new("RGB", (100, 80), (255, 255, 255))
        >>> page.paste((200, 30, 30), (40, 30, 60, 50))  # a 20 x 20 red square
        >>> trim_to_drawing(page).size, trim_to_drawing(page, margin=0).size
        ((36, 36), (20, 20))
    """
    a = np.asarray(im.convert("RGB"))
    ys, xs = np.nonzero(a.min(-1) < white)
    if len(ys) == 0:
        return im
    left, top = max(int(xs.min()) - margin, 0), max(int(ys.min()) - margin, 0)
    right, bottom = min(int(xs.max()) + margin + 1, im.width), min(int(ys.max()) + margin + 1, im.height)
    return im.crop((left, top, right, bottom))


def _load(file: Path, max_side: int, trim: bool = False) -> Image.Image:
    """An RGB picture (transparent parts on white), longest side at most ``max_side``, maybe trimmed."""
    try:
        im = load_image(file)
    except ImageLoadError as exc:
        raise DataError(f"{exc}; delete the cache folder and rerun") from None
    im = resize_longest(im, min(max_side, max(im.size)), multiple=1) if max(im.size) > max_side else im
    return trim_to_drawing(im) if trim else im


def _write_set(tmp: Path, images: list[StyleImage], max_side: int, progress: bool) -> dict[str, dict]:
    """Write ``style/`` and ``smooth/`` PNGs under ``tmp``; the manifest record of each, by relative path."""
    from tqdm.auto import tqdm

    files: dict[str, dict] = {}
    for im in tqdm(images, desc="style sets", unit="image", disable=not progress):
        pic = _load(im.file, max_side, im.trim)
        x = torch.from_numpy(np.asarray(pic, dtype=np.uint8).copy()).permute(2, 0, 1).float() / 255
        with torch.no_grad():
            smooth = edge_smooth(x[None])[0]
        src = {"set": im.set, "package": im.package, "version": im.version, "path": im.path,
               "licence": im.licence}  # fmt: skip
        for sub, t in (("style", x), ("smooth", smooth)):
            rel = f"{im.set}/{sub}/{im.stem}.png"
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            files[rel] = {**src, "role": sub, "sha256": sha256_file(save_png_atomic(t, tmp / rel))}
    return files


def _finish(out: Path, files: dict[str, dict], tmp: Path, max_side: int, old: dict | None) -> Path:
    """Write the manifest (keeping sets of an earlier run not rebuilt now) and install ``tmp`` at ``out``."""
    sets = sorted({r["set"] for r in files.values()})
    if old:  # sets built earlier and not rebuilt now are kept, their files copied over
        for rel, rec in old["files"].items():
            if rec.get("set") not in sets and (out / rel).is_file():
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(out / rel, tmp / rel)
                files[rel] = rec
    manifest = {
        "made_by": STYLES_MARKER,
        "format": 1,
        "what": "animegan-edu style sets: artwork from Debian packages or a user's folder (notebook 09)",
        "max_side": max_side,
        "sets": {
            s: sum(1 for r in files.values() if r["set"] == s and r["role"] == "style")
            for s in sorted({r["set"] for r in files.values()})
        },  # fmt: skip
        "licences": dict(
            sorted(Counter(r["licence"] for r in files.values() if r["role"] == "style").items())
        ),
        "files": dict(sorted(files.items())),
    }
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    (tmp / "MANIFEST.json").write_text(text)
    return install_or_keep(tmp, out, files, _MARKERS, "a styles folder")


def _build(out: Path, images: list[StyleImage], max_side: int, progress: bool) -> Path:
    old = our_manifest(out, _MARKERS)
    tmp = new_set_folder(out)
    try:
        files = _write_set(tmp, images, max_side, progress)
        return _finish(out, files, tmp, max_side, old)
    except BaseException:
        with contextlib.suppress(OSError):  # the error being raised matters more
            remove_new_set_folder(tmp, out)
        raise


def prepare_styles(
    out: str | os.PathLike = "data/styles",
    sets: list[str] | None = None,
    max_side: int = 512,
    sources: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
) -> Path:
    """Build the style sets of the sources table (or only ``sets``) at ``out``; see the module docstring.

    Args:
        out: the styles folder (an existing one must be ours, or empty).
        sets: names of the sets to (re)build; others already in ``out`` are kept.
        max_side: longest side of the stored pictures.
        sources: the table (default :data:`STYLE_SOURCES_FILE`).
        cache: where fetched packages are kept (default ``.<out>-sources`` beside ``out``).
        progress: show a tqdm progress bar.

    Raises:
        DataError: an unknown set, a package that cannot be had, a foreign ``out``.
    """
    out = Path(out)
    check_out(out, _MARKERS, "a styles folder")  # refuse before any work
    known = style_set_names(sources)
    unknown = [s for s in sets or [] if s not in known]
    if unknown:
        raise DataError(f"unknown style set {unknown[0]!r}; the sets are {', '.join(known)}")
    cache = Path(cache) if cache else out.parent / f".{out.name}-sources"
    images = collect_style_images(cache, sources, sets)
    return _build(out, images, max_side, progress)


def prepare_user_style(
    folder: str | os.PathLike,
    name: str,
    out: str | os.PathLike = "data/styles",
    max_side: int = 512,
    licence: str = "the user's own (not redistributed)",
    progress: bool = True,
) -> Path:
    """Make a style set ``name`` of the pictures in ``folder`` (not recursive), beside the bundled sets.

    Example:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp(); _ = os.makedirs(os.path.join(d, "art"))
        >>> Image.new("RGB", (40, 30), (200, 30, 30)).save(os.path.join(d, "art", "a.png"))
        >>> out = prepare_user_style(
        ...     os.path.join(d, "art"), "Mine", os.path.join(d, "styles"), progress=False)
        >>> sorted(os.listdir(out / "Mine"))
        ['smooth', 'style']
    """
    folder, out = Path(folder), Path(out)
    if not name.isidentifier():
        raise DataError(f"style name {name!r}: use letters, digits and _ only (it names a folder)")
    if name in style_set_names():
        raise DataError(f"style name {name!r} is a bundled set; choose another name for your pictures")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder; pass a folder of pictures (PNG, JPEG, WebP, BMP)")
    check_out(out, _MARKERS, "a styles folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise DataError(f"{folder}: no pictures ({', '.join(IMAGE_EXTENSIONS)}); add some and rerun")
    if len(files) > MAX_SET_IMAGES:
        raise DataError(f"{folder}: {len(files)} pictures, more than {MAX_SET_IMAGES}; choose fewer")
    images = [
        StyleImage(name, f"{i:03d}-{_slug(p.stem)}", "user", "-", p.name, licence, p)
        for i, p in enumerate(files)
    ]
    return _build(out, images, max_side, progress)
