"""Files written safely and identified: atomic writes, SHA-256 hashes and sidecars, file identity.

The one place the toolkit writes a whole file (a PNG, a weights file, a JSON report, a
video): :func:`atomic_write` hands a temporary path in the destination's folder to a
writer, flushes it to disk, gives it the permissions a plain ``open()`` would
(``0o666 & ~umask``, see :func:`current_umask`) and renames it over the destination, so
a reader sees the old file or the new one, never half of one. A hash recorded beside a
file lives in a ``<file>.sha256`` sidecar in ``sha256sum`` format
(:func:`write_sidecar`, :func:`read_sidecar`).

The one way the toolkit opens a file it reads (a config, a checkpoint index, weights, a
sidecar, a photo, a JSON record): :func:`open_regular` opens it and checks **on the open
descriptor** that it is a regular file (not a FIFO, ``/dev/zero``, a socket or a folder,
also through a symlink) no larger than a cap; :func:`read_regular` then reads it in
bounded chunks and stops past the cap even if the file grows meanwhile. Its refusals are
a :class:`FileReadError`.

Every error a user can cause is a :class:`FileWriteError` whose message is one line,
names the file and says what to do.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "FileReadError",
    "FileWriteError",
    "open_regular",
    "read_regular",
    "MAX_RECORD_BYTES",
    "current_umask",
    "atomic_write",
    "sha256_file",
    "sidecar_path",
    "read_sidecar",
    "write_sidecar",
    "file_identity",
    "is_temp_name",
]

_CHUNK = 1 << 20
#: The largest JSON or text record the toolkit reads back (manifests, markers, tables: kilobytes).
MAX_RECORD_BYTES = 16 * 2**20


class FileWriteError(OSError):
    """A file could not be written; the message is one line, names the file and says what to do."""


class FileReadError(OSError):
    """A file was refused for reading: not a regular file, or over its size cap.

    ``str(err)`` is one line naming the file; ``err.strerror`` is the reason alone, so a
    caller that words an ``OSError`` as ``cannot read (<strerror>)`` still says why.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(errno.EINVAL, reason, os.fspath(path))

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO, a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device such as /dev/zero"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def open_regular(
    path: str | os.PathLike, what: str = "file", max_bytes: int | None = None, *, follow_links: bool = True
) -> BinaryIO:
    """Open ``path`` for binary reading, refusing anything but a regular file of at most ``max_bytes``.

    The checks run on the opened descriptor (``os.fstat``), so a symlink to ``/dev/zero``
    or a file swapped in after a check is caught too. A FIFO is opened without blocking
    (``O_NONBLOCK``) and refused. ``follow_links=False`` refuses a symlink as well
    (``O_NOFOLLOW``, where the system has it).

    Args:
        path: the file.
        what: what the file is, for messages (``"training config"``).
        max_bytes: refuse a file larger than this (``None``: no cap; use :func:`read_regular`
            to also stop a file that grows while read).
        follow_links: whether a symlink to a regular file is accepted.

    Returns:
        a binary file object; the caller closes it (``with open_regular(...) as fh``).

    Raises:
        FileReadError: not a regular file, a link where none is accepted, or too large.
        OSError: the file cannot be opened (``FileNotFoundError``, ``PermissionError``...).

    Example:
        >>> open_regular("/dev/zero", "checkpoint index")
        Traceback (most recent call last):
        ...
        animegan_edu.files.FileReadError: /dev/zero: not a regular file (a device such as /dev/zero); \
give the checkpoint index itself
    """
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
        if not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):
            raise FileReadError(path, f"a symbolic link; give the {what} itself")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow_links and exc.errno == errno.ELOOP:
            raise FileReadError(path, f"a symbolic link; give the {what} itself") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = _kind(st.st_mode)
            raise FileReadError(path, f"not a regular file ({kind}); give the {what} itself")
        if max_bytes is not None and st.st_size > max_bytes:
            raise FileReadError(
                path, f"{st.st_size:,} bytes, more than the {max_bytes:,} a {what} may have; refused"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(
    path: str | os.PathLike, max_bytes: int, what: str = "file", *, follow_links: bool = True
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, read in chunks (:func:`open_regular`).

    Reading stops, with a refusal, as soon as more than ``max_bytes`` have come in, so a
    file that grows while it is read never costs more than ``max_bytes`` of memory.

    Raises:
        FileReadError: not a regular file, or larger than ``max_bytes`` (before or while read).
        OSError: the file cannot be opened or read.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "a.yaml"
        >>> _ = p.write_bytes(b"seed: 1\\n")
        >>> read_regular(p, 100, "config")
        b'seed: 1\\n'
        >>> try:
        ...     read_regular(p, 4, "config")
        ... except FileReadError as err:
        ...     print(err.strerror)
        8 bytes, more than the 4 a config may have; refused
    """
    chunks: list[bytes] = []
    total = 0
    with open_regular(path, what, max_bytes, follow_links=follow_links) as fh:
        while chunk := fh.read(min(_CHUNK, max_bytes + 1 - total)):
            total += len(chunk)
            if total > max_bytes:
                raise FileReadError(
                    path, f"grew past the {max_bytes:,} bytes a {what} may have while being read; refused"
                )
            chunks.append(chunk)
    return b"".join(chunks)


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
    path: str | os.PathLike,
    write_fn: Callable[[Path], object],
    *,
    make_folder: bool = False,
    tmp_folder: str | os.PathLike | None = None,
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
        tmp_folder: where the temporary file goes instead (on the destination's file
            system, e.g. a work folder beside it, so that a process killed mid-write leaves
            its temporary file there, where it is recognised and cleaned: :func:`is_temp_name`).

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
            tmp = Path(tmp_folder or folder) / f".tmp-{secrets.token_hex(8)}{suffix}"
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
    with open_regular(path) as fh:
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

    ``None`` when the sidecar is missing, empty, unreadable, not a regular file, over 4 KiB
    or does not start with 64 hex digits; callers treat that as a refusal, never as a pass.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "w.safetensors"
        >>> read_sidecar(p) is None
        True
    """
    try:
        text = read_regular(sidecar_path(path), 4096, "hash sidecar").decode("ascii").strip()
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


#: The names :func:`atomic_write` gives its temporary files: ``.tmp-<16 hex><suffix>``.
_TEMP_NAME = re.compile(r"\.tmp-[0-9a-f]{16}\.[^./\\]{1,15}")


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of :func:`atomic_write`'s temporary files (left behind by a killed process).

    A process killed with SIGKILL (or a power cut) mid-write leaves its temporary file; a
    folder that only the toolkit writes in (the video work folder) recognises it as its own
    with this test and removes it.

    Example:
        >>> import tempfile
        >>> seen = []
        >>> _ = atomic_write(os.path.join(tempfile.mkdtemp(), "f.png"), lambda t: seen.append(t.name))
        >>> is_temp_name(seen[0]), is_temp_name("f.png"), is_temp_name(".tmp-notours.png")
        (True, False, False)
    """
    return _TEMP_NAME.fullmatch(name) is not None
