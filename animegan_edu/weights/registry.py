"""The weights registry: entries, cache paths, recorded hashes, downloads.

Getting a generator from an entry is :mod:`animegan_edu.weights.hub`; the policy (what is
hash-checked, what cannot be, and the size caps) is described in that module's docstring.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from animegan_edu.files import read_sidecar, sha256_file, write_sidecar
from animegan_edu.resources import data_dir as _data_dir  # installed: animegan_edu/_data/weights
from animegan_edu.weights.files import (
    HARD_DOWNLOAD_CAP,
    CorruptFileError,
    IntegrityError,
    UnknownWeightsError,
    WeightsNotAvailableError,
    fetch,
    git_blob_sha1,
    require_sidecar,
)
from animegan_edu.weights.tf.bundle import TFCheckpointError
from animegan_edu.weights.tf.checkpoint import convert_checkpoint, save_state_dict_safetensors

__all__ = [
    "WeightFile",
    "Weights",
    "AnimeGANv2Weights",
    "get_weights",
    "cache_dir",
    "target_path",
    "recorded_hash",
    "check_recorded_hash",
    "how_to_get",
    "cached_path",
    "is_cached",
    "download",
    "describe",
]

ENV_HOME = "ANIMEGAN_EDU_HOME"
ENV_MIRROR = "ANIMEGAN_EDU_WEIGHTS_URL"
DEFAULT_HOME = "~/.cache/animegan-edu"

REPO_WEIGHTS_DIR = _data_dir("weights")  # the bundled demo weights: packaged copy, else <checkout>/weights
N_PARAMETERS = 2_143_552


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


def _style(name: str, style_set: str, art: str, doc: str) -> Weights:
    """A bundled style generator: the demo weights fine-tuned on one style set (notebook 09)."""
    return Weights(
        files=(WeightFile("", f"{name}.safetensors"),),
        kind="bundled",
        meta={
            **_COMMON,
            "hash": None,  # read from weights/<name>.safetensors.sha256 (see recorded_hash)
            "hash_note": f"SHA-256 recorded in weights/{name}.safetensors.sha256 beside the file",
            "file_size_mb": None,
            "licence": (
                "MIT (animegan-edu); fine-tuned on artwork under its own licences (one per file in the "
                "style set's MANIFEST.json), see weights/MODEL_CARD.md"
            ),
            "training_data": (
                f"the {style_set} style set of `animegan-edu data prepare-styles`: {art}; photos of the demo "
                "set; recipe configs/style_" + name + ".yaml"
            ),
            "style_set": style_set,
            "upsample": "align_corners",
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
            "licence": (
                "MIT (animegan-edu); trained on photos under their own licences (one per file), "
                "see weights/MODEL_CARD.md"
            ),
            "training_data": (
                "the demo set of `animegan-edu data prepare-demo`: 234 photographs from Debian packages and "
                "scikit-image, "
                "a licence per file, styled by animegan_edu.data.dataset.cartoonize; recipe configs/demo.yaml"
            ),
            "upsample": "align_corners",
            "doc": (
                "The toolkit's own demo generator (16,000 steps of configs/demo.yaml, 6.3 hours on "
                "2-core CPUs): a paired imitation of a procedural cel-shading filter."
            ),
        },
    )

    WESNOTH = _style(
        "wesnoth",
        "Wesnoth",
        "painted scenes from Battle for Wesnoth (GPL-2+)",
        "The demo generator fine-tuned, unpaired, towards painted artwork (configs/style_wesnoth.yaml).",
    )
    HEDGEWARS = _style(
        "hedgewars",
        "Hedgewars",
        "cartoon scenes and backgrounds from Hedgewars (GPL-2, GFDL-1.3)",
        "The demo generator fine-tuned, unpaired, towards flat cartoon art (configs/style_hedgewars.yaml).",
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

    Example:
        >>> get_weights("Face-Paint-512-v2").key
        'face_paint_512_v2'
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
        hint = f"; for the local file or folder {name!r} write ./{name}" if Path(str(name)).exists() else ""
        raise UnknownWeightsError(
            f"unknown weights {name!r}: use one of {known}, or a .pt/.safetensors file path{hint}"
        ) from None


# --------------------------------------------------------------------------------------
# Paths and recorded hashes
# --------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """The cache folder: ``$ANIMEGAN_EDU_HOME`` or ``~/.cache/animegan-edu``.

    Example:
        >>> isinstance(cache_dir(), Path)
        True
    """
    return Path(os.environ.get(ENV_HOME) or os.path.expanduser(DEFAULT_HOME))


def target_path(entry: AnimeGANv2Weights) -> Path:
    """Where the loadable file of ``entry`` lives (it may not exist yet).

    Example:
        >>> target_path(AnimeGANv2Weights.DEMO).name
        'demo.safetensors'
    """
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
    converted file at conversion. ``None`` when nothing (readable) is recorded, which
    loading treats as a refusal.

    Example:
        >>> recorded_hash(AnimeGANv2Weights.PAPRIKA)[0]
        'git-sha1'
    """
    if entry.meta.get("hash"):
        return tuple(entry.meta["hash"])  # type: ignore[return-value]
    digest = read_sidecar(target_path(entry))
    return ("sha256", digest) if digest else None


