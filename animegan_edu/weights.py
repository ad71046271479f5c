"""Pretrained AnimeGANv2 generator weights: registry, download, verification, safe loading.

Introduced in ``notebooks/01_generator.ipynb`` (section "Loading weights").

The registry :class:`AnimeGANv2Weights` follows torchvision's pattern: one enum entry per
weight file with its download address(es) and a ``meta`` dict (what it is for, licence,
training data, parameter count, file size, integrity hash, a doc line).

* ``FACE_PAINT_512_V2``, ``FACE_PAINT_512_V1``, ``CELEBA_DISTILL``, ``PAPRIKA``: the
  public PyTorch state dicts (``bryandlee/animegan2-pytorch``), checked against their
  git-blob SHA-1 (``sha1(b"blob <size>\\0" + data)``, the hash GitHub shows).
* ``SHINKAI``, ``HAYAO``, ``PAPRIKA_TF``: the original TensorFlow checkpoints
  (``TachibanaYoshino/AnimeGANv2``), two files each. Their upstream hashes are not known
  to this project, so they are *not* hash-verified: the bundle's own CRC-32C checksums
  catch truncation and corruption (not deliberate tampering). They are converted once by
  :mod:`animegan_edu.tf_checkpoint`; the converted safetensors file's SHA-256 is recorded
  beside it on first conversion and checked on every later load.
* ``DEMO``: the toolkit's own small demo generator, bundled in the repository at
  ``weights/demo.safetensors``, checked against the SHA-256 in
  ``weights/demo.safetensors.sha256``.

Files are cached in ``$ANIMEGAN_EDU_HOME`` (default ``~/.cache/animegan-edu``), under
``weights/`` (and ``tf/`` for the TF originals). Downloads use only ``urllib``: the bytes
go to ``<file>.partial``, are hashed while they stream in, and the file is renamed into
place only when the hash matches. ``$ANIMEGAN_EDU_WEIGHTS_URL`` (or ``base_url=``) points
every download at a mirror folder holding the files under their upstream names (the tests
use a server on 127.0.0.1); ``ANIMEGAN_EDU_OFFLINE=1`` forbids the network.

Loading never runs pickled code: ``.pt`` files go through ``torch.load(weights_only=True)``,
``.safetensors`` through :mod:`safetensors`. Every problem is a :class:`WeightsError`
subclass with a one-line message saying what is wrong and what to do.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import pickle
import socket
import sys
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import torch

from .models import Generator, UpsampleMode, count_parameters

__all__ = [
    "WeightsError",
    "UnknownWeightsError",
    "WeightsNotAvailableError",
    "DownloadError",
    "IntegrityError",
    "UnsafeFileError",
    "CorruptFileError",
    "ArchitectureError",
    "WeightFile",
    "Weights",
    "AnimeGANv2Weights",
    "cache_dir",
    "get_weights",
    "cached_path",
    "is_cached",
    "download",
    "load_state_dict",
    "check_generator_state_dict",
    "verify_file",
    "load_generator",
    "load_generator_or_random",
    "animeganv2_generator",
    "resolve_default",
    "describe",
    "git_blob_sha1",
    "sha256_file",
]

ENV_HOME = "ANIMEGAN_EDU_HOME"
ENV_MIRROR = "ANIMEGAN_EDU_WEIGHTS_URL"
ENV_OFFLINE = "ANIMEGAN_EDU_OFFLINE"
DEFAULT_HOME = "~/.cache/animegan-edu"
from .resources import data_dir as _data_dir  # noqa: E402  (installed: animegan_edu/_data/weights)

REPO_WEIGHTS_DIR = _data_dir("weights")  # the bundled demo weights: packaged copy, else <checkout>/weights
N_PARAMETERS = 2_143_552


# --------------------------------------------------------------------------------------
# Errors: one family, one-line messages
# --------------------------------------------------------------------------------------
class WeightsError(Exception):
    """Base class of every weights problem; ``str(err)`` is one line saying what to do."""


class UnknownWeightsError(WeightsError):
    """A name that is neither a registry entry nor an existing file."""


class WeightsNotAvailableError(WeightsError):
    """The weights are not cached and cannot be downloaded now (offline, unreachable)."""


class DownloadError(WeightsError):
    """The server answered, but not with the whole file (HTTP error, truncated body)."""


class IntegrityError(WeightsError):
    """A file's hash does not match the recorded one (tampered or corrupted)."""


