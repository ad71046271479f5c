"""The pure-Python TF bundle reader/writer and the AnimeGANv2 converter."""

from __future__ import annotations

import json
import shutil
import struct
import zlib

import numpy as np
import pytest
import torch
from parity_helpers import assert_state_dict_parity, parity_cases

from animegan_edu.models import Generator
from animegan_edu.weights.tf import bundle as tb
from animegan_edu.weights.tf import checkpoint as tc
from animegan_edu.weights.tf import wire as tw


def _random_tf_generator(seed: int = 1) -> tuple[dict[str, np.ndarray], dict[str, torch.Tensor]]:
    """Random generator weights in TF layout (names, HWIO) and the state dict they must become."""
    torch.manual_seed(seed)
    state = {k: torch.randn_like(v) for k, v in Generator().state_dict().items()}
    inv = {v: k for k, v in tc.tf_variable_map().items()}
    tf = {}
    for key, value in state.items():
        name = inv[key]
        a = value.numpy()
        if a.ndim == 4:
            a = (
                a.transpose(2, 3, 0, 1) if name.endswith("/w") else a.transpose(2, 3, 1, 0)
            )  # (C,1,H,W)->(H,W,C,1); OIHW->HWIO
        tf[name] = np.ascontiguousarray(a)
    return tf, state


# -- CRC-32C ----------------------------------------------------------------------------
def test_crc32c_known_values():
    assert tw.crc32c(b"") == 0
    assert tw.crc32c(b"123456789") == 0xE3069283  # the standard check value
    assert tw.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 test vector (32 zero bytes)