def cached_path(name: str | AnimeGANv2Weights) -> Path | None:
    """Path of the loadable file of ``name`` if it is on disk (not re-hashed here), else ``None``.

    Example:
        >>> cached_path("demo") is None or cached_path("demo").name == "demo.safetensors"
        True
    """
    target = target_path(get_weights(name))
    return target if target.is_file() else None


def is_cached(name: str | AnimeGANv2Weights) -> bool:
    """Whether the file of ``name`` is on disk (it is still hash-checked when loaded).

    Example:
        >>> is_cached("paprika") in (True, False)
        True
    """
    return cached_path(name) is not None


def _fix_hint(entry: AnimeGANv2Weights) -> str:
    if entry.value.kind == "bundled":
        return "restore it from git (`git checkout -- weights/`)"
    if entry.value.kind == "tf":
        return f"run `animegan-edu weights download {entry.key} --force` to convert again and record its hash"
    return f"run `animegan-edu weights download {entry.key} --force`"


def check_recorded_hash(entry: AnimeGANv2Weights, path: Path) -> None:
    """Refuse ``path`` unless it has ``entry``'s recorded hash (a missing record is a refusal).

    Raises :class:`IntegrityError` on a mismatch, and whatever
    :func:`animegan_edu.weights.files.require_sidecar` raises when no hash is recorded.
    """
    if entry.meta.get("hash"):
        algo, want = entry.meta["hash"]
    else:
        algo, want = "sha256", require_sidecar(path, _fix_hint(entry))
    got = git_blob_sha1(path) if algo == "git-sha1" else sha256_file(path)
    if got != want.lower():
        raise IntegrityError(
            f"{path}: {algo} {got} does not match the recorded {want} (tampered or corrupted); "
            f"{_fix_hint(entry)}"
        )


# --------------------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------------------
def how_to_get(entry: AnimeGANv2Weights) -> str:
    """One line telling a user how to get the file of ``entry`` (download command, or where to put it).

    Example:
        >>> "animegan-edu weights download paprika" in how_to_get(AnimeGANv2Weights.PAPRIKA)
        True
    """
    if entry.value.kind == "bundled":
        return f"it ships with the repository at {target_path(entry)}; use a full clone"
    if entry.value.kind == "tf":
        urls = " and ".join(f.url for f in entry.value.files)
        return (
            f"run `animegan-edu weights download {entry.key}` when online, or download {urls} into a folder "
            f"and run `animegan-edu weights convert-tf FOLDER -o {target_path(entry)}`"
        )
    return (
        f"run `animegan-edu weights download {entry.key}` when online, or download {entry.url} "
        f"and save it as {target_path(entry)}"
    )


def _resolve_url(wf: WeightFile, base_url: str | None) -> str:
    base = base_url if base_url is not None else os.environ.get(ENV_MIRROR)
    if base:
        return base.rstrip("/") + "/" + wf.filename
    return wf.url


def _download_cap(entry: AnimeGANv2Weights) -> int:
    """Bytes one download of ``entry`` may have: its known size + 25 % + 64 KiB, at most 200 MB."""
    mb = entry.meta.get("file_size_mb")
    if not mb:
        return HARD_DOWNLOAD_CAP
    return min(HARD_DOWNLOAD_CAP, int(float(mb) * 1e6 * 1.25) + 65536)