class UnsafeFileError(WeightsError):
    """A pickle that would run code or build arbitrary objects; refused."""


class CorruptFileError(WeightsError):
    """Truncated, damaged, or not a weights file at all."""


class ArchitectureError(WeightsError):
    """A valid state dict, but not of :class:`~animegan_edu.models.Generator` (keys/shapes)."""


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class WeightFile:
    """One file of a weights entry: where it lives upstream and its file name."""

    url: str
    filename: str


@dataclass(frozen=True, eq=False)
class Weights:
    """A registry entry: its files, their kind and the metadata (torchvision's ``Weights``)."""

    files: tuple[WeightFile, ...]
    kind: str  # "pytorch" (one .pt state dict), "tf" (index + data bundle), "bundled" (in the repo)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.files[0].url


_PT_BASE = "https://github.com/bryandlee/animegan2-pytorch/raw/main/weights/"
_TF_BASE = "https://github.com/TachibanaYoshino/AnimeGANv2/raw/master/checkpoint/"
_TF_HASH_NOTE = (
    "unverified upstream: no published hash; the bundle's CRC-32C checksums are checked, and "
    "the converted file's SHA-256 is recorded in the cache on first conversion"
)
_TF_LICENCE = "AnimeGANv2 (TachibanaYoshino): free for non-commercial use such as research and teaching"
_COMMON = {"num_params": N_PARAMETERS, "min_size": (8, 8), "input": "RGB in [-1, 1], (N, 3, H, W)"}


def _pt(name: str, sha1: str, doc: str, data: str, licence: str) -> Weights:
    return Weights(
        files=(WeightFile(_PT_BASE + f"{name}.pt", f"{name}.pt"),),
        kind="pytorch",
        meta={
            **_COMMON,
            "hash": ("git-sha1", sha1),
            "file_size_mb": 8.6,  # approximate: the exact byte count is not published
            "licence": licence,
            "training_data": data,
            "upsample": "align_corners",
            "doc": doc,
        },
    )


def _tf(style: str, step: int, doc: str, data: str) -> Weights:
    folder = f"generator_{style}_weight"
    stem = f"{style}-{step}.ckpt"
    return Weights(
        files=(
            WeightFile(f"{_TF_BASE}{folder}/{stem}.index", f"{stem}.index"),
            WeightFile(f"{_TF_BASE}{folder}/{stem}.data-00000-of-00001", f"{stem}.data-00000-of-00001"),
        ),
        kind="tf",
        meta={
            **_COMMON,
            "hash": None,
            "hash_note": _TF_HASH_NOTE,
            "tf_checkpoint": f"{folder}/{stem}",
            "file_size_mb": 8.6,  # approximate: 8.17 MB generator + index
            "licence": _TF_LICENCE,
            "training_data": data,
            "upsample": "tf1",
            "doc": doc,
        },
    )


