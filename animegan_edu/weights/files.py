"""Weight files as data: errors, hashes, hash sidecars, size-capped downloads, safe loading.

The registry is :mod:`animegan_edu.weights.registry`; the one way to get a generator,
:func:`animegan_edu.weights.hub.get_generator`, is in :mod:`animegan_edu.weights.hub`.

Rules this module enforces:

* nothing is unpickled: ``.pt`` files go through ``torch.load(weights_only=True)``,
  ``.safetensors`` through :mod:`safetensors`; a pickle asking for code or objects is an
  :class:`UnsafeFileError`;
* a recorded hash is read from a ``<file>.sha256`` sidecar; a missing, empty or unreadable
  sidecar is an :class:`IntegrityError` (a refusal, never a pass);
* every download streams into a hidden temporary file beside its target
  (:func:`animegan_edu.files.atomic_write`) with a size cap, is hashed on the way,
  and is renamed into place only when complete (and matching, when a hash is known);
* written files (safetensors, sidecars) are created in the target folder, given the
  permissions ``0o666 & ~umask`` and atomically renamed into place;
* every file is read as a regular file with a size cap (:data:`HARD_DOWNLOAD_CAP`, read in
  chunks by :func:`animegan_edu.files.read_regular`; a safetensors header alone is at most
  :data:`MAX_SAFETENSORS_HEADER`): a link to ``/dev/zero`` or a FIFO is refused;
* every error is a :class:`WeightsError` whose message is one line naming the file and
  saying what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import os
import pickle
import re
import socket
import struct
import sys
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from animegan_edu.files import (
    FileReadError,
    atomic_write,
    open_regular,
    read_regular,
    read_sidecar,
    sidecar_path,
)
from animegan_edu.models import Generator

__all__ = [
    "WeightsError",
    "UnknownWeightsError",
    "WeightsNotAvailableError",
    "DownloadError",
    "IntegrityError",
    "UnsafeFileError",
    "CorruptFileError",
    "ArchitectureError",
    "StorageError",
    "HARD_DOWNLOAD_CAP",
    "MAX_SAFETENSORS_HEADER",
    "safetensors_metadata",
    "read_safetensors",
    "git_blob_sha1",
    "require_sidecar",
    "fetch",
    "load_state_dict",
    "check_generator_state_dict",
]

ENV_OFFLINE = "ANIMEGAN_EDU_OFFLINE"
#: No download may be larger than this, whatever the registry says (bytes).
HARD_DOWNLOAD_CAP = 200_000_000
#: The largest safetensors header read (bytes); a generator's is under 20 KB.
MAX_SAFETENSORS_HEADER = 16 * 2**20


# --------------------------------------------------------------------------------------
# Errors: one family, one-line messages
# --------------------------------------------------------------------------------------
class WeightsError(Exception):
    """Base class of every weights problem; ``str(err)`` is one line naming the file and what to do."""


class UnknownWeightsError(WeightsError):
    """A bare name that is not a registry entry (paths must look like paths)."""


class WeightsNotAvailableError(WeightsError):
    """The weights are not cached and cannot be downloaded now (offline, unreachable)."""


class DownloadError(WeightsError):
    """The server answered, but not with the whole file (HTTP error, truncated or oversized body)."""


class IntegrityError(WeightsError):
    """A file's hash does not match the recorded one, or no hash is recorded (refused)."""


class UnsafeFileError(WeightsError):
    """A pickle that would run code or build arbitrary objects; refused."""


class CorruptFileError(WeightsError):
    """Truncated, damaged, non-finite, or not a weights file at all."""


class ArchitectureError(WeightsError):
    """A valid state dict, but not of :class:`~animegan_edu.models.Generator` (keys/shapes)."""


class StorageError(WeightsError):
    """A file or folder of the cache cannot be created or written (permissions, a file in the way)."""


