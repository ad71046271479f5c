"""Every reader is bounded (issue 24, class 3, and the config range checks of class 4).

A file the toolkit reads is opened as a regular file with a size cap and read in bounded
chunks (:func:`animegan_edu.files.read_regular`): a link to ``/dev/zero`` or a FIFO given as a
checkpoint index, a config, a photo, weights or a sidecar is refused in one line before
anything is read. The TF index reader stops at :data:`~animegan_edu.weights.tf.bundle.MAX_INDEX_ENTRIES`
entries and never decodes more block bytes than the file holds. Configs refuse YAML anchors
and aliases, and values in messages are cut to about 80 characters.

No test here measures time: each asserts what the reader did (what it refused, how many
entries it decoded, how many bytes it checksummed or was fed). A FIFO is fed by a thread
that gives at most 1 MiB and then closes, and ``/dev/zero`` cases run under a watchdog
alarm, so the old, unbounded readers fail these tests instead of hanging the run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

from animegan_edu import files as F
from animegan_edu.checks import short_repr
from animegan_edu.cli import main as cli
from animegan_edu.imageio import ImageLoadError, read_image
from animegan_edu.machine import max_threads
from animegan_edu.training.config import ConfigError, load_config
from animegan_edu.weights.files import (
    CorruptFileError,
    load_state_dict,
    read_safetensors,
    safetensors_metadata,
)
from animegan_edu.weights.tf import bundle as tb
from animegan_edu.weights.tf import checkpoint as tc
from animegan_edu.weights.tf import wire as tw

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")

FEED_BYTES = 1 << 20


@contextlib.contextmanager
def fed_fifo(path: Path, nbytes: int = FEED_BYTES):
    """A FIFO at ``path`` whose writer gives at most ``nbytes`` zeros to a reader, then closes.

    Yields a one-item list: the bytes written so far. An old reader that opened and read it
    gets ``nbytes`` and an end of file (not a hang); a bounded reader refuses it unread.
    """
    os.mkfifo(path)
    sent = [0]
    stop = threading.Event()

    def feed() -> None:
        while not stop.is_set():  # wait for a reader without ever blocking in open()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:  # ENXIO: no reader yet
                stop.wait(0.01)
        else:
            return
        os.set_blocking(fd, True)
        try:
            chunk = bytes(65536)
            while sent[0] < nbytes:
                sent[0] += os.write(fd, chunk)
        except OSError:  # the reader went away (EPIPE): what a bounded reader does
            pass
        finally:
            os.close(fd)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    try:
        yield sent
    finally:
        stop.set()
        thread.join()


@pytest.fixture
def watchdog():
    """A read of /dev/zero without end (the defect) fails the test instead of hanging the run."""

    def hung(signum, frame):
        raise AssertionError("still reading /dev/zero after 20 s: the reader is not bounded")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg and len(msg) < 400, msg
    return msg


# -- the one helper ---------------------------------------------------------------------
def test_read_regular_refuses_devices_fifos_and_folders(tmp_path, watchdog):
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(F.FileReadError, match=r"zero: not a regular file \(a device such as /dev/zero\)"):
        F.read_regular(tmp_path / "zero", 1000, "index")
    with fed_fifo(tmp_path / "pipe") as sent:
        with pytest.raises(F.FileReadError, match=r"pipe: not a regular file \(a FIFO"):
            F.read_regular(tmp_path / "pipe", 1000, "index")
    assert sent[0] <= 65536  # nothing was read from it (a pipe buffer at most went unread)
    with pytest.raises(F.FileReadError, match="not a regular file .a folder."):
        F.read_regular(tmp_path, 1000, "index")


def test_read_regular_caps_size_before_and_while_reading(tmp_path, monkeypatch):
    p = tmp_path / "big.bin"
    p.write_bytes(bytes(100))
    assert F.read_regular(p, 100, "record") == bytes(100)
    with pytest.raises(F.FileReadError, match="100 bytes, more than the 99 a record may have"):
        F.read_regular(p, 99, "record")
    # a file that grows after the size check: fstat says 0 bytes, the reading still stops at the cap
    real_fstat = os.fstat

    class Shrunk:
        def __init__(self, st):
            self.st_mode, self.st_size = st.st_mode, 0

    monkeypatch.setattr(F.os, "fstat", lambda fd: Shrunk(real_fstat(fd)))
    monkeypatch.setattr(F, "_CHUNK", 8)
    reads = []
    real_fdopen = os.fdopen

    def counting_fdopen(fd, mode):
        fh = real_fdopen(fd, mode)
        read = fh.read

        class Counting:
            def read(self, n):
                data = read(n)
                reads.append(len(data))
                return data

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                fh.close()

        return Counting()

    monkeypatch.setattr(F.os, "fdopen", counting_fdopen)
    with pytest.raises(F.FileReadError, match="grew past the 20 bytes a record may have while being read"):
        F.read_regular(p, 20, "record")
    assert sum(reads) <= 21  # stopped one byte past the cap, not at the end of the file


def test_no_link_where_none_is_expected(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("x")
    (tmp_path / "l.txt").symlink_to(target)
    assert F.read_regular(tmp_path / "l.txt", 10) == b"x"
    with pytest.raises(F.FileReadError, match="a symbolic link"):
        F.read_regular(tmp_path / "l.txt", 10, follow_links=False)


def test_sidecars_and_hashes_refuse_what_is_not_a_file(tmp_path, watchdog):
    w = tmp_path / "w.safetensors"
    w.write_bytes(b"x")
    (tmp_path / "w.safetensors.sha256").symlink_to("/dev/zero")
    assert F.read_sidecar(w) is None  # a refusal, read nothing
    (tmp_path / "w.safetensors.sha256").unlink()
    with fed_fifo(tmp_path / "w.safetensors.sha256"):
        assert F.read_sidecar(w) is None
    (tmp_path / "z").symlink_to("/dev/zero")
    with pytest.raises(F.FileReadError, match="not a regular file"):
        F.sha256_file(tmp_path / "z")


# -- TF checkpoint index ----------------------------------------------------------------
def test_tf_index_linked_to_dev_zero_is_refused(tmp_path, watchdog):
    """The issue's example: size 0 passed the old size check, then /dev/zero was read without end."""
    index, _ = tc.write_bundle(tmp_path / "s.ckpt", {"a": np.ones(3, np.float32)})
    index.unlink()
    index.symlink_to("/dev/zero")
    for given in (index, tmp_path / "s.ckpt"):  # the .index file itself (the issue's), or the prefix
        with pytest.raises(tb.TFCheckpointError) as err:
            tb.TFCheckpoint(given)
        assert "s.ckpt.index: not a regular file (a device such as /dev/zero)" in _one_line(err.value)