class AnimeGANv2Weights(Enum):
    """Pretrained generator weights (torchvision-style registry).

    Names are accepted case-insensitively by :func:`get_weights`, :func:`download` and
    :func:`load_generator` (``"paprika"``, ``"face_paint_512_v2"``, ``"shinkai"``,
    ``"demo"``). ``entry.meta`` holds: ``doc``, ``licence``, ``training_data``,
    ``num_params``, ``file_size_mb``, ``hash`` (``("git-sha1" | "sha256", hex)`` or
    ``None``), ``upsample`` (the decoder resize the weights were made for), ``min_size``.

    Example:
        >>> AnimeGANv2Weights.PAPRIKA.meta["num_params"]
        2143552
    """

    FACE_PAINT_512_V2 = _pt(
        "face_paint_512_v2",
        "d75102f8f201ddaf8dbe6b913b1a97585b55f838",
        "Face portraits at 512 px, second version (less 'beautify', more robust): the best known face model.",
        "512x512 face images (dataset not published by the author)",
        "MIT (bryandlee/animegan2-pytorch); no separate licence stated for the weights",
    )
    FACE_PAINT_512_V1 = _pt(
        "face_paint_512_v1",
        "19c1a1da4d9580186109a2b055d91044e5127de6",
        "Face portraits at 512 px, first version.",
        "512x512 face images (dataset not published by the author)",
        "MIT (bryandlee/animegan2-pytorch); no separate licence stated for the weights",
    )
    CELEBA_DISTILL = _pt(
        "celeba_distill",
        "3b7ea61b02254980831cc3bc77af30666dbc999c",
        "Faces at 256 px, distilled from a webtoon face model (L2 + VGG + GAN losses).",
        "CelebA-HQ images",
        "MIT (bryandlee/animegan2-pytorch); no separate licence stated for the weights",
    )
    PAPRIKA = _pt(
        "paprika",
        "58086c9db9fc7a9e5c2876ca31b8079599352643",
        "Paprika (Kon Satoshi) style for landscapes, converted from the TF original by the PyTorch port.",
        "Paprika film frames (1,284) and 6,656 photos",
        _TF_LICENCE,
    )
    SHINKAI = _tf(
        "Shinkai",
        53,
        "Shinkai (Your Name, Weathering with You) style for landscapes; only in the TF original.",
        "Shinkai film frames (1,445) and 6,656 photos",
    )
    HAYAO = _tf(
        "Hayao",
        64,
        "Hayao Miyazaki (The Wind Rises) style for landscapes, TF original.",
        "Hayao film frames (1,752) and 6,656 photos",
    )
    PAPRIKA_TF = _tf(
        "Paprika",
        54,
        "Paprika style, TF original (compare with PAPRIKA, the PyTorch port's conversion).",
        "Paprika film frames (1,284) and 6,656 photos",
    )
    DEMO = Weights(
        files=(WeightFile("", "demo.safetensors"),),
        kind="bundled",
        meta={
            **_COMMON,
            "hash": None,  # read from weights/demo.safetensors.sha256 (see recorded_hash)
            "hash_note": "SHA-256 recorded in weights/demo.safetensors.sha256 beside the file",
            "file_size_mb": None,  # measured from the file when present
            "licence": "MIT (animegan-edu); trained on GPL-2+ and public-domain photos, see weights/MODEL_CARD.md",
            "training_data": (
                "the demo set of `animegan-edu data prepare-demo`: 12 nature photographs of Debian's mate-backgrounds "
                "(GPL-2+) and 4 scikit-image photos, styled by animegan_edu.data.cartoonize; recipe configs/demo.yaml"
            ),
            "upsample": "align_corners",
            "doc": "The toolkit's own demo generator (2 CPU cores, about 80 minutes of training): a procedural cel-shading look, soft results.",
        },
    )

    @property
    def meta(self) -> dict[str, Any]:
        return self.value.meta

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def key(self) -> str:
        """The lower-case name used on the command line (``"face_paint_512_v2"``)."""
        return self.name.lower()


def get_weights(name: str | AnimeGANv2Weights) -> AnimeGANv2Weights:
    """Look up a registry entry by name, case-insensitively (``"Shinkai"`` -> ``SHINKAI``).

    Raises:
        UnknownWeightsError: no such entry (the message lists the known names).
    """
    if isinstance(name, AnimeGANv2Weights):
        return name
    key = str(name).strip().upper().replace("-", "_")
    if key.startswith("ANIMEGANV2WEIGHTS."):
        key = key.split(".", 1)[1]
    try:
        return AnimeGANv2Weights[key]
    except KeyError:
        known = ", ".join(w.key for w in AnimeGANv2Weights)
        raise UnknownWeightsError(f"unknown weights {name!r}: use one of {known}, or a .pt/.safetensors file path") from None


# --------------------------------------------------------------------------------------
# Hashes and paths
# --------------------------------------------------------------------------------------
def git_blob_sha1(path: str | os.PathLike) -> str:
    """The git blob SHA-1 of a file: ``sha1(b"blob <size>\\0" + data)`` (what GitHub shows)."""
    p = Path(path)
    h = hashlib.sha1(b"blob %d\0" % p.stat().st_size)
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _file_hash(path: Path, algo: str) -> str:
    return git_blob_sha1(path) if algo == "git-sha1" else sha256_file(path)