def _os_reason(exc: BaseException) -> str:
    """``strerror`` of an ``OSError`` without the ``[Errno N]`` prefix and the repeated path."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"^\[Errno \d+\]\s*", "", text)[:160]


# --------------------------------------------------------------------------------------
# Hashes and sidecars
# --------------------------------------------------------------------------------------
def git_blob_sha1(path: str | os.PathLike) -> str:
    """The git blob SHA-1 of a file: ``sha1(b"blob <size>\\0" + data)`` (what GitHub shows).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
        >>> _ = p.write_bytes(b"hello\\n")
        >>> git_blob_sha1(p)
        'ce013625030ba8dba906f756967f9e9ca394464a'
    """
    with open_regular(path) as fh:
        h = hashlib.sha1(b"blob %d\0" % os.fstat(fh.fileno()).st_size)
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def require_sidecar(path: str | os.PathLike, how_to_fix: str) -> str:
    """The recorded SHA-256 of ``path``; a missing/empty/unreadable sidecar is an :class:`IntegrityError`.

    Args:
        path: the weights file whose ``<path>.sha256`` holds its hash.
        how_to_fix: what the user should do to re-create the file and its hash.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "w.safetensors"
        >>> try:
        ...     require_sidecar(p, "re-run the conversion")
        ... except IntegrityError as e:
        ...     print("refused:", "no recorded SHA-256" in str(e))
        refused: True
    """
    p = Path(path)
    digest = read_sidecar(p)
    if digest is None:
        side = sidecar_path(p)
        state = "missing" if not side.exists() else "empty or unreadable"
        raise IntegrityError(
            f"{p}: no recorded SHA-256 ({side.name} is {state}), refused unchecked; {how_to_fix}"
        )
    return digest


# --------------------------------------------------------------------------------------
# Download: streamed, size-capped, hashed, atomic
# --------------------------------------------------------------------------------------
def fetch(
    url: str,
    dest: Path,
    expected: tuple[str, str] | None,
    *,
    max_bytes: int,
    progress: bool,
    how_to: str,
    label: str,
    timeout: float = 30.0,
) -> Path:
    """Stream ``url`` into a temporary file while hashing; rename it to ``dest`` if complete and matching.

    Args:
        expected: ``("git-sha1" | "sha256", hex)`` to check, or ``None`` (no hash known:
            the caller must verify the content another way and say so).
        max_bytes: the size cap (at most :data:`HARD_DOWNLOAD_CAP`), enforced on the
            announced ``Content-Length`` and while the bytes stream in.
        how_to: what to do when offline (goes into the message).
        label: the registry name, for messages.

    Raises:
        WeightsNotAvailableError: ``$ANIMEGAN_EDU_OFFLINE`` is set, or the server is unreachable.
        DownloadError: HTTP error, interrupted, truncated or larger than the cap.
        IntegrityError: the bytes do not match ``expected``. Nothing is left behind.

    Example:
        >>> import os, tempfile
        >>> os.environ[ENV_OFFLINE] = "1"
        >>> try:
        ...     fetch("http://127.0.0.1:9/x.pt", Path(tempfile.mkdtemp()) / "x.pt", None, max_bytes=10,
        ...           progress=False, how_to="copy it by hand", label="x")
        ... except WeightsNotAvailableError as e:
        ...     print(e)
        x is not cached and ANIMEGAN_EDU_OFFLINE is set: copy it by hand
        >>> del os.environ[ENV_OFFLINE]
    """
    if os.environ.get(ENV_OFFLINE, "").lower() in ("1", "true", "yes"):
        raise WeightsNotAvailableError(f"{label} is not cached and {ENV_OFFLINE} is set: {how_to}")
    cap = min(int(max_bytes), HARD_DOWNLOAD_CAP)
    too_big = (
        f"{url}: larger than the {cap:,} bytes expected for {label}; refused, nothing was saved "
        "(a wrong or hostile mirror?)"
    )
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"{dest.parent}: cannot create the cache folder ({_os_reason(exc)}); set ANIMEGAN_EDU_HOME to a "
            "writable folder"
        ) from None

    def download_into(partial: Path) -> None:
        with _open_url(url, timeout, how_to=how_to, label=label) as response:
            length_header = response.headers.get("Content-Length")
            total = int(length_header) if length_header and length_header.isdigit() else None
            if total is not None and total > cap:
                raise DownloadError(too_big)
            received, digests = _stream_to_file(
                response, partial, total, cap=cap, too_big=too_big, url=url, progress=progress, desc=dest.name
            )
        if total is not None and received != total:
            raise DownloadError(
                f"{url}: truncated download ({received} of {total} bytes); nothing was saved, try again"
            )
        if expected is not None:
            _check_download_hash(url, partial, expected, digests)

    try:  # the one atomic write: flushed, renamed over dest, nothing left behind on failure
        return atomic_write(dest, download_into)
    except OSError as exc:
        raise StorageError(
            f"{dest}: cannot save the download ({_os_reason(exc)}); set ANIMEGAN_EDU_HOME to a writable "
            "folder"
        ) from None


def _open_url(url: str, timeout: float, *, how_to: str, label: str) -> Any:
    """The open HTTP response for ``url``; HTTP errors and an unreachable server as one-line errors."""
    try:
        return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (http/https URLs from the registry)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}; {how_to}") from None
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WeightsNotAvailableError(
            f"{label} is not cached and cannot be downloaded (offline or unreachable: {reason}); {how_to}"
        ) from None


def _stream_to_file(
    response: Any,
    partial: Path,
    total: int | None,
    *,
    cap: int,
    too_big: str,
    url: str,
    progress: bool,
    desc: str,
) -> tuple[int, dict[str, Any]]:
    """Copy ``response`` into ``partial`` in 64 KiB chunks, hashing on the way and stopping past ``cap``.

    Returns the number of bytes received and the running digests: ``"sha256"`` always,
    ``"git-sha1"`` only when ``total`` (the announced length, which the blob header needs) is known.
    """
    from tqdm.auto import tqdm

    digests: dict[str, Any] = {"sha256": hashlib.sha256()}
    if total is not None:
        digests["git-sha1"] = hashlib.sha1(b"blob %d\0" % total)
    received = 0
    try:
        fh = open(partial, "wb")
    except OSError as exc:
        raise StorageError(
            f"{partial}: cannot write ({_os_reason(exc)}); set ANIMEGAN_EDU_HOME to a writable folder"
        ) from None
    bar = tqdm(
        total=total, unit="B", unit_scale=True, desc=desc, disable=not progress, file=sys.stderr, leave=False
    )
    with fh, bar:
        try:
            while chunk := response.read(1 << 16):
                received += len(chunk)
                if received > cap:
                    raise DownloadError(too_big)
                fh.write(chunk)
                for digest in digests.values():
                    digest.update(chunk)
                bar.update(len(chunk))
        except (http.client.IncompleteRead, ConnectionError, socket.timeout) as exc:
            raise DownloadError(
                f"{url}: download interrupted after {received} bytes ({type(exc).__name__}); nothing was "
                "saved, try again"
            ) from None
    return received, digests


def _check_download_hash(url: str, partial: Path, expected: tuple[str, str], digests: dict[str, Any]) -> None:
    """Refuse the downloaded ``partial`` unless it has the ``expected`` ``(algorithm, hex)`` hash."""
    algo, want = expected
    if algo == "git-sha1":
        got = digests["git-sha1"].hexdigest() if "git-sha1" in digests else git_blob_sha1(partial)
    else:
        got = digests["sha256"].hexdigest()
    if got != want.lower():
        raise IntegrityError(
            f"{url}: downloaded file does not match its recorded {algo} (expected {want}, got {got}): "
            "tampered, truncated or a different file; nothing was saved"
        )


# --------------------------------------------------------------------------------------
# Safe loading and checking
# --------------------------------------------------------------------------------------
def sniff(path: Path) -> str:
    """``"pytorch"``, ``"safetensors"`` or ``"unknown"``, from the first bytes (then the suffix).

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "notes.txt"
        >>> _ = p.write_text("hello")
        >>> sniff(p)
        'unknown'
    """
    with open_regular(path, "weights file") as fh:
        head = fh.read(16)
    return _sniff_head(head, Path(path))


def _sniff_head(head: bytes, path: Path) -> str:
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, KeyError) or not text:
        return type(exc).__name__
    if "central directory" in text:
        return "incomplete zip archive"
    line = re.sub(r"^\[Errno \d+\]\s*", "", text.splitlines()[0].split(". ")[0])
    if "weights_only" in line:  # never relay torch's advice to unpickle arbitrary code
        return "not loadable as plain tensors"
    return line[:160]


def load_state_dict(path: str | os.PathLike, max_bytes: int | None = None) -> dict[str, torch.Tensor]:
    """Read a state dict from a ``.pt``/``.pth`` or ``.safetensors`` file without running pickled code.

    The format is recognised from the content, not the extension. A ``.pt`` file holding a
    training checkpoint with a ``"generator"``, ``"state_dict"`` or ``"model"`` entry is
    accepted too; a ``module.`` prefix (DataParallel) is removed. No hash is checked here.
    The file must be a regular file of at most ``max_bytes`` (default
    :data:`HARD_DOWNLOAD_CAP`), checked on the opened descriptor.

    Returns:
        ``{name: tensor}`` on the CPU, dtypes as stored.

    Raises:
        CorruptFileError: missing, empty, truncated, too large, not a regular file (a FIFO,
            ``/dev/zero``) or not a weights file.
        UnsafeFileError: a pickle that needs code or objects beyond tensors.
        ArchitectureError: the file holds something other than a dict of tensors.

    Example:
        >>> import tempfile, torch
        >>> p = tempfile.mkdtemp() + "/w.pt"
        >>> torch.save({"w": torch.ones(2)}, p)
        >>> load_state_dict(p)["w"].shape
        torch.Size([2])
    """
    p = Path(path)
    max_bytes = HARD_DOWNLOAD_CAP if max_bytes is None else int(max_bytes)
    if p.is_dir():
        raise CorruptFileError(f"{p}: no such file (a folder)")
    with _read_errors(p), open_regular(p, "weights file", max_bytes) as fh:  # regular, size checked
        head = fh.read(16)
        if not head:
            raise CorruptFileError(f"{p}: empty file; download or convert it again")
        fmt = _sniff_head(head, p)
        fh.seek(0)
        if fmt == "safetensors":
            obj: Any = _safetensors_from_bytes(fh.read(max_bytes + 1), p)
        elif fmt == "pytorch":
            obj = _torch_load_plain(fh, p)  # streamed from the checked descriptor
        else:
            raise CorruptFileError(f"{p}: not a PyTorch (.pt) or safetensors file")
    return _unwrap_state_dict(obj, p)


def _safetensors_from_bytes(data: bytes, p: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    try:
        return load_safetensors(data)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CorruptFileError(
            f"{p}: truncated or corrupt safetensors file ({_first_line(exc)}); download or convert it again"
        ) from None


def _torch_load_plain(fh: Any, p: Path) -> Any:
    """``torch.load(weights_only=True)`` of an open file: plain tensors and containers, no code."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # protocol notes about odd pickles; errors still raise
            return torch.load(fh, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        msg = str(exc)
        if "truncated" in msg or "EOF" in msg or "ran out of input" in msg.lower():
            raise CorruptFileError(f"{p}: truncated PyTorch file; download it again") from None
        raise UnsafeFileError(
            f"{p}: refused: the pickle asks to build objects or run code beyond plain tensors; it may be "
            "malicious. Use a plain state dict or a .safetensors file"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise CorruptFileError(
            f"{p}: truncated or corrupt PyTorch file ({_first_line(exc)}); download it again"
        ) from None


@contextlib.contextmanager
def _read_errors(p: Path) -> Iterator[None]:
    """Turn a refused or failed read of ``p`` into a one-line :class:`CorruptFileError`."""
    try:
        yield
    except FileReadError as exc:  # not a regular file, or over the cap
        raise CorruptFileError(str(exc)) from None
    except FileNotFoundError:
        raise CorruptFileError(f"{p}: no such file") from None
    except OSError as exc:
        raise CorruptFileError(f"{p}: cannot read ({_os_reason(exc)}); check its permissions") from None


def _header_metadata(read: Callable[[int], bytes], p: Path) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors header, read through ``read(n)`` (at most the cap)."""
    try:
        head = read(8)
        n = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
        if not 2 <= n <= MAX_SAFETENSORS_HEADER:
            raise ValueError("no safetensors header")
        meta = json.loads(read(n)).get("__metadata__") or {}
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise ValueError("malformed metadata")
    except (ValueError, AttributeError, RecursionError):
        raise CorruptFileError(f"{p}: not a safetensors file (malformed header)") from None
    return {str(k): v for k, v in meta.items()}


def safetensors_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file, from its header alone (:data:`MAX_SAFETENSORS_HEADER`).

    Raises:
        CorruptFileError: not a regular file, unreadable, or not a safetensors header.

    Example:
        >>> import tempfile
        >>> from safetensors.torch import save_file
        >>> p = Path(tempfile.mkdtemp()) / "w.safetensors"
        >>> save_file({"w": torch.zeros(1)}, str(p), metadata={"upsample": "tf1"})
        >>> safetensors_metadata(p)
        {'upsample': 'tf1'}
    """
    p = Path(path)
    with _read_errors(p), open_regular(p, "weights file") as fh:
        return _header_metadata(fh.read, p)


def read_safetensors(
    path: str | os.PathLike, what: str = "weights file"
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and ``__metadata__`` of a safetensors file, read once (at most :data:`HARD_DOWNLOAD_CAP`).

    Raises:
        CorruptFileError: not a regular file, too large, unreadable, or not a safetensors file.

    Example:
        >>> import tempfile
        >>> from safetensors.torch import save_file
        >>> p = Path(tempfile.mkdtemp()) / "w.safetensors"
        >>> save_file({"w": torch.ones(2)}, str(p), metadata={"format": "x"})
        >>> tensors, meta = read_safetensors(p)
        >>> tensors["w"].tolist(), meta
        ([1.0, 1.0], {'format': 'x'})
    """
    p = Path(path)
    with _read_errors(p):
        data = read_regular(p, HARD_DOWNLOAD_CAP, what)
    meta = _header_metadata(io.BytesIO(data).read, p)  # first: a file that is not one says so
    return _safetensors_from_bytes(data, p), meta


def _unwrap_state_dict(obj: Any, p: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping) and obj and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        for key in ("generator", "state_dict", "model", "G"):
            inner = obj.get(key)
            if (
                isinstance(inner, Mapping)
                and inner
                and all(isinstance(v, torch.Tensor) for v in inner.values())
            ):
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
    """Check that ``state`` fits :class:`~animegan_edu.models.Generator` exactly, and is finite in float32.

    Every tensor must be floating point and finite both as stored and after the cast to
    float32 (a float64 ``1e300`` becomes ``inf`` and would paint a black image).

    Raises:
        ArchitectureError: missing or unexpected keys (named), wrong shapes (named), non-float.
        CorruptFileError: NaN or infinite values (names the file and the tensor).

    Example:
        >>> from animegan_edu.models import Generator
        >>> check_generator_state_dict(Generator().state_dict())  # passes silently
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
    wrong = [
        f"{k} {tuple(state[k].shape)} (needs {tuple(v.shape)})"
        for k, v in reference.items()
        if state[k].shape != v.shape
    ]
    if wrong:
        raise ArchitectureError(
            f"{where}: wrong-architecture weights, shapes differ: {_short_list(wrong, 3)}"
        )
    for k, v in state.items():
        if not v.is_floating_point():
            raise ArchitectureError(f"{where}: {k} has dtype {v.dtype}, expected floating point")
        if not torch.isfinite(v).all():
            raise CorruptFileError(
                f"{where}: tensor {k} holds NaN or infinite values (damaged or tampered file); refused, use "
                "another copy"
            )
        if not torch.isfinite(v.float()).all():
            raise CorruptFileError(
                f"{where}: tensor {k} ({v.dtype}) overflows to infinity in float32 (damaged or tampered "
                "file); refused, use another copy"
            )