def test_tf_index_that_is_a_fifo_is_refused_unread(tmp_path):
    _, data = tc.write_bundle(tmp_path / "s.ckpt", {"a": np.ones(3, np.float32)})
    index = Path(str(tmp_path / "s.ckpt") + ".index")
    index.unlink()
    with fed_fifo(index) as sent:
        with pytest.raises(tb.TFCheckpointError, match=r"s\.ckpt\.index: not a regular file \(a FIFO"):
            tb.TFCheckpoint(index)
    assert sent[0] <= 65536


def test_tf_data_shard_that_is_a_device_is_refused(tmp_path, watchdog):
    _, data = tc.write_bundle(tmp_path / "s.ckpt", {"a": np.ones(3, np.float32)})
    ckpt = tb.TFCheckpoint(tmp_path / "s.ckpt")
    data.unlink()
    data.symlink_to("/dev/zero")
    with pytest.raises(tb.TFCheckpointError, match=r"data-00000-of-00001: not a regular file"):
        ckpt["a"]


def test_dense_index_over_the_entry_cap_is_refused_with_bounded_work(tmp_path, monkeypatch):
    """A valid index of 12,000 tensors: refused after decoding at most MAX_INDEX_ENTRIES + 1 entries."""
    n = tb.MAX_INDEX_ENTRIES + 2000
    tc.write_bundle(tmp_path / "d.ckpt", {f"v{i:06d}": np.zeros(0, np.float32) for i in range(n)})
    decoded = [0]
    real = tb._block_entries

    def counting(block, where):
        for entry in real(block, where):
            decoded[0] += 1
            yield entry

    monkeypatch.setattr(tb, "_block_entries", counting)
    tracemalloc.start()
    try:
        with pytest.raises(tb.TFCheckpointError) as err:
            tb.TFCheckpoint(tmp_path / "d.ckpt")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "d.ckpt.index: more than 10,000 entries" in _one_line(err.value)
    index_block_entries = decoded[0] - (tb.MAX_INDEX_ENTRIES + 1)
    assert 0 < index_block_entries < 50, decoded  # the index block's handles, then the data stops
    assert peak < 16 * 2**20, f"refusing a 240 KB index allocated {peak / 2**20:.0f} MiB"


def test_a_generous_checkpoint_under_the_cap_still_opens(tmp_path):
    """3,000 tensors, three times a full AnimeGANv2 training checkpoint with Adam slots: accepted."""
    tc.write_bundle(tmp_path / "g.ckpt", {f"v{i:05d}": np.full(2, i, np.float32) for i in range(3000)})
    ckpt = tb.TFCheckpoint(tmp_path / "g.ckpt")
    assert len(ckpt) == 3000 and ckpt["v02999"].tolist() == [2999.0, 2999.0]