def _read_sidecar(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return text.split()[0].lower() if text else None


def cache_dir() -> Path:
    """The cache folder: ``$ANIMEGAN_EDU_HOME`` or ``~/.cache/animegan-edu``."""
    return Path(os.environ.get(ENV_HOME) or os.path.expanduser(DEFAULT_HOME))


def _target_path(entry: AnimeGANv2Weights) -> Path:
    """Where the loadable file of ``entry`` lives (it may not exist yet)."""
    if entry.value.kind == "bundled":
        return REPO_WEIGHTS_DIR / entry.value.files[0].filename
    if entry.value.kind == "tf":
        return cache_dir() / "weights" / f"{entry.key}.safetensors"
    return cache_dir() / "weights" / entry.value.files[0].filename


def _tf_dir(entry: AnimeGANv2Weights) -> Path:
    return cache_dir() / "tf" / entry.meta["tf_checkpoint"].split("/")[0]


def recorded_hash(entry: AnimeGANv2Weights) -> tuple[str, str] | None:
    """The hash a loadable file of ``entry`` must have: from the registry, or from a sidecar.

    Public PyTorch files: the git-blob SHA-1 in ``meta``. ``DEMO``: the SHA-256 in
    ``weights/demo.safetensors.sha256``. TF entries: the SHA-256 recorded beside the
    converted file on first conversion. ``None`` when nothing is recorded.
    """
    if entry.meta.get("hash"):
        return tuple(entry.meta["hash"])  # type: ignore[return-value]
    target = _target_path(entry)
    digest = _read_sidecar(target.with_name(target.name + ".sha256"))
    return ("sha256", digest) if digest else None


def cached_path(name: str | AnimeGANv2Weights) -> Path | None:
    """Path of the loadable file of ``name`` if it is on disk (not re-hashed here), else ``None``."""
    target = _target_path(get_weights(name))
    return target if target.is_file() else None


def is_cached(name: str | AnimeGANv2Weights) -> bool:
    """Whether ``name`` can be loaded without the network."""
    return cached_path(name) is not None


# --------------------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------------------
def _how_to_get(entry: AnimeGANv2Weights) -> str:
    if entry.value.kind == "bundled":
        return f"it ships with the repository at {_target_path(entry)}; use a full clone"
    if entry.value.kind == "tf":
        urls = " and ".join(f.url for f in entry.value.files)
        return (
            f"run `animegan-edu weights download {entry.key}` when online, or download {urls} into a folder "
            f"and run `animegan-edu weights convert-tf FOLDER -o {_target_path(entry)}`"
        )
    return (
        f"run `animegan-edu weights download {entry.key}` when online, or download {entry.url} "
        f"and save it as {_target_path(entry)}"
    )


def _resolve_url(wf: WeightFile, base_url: str | None) -> str:
    base = base_url if base_url is not None else os.environ.get(ENV_MIRROR)
    if base:
        return base.rstrip("/") + "/" + wf.filename
    return wf.url


def _fetch(
    url: str,
    dest: Path,
    expected: tuple[str, str] | None,
    progress: bool,
    how_to: str,
    label: str,
    timeout: float = 30.0,
) -> Path:
    """Stream ``url`` into ``dest.partial`` while hashing, then rename to ``dest`` if the hash matches."""
    if os.environ.get(ENV_OFFLINE, "").lower() in ("1", "true", "yes"):
        raise WeightsNotAvailableError(f"{label} is not cached and {ENV_OFFLINE} is set: {how_to}")
    from tqdm.auto import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    try:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (http/https URLs from the registry)
        except urllib.error.HTTPError as exc:
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}; {how_to}") from None
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WeightsNotAvailableError(f"{label} is not cached and cannot be downloaded (offline or unreachable: {reason}); {how_to}") from None
        with response:
            length_header = response.headers.get("Content-Length")
            total = int(length_header) if length_header and length_header.isdigit() else None
            git = hashlib.sha1(b"blob %d\0" % total) if total is not None else None
            sha256 = hashlib.sha256()
            received = 0
            with open(partial, "wb") as fh, tqdm(
                total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress, file=sys.stderr, leave=False
            ) as bar:
                try:
                    while True:
                        chunk = response.read(1 << 16)
                        if not chunk:
                            break
                        fh.write(chunk)
                        sha256.update(chunk)
                        if git is not None:
                            git.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
                except (http.client.IncompleteRead, ConnectionError, socket.timeout) as exc:
                    raise DownloadError(
                        f"{url}: download interrupted after {received} bytes ({type(exc).__name__}); nothing was saved, try again"
                    ) from None
        if total is not None and received != total:
            raise DownloadError(f"{url}: truncated download ({received} of {total} bytes); nothing was saved, try again")
        if expected is not None:
            algo, want = expected
            if algo == "git-sha1":
                got = git.hexdigest() if git is not None else git_blob_sha1(partial)
            else:
                got = sha256.hexdigest()
            if got != want.lower():
                raise IntegrityError(
                    f"{url}: downloaded file does not match its recorded {algo} (expected {want}, got {got}): "
                    "tampered, truncated or a different file; nothing was saved"
                )
        os.replace(partial, dest)
        return dest
    finally:
        if partial.exists():
            partial.unlink()


