"""Files written safely and identified: atomic writes, SHA-256 hashes and sidecars, file identity.

The one place the toolkit writes a whole file (a PNG, a weights file, a JSON report, a
video): :func:`atomic_write` hands a temporary path in the destination's folder to a
writer, flushes it to disk, gives it the permissions a plain ``open()`` would
(``0o666 & ~umask``, see :func:`current_umask`) and renames it over the destination, so
a reader sees the old file or the new one, never half of one. A hash recorded beside a
file lives in a ``<file>.sha256`` sidecar in ``sha256sum`` format
(:func:`write_sidecar`, :func:`read_sidecar`).

Every error a user can cause is a :class:`FileWriteError` whose message is one line,
names the file and says what to do.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "FileWriteError",
    "current_umask",
    "atomic_write",
    "sha256_file",
    "sidecar_path",
    "read_sidecar",
    "write_sidecar",
    "file_identity",
]

_CHUNK = 1 << 20


class FileWriteError(OSError):
    """A file could not be written; the message is one line, names the file and says what to do."""


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux).

    Example:
        >>> 0 <= current_umask() <= 0o777
        True
    """
    try:  # Linux: read it without changing it (thread safe)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _reason(exc: OSError) -> str:
    if exc.strerror:
        return exc.strerror.lower()
    text = str(exc).strip()
    return re.sub(r"^\[Errno \d+\]\s*", "", text.splitlines()[0] if text else type(exc).__name__)[:160]


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: str | os.PathLike, write_fn: Callable[[Path], object], *, make_folder: bool = False
) -> Path:
    """Write a file all at once or not at all: ``write_fn(tmp)`` writes the whole file to a temporary path.

    The temporary file is hidden and short-named (``.tmp-<16 hex><suffix>``, the
    destination's suffix when it has at most 16 characters, else ``.tmp``) in the
    destination's folder, so the final ``os.replace`` is atomic, any legal file name (up to
    255 bytes) still works, and writers that look at the suffix (``torch.save``, PIL) see
    the usual one. After ``write_fn`` returns, the data are flushed to disk, the file
    gets ``0o666 & ~umask`` (not ``mkstemp``'s ``0o600``), is renamed over ``path``, and
    the folder is flushed too. If anything fails, Ctrl-C included, the temporary file is
    removed and ``path`` is left as it was.

    Args:
        path: the destination file.
        write_fn: writes the complete file to the path it is given, e.g.
            ``lambda p: img.save(p, format="PNG")``; its return value is ignored.
        make_folder: create the destination's folder (and its parents) when missing;
            otherwise a missing folder is an error.

    Returns:
        the destination path.

    Raises:
        FileWriteError: the folder is missing, not a folder or not writable, or the write
            failed (one line naming the file). Other exceptions from ``write_fn`` propagate
            unchanged, after the clean-up.

    Example:
        >>> import tempfile
        >>> p = atomic_write(os.path.join(tempfile.mkdtemp(), "n.txt"), lambda t: t.write_text("hi"))
        >>> p.read_text(), sorted(os.listdir(p.parent))
        ('hi', ['n.txt'])
    """
    dest = Path(path)
    folder = dest.parent
    if make_folder:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FileWriteError(
                f"{dest}: cannot create the folder {folder} ({_reason(exc)}); choose a writable location"
            ) from None
    elif not folder.is_dir():
        raise FileWriteError(f"{dest}: output folder {folder} does not exist; create it first")
    suffix = dest.suffix if 1 < len(dest.suffix) <= 16 else ".tmp"
    tmp: Path | None = None
    try:
        while True:
            tmp = folder / f".tmp-{secrets.token_hex(8)}{suffix}"
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                break
            except FileExistsError:
                continue
        write_fn(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, dest)
        tmp = None
        _fsync_folder(folder)
    except FileWriteError:
        raise
    except OSError as exc:
        raise FileWriteError(
            f"{dest}: cannot write the file ({_reason(exc)}); "
            f"check that {folder} is writable and has free space"
        ) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return dest


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, 64 lower-case hex digits (read in 1 MiB chunks).

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "abc"
        >>> _ = p.write_bytes(b"abc")
        >>> sha256_file(p)[:16]
        'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sidecar_path(path: str | os.PathLike) -> Path:
    """Where the SHA-256 of ``path`` is recorded: ``<path>.sha256`` beside it.

    Example:
        >>> sidecar_path("w/demo.safetensors").name
        'demo.safetensors.sha256'
    """
    p = Path(path)
    return p.with_name(p.name + ".sha256")


def read_sidecar(path: str | os.PathLike) -> str | None:
    """The SHA-256 recorded in ``<path>.sha256`` (``sha256sum`` format), lower-cased, or ``None``.

    ``None`` when the sidecar is missing, empty, unreadable or does not start with 64 hex
    digits; callers treat that as a refusal, never as a pass.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "w.safetensors"
        >>> read_sidecar(p) is None
        True
    """
    try:
        text = sidecar_path(path).read_text(encoding="ascii", errors="strict").strip()
    except (OSError, UnicodeError, ValueError):
        return None
    first = text.split()[0].lower() if text else ""
    return first if re.fullmatch(r"[0-9a-f]{64}", first) else None


def write_sidecar(path: str | os.PathLike) -> str:
    """Hash ``path`` and record it in ``<path>.sha256`` (``sha256sum`` format, written atomically); the hash.

    Raises:
        FileWriteError: the sidecar cannot be written (one line naming it).

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "w.bin"
        >>> _ = p.write_bytes(b"")
        >>> write_sidecar(p) == read_sidecar(p)
        True
    """
    p = Path(path)
    digest = sha256_file(p)
    atomic_write(sidecar_path(p), lambda t: t.write_text(f"{digest}  {p.name}\n", encoding="ascii"))
    return digest


def file_identity(path: str | os.PathLike) -> tuple[int, int] | None:
    """Identity of an existing file, ``(device, inode)``, or ``None`` when it does not exist.

    Two paths with one identity are one file: hard links, symlinks and case-folding file
    systems included.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "a").write_bytes(b"")
        >>> os.link(d / "a", d / "b")
        >>> file_identity(d / "a") == file_identity(d / "b"), file_identity(d / "c")
        (True, None)
    """
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