def _table_with_repeated_handles(block: bytes, repeats: int) -> bytes:
    """An index whose index block points ``repeats`` times at one data block (a hostile file)."""
    table = bytearray(tc._with_trailer(block))
    handles = [(b"k%06d" % i, tw.put_varint(0) + tw.put_varint(len(block))) for i in range(repeats)]
    meta_off = len(table)
    meta = tc._table_block([])
    table += tc._with_trailer(meta)
    idx_off = len(table)
    index_block = tc._table_block(handles, restart_interval=1)
    table += tc._with_trailer(index_block)
    footer = tw.put_varint(meta_off) + tw.put_varint(len(meta)) + tw.put_varint(idx_off)
    footer += tw.put_varint(len(index_block))
    table += footer.ljust(40, b"\0") + struct.pack("<Q", tw.TABLE_MAGIC)
    return bytes(table)


def test_index_pointing_at_one_block_many_times_is_refused(tmp_path, monkeypatch):
    """2,000 handles to one 256 KiB block: the old reader checksummed 500 MB; at most the file is now."""
    k = 65536
    empty_block = struct.pack("<I", 0) * k + struct.pack("<I", k)  # 256 KiB, no entries
    data = _table_with_repeated_handles(empty_block, 2000)
    (tmp_path / "h.ckpt.index").write_bytes(data)
    summed = [0]
    real = tb.crc32c

    def counting(buf, crc=0):
        summed[0] += len(buf)
        return real(buf, crc)

    monkeypatch.setattr(tb, "crc32c", counting)
    with pytest.raises(tb.TFCheckpointError) as err:
        tb.TFCheckpoint(tmp_path / "h.ckpt")
    assert "more blocks or block bytes than the file holds" in _one_line(err.value)
    assert summed[0] <= 2 * len(data), f"checksummed {summed[0]:,} bytes of a {len(data):,}-byte file"


def test_entry_with_too_many_dimensions_is_refused():
    dims = b"".join(tw.proto_field(2, 2, tw.proto_field(1, 0, 2**62)) for _ in range(tb.MAX_TENSOR_DIMS + 1))
    value = tw.proto_field(1, 0, 1) + tw.proto_field(2, 2, dims)
    with pytest.raises(ValueError, match="too many dimensions"):
        tb._parse_entry("w", value)


# -- YAML configs ------------------------------------------------------------------------
def _laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\n"


def test_billion_laughs_config_is_refused_at_the_first_anchor(tmp_path, monkeypatch):
    """The issue's example: 27 s, then MemoryError. Now: refused before any node is composed."""
    import yaml

    (tmp_path / "laughs.yaml").write_text(_laughs())
    composed = [0]
    real = yaml.composer.Composer.compose_node

    def counting(self, parent, index):
        composed[0] += 1
        return real(self, parent, index)

    monkeypatch.setattr(yaml.composer.Composer, "compose_node", counting)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "laughs.yaml")
    msg = _one_line(err.value)
    assert msg.startswith(f"{tmp_path / 'laughs.yaml'}: line 1: YAML anchors and aliases"), msg
    assert composed[0] <= 2, composed  # the document and the top mapping: no list was built


def test_a_plain_alias_is_refused_too(tmp_path):
    (tmp_path / "c.yaml").write_text("init_lr: 0.001\ng_lr: &lr 0.0002\nd_lr: *lr\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: line 2: YAML anchors and aliases .* write the values"):
        load_config(tmp_path / "c.yaml")


def test_merge_keys_need_aliases_and_are_refused(tmp_path):
    (tmp_path / "c.yaml").write_text("base: &b {seed: 1}\n<<: *b\n")
    with pytest.raises(ConfigError, match="anchors and aliases"):
        load_config(tmp_path / "c.yaml")


def test_config_size_cap_and_non_files(tmp_path, monkeypatch, watchdog):
    from animegan_edu.training import config as C

    (tmp_path / "c.yaml").write_text("seed: 1\n" + "# padding\n" * 100)
    monkeypatch.setattr(C, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ConfigError, match=r"c\.yaml: 1,008 bytes, more than the 100 a training config"):
        load_config(tmp_path / "c.yaml")
    (tmp_path / "z.yaml").symlink_to("/dev/zero")
    with pytest.raises(ConfigError, match=r"z\.yaml: not a regular file"):
        load_config(tmp_path / "z.yaml")
    with fed_fifo(tmp_path / "f.yaml") as sent:
        with pytest.raises(ConfigError, match=r"f\.yaml: not a regular file \(a FIFO"):
            load_config(tmp_path / "f.yaml")
    assert sent[0] <= 65536