def download(
    name: str | AnimeGANv2Weights,
    *,
    progress: bool = True,
    force: bool = False,
    base_url: str | None = None,
) -> Path:
    """Make the weights ``name`` available in the cache and return the loadable file.

    Public PyTorch files are downloaded and checked against their git-blob SHA-1. TF
    entries download both bundle files into ``$ANIMEGAN_EDU_HOME/tf/``, check every
    CRC-32C, convert once to ``weights/<name>.safetensors`` and record its SHA-256. A
    file already in the cache is re-checked and kept (``force=True`` downloads anew).

    Args:
        name: a registry name (case-insensitive) or entry.
        progress: show a tqdm progress bar on stderr.
        force: download even if a good copy is cached.
        base_url: a mirror folder URL holding the files under their upstream names
            (default ``$ANIMEGAN_EDU_WEIGHTS_URL``, else the upstream addresses).

    Returns:
        the path of the ``.pt`` or ``.safetensors`` file to load.

    Raises:
        WeightsNotAvailableError: offline or unreachable (says how to get the file).
        DownloadError, IntegrityError, CorruptFileError: a bad or incomplete download;
            nothing is left in the cache.
    """
    entry = get_weights(name)
    target = _target_path(entry)
    how_to = _how_to_get(entry)
    if entry.value.kind == "bundled":
        if not target.is_file():
            raise WeightsNotAvailableError(f"{target} is missing: {how_to}")
        _check_recorded_hash(entry, target)
        return target
    if target.is_file() and not force:
        try:
            _check_recorded_hash(entry, target)
            return target
        except IntegrityError:
            pass  # a damaged cached copy: fetch it again
    if entry.value.kind == "pytorch":
        return _fetch(_resolve_url(entry.value.files[0], base_url), target, entry.meta["hash"], progress, how_to, entry.key)
    return _download_tf(entry, target, progress, force, base_url, how_to)


def _download_tf(entry: AnimeGANv2Weights, target: Path, progress: bool, force: bool, base_url: str | None, how_to: str) -> Path:
    from . import tf_checkpoint

    folder = _tf_dir(entry)
    folder.mkdir(parents=True, exist_ok=True)
    fetched = []
    for wf in entry.value.files:
        dest = folder / wf.filename
        if force or not dest.is_file():
            _fetch(_resolve_url(wf, base_url), dest, None, progress, how_to, entry.key)
            fetched.append(dest)
    try:
        state = tf_checkpoint.convert_checkpoint(folder / entry.value.files[0].filename)
    except tf_checkpoint.TFCheckpointError as exc:
        for f in fetched:  # do not keep a bad download
            f.unlink(missing_ok=True)
        raise CorruptFileError(f"{exc}; delete {folder} and run `animegan-edu weights download {entry.key}` again") from None
    tf_checkpoint.save_state_dict_safetensors(
        state, target, metadata={"source": entry.meta["tf_checkpoint"], "registry_name": entry.key}
    )
    sidecar = target.with_name(target.name + ".sha256")
    tmp = sidecar.with_name(sidecar.name + ".tmp")
    tmp.write_text(f"{sha256_file(target)}  {target.name}\n")
    os.replace(tmp, sidecar)
    return target


def _check_recorded_hash(entry: AnimeGANv2Weights, path: Path) -> None:
    recorded = recorded_hash(entry)
    if recorded is None:
        if entry.value.kind == "bundled":
            warnings.warn(
                f"{path}: no recorded SHA-256 ({path.name}.sha256 is missing); loading without an integrity check",
                stacklevel=3,
            )
        return
    algo, want = recorded
    got = _file_hash(path, algo)
    if got != want.lower():
        if entry.value.kind == "bundled":
            what = "restore it from git (`git checkout -- weights/`)"
        else:
            what = f"run `animegan-edu weights download {entry.key} --force`"
        raise IntegrityError(f"{path}: {algo} {got} does not match the recorded {want} (tampered or corrupted); {what}")


