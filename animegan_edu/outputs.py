"""What a command writes: never one of its inputs, under the suffix it writes, by one run at a time.

Every ``animegan-edu`` command that writes a file goes through two helpers before any work:

* :func:`check_output` refuses, in one line, an output that would replace one of the
  command's inputs (the same file through a hard link, a symlink or a case-insensitive
  file system, or the same name but for case in the same folder) or whose suffix is not
  the one the command writes (``.safetensors``, ``.png``, ``.mp4``...);
  :func:`replaced_input` is the test alone (``stylize`` uses it to pick another name);
* :func:`output_lock` holds a lock file beside the output (``.<name>.lock``, holding the
  pid) while the run lasts, so a second run on the same output stops at once with
  ``another animegan-edu is writing OUT (pid N)`` instead of racing the first one. A lock
  left by a run that died (its pid is gone) is taken over.

Both refusals are a :class:`~animegan_edu.files.FileWriteError` (one line naming the file
and what to do), which the command line prints as ``animegan-edu: error: ...``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from animegan_edu.files import FileWriteError, file_identity

__all__ = [
    "OutputBusyError",
    "name_key",
    "same_name",
    "replaced_input",
    "check_output",
    "lock_path",
    "output_lock",
]

#: An unreadable lock file younger than this is taken as a run that is still starting.
_FRESH_SECONDS = 10.0
_MAX_NAME = 255  # bytes in one file name on every common file system


class OutputBusyError(FileWriteError):
    """Another live run holds the output's lock; the message names the output and its pid."""