def test_deep_nesting_and_huge_integers_are_one_line_errors(tmp_path):
    (tmp_path / "deep.yaml").write_text("name: " + "[" * 20000 + "]" * 20000 + "\n")
    with pytest.raises(ConfigError, match=r"deep\.yaml: nested too deeply"):
        load_config(tmp_path / "deep.yaml")
    (tmp_path / "big.yaml").write_text("seed: " + "9" * 6000 + "\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "big.yaml")
    assert "big.yaml" in _one_line(err.value)


@pytest.mark.parametrize(
    "text, shown",
    [
        ("seed: " + "x" * 5000 + "\n", "seed: expected a whole number, got 'xxxx"),  # a long string
        ("name: [" + ", ".join(["lol"] * 10000) + "]\n", "name: expected text, got a list of 10,000 items"),
        ("precision: " + "y" * 3000 + "\n", "precision: use auto, bf16 or fp32, got 'yyy"),
    ],
)
def test_long_values_are_cut_in_messages(tmp_path, text, shown):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "c.yaml")
    msg = _one_line(err.value)
    assert shown in msg and len(msg) < len(str(tmp_path)) + 160, msg


def test_short_repr_bounds_every_value():
    assert len(short_repr("x" * 10**6)) <= 80
    assert short_repr(list(range(10**6))) == "a list of 1,000,000 items"
    assert short_repr(10**5000) == "a int too long to show"  # Python refuses to print it
    assert "\n" not in short_repr("a\nb")


# -- threads on the command line --------------------------------------------------------
@pytest.mark.parametrize("command", [["train", "--config", "demo"], ["bench"]])
def test_cli_threads_are_range_checked(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*command, "--threads", "100000"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert f"--threads: expected a number of threads from 1 to {max_threads()}" in err, err


# -- photos, weights, INT8 files ----------------------------------------------------------
def test_photo_that_is_dev_zero_or_a_fifo_is_refused_in_one_line(tmp_path, watchdog):
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    with pytest.raises(ImageLoadError) as err:
        read_image(tmp_path / "zero.png")
    assert _one_line(err.value) == (
        f"{tmp_path / 'zero.png'}: not a regular file (a device such as /dev/zero); "
        "give the image itself"
    )
    with fed_fifo(tmp_path / "pipe.jpg") as sent:
        with pytest.raises(ImageLoadError, match=r"pipe\.jpg: not a regular file \(a FIFO"):
            read_image(tmp_path / "pipe.jpg")
    assert sent[0] <= 65536


def test_weights_files_are_read_as_capped_regular_files(tmp_path, monkeypatch, watchdog):
    from safetensors.torch import save_file

    from animegan_edu.weights import files as WF

    (tmp_path / "z.safetensors").symlink_to("/dev/zero")
    with pytest.raises(CorruptFileError, match=r"z\.safetensors: not a regular file"):
        load_state_dict(tmp_path / "z.safetensors")
    with pytest.raises(CorruptFileError, match=r"z\.safetensors: not a regular file"):
        safetensors_metadata(tmp_path / "z.safetensors")
    with fed_fifo(tmp_path / "f.pt") as sent:
        with pytest.raises(CorruptFileError, match=r"f\.pt: not a regular file \(a FIFO"):
            load_state_dict(tmp_path / "f.pt")
    assert sent[0] <= 65536
    w = tmp_path / "w.safetensors"
    save_file({"w": torch.ones(1000)}, str(w), metadata={"upsample": "tf1"})
    assert safetensors_metadata(w) == {"upsample": "tf1"}
    monkeypatch.setattr(WF, "HARD_DOWNLOAD_CAP", 1000)
    with pytest.raises(CorruptFileError, match=r"w\.safetensors: 4,\d{3} bytes, more than the 1,000"):
        read_safetensors(w)
    with pytest.raises(CorruptFileError, match="more than the 1,000"):
        load_state_dict(w)
    monkeypatch.setattr(WF, "MAX_SAFETENSORS_HEADER", 10)  # a header claiming more than the cap
    with pytest.raises(CorruptFileError, match="malformed header"):
        safetensors_metadata(w)


def test_int8_file_that_is_a_device_is_refused(tmp_path, watchdog):
    from animegan_edu.int8.files import load_int8

    (tmp_path / "q.safetensors").symlink_to("/dev/zero")
    with pytest.raises((ValueError, FileNotFoundError)) as err:
        load_int8(tmp_path / "q.safetensors")
    assert "q.safetensors" in _one_line(err.value)


def test_a_user_seed_is_range_checked_before_torch_sees_it():
    from animegan_edu.weights.hub import get_generator

    with pytest.raises(ValueError, match=r"^seed must be a whole number from 0 to 4294967295, got 1844\d+$"):
        get_generator("random", seed=2**64)  # torch said "Overflow when unpacking long long"