# --------------------------------------------------------------------------------------
# Safe loading and checking
# --------------------------------------------------------------------------------------
def _sniff(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head[:2] == b"PK":
        return "pytorch"
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
    if head[:1] == b"\x80":  # pickle protocol marker: legacy (pre-zip) torch.save
        return "pytorch"
    if path.suffix == ".safetensors":
        return "safetensors"
    if path.suffix in (".pt", ".pth", ".bin"):
        return "pytorch"
    return "unknown"


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state dict from a ``.pt``/``.pth`` or ``.safetensors`` file without running pickled code.

    The format is recognised from the content, not the extension. A ``.pt`` file holding a
    training checkpoint with a ``"generator"``, ``"state_dict"`` or ``"model"`` entry is
    accepted too; a ``module.`` prefix (DataParallel) is removed.

    Raises:
        CorruptFileError: missing, empty, truncated or not a weights file.
        UnsafeFileError: a pickle that needs code or objects beyond tensors.
    """
    p = Path(path)
    if not p.is_file():
        raise CorruptFileError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise CorruptFileError(f"{p}: empty file")
    fmt = _sniff(p)
    if fmt == "safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            obj: Any = load_file(str(p))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise CorruptFileError(f"{p}: truncated or corrupt safetensors file ({_first_line(exc)})") from None
    elif fmt == "pytorch":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # protocol notes about odd pickles; errors still raise
                obj = torch.load(p, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            msg = str(exc)
            if "truncated" in msg or "EOF" in msg or "ran out of input" in msg.lower():
                raise CorruptFileError(f"{p}: truncated PyTorch file") from None
            raise UnsafeFileError(
                f"{p}: refused: the pickle asks to build objects or run code beyond plain tensors "
                "(torch.load weights_only=True); it may be malicious. Use a plain state dict or a .safetensors file"
            ) from None
        except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
            raise CorruptFileError(f"{p}: truncated or corrupt PyTorch file ({_first_line(exc)})") from None
    else:
        raise CorruptFileError(f"{p}: not a PyTorch (.pt) or safetensors file")
    return _unwrap_state_dict(obj, p)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, KeyError) or not text:
        return type(exc).__name__
    if "central directory" in text:
        return "incomplete zip archive"
    return text.splitlines()[0].split(". ")[0][:160]


def _unwrap_state_dict(obj: Any, p: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping) and obj and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        for key in ("generator", "state_dict", "model", "G"):
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                obj = inner
                break
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ArchitectureError(f"{p}: holds a {type(obj).__name__}, not a state dict of tensors")
    sd = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in sd):
        sd = {k[len("module.") :]: v for k, v in sd.items()}
    return sd


def _short_list(items: list[str], n: int = 4) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" (+{len(items) - n} more)" if len(items) > n else "")


def check_generator_state_dict(state: Mapping[str, torch.Tensor], where: str = "state dict") -> None:
    """Check that ``state`` fits :class:`~animegan_edu.models.Generator` exactly.

    Raises:
        ArchitectureError: missing or unexpected keys (named), wrong shapes (named),
            non-float or non-finite values.
    """
    reference = Generator().state_dict()
    missing = [k for k in reference if k not in state]
    unexpected = [k for k in state if k not in reference]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys: {_short_list(missing)}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} keys: {_short_list(unexpected)}")
        raise ArchitectureError(f"{where}: not an AnimeGANv2 generator state dict ({'; '.join(parts)})")
    wrong = [f"{k} {tuple(state[k].shape)} (needs {tuple(v.shape)})" for k, v in reference.items() if state[k].shape != v.shape]
    if wrong:
        raise ArchitectureError(f"{where}: wrong-architecture weights, shapes differ: {_short_list(wrong, 3)}")
    for k, v in state.items():
        if not v.is_floating_point():
            raise ArchitectureError(f"{where}: {k} has dtype {v.dtype}, expected floating point")
        if not torch.isfinite(v).all():
            raise CorruptFileError(f"{where}: {k} holds NaN or infinite values (damaged or tampered file)")


def verify_file(path: str | os.PathLike) -> dict[str, Any]:
    """Check a weights file: hashes, which registry entry it is (if any), format, architecture.

    Returns:
        a report: ``path``, ``size``, ``sha256``, ``git_sha1``, ``format``, ``matches``
        (the registry name whose recorded hash it has, or ``None``), ``num_params``.

    Raises:
        WeightsError: the file cannot be loaded or is not a generator (one-line message).
    """
    p = Path(path)
    state = load_state_dict(p)
    check_generator_state_dict(state, str(p))
    report: dict[str, Any] = {
        "path": str(p),
        "size": p.stat().st_size,
        "sha256": sha256_file(p),
        "git_sha1": git_blob_sha1(p),
        "format": _sniff(p),
        "num_params": sum(v.numel() for v in state.values()),
        "matches": None,
    }
    for entry in AnimeGANv2Weights:
        recorded = recorded_hash(entry)
        if recorded and report["git_sha1" if recorded[0] == "git-sha1" else "sha256"] == recorded[1]:
            report["matches"] = entry.key
            break
    return report


# --------------------------------------------------------------------------------------
# Loading a generator
# --------------------------------------------------------------------------------------
def resolve_default() -> str:
    """The name :func:`load_generator` uses when given ``None``.

    A cached public weight if there is one (``face_paint_512_v2``, then ``paprika``),
    else the bundled ``demo`` if ``weights/demo.safetensors`` exists.

    Raises:
        WeightsNotAvailableError: none of these is available (says how to get one).
    """
    for entry in (AnimeGANv2Weights.FACE_PAINT_512_V2, AnimeGANv2Weights.PAPRIKA):
        if is_cached(entry):
            return entry.key
    if is_cached(AnimeGANv2Weights.DEMO):
        return AnimeGANv2Weights.DEMO.key
    raise WeightsNotAvailableError(
        "no generator weights available: run `animegan-edu weights download face_paint_512_v2` (needs the internet), "
        f"or restore the bundled {_target_path(AnimeGANv2Weights.DEMO)}"
    )


def _looks_like_path(s: str) -> bool:
    return os.sep in s or "/" in s or s.endswith((".pt", ".pth", ".safetensors", ".index", ".bin"))


def load_generator(
    name_or_path: str | os.PathLike | AnimeGANv2Weights | None = None,
    *,
    upsample: UpsampleMode | None = None,
    device: str | torch.device = "cpu",
    download: bool = True,
    progress: bool = True,
) -> Generator:
    """Build a :class:`~animegan_edu.models.Generator` in eval mode with pretrained weights.

    Args:
        name_or_path: a registry name (case-insensitive, e.g. ``"paprika"``,
            ``"shinkai"``, ``"demo"``), a ``.pt`` state dict, a ``.safetensors`` file, a TF
            checkpoint (folder or ``.index``), or ``None`` for :func:`resolve_default`.
        upsample: the decoder's resize (see :func:`animegan_edu.models.resize`); ``None``
            uses the mode the weights were made for (``meta["upsample"]``: ``"tf1"`` for
            the TF originals, ``"align_corners"`` for everything else; for a file, the
            ``upsample`` entry of its safetensors metadata, as written by
            ``animegan-edu weights convert-tf``, else ``"align_corners"``).
        device: where to put the model.
        download: fetch registry weights that are not cached (else raise).
        progress: show a download progress bar.

    Returns:
        the generator, ``eval()``-mode, on ``device``. ``(N, 3, H, W)`` in ``[-1, 1]`` in and out.

    Raises:
        WeightsError: one of its subclasses, with a one-line message (unknown name, not
            available offline, tampered/truncated file, unsafe pickle, wrong architecture).
    """
    if name_or_path is None:
        name_or_path = resolve_default()
    entry: AnimeGANv2Weights | None = None
    if isinstance(name_or_path, AnimeGANv2Weights):
        entry = name_or_path
    elif isinstance(name_or_path, str) and not _looks_like_path(name_or_path) and not Path(name_or_path).exists():
        entry = get_weights(name_or_path)

    if entry is not None:
        path = cached_path(entry)
        if path is None or entry.value.kind == "bundled":
            if path is None and not download:
                raise WeightsNotAvailableError(f"{entry.key} is not cached: {_how_to_get(entry)}")
            path = globals()["download"](entry, progress=progress)
        else:
            _check_recorded_hash(entry, path)
        state = load_state_dict(path)
        where = f"{path} ({entry.key})"
        mode = upsample or entry.meta.get("upsample", "align_corners")
    else:
        p = Path(name_or_path)  # type: ignore[arg-type]
        if not p.exists():
            raise CorruptFileError(f"{p}: no such file (and not a registry name)")
        if p.is_dir() or p.suffix == ".index":
            from . import tf_checkpoint

            try:
                state = tf_checkpoint.convert_checkpoint(p)
            except tf_checkpoint.TFCheckpointError as exc:
                raise CorruptFileError(str(exc)) from None
            mode = upsample or "tf1"
        else:
            state = load_state_dict(p)
            mode = upsample or _file_upsample(p) or "align_corners"
        where = str(p)
    check_generator_state_dict(state, where)
    model = Generator(upsample=mode)
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return model.eval().to(device)


def load_generator_or_random(
    name_or_path: str | os.PathLike | AnimeGANv2Weights | None = None,
    *,
    seed: int = 0,
    upsample: UpsampleMode | None = None,
    device: str | torch.device = "cpu",
) -> tuple[Generator, str]:
    """:func:`load_generator` for notebooks: never fails, says what it used.

    Tries ``load_generator(name_or_path, download=False)``; when no weights are available
    offline, returns a randomly initialised generator (``torch.manual_seed(seed)``) so a
    notebook still runs top to bottom.

    Returns:
        ``(generator in eval mode, a one-line description of the weights used)``; the
        description starts with ``"random"`` when no weights were found.
    """
    try:
        name = resolve_default() if name_or_path is None else name_or_path
        model = load_generator(name, upsample=upsample, device=device, download=False)
        label = name.key if isinstance(name, AnimeGANv2Weights) else str(name)
        return model, f"{label} (pretrained)"
    except WeightsError as exc:
        torch.manual_seed(seed)
        model = Generator(upsample=upsample or "align_corners").eval().to(device)
        return model, f"random weights, seed {seed}: no pretrained weights available offline ({exc})"


def _file_upsample(path: Path) -> str | None:
    """The ``upsample`` mode recorded in a safetensors file's metadata (converted TF weights say ``tf1``)."""
    if _sniff(path) != "safetensors":
        return None
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            mode = (fh.metadata() or {}).get("upsample")
    except Exception:  # unreadable metadata: the state dict itself was read fine
        return None
    return mode if mode in ("align_corners", "half_pixel", "tf1") else None


def animeganv2_generator(
    *,
    weights: str | AnimeGANv2Weights | os.PathLike | None = None,
    progress: bool = True,
    upsample: UpsampleMode | None = None,
    device: str | torch.device = "cpu",
) -> Generator:
    """torchvision-style builder: ``weights=None`` gives an untrained generator, else :func:`load_generator`.

    Example:
        >>> g = animeganv2_generator()
        >>> count_parameters(g)
        2143552
    """
    if weights is None:
        return Generator(upsample=upsample or "align_corners").to(device)
    return load_generator(weights, upsample=upsample, device=device, progress=progress)


def describe(name: str | AnimeGANv2Weights) -> str:
    """A few lines about a registry entry, for notebooks and ``animegan-edu weights list``."""
    entry = get_weights(name)
    m = entry.meta
    recorded = recorded_hash(entry)
    path = cached_path(entry)
    size = f"{path.stat().st_size / 1e6:.1f} MB" if path else (f"about {m['file_size_mb']} MB" if m.get("file_size_mb") else "unknown")
    if recorded:
        hash_line = f"{recorded[0]} {recorded[1]}"
    else:
        hash_line = m.get("hash_note", "none recorded")
    lines = [
        f"{entry.key}: {m['doc']}",
        f"  licence: {m['licence']}",
        f"  training data: {m['training_data']}",
        f"  parameters: {m['num_params']:,}; file: {size}; decoder resize: {m['upsample']}",
        f"  hash: {hash_line}",
        f"  source: {' + '.join(f.url for f in entry.value.files) if entry.value.kind != 'bundled' else 'bundled in the repository'}",
        f"  cached: {path if path else 'no (' + _how_to_get(entry) + ')'}",
    ]
    return "\n".join(lines)