def name_key(name: str) -> str:
    """A file name as a case-insensitive file system compares it: Unicode-normalised and case-folded.

    Example:
        >>> name_key("Photo.PNG")
        'photo.png'
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def same_name(a: str, b: str) -> bool:
    """Whether two file names are one name on a case-insensitive file system (macOS, Windows).

    Compared after Unicode normalisation and case folding (:func:`name_key`), as such file systems do.

    Example:
        >>> same_name("Mine.SafeTensors", "mine.safetensors"), same_name("Straße.png", "STRASSE.png")
        (True, True)
        >>> same_name("a.png", "b.png"), same_name("e\\u0301.png", "\\u00e9.png")
        (False, True)
    """
    return name_key(a) == name_key(b)


def _folder_key(folder: Path) -> object:
    """One key per folder: its identity when it exists, else its normalised absolute path."""
    ident = file_identity(folder)
    return ident if ident is not None else os.path.normcase(os.path.abspath(folder))


def _inside(path: Path, folder: Path) -> bool:
    p, f = (os.path.normcase(os.path.realpath(x)) for x in (path, folder))
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)


def _clash(out: Path, inputs: Iterable[str | os.PathLike], folder: bool) -> tuple[Path, str] | None:
    """The input ``out`` would replace and how (``""``: the same file), or ``None``."""
    out_id = file_identity(out)
    out_norm = os.path.normcase(os.path.abspath(out))
    out_folder = None
    for item in inputs:
        src = Path(item)
        src_id = file_identity(src)
        if (src_id is not None and src_id == out_id) or os.path.normcase(os.path.abspath(src)) == out_norm:
            return src, ""
        if folder and src_id is not None and out.is_dir() and _inside(src, out):
            return src, " (it is inside that folder)"
        if out_id is None and same_name(src.name, out.name):
            out_folder = _folder_key(out.parent) if out_folder is None else out_folder
            if _folder_key(src.parent) == out_folder:
                return src, " (the same name but for case)"
    return None


def replaced_input(
    output: str | os.PathLike, inputs: Iterable[str | os.PathLike], *, folder: bool = False
) -> Path | None:
    """The input that writing ``output`` would replace, or ``None``.

    An input is replaced when it is the same file as ``output`` (one identity,
    :func:`animegan_edu.files.file_identity`: hard links, symlinks and case-insensitive file
    systems), has the same normalised absolute path, or, while ``output`` does not exist
    yet, sits in the same folder under the same name but for case (:func:`same_name`: on a
    case-insensitive file system that name *is* the input). With ``folder``, ``output``
    is a folder whose contents are replaced, and an input inside it counts too.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "Mine.safetensors").write_bytes(b"")
        >>> replaced_input(d / "mine.safetensors", [d / "Mine.safetensors"]).name
        'Mine.safetensors'
        >>> replaced_input(d / "other.safetensors", [d / "Mine.safetensors"]) is None
        True
    """
    found = _clash(Path(output), inputs, folder)
    return None if found is None else found[0]


def check_output(
    output: str | os.PathLike,
    inputs: Iterable[str | os.PathLike] = (),
    *,
    suffixes: Sequence[str] = (),
    what: str = "input",
    option: str = "-o",
    folder: bool = False,
) -> Path:
    """Refuse an output that would replace an input, or whose suffix is not one the command writes.

    Call it before any work, with every file the command reads.

    Args:
        output: where the command will write.
        inputs: the files (or folders) the command reads.
        suffixes: the suffixes it may write (compared ignoring case), e.g. ``(".safetensors",)``;
            empty: any.
        what: what the inputs are, for the message (``"input image"``, ``"config"``).
        option: the option that named the output, to start the message (``""``: none).
        folder: ``output`` is a folder whose contents are replaced (see :func:`replaced_input`).

    Returns:
        ``output`` as a :class:`~pathlib.Path`.

    Raises:
        FileWriteError: one line naming the output, and the input it would have replaced or
            the suffix expected.

    Example:
        >>> check_output("q.safetensors", [], suffixes=(".safetensors",)).name
        'q.safetensors'
        >>> try:
        ...     check_output("q.pt", [], suffixes=(".safetensors",))
        ... except FileWriteError as err:
        ...     print(err)
        -o q.pt: this command writes .safetensors; end the name in .safetensors
    """
    out = Path(output)
    head = f"{option} {out}" if option else str(out)
    found = _clash(out, inputs, folder)
    if found is not None:
        src, how = found
        raise FileWriteError(
            f"{head}: that is the {what} {src}{how}; refusing to replace it, choose another output name"
        )
    if suffixes and out.suffix.lower() not in {s.lower() for s in suffixes}:
        listed = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]
        raise FileWriteError(f"{head}: this command writes {listed}; end the name in {listed}")
    return out


# --------------------------------------------------------------------------------------
# One run per output: the lock file
# --------------------------------------------------------------------------------------
def lock_path(output: str | os.PathLike) -> Path:
    """The lock file of an output: ``.<name>.lock`` beside it (a short hashed name for very long names).

    Example:
        >>> lock_path("out/clip.mp4").name
        '.clip.mp4.lock'
        >>> len(lock_path("x" * 250 + ".mp4").name)
        27
    """
    out = Path(os.path.abspath(output))
    name = f".{out.name}.lock"
    if len(name.encode("utf-8", "surrogateescape")) > _MAX_NAME:
        digest = hashlib.sha256(out.name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        name = f".lock-{digest}.lock"
    return out.parent / name


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (Linux: ticks since boot, from ``/proc``), or ``None`` where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields and fields[0] in ("Z", "X"):  # a zombie: dead, not yet reaped
        return "dead"
    return fields[19] if len(fields) > 19 else None


def _alive(holder: dict) -> bool:
    """Whether the run recorded in a lock may still be going on (``False`` only when surely gone)."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if holder.get("host") not in (None, socket.gethostname()):
        return True  # another machine's process: it cannot be checked from here
    if os.name == "nt":
        return True  # no safe liveness test without extra packages; the message says how to clear it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's live process
    except OSError:
        return True
    started = _start_time(pid)
    if started == "dead":
        return False
    recorded = holder.get("started")
    return recorded is None or started is None or recorded == started  # else the pid was reused


def _read_lock(lock: Path) -> tuple[bytes, dict | None]:
    """The lock's bytes and what they say (``None``: unreadable or not a lock of ours)."""
    try:
        with open(lock, "rb") as fh:
            raw = fh.read(4096)
    except FileNotFoundError:
        raise
    except OSError:
        return b"", None
    try:
        holder = json.loads(raw.decode("utf-8"))
    except (UnicodeError, ValueError):
        return raw, None
    return raw, holder if isinstance(holder, dict) else None


