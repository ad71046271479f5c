"""Installing a data set folder the toolkit wrote, without ever deleting one it did not.

``prepare-demo`` and ``prepare-styles`` build their set in a temporary folder beside
``out`` and put it in place with :func:`install_set`. A set the toolkit wrote carries a
``MANIFEST.json`` whose ``made_by`` names the command (:func:`our_manifest`); any other
existing, non-empty folder is refused (:func:`check_out`), an empty one is filled and kept,
and a previous set of ours is moved aside, after which only the files its manifest lists are
deleted (what a user added is kept, and said).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from animegan_edu.data.dataset import DataError
from animegan_edu.files import MAX_RECORD_BYTES, read_regular

__all__ = ["our_manifest", "check_out", "remove_listed", "install_set", "install_or_keep"]


def our_manifest(out: Path, markers: Iterable[tuple[str, str]]) -> dict | None:
    """The manifest of ``out`` if one of ``markers`` (``(key, value)`` pairs) says the toolkit wrote it.

    Example:
        >>> import tempfile
        >>> our_manifest(Path(tempfile.mkdtemp()), [("made_by", "x")]) is None
        True
    """
    try:
        manifest = json.loads(read_regular(out / "MANIFEST.json", MAX_RECORD_BYTES, "manifest").decode())
    except (OSError, ValueError):
        return None
    if not (isinstance(manifest, dict) and isinstance(manifest.get("files"), dict)):
        return None
    return manifest if any(manifest.get(k) == v for k, v in markers) else None


def check_out(out: Path, markers: list[tuple[str, str]], what: str) -> None:
    """Refuse (one line) an ``out`` that exists, is not empty and is not a set of ours.

    Example:
        >>> import tempfile
        >>> check_out(Path(tempfile.mkdtemp()) / "new", [("made_by", "x")], "a set")
    """
    if not out.exists() or (out.is_dir() and not any(out.iterdir())) or our_manifest(out, markers):
        return
    raise DataError(
        f"{out}: exists and is not {what} made by '{markers[0][1]}' (no MANIFEST.json of ours); "
        "nothing was changed: pass another --out, or move that folder away yourself"
    )


def remove_listed(folder: Path, manifest: dict) -> list[Path]:
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


def install_set(tmp: Path, out: Path, markers: list[tuple[str, str]], what: str) -> None:
    """Put the finished set ``tmp`` at ``out``; a previous set of ours is moved aside first."""
    check_out(out, markers, what)
    if not out.exists():
        os.replace(tmp, out)
        return
    if not any(out.iterdir()):  # an empty folder (the user's): fill it, never remove it
        for entry in sorted(tmp.iterdir()):
            os.replace(entry, out / entry.name)
        tmp.rmdir()
        return
    old = our_manifest(out, markers)
    assert old is not None  # check_out
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
    os.replace(out, aside / out.name)
    os.replace(tmp, out)
    left = remove_listed(aside / out.name, old)
    if left:
        print(f"{markers[0][1]}: kept {len(left)} file(s) you had added to the old set in {aside / out.name}")
    else:
        aside.rmdir()


def new_set_folder(out: Path) -> Path:
    """A fresh hidden folder beside ``out`` (``.NAME-new-XXXX``) to build a new set in.

    Example:
        >>> import tempfile
        >>> t = new_set_folder(Path(tempfile.mkdtemp()) / "styles")
        >>> t.name.startswith(".styles-new-") and t.is_dir()
        True
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))


def remove_new_set_folder(tmp: Path, out: Path) -> None:
    """Remove ``tmp``, a :func:`new_set_folder` of ``out``; anything else is refused and left in place.

    Raises:
        DataError: ``tmp`` is not a real folder named like one of ``out``'s new-set folders beside it.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "styles"
        >>> t = new_set_folder(out); remove_new_set_folder(t, out); t.exists()
        False
        >>> remove_new_set_folder(out.parent, out)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        animegan_edu.data.dataset.DataError: ...: not a temporary folder of animegan-edu for ...; left ...
    """
    ours = tmp.parent == out.parent and tmp.name.startswith(f".{out.name}-new-") and not tmp.is_symlink()
    if not ours:
        raise DataError(f"{tmp}: not a temporary folder of animegan-edu for {out}; left in place")
    if tmp.exists():
        shutil.rmtree(tmp)


def install_or_keep(
    tmp: Path, out: Path, files: Iterable[str], markers: list[tuple[str, str]], what: str
) -> Path:
    """Install the finished set ``tmp`` at ``out``, unless ``out`` already holds the same set.

    The same set: an identical ``MANIFEST.json`` and every listed file present. Then ``out`` is
    left untouched and ``tmp`` (the caller's :func:`new_set_folder`) is removed.
    """
    text = read_regular(tmp / "MANIFEST.json", MAX_RECORD_BYTES, "manifest").decode()
    old = out / "MANIFEST.json"
    same = old.is_file() and read_regular(old, MAX_RECORD_BYTES, "manifest").decode() == text
    if same and all((out / r).is_file() for r in files):
        remove_new_set_folder(tmp, out)  # the identical set stays as it is
        return out
    install_set(tmp, out, markers, what)
    return out