def test_crc32c_fast_path_equals_bytewise():
    rng = np.random.default_rng(0)
    for n in (8191, 8192, 100_003):
        data = rng.integers(0, 256, n, dtype=np.uint8)
        assert tw.crc32c(data) == tw.crc_register(0xFFFFFFFF, data) ^ 0xFFFFFFFF
        # continuing from a previous CRC equals one pass
        assert tw.crc32c(data[n // 3 :], tw.crc32c(data[: n // 3])) == tw.crc32c(data)


def test_mask_roundtrip():
    for v in (0, 1, 0xDEADBEEF, 0xFFFFFFFF):
        assert tw.unmask_crc(tw.mask_crc(v)) == v


# -- The TensorFlow-written fixtures ------------------------------------------------------
def test_tf_fixture_lists_77_variables(shared_dir):
    ckpt = tb.TFCheckpoint(shared_dir("testdata/tf_generator_random"))
    assert len(ckpt) == 77
    assert set(ckpt) == set(tc.tf_variable_map())
    info = ckpt.info("generator/G_MODEL/C/r1/r1/w")
    assert info.shape == (3, 3, 256, 1) and info.dtype_name == "float32"


def test_variable_map_matches_reference_json(shared_dir):
    ref = json.loads(shared_dir("reference/animegan2_tf_generator_variables.json").read_text())["variables"]
    assert tc.tf_variable_map() == {k: v["torch_key"] for k, v in ref.items()}
    ckpt = tb.TFCheckpoint(shared_dir("testdata/tf_generator_random"))
    for name, v in ref.items():
        assert list(ckpt.info(name).shape) == v["shape"], name


def _tf_fixture_pairs(shared_dir):
    """Every TF checkpoint under testdata/tf_generator_* with the reference state dict it must equal."""
    base = shared_dir("testdata")
    parity = shared_dir("reference/parity")
    pairs = []
    for folder in sorted(base.glob("tf_generator_*")):
        own = sorted(folder.glob("*.pt"))  # a fixture may carry its own reference state dict,
        suffix = folder.name[len("tf_generator_") :]  # or name it: tf_generator_X <-> generator_X*.pt
        named = sorted(parity.glob(f"generator_{suffix}*.pt"))
        pairs.append((folder, (own or named or [parity / "generator_random_seed0.pt"])[0]))
    return pairs


def test_tf_fixture_converts_exactly(shared_dir):
    pairs = _tf_fixture_pairs(shared_dir)
    assert pairs
    for folder, ref_path in pairs:
        state = tc.convert_checkpoint(folder)
        ref = torch.load(ref_path, map_location="cpu", weights_only=True)
        assert list(state) == list(ref)
        for k in ref:
            assert state[k].dtype == ref[k].dtype and torch.equal(state[k], ref[k]), k


def test_tf_fixture_reproduces_parity_output(shared_dir):
    checked = 0
    for folder, ref_path in _tf_fixture_pairs(shared_dir):
        state = tc.convert_checkpoint(folder)
        for candidates, inp, out in parity_cases(shared_dir("reference/parity")):
            if ref_path not in candidates:
                continue
            x = torch.load(inp, weights_only=True)
            y = torch.load(out, weights_only=True)
            assert assert_state_dict_parity(state, x, y) <= 1e-5
            checked += 1
    assert checked


def test_writer_is_byte_identical_to_tensorflow(shared_dir):
    """Our writer, fed the fixture's tensors, writes TF's own bytes (index and data)."""
    folder = shared_dir("testdata/tf_generator_random")
    ckpt = tb.TFCheckpoint(folder)
    tensors = ckpt.tensors()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        index, data = tc.write_bundle(Path(d) / "Random-0.ckpt", tensors)
        assert index.read_bytes() == ckpt.index_path.read_bytes()
        assert data.read_bytes() == ckpt.shard_path(0).read_bytes()


def test_minimal_bundle_object_graph_only(shared_dir):
    ckpt = tb.TFCheckpoint(shared_dir("testdata/tf_bundle_minimal"))
    assert list(ckpt) == ["_CHECKPOINTABLE_OBJECT_GRAPH"]
    value = ckpt["_CHECKPOINTABLE_OBJECT_GRAPH"]
    assert value.shape == () and isinstance(value.item(), bytes)
    assert b"signatures" in value.item()  # a serialised TrackableObjectGraph
    with pytest.raises(
        tb.TFCheckpointError, match="no AnimeGANv2 generator variables.*_CHECKPOINTABLE_OBJECT_GRAPH"
    ):
        tc.convert_checkpoint(shared_dir("testdata/tf_bundle_minimal"))


def test_minimal_bundle_string_checksum_checked(shared_dir, tmp_path):
    src = shared_dir("testdata/tf_bundle_minimal")
    shutil.copytree(src, tmp_path / "b")
    data = tmp_path / "b" / "variables.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[-3] ^= 0x01
    data.chmod(0o644)
    data.write_bytes(bytes(raw))
    with pytest.raises(tb.TFCheckpointError, match="checksum mismatch"):
        tb.TFCheckpoint(tmp_path / "b")["_CHECKPOINTABLE_OBJECT_GRAPH"]


# -- Our own writer: round trips and damaged files ---------------------------------------------
def test_write_read_roundtrip_dtypes_and_blocks(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {f"scope/v{i:03d}": rng.standard_normal((i % 5 + 1, 3)).astype(np.float32) for i in range(60)}
    tensors["ints"] = np.arange(12, dtype=np.int64).reshape(3, 4)
    tensors["half"] = np.linspace(0, 1, 7, dtype=np.float16)
    tensors["scalar"] = np.array(3.5, dtype=np.float64)
    tc.write_bundle(tmp_path / "m.ckpt", tensors, block_size=256)  # many data blocks
    back = tb.read_checkpoint(tmp_path / "m.ckpt")
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and np.array_equal(back[k], v), k


def test_converter_on_own_random_checkpoint(tmp_path):
    tf, state = _random_tf_generator(seed=3)
    tf["discriminator/conv/w"] = np.zeros((3, 3, 3, 8), np.float32)  # ignored
    tf["global_step"] = np.array(7, np.int64)
    tc.write_bundle(tmp_path / "g.ckpt", tf)
    out = tc.convert_checkpoint(tmp_path, tmp_path / "g.safetensors")
    for k in state:
        assert torch.equal(out[k], state[k]), k
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "g.safetensors"))
    assert all(torch.equal(saved[k], state[k]) for k in state)
    g = Generator()
    g.load_state_dict(saved, strict=True)


def test_depthwise_and_conv_layouts():
    hwio = np.arange(3 * 3 * 4 * 5, dtype=np.float32).reshape(3, 3, 4, 5)
    oihw = tc._tf_to_torch_layout("x/Conv/weights", hwio)
    assert oihw.shape == (5, 4, 3, 3) and oihw[2, 1, 0, 2] == hwio[0, 2, 1, 2]
    dw = np.arange(3 * 3 * 6, dtype=np.float32).reshape(3, 3, 6, 1)
    t = tc._tf_to_torch_layout("x/r1/w", dw)
    assert t.shape == (6, 1, 3, 3) and t[4, 0, 2, 1] == dw[2, 1, 4, 0]


def test_missing_variables_are_named(tmp_path):
    tf, _ = _random_tf_generator()
    del tf["generator/G_MODEL/C/r2/r2/w"]
    del tf["generator/G_MODEL/out_layer/Conv/weights"]
    tc.write_bundle(tmp_path / "g.ckpt", tf)
    with pytest.raises(
        tb.TFCheckpointError,
        match=r"2 of the 77 generator variables are missing.*C/r2/r2/w.*out_layer/Conv/weights",
    ):
        tc.convert_checkpoint(tmp_path / "g.ckpt")


def test_wrong_shape_is_named(tmp_path):
    tf, _ = _random_tf_generator()
    tf["generator/G_MODEL/A/Conv/weights"] = np.zeros((3, 3, 3, 32), np.float32)
    tc.write_bundle(tmp_path / "g.ckpt", tf)
    with pytest.raises(tb.TFCheckpointError, match=r"A/Conv/weights has TF shape \(3, 3, 3, 32\)"):
        tc.convert_checkpoint(tmp_path / "g.ckpt")


def _small_bundle(tmp_path):
    tensors = {"a": np.arange(1000, dtype=np.float32), "b": np.ones((4, 4), np.float32)}
    index, data = tc.write_bundle(tmp_path / "s.ckpt", tensors)
    return index, data


def test_truncated_data_file(tmp_path):
    index, data = _small_bundle(tmp_path)
    data.write_bytes(data.read_bytes()[:-10])
    ckpt = tb.TFCheckpoint(tmp_path / "s.ckpt")
    assert ckpt["a"].shape == (1000,)  # the first tensor is complete
    with pytest.raises(tb.TFCheckpointError, match=r"truncated .*'b'"):
        ckpt["b"]


def test_bad_data_checksum(tmp_path):
    index, data = _small_bundle(tmp_path)
    raw = bytearray(data.read_bytes())
    raw[100] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(tb.TFCheckpointError, match=r"checksum mismatch for 'a'"):
        tb.read_checkpoint(tmp_path / "s.ckpt")
    assert tb.TFCheckpoint(tmp_path / "s.ckpt").read("a", verify=False).shape == (1000,)


def test_bad_index_block_checksum(tmp_path):
    index, data = _small_bundle(tmp_path)
    raw = bytearray(index.read_bytes())
    raw[5] ^= 0x01  # inside the first data block
    index.write_bytes(bytes(raw))
    with pytest.raises(tb.TFCheckpointError, match="checksum mismatch in the block"):
        tb.TFCheckpoint(tmp_path / "s.ckpt")


@pytest.mark.parametrize("cut", [1, 20, 60])
def test_truncated_index(tmp_path, cut):
    index, _ = _small_bundle(tmp_path)
    index.write_bytes(index.read_bytes()[:-cut])
    with pytest.raises(tb.TFCheckpointError, match="truncated|not a TF checkpoint index"):
        tb.TFCheckpoint(tmp_path / "s.ckpt")


def test_foreign_files(tmp_path):
    (tmp_path / "x.ckpt.index").write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(tb.TFCheckpointError, match="not a TF checkpoint index"):
        tb.TFCheckpoint(tmp_path / "x.ckpt")
    (tmp_path / "tiny.index").write_bytes(b"hello")
    with pytest.raises(tb.TFCheckpointError, match="truncated or not a TF checkpoint"):
        tb.TFCheckpoint(tmp_path / "tiny.index")


def test_missing_files(tmp_path):
    with pytest.raises(tb.TFCheckpointError, match="no TF checkpoint here"):
        tb.TFCheckpoint(tmp_path)
    index, data = _small_bundle(tmp_path)
    data.unlink()
    with pytest.raises(tb.TFCheckpointError, match="data shard missing"):
        tb.TFCheckpoint(tmp_path / "s.ckpt")["a"]


def test_messages_are_one_line(tmp_path):
    index, _ = _small_bundle(tmp_path)
    index.write_bytes(index.read_bytes()[:-1])
    with pytest.raises(tb.TFCheckpointError) as info:
        tb.TFCheckpoint(tmp_path / "s.ckpt")
    assert "\n" not in str(info.value) and "s.ckpt.index" in str(info.value)


def test_unrelated_zlib_crc_is_not_crc32c():
    """CRC-32C is not zlib's CRC-32: a converter must not use the wrong one."""
    assert tw.crc32c(b"123456789") != zlib.crc32(b"123456789")
    assert struct.pack("<I", tw.masked_crc32c(b"")) != struct.pack("<I", 0)


# -- defect: a whole shard was read into memory; streaming with a per-tensor cap ----------------
def test_sparse_data_file_is_streamed_not_read_whole(tmp_path):
    """A .data shard padded (sparsely) to 256 MB: reading its tensors costs only their bytes."""
    import os
    import tracemalloc

    index, data = _small_bundle(tmp_path)
    os.truncate(data, 256 * 2**20)  # sparse: no disk space, but a whole-file read would allocate it
    ckpt = tb.TFCheckpoint(tmp_path / "s.ckpt")
    tracemalloc.start()
    try:
        tensors = ckpt.tensors()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tensors["a"].shape == (1000,) and tensors["b"].shape == (4, 4)
    assert peak < 4 * 2**20, f"reading two small tensors allocated {peak / 2**20:.0f} MiB"


def test_tensor_size_cap_and_ranges_checked_before_reading(tmp_path):
    import dataclasses

    _small_bundle(tmp_path)
    with pytest.raises(
        tb.TFCheckpointError,
        match=r"s.ckpt.data-00000-of-00001: 'a' claims 4,000 bytes, more than the 1,000-byte limit",
    ):
        tb.TFCheckpoint(tmp_path / "s.ckpt", max_tensor_bytes=1000)["a"]
    assert tb.MAX_TENSOR_BYTES == 64 * 2**20
    ckpt = tb.TFCheckpoint(tmp_path / "s.ckpt")
    info = ckpt.info("a")
    ckpt._infos["a"] = dataclasses.replace(info, shape=(10**9,), size=4 * 10**9)  # a hostile index entry
    with pytest.raises(tb.TFCheckpointError, match="limit per tensor"):
        ckpt["a"]
    ckpt._infos["a"] = dataclasses.replace(info, offset=10**9)  # past the end of the shard
    with pytest.raises(tb.TFCheckpointError, match=r"truncated \(\d+ bytes, but 'a' needs bytes up to"):
        ckpt["a"]
    ckpt._infos["a"] = dataclasses.replace(info, shape=(7,))  # size and shape disagree
    with pytest.raises(tb.TFCheckpointError, match=r"'a' takes 4,000 bytes, but its shape \(7,\) needs 28"):
        ckpt["a"]


def test_oversized_index_is_refused(tmp_path, monkeypatch):
    index, _ = _small_bundle(tmp_path)
    monkeypatch.setattr(tb, "MAX_INDEX_BYTES", 100)
    with pytest.raises(tb.TFCheckpointError, match=r"s.ckpt.index: \d+ bytes, more than the 100"):
        tb.TFCheckpoint(tmp_path / "s.ckpt")


# -- issue 24: the index reader caps its entries before decoding more (tests/test_bounded.py has the rest)
def test_entry_cap_counts_every_entry_header_included(tmp_path, monkeypatch):
    assert 77 * 10 < tb.MAX_INDEX_ENTRIES <= 100_000  # AnimeGANv2 has 77 variables: generous, still bounded
    tc.write_bundle(tmp_path / "e.ckpt", {f"v{i:02d}": np.full(1, i, np.float32) for i in range(40)})
    monkeypatch.setattr(tb, "MAX_INDEX_ENTRIES", 41)  # 40 tensors + the header entry: at the cap
    assert len(tb.TFCheckpoint(tmp_path / "e.ckpt")) == 40
    monkeypatch.setattr(tb, "MAX_INDEX_ENTRIES", 40)
    with pytest.raises(tb.TFCheckpointError, match=r"e\.ckpt\.index: more than 40 entries"):
        tb.TFCheckpoint(tmp_path / "e.ckpt")


def test_entry_field_of_the_wrong_wire_type_is_a_one_line_error(tmp_path):
    """Found by tests/test_fuzz.py: a varint where the shape's bytes belong raised TypeError."""
    header = tw.proto_field(1, 0, 1)
    entries = [(b"", header), (b"w", tw.proto_field(1, 0, 1) + tw.proto_field(2, 0, 5))]
    (tmp_path / "m.ckpt.index").write_bytes(tc._sorted_table(entries, 262144))
    with pytest.raises(tb.TFCheckpointError, match=r"m\.ckpt\.index: malformed entry for 'w'$"):
        tb.TFCheckpoint(tmp_path / "m.ckpt")


# -- defect: non-finite TF weights converted silently ----------------------------------------------
def test_non_finite_tf_weights_are_refused(tmp_path):
    tf, _ = _random_tf_generator()
    tf["generator/G_MODEL/B/Conv/weights"][0, 0, 0, 0] = np.nan
    tc.write_bundle(tmp_path / "g.ckpt", tf)
    with pytest.raises(
        tb.TFCheckpointError, match=r"g.ckpt.index: generator/G_MODEL/B/Conv/weights holds NaN or infinite"
    ) as info:
        tc.convert_checkpoint(tmp_path / "g.ckpt", tmp_path / "g.safetensors")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "g.safetensors").exists()


# -- defect: written files were 0600 (mkstemp) and write errors had no file name ----------------------
def test_saved_safetensors_respect_the_umask(tmp_path):
    import os
    import stat

    from animegan_edu.files import FileWriteError

    for umask in (0o022, 0o002):
        old = os.umask(umask)
        try:
            out = tc.save_state_dict_safetensors({"w": torch.zeros(3)}, tmp_path / f"w{umask}.safetensors")
        finally:
            os.umask(old)
        assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert not list(tmp_path.glob(".*.tmp"))
    (tmp_path / "blocker").write_text("a file where a folder should be")
    with pytest.raises(FileWriteError) as info:
        tc.save_state_dict_safetensors({"w": torch.zeros(3)}, tmp_path / "blocker" / "w.safetensors")
    msg = str(info.value)
    assert "blocker/w.safetensors" in msg and "[Errno" not in msg and "\n" not in msg