def download(
    name: str | AnimeGANv2Weights,
    *,
    progress: bool = True,
    force: bool = False,
    base_url: str | None = None,
) -> Path:
    """Make the weights ``name`` available in the cache and return the loadable file.

    Public PyTorch files are downloaded (size-capped) and checked against their git-blob
    SHA-1. TF entries download both bundle files into ``$ANIMEGAN_EDU_HOME/tf/``
    (size-capped; no trusted hash exists, see the module docstring), check every CRC-32C,
    convert once to ``weights/<name>.safetensors`` and record the SHA-256 of the bundle
    files and of the converted file. A file already in the cache is re-checked and kept
    (``force=True`` downloads anew); one that fails its check is fetched again.

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
        DownloadError, IntegrityError, CorruptFileError: a bad, incomplete or oversized
            download; nothing is left in the cache.

    Example:
        >>> download("demo").name  # the bundled entry: checked, nothing downloaded
        'demo.safetensors'
    """
    entry = get_weights(name)
    target = target_path(entry)
    how_to = how_to_get(entry)
    if entry.value.kind == "bundled":
        if not target.is_file():
            raise WeightsNotAvailableError(f"{target} is missing: {how_to}")
        check_recorded_hash(entry, target)
        return target
    if target.is_file() and not force:
        try:
            check_recorded_hash(entry, target)
            return target
        except IntegrityError:
            pass  # a damaged or unrecorded cached copy: fetch (and convert) it again
    cap = _download_cap(entry)
    if entry.value.kind == "pytorch":
        url = _resolve_url(entry.value.files[0], base_url)
        return fetch(
            url, target, entry.meta["hash"], max_bytes=cap, progress=progress, how_to=how_to, label=entry.key
        )
    return _download_tf(entry, target, progress, force, base_url, how_to, cap)


def _download_tf(
    entry: AnimeGANv2Weights,
    target: Path,
    progress: bool,
    force: bool,
    base_url: str | None,
    how_to: str,
    cap: int,
) -> Path:
    folder = _tf_dir(entry)
    fetched = []
    for wf in entry.value.files:
        dest = folder / wf.filename
        recorded = None if force or not dest.is_file() else read_sidecar(dest)
        if recorded is not None and recorded == sha256_file(dest):
            continue  # the bundle file recorded when it was first converted
        fetch(
            _resolve_url(wf, base_url),
            dest,
            None,
            max_bytes=cap,
            progress=progress,
            how_to=how_to,
            label=entry.key,
        )
        fetched.append(dest)
    try:
        state = convert_checkpoint(folder / entry.value.files[0].filename)
    except TFCheckpointError as exc:
        for f in fetched:  # do not keep a bad download
            f.unlink(missing_ok=True)
            f.with_name(f.name + ".sha256").unlink(missing_ok=True)
        raise CorruptFileError(
            f"{exc}; delete {folder} and run `animegan-edu weights download {entry.key}` again"
        ) from None
    for f in fetched:
        write_sidecar(f)
    save_state_dict_safetensors(
        state,
        target,
        metadata={"source": entry.meta["tf_checkpoint"], "registry_name": entry.key, "upsample": "tf1"},
    )  # records the SHA-256 sidecar, required from now on
    return target


def describe(name: str | AnimeGANv2Weights) -> str:
    """A few lines about a registry entry, for notebooks and ``animegan-edu weights list``.

    Example:
        >>> describe("paprika").splitlines()[0][:9]
        'paprika: '
    """
    entry = get_weights(name)
    m = entry.meta
    recorded = recorded_hash(entry)
    path = cached_path(entry)
    size = (
        f"{path.stat().st_size / 1e6:.1f} MB"
        if path
        else (f"about {m['file_size_mb']} MB" if m.get("file_size_mb") else "unknown")
    )
    hash_line = f"{recorded[0]} {recorded[1]}" if recorded else m.get("hash_note", "none recorded")
    if entry.value.kind == "bundled":
        source = "bundled in the repository"
    else:
        source = " + ".join(f.url for f in entry.value.files)
    lines = [
        f"{entry.key}: {m['doc']}",
        f"  licence: {m['licence']}",
        f"  training data: {m['training_data']}",
        f"  parameters: {m['num_params']:,}; file: {size}; decoder resize: {m['upsample']}",
        f"  hash: {hash_line}",
        f"  source: {source}",
        f"  cached: {path if path else 'no (' + how_to_get(entry) + ')'}",
    ]
    return "\n".join(lines)
