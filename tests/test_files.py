"""animegan_edu.files: atomic writes, SHA-256 of files and sidecars, file identity."""

from __future__ import annotations

import errno
import hashlib
import os
import stat

import pytest

from animegan_edu import files as F


# --------------------------------------------------------------------------- atomic_write
def test_atomic_write_writes_the_whole_file_and_nothing_else(tmp_path):
    out = F.atomic_write(tmp_path / "a.txt", lambda t: t.write_text("hello"))
    assert out == tmp_path / "a.txt" and out.read_text() == "hello"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_atomic_write_gives_the_permissions_of_a_plain_open(tmp_path, umask):
    """Defect: files written through mkstemp ended up mode 0600 whatever the umask."""
    old = os.umask(umask)
    try:
        assert F.current_umask() == umask
        p = F.atomic_write(tmp_path / "b.bin", lambda t: t.write_bytes(b"123"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask and p.read_bytes() == b"123"


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path, error):
    dest = tmp_path / "keep.bin"
    dest.write_bytes(b"old")
    seen = []

    def half(tmp):
        assert tmp.parent == tmp_path and tmp != dest
        tmp.write_bytes(b"partial")
        seen.append(dest.read_bytes())  # the target is untouched while the writer runs
        raise error("stop")

    with pytest.raises(error):
        F.atomic_write(dest, half)
    assert seen == [b"old"] and dest.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.bin"]


def test_a_writer_error_from_the_disk_is_one_line_naming_the_file(tmp_path):
    def full(tmp):
        tmp.write_bytes(b"x")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

    with pytest.raises(F.FileWriteError) as info:
        F.atomic_write(tmp_path / "big.bin", full)
    msg = str(info.value)
    assert str(tmp_path / "big.bin") in msg and "no space left" in msg
    assert "\n" not in msg and "[Errno" not in msg
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_name_is_short_so_a_255_byte_name_still_works(tmp_path):
    names = []
    long_name = "x" * 251 + ".png"  # 255 bytes, the longest a Linux file name may be
    F.atomic_write(tmp_path / long_name, lambda t: (names.append(t.name), t.write_bytes(b"ok")))
    assert (tmp_path / long_name).read_bytes() == b"ok"
    assert names[0].startswith(".") and names[0].endswith(".png") and len(names[0]) <= 40
    very_long_suffix = "y." + "z" * 253  # the temporary name does not copy a long suffix
    F.atomic_write(tmp_path / very_long_suffix, lambda t: (names.append(t.name), t.write_bytes(b"ok")))
    assert names[1].endswith(".tmp") and len(names[1]) <= 40
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([long_name, very_long_suffix])


def test_writers_that_read_the_suffix_work(tmp_path):
    """torch.save names its zip archive after the file: a temporary name without a stem broke it."""
    import torch

    out = F.atomic_write(tmp_path / "checkpoint.pt", lambda t: torch.save({"step": 3}, t))
    assert torch.load(out, weights_only=True) == {"step": 3}


def test_missing_folder_is_an_error_unless_asked_to_create_it(tmp_path):
    dest = tmp_path / "new" / "deeper" / "f.txt"
    with pytest.raises(F.FileWriteError, match="does not exist; create it first") as info:
        F.atomic_write(dest, lambda t: t.write_text("x"))
    assert str(dest) in str(info.value) and not (tmp_path / "new").exists()
    F.atomic_write(dest, lambda t: t.write_text("x"), make_folder=True)
    assert dest.read_text() == "x"


def test_a_file_in_the_way_of_the_folder_is_one_line(tmp_path):
    (tmp_path / "blocker").write_text("a file where a folder should be")
    dest = tmp_path / "blocker" / "w.safetensors"
    for make in (False, True):
        with pytest.raises(F.FileWriteError) as info:
            F.atomic_write(dest, lambda t: t.write_text("x"), make_folder=make)
        msg = str(info.value)
        assert str(dest) in msg and "\n" not in msg and "[Errno" not in msg


def test_data_and_folder_are_flushed_before_and_after_the_rename(tmp_path, monkeypatch):
    synced: list[str] = []
    real = os.fsync

    def spy(fd):
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    F.atomic_write(tmp_path / "s.txt", lambda t: t.write_text("x"))
    assert synced == ["file", "dir"]


# --------------------------------------------------------------------------- hashes and sidecars
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_sha256_of_known_bytes(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")
    (tmp_path / "empty").write_bytes(b"")
    assert F.sha256_file(tmp_path / "abc") == ABC
    assert F.sha256_file(str(tmp_path / "empty")) == EMPTY
    big = os.urandom(3 * (1 << 20) + 17)  # over several read chunks
    (tmp_path / "big").write_bytes(big)
    assert F.sha256_file(tmp_path / "big") == hashlib.sha256(big).hexdigest()


def test_sidecar_round_trip_in_sha256sum_format(tmp_path):
    p = tmp_path / "w.safetensors"
    p.write_bytes(b"abc")
    assert F.read_sidecar(p) is None
    assert F.write_sidecar(p) == ABC
    assert F.sidecar_path(p) == tmp_path / "w.safetensors.sha256"
    assert F.sidecar_path(p).read_text() == f"{ABC}  w.safetensors\n"
    assert F.read_sidecar(p) == ABC
    F.sidecar_path(p).write_text(ABC.upper() + "\n")
    assert F.read_sidecar(p) == ABC


@pytest.mark.parametrize("text", ["", "   \n", "not a hash  w.safetensors\n", "abc123  w\n"])
def test_unusable_sidecars_read_as_none(tmp_path, text):
    p = tmp_path / "w.safetensors"
    F.sidecar_path(p).write_text(text)
    assert F.read_sidecar(p) is None


def test_unreadable_sidecar_reads_as_none(tmp_path):
    p = tmp_path / "w.safetensors"
    F.sidecar_path(p).mkdir()  # a folder where the sidecar should be
    assert F.read_sidecar(p) is None


# --------------------------------------------------------------------------- identity
def test_file_identity_sees_links_and_tells_files_apart(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    os.link(a, tmp_path / "hard")
    (tmp_path / "sym").symlink_to(a)
    assert F.file_identity(a) is not None
    assert F.file_identity(a) == F.file_identity(tmp_path / "hard") == F.file_identity(tmp_path / "sym")
    assert F.file_identity(a) != F.file_identity(b)
    assert F.file_identity(tmp_path / "missing") is None