def _create(lock: Path, body: bytes) -> bool:
    """Create ``lock`` holding ``body`` if it does not exist (all at once where links work); whether made."""
    tmp = lock.parent / f".tmp-{secrets.token_hex(8)}.lock"
    try:
        with open(tmp, "xb") as fh:
            fh.write(body)
        try:
            os.link(tmp, lock)  # atomic, and fails when the lock exists: never a half-written lock
            return True
        except FileExistsError:
            return False
        except OSError:  # no hard links here (FAT, some network shares): exclusive create instead
            pass
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    return True


def _take_over(lock: Path, seen: bytes) -> None:
    """Remove a stale lock, but only if it still holds what was judged stale."""
    aside = lock.parent / f".tmp-{secrets.token_hex(8)}.stale"
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return  # another run took it over first
    try:
        if aside.read_bytes() != seen:  # a new run's lock came in between: give it back
            try:
                os.link(aside, lock)
            except OSError:
                pass
    finally:
        aside.unlink()


def _acquire(output: Path, lock: Path, body: bytes) -> None:
    for _ in range(20):
        if _create(lock, body):
            return
        try:
            raw, holder = _read_lock(lock)
            age = time.time() - lock.stat().st_mtime
        except FileNotFoundError:
            continue  # released meanwhile: try again
        if holder is None and age < _FRESH_SECONDS:
            raise OutputBusyError(
                f"another animegan-edu is writing {output} (lock {lock} was just made); "
                "wait for it to finish, or run again in a few seconds"
            )
        if holder is not None and _alive(holder):
            host = holder.get("host")
            where = f" on {host}" if host not in (None, socket.gethostname()) else ""
            raise OutputBusyError(
                f"another animegan-edu is writing {output} (pid {holder.get('pid')}{where}); "
                f"wait for it to finish, or delete {lock} if no such run is going on"
            )
        _take_over(lock, raw)
    raise OutputBusyError(f"{output}: could not take the lock {lock}; run again")


@contextmanager
def output_lock(output: str | os.PathLike, *, make_folder: bool = False) -> Iterator[Path]:
    """Hold the lock of ``output`` (:func:`lock_path`) while the ``with`` block writes it.

    The lock file is created all at once (a hard link of a complete temporary file, else
    ``O_CREAT | O_EXCL``) and holds this process's pid, host and start time. A lock whose
    process is gone (or whose pid now belongs to a later process) is stale and taken over.
    The lock is removed when the block ends, also on an error or Ctrl-C; a process killed
    outright leaves it, and the next run takes it over. (On Windows a pid cannot be checked
    without extra packages: a stale lock is then reported, and the message says to delete it.)

    Args:
        output: the file or folder the block writes.
        make_folder: create the output's folder when missing (else a missing folder is an error).

    Yields:
        the lock file's path.

    Raises:
        OutputBusyError: another live run holds the lock (one line with its pid).
        FileWriteError: the lock cannot be made (folder missing or not writable).

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "o.png"
        >>> with output_lock(out) as lock:
        ...     json.loads(lock.read_text())["pid"] == os.getpid()
        True
        >>> lock.exists()
        False
    """
    out = Path(output)
    lock = lock_path(out)
    try:
        if make_folder:
            lock.parent.mkdir(parents=True, exist_ok=True)
        elif not lock.parent.is_dir():
            raise FileWriteError(f"{out}: output folder {lock.parent} does not exist; create it first")
        body = json.dumps(
            {
                "made_by": "animegan-edu",
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": _start_time(os.getpid()),
                "token": secrets.token_hex(8),
            }
        ).encode("utf-8")
        _acquire(out, lock, body)
    except FileWriteError:
        raise
    except OSError as exc:
        raise FileWriteError(
            f"{out}: cannot make the lock file {lock} ({exc.strerror or exc}); "
            "check that the folder is writable"
        ) from None
    try:
        yield lock
    finally:
        try:
            if lock.read_bytes() == body:
                lock.unlink()
        except OSError:
            pass
