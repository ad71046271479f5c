"""Read TensorFlow tensor bundles without TensorFlow: the index table and the streaming reader.

Introduced in ``notebooks/01_generator.ipynb`` (section "TensorFlow versus PyTorch").

A TF checkpoint ``NAME.ckpt`` is a *tensor bundle*: two or more files.

* ``NAME.ckpt.index`` is a sorted string table (the LevelDB "SSTable" layout): data
  blocks of prefix-compressed ``key -> value`` entries, each block followed by a
  compression byte and a masked CRC-32C; an index block pointing at the data blocks; a
  48-byte footer ending in a magic number. The entry with the empty key holds a
  ``BundleHeaderProto`` (number of shards, byte order); every other key is a variable
  name whose value is a ``BundleEntryProto`` (dtype, shape, shard, offset, size,
  masked CRC-32C of the bytes).
* ``NAME.ckpt.data-00000-of-00001`` (one file per shard) holds the raw tensor bytes,
  little-endian, row-major, in TF's layout (conv kernels ``HWIO``).

Both are read here with a few dozen lines of protobuf wire-format decoding
(:mod:`animegan_edu.weights.tf.wire`); every block and every tensor is checked against
its CRC-32C, so a truncated or damaged download is caught. The writer and the AnimeGANv2
converter live in :mod:`animegan_edu.weights.tf.checkpoint`.

Memory and time: opening reads only the index, a regular file of at most
:data:`MAX_INDEX_BYTES` read in bounded chunks (a link to ``/dev/zero`` or a FIFO is
refused); decoding it stops at :data:`MAX_INDEX_ENTRIES` entries, at as many blocks, and
at as many block bytes as the file has (blocks never overlap), checked before each block
is decoded, so a dense or self-referencing index is refused in milliseconds; each tensor is
read from its shard by seeking to the byte range the index names, after checking that
range against the shard's size and the tensor's dtype and shape, and refusing any one
tensor larger than ``max_tensor_bytes`` (:data:`MAX_TENSOR_BYTES` by default). A sparse
or padded multi-gigabyte ``.data`` file therefore costs no more memory than the tensors
actually read.

Integrity, honestly: the CRC-32C checksums catch truncation and accidental corruption,
not tampering (anyone can recompute them). A converted file's SHA-256 is recorded by
:mod:`animegan_edu.weights.hub` at conversion and required afterwards.

Errors are :class:`TFCheckpointError` with a one-line message naming the file.
"""

from __future__ import annotations

import math
import os
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from animegan_edu.checks import short_repr
from animegan_edu.files import FileReadError, open_regular, read_regular
from animegan_edu.weights.tf.wire import (
    DT_BFLOAT16,
    DT_STRING,
    FOOTER_LEN,
    TABLE_MAGIC,
    TF_DTYPE_NAMES,
    TF_DTYPES,
    crc32c,
    proto_fields,
    read_varint,
    unmask_crc,
)

__all__ = [
    "MAX_INDEX_BYTES",
    "MAX_INDEX_ENTRIES",
    "MAX_TENSOR_DIMS",
    "MAX_TENSOR_BYTES",
    "TFCheckpointError",
    "TensorInfo",
    "TFCheckpoint",
    "read_checkpoint",
    "find_checkpoint_prefix",
]


#: The largest ``.index`` file read (bytes); AnimeGANv2's is a few kilobytes.
MAX_INDEX_BYTES = 64 * 2**20
#: The most entries (tensors, plus the header) an index may hold, and the most data blocks
#: it may point at. AnimeGANv2's generator has 77 variables; a full training checkpoint
#: (generator, discriminator and the Adam optimiser's two slots for each variable) has
#: under 1,000. 10,000 is ten times that, and decodes in well under a second.
MAX_INDEX_ENTRIES = 10_000
#: The most dimensions a tensor's shape may have (TensorFlow's own limit, ``TensorShape::MaxDimensions``).
MAX_TENSOR_DIMS = 254
#: The largest single tensor read (bytes) unless ``TFCheckpoint(max_tensor_bytes=...)``
#: says otherwise; AnimeGANv2's largest is 2.4 MB.
MAX_TENSOR_BYTES = 64 * 2**20


class TFCheckpointError(ValueError):
    """A TF checkpoint is missing, truncated, damaged, foreign or does not fit; one-line message."""


class _ChecksumError(TFCheckpointError):
    pass


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor of a bundle lives and how to check it (a decoded ``BundleEntryProto``)."""

    name: str
    dtype: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c_masked: int | None
    sliced: bool = False

    @property
    def dtype_name(self) -> str:
        return TF_DTYPE_NAMES.get(self.dtype, f"dtype#{self.dtype}")


def _parse_entry(name: str, value: bytes) -> TensorInfo:
    dtype = 0
    shape: list[int] = []
    shard_id = offset = size = 0
    crc = None
    sliced = False
    for field, _wire, v in proto_fields(value):
        if field == 1:
            dtype = int(v)
        elif field == 2:
            for f2, _w2, v2 in proto_fields(v):  # TensorShapeProto
                if f2 == 2:  # Dim
                    dim = 0
                    for f3, _w3, v3 in proto_fields(v2):
                        if f3 == 1:
                            dim = int(v3) - (1 << 64) if int(v3) >= 1 << 63 else int(v3)
                    shape.append(dim)
                    if len(shape) > MAX_TENSOR_DIMS:
                        raise ValueError("too many dimensions")
        elif field == 3:
            shard_id = int(v)
        elif field == 4:
            offset = int(v)
        elif field == 5:
            size = int(v)
        elif field == 6:
            crc = int(v)
        elif field == 7:
            sliced = True
    return TensorInfo(name, dtype, tuple(shape), shard_id, offset, size, crc, sliced)


# --------------------------------------------------------------------------------------
# The sorted string table (.index)
# --------------------------------------------------------------------------------------


def _read_block(data: bytes, offset: int, size: int, where: str) -> bytes:
    end = offset + size
    if offset < 0 or end + 5 > len(data):
        raise TFCheckpointError(f"{where}: truncated (a block runs past the end of the file)")
    contents = data[offset:end]
    ctype = data[end]
    stored = struct.unpack_from("<I", data, end + 1)[0]
    if unmask_crc(stored) != crc32c(data[offset : end + 1]):
        raise TFCheckpointError(f"{where}: checksum mismatch in the block at byte {offset} (damaged file)")
    if ctype == 1:
        raise TFCheckpointError(
            f"{where}: snappy-compressed blocks are not supported (TF bundles are uncompressed)"
        )
    if ctype != 0:
        raise TFCheckpointError(f"{where}: unknown block compression type {ctype}")
    return contents


def _block_entries(block: bytes, where: str) -> Iterator[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise TFCheckpointError(f"{where}: malformed table block")
    n_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 - 4 * n_restarts
    if limit < 0:
        raise TFCheckpointError(f"{where}: malformed table block (restart array)")
    pos = 0
    key = b""
    try:
        while pos < limit:
            shared, pos = read_varint(block, pos)
            non_shared, pos = read_varint(block, pos)
            vlen, pos = read_varint(block, pos)
            if shared > len(key) or pos + non_shared + vlen > limit:
                raise IndexError
            key = key[:shared] + block[pos : pos + non_shared]
            pos += non_shared
            yield key, block[pos : pos + vlen]
            pos += vlen
    except (IndexError, ValueError):
        raise TFCheckpointError(f"{where}: malformed table entry") from None


def _read_table(path: Path) -> list[tuple[bytes, bytes]]:
    try:
        data = read_regular(path, MAX_INDEX_BYTES, "checkpoint index")
    except FileReadError as exc:
        raise TFCheckpointError(f"{exc} (damaged or foreign file)") from None
    except FileNotFoundError:
        raise TFCheckpointError(f"{path}: no such file") from None
    except OSError as exc:
        raise TFCheckpointError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) < FOOTER_LEN:
        raise TFCheckpointError(f"{path}: truncated or not a TF checkpoint index ({len(data)} bytes)")
    magic = struct.unpack_from("<Q", data, len(data) - 8)[0]
    if magic != TABLE_MAGIC:
        raise TFCheckpointError(
            f"{path}: not a TF checkpoint index (no table magic number at the end; truncated or foreign file)"
        )
    footer = data[len(data) - FOOTER_LEN :]
    try:
        _meta_off, p = read_varint(footer, 0)
        _meta_size, p = read_varint(footer, p)
        idx_off, p = read_varint(footer, p)
        idx_size, p = read_varint(footer, p)
    except (IndexError, ValueError):
        raise TFCheckpointError(f"{path}: malformed table footer") from None
    entries: list[tuple[bytes, bytes]] = []
    blocks = block_bytes = 0
    for _last_key, handle in _block_entries(_read_block(data, idx_off, idx_size, str(path)), str(path)):
        try:
            off, q = read_varint(handle, 0)
            size, _ = read_varint(handle, q)
        except (IndexError, ValueError):
            raise TFCheckpointError(f"{path}: malformed block handle") from None
        blocks, block_bytes = blocks + 1, block_bytes + size
        if blocks > MAX_INDEX_ENTRIES or block_bytes > len(data):
            raise TFCheckpointError(
                f"{path}: the index points at more blocks or block bytes than the file holds "
                "(damaged or hostile index); refused"
            )
        for entry in _block_entries(_read_block(data, off, size, str(path)), str(path)):
            entries.append(entry)
            if len(entries) > MAX_INDEX_ENTRIES:
                raise TFCheckpointError(
                    f"{path}: more than {MAX_INDEX_ENTRIES:,} entries, far more than a generator's "
                    "checkpoint has (damaged or hostile index); refused"
                )
    return entries


# --------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------
def find_checkpoint_prefix(path: str | os.PathLike) -> Path:
    """Turn a folder, an ``.index`` file, a ``.data-*`` file or a prefix into the bundle prefix.

    A folder must hold exactly one ``*.index`` file, or a ``checkpoint`` text file naming
    the latest checkpoint (``model_checkpoint_path: "NAME"``).

    Raises:
        TFCheckpointError: nothing, or more than one candidate, is found.

    Example:
        >>> find_checkpoint_prefix("run/Shinkai-53.ckpt.index").name
        'Shinkai-53.ckpt'
    """
    p = Path(path)
    if p.is_dir():
        state = p / "checkpoint"
        if state.is_file():
            try:
                text = read_regular(state, 1 << 16, "checkpoint state").decode(errors="replace")
            except OSError as exc:
                raise TFCheckpointError(f"{state}: cannot read ({exc.strerror})") from None
            m = re.search(r'^model_checkpoint_path:\s*"([^"]+)"', text, re.M)
            if m:
                cand = Path(m.group(1))
                cand = cand if cand.is_absolute() else p / cand
                if Path(str(cand) + ".index").is_file():
                    return cand
                cand = p / Path(m.group(1)).name
                if Path(str(cand) + ".index").is_file():
                    return cand
        indexes = sorted(p.glob("*.index"))
        if len(indexes) == 1:
            return indexes[0].with_suffix("")
        if not indexes:
            raise TFCheckpointError(f"{p}: no TF checkpoint here (no *.index file)")
        names = ", ".join(i.name for i in indexes)
        raise TFCheckpointError(f"{p}: several checkpoints ({names}); pass the one you want")
    s = str(p)
    if s.endswith(".index"):
        return Path(s[: -len(".index")])
    m = re.match(r"^(.*)\.data-\d{5}-of-\d{5}$", s)
    if m:
        return Path(m.group(1))
    if Path(s + ".index").exists():  # not only a regular file: the reader then says what it is
        return p
    raise TFCheckpointError(f"{p}: no TF checkpoint found ({p.name}.index is missing)")


class TFCheckpoint(Mapping[str, np.ndarray]):
    """A TF tensor bundle opened for reading: a read-only mapping ``name -> numpy array``.

    Opening reads and checks the index (block checksums, header). Each tensor is read and
    checked against its CRC-32C when it is accessed. String tensors come back as numpy
    object arrays of ``bytes``.

    Args:
        path: the bundle prefix (``.../Shinkai-53.ckpt``), its ``.index`` file, or a folder
            holding one checkpoint.
        max_tensor_bytes: refuse any tensor whose byte size exceeds this (default
            :data:`MAX_TENSOR_BYTES`); only the byte ranges of the tensors read are read.

    Raises:
        TFCheckpointError: missing, truncated, damaged or foreign files (one-line message).

    Example:
        >>> import tempfile, os
        >>> from animegan_edu.weights.tf.checkpoint import write_bundle
        >>> prefix = os.path.join(tempfile.mkdtemp(), "t.ckpt")
        >>> _ = write_bundle(prefix, {"w": np.ones((2, 3), np.float32)})
        >>> ckpt = TFCheckpoint(prefix)
        >>> list(ckpt), ckpt["w"].shape
        (['w'], (2, 3))
    """

    def __init__(self, path: str | os.PathLike, max_tensor_bytes: int = MAX_TENSOR_BYTES) -> None:
        self.max_tensor_bytes = int(max_tensor_bytes)
        self.prefix = find_checkpoint_prefix(path)
        self.index_path = Path(str(self.prefix) + ".index")
        entries = _read_table(self.index_path)
        if not entries or entries[0][0] != b"":
            raise TFCheckpointError(f"{self.index_path}: not a tensor bundle index (no header entry)")
        self.num_shards = 1
        big_endian = False
        try:
            for field, _w, v in proto_fields(entries[0][1]):
                if field == 1:
                    self.num_shards = int(v)
                elif field == 2:
                    big_endian = int(v) == 1
        except (IndexError, ValueError, TypeError, struct.error):  # TypeError: a field of the wrong wire type
            raise TFCheckpointError(f"{self.index_path}: malformed bundle header") from None
        if big_endian:
            raise TFCheckpointError(f"{self.index_path}: big-endian bundles are not supported")
        self._infos: dict[str, TensorInfo] = {}
        for key, value in entries[1:]:
            name = key.decode("utf-8", errors="replace")
            try:
                self._infos[name] = _parse_entry(name, value)
            except (IndexError, ValueError, TypeError, struct.error):
                raise TFCheckpointError(
                    f"{self.index_path}: malformed entry for {short_repr(name)}"
                ) from None

    # Mapping interface
    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._infos:
            raise KeyError(name)
        return self.read(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def __repr__(self) -> str:
        return f"TFCheckpoint({str(self.prefix)!r}, {len(self)} tensors)"

    def info(self, name: str) -> TensorInfo:
        """Dtype, shape and location of ``name`` without reading it."""
        return self._infos[name]

    def shard_path(self, shard_id: int) -> Path:
        return Path(f"{self.prefix}.data-{shard_id:05d}-of-{self.num_shards:05d}")

    def _read_range(self, path: Path, offset: int, size: int, name: str) -> bytes:
        """Read exactly ``size`` bytes at ``offset`` of the shard, after checking the range."""
        label = short_repr(name)
        if size > self.max_tensor_bytes:
            raise TFCheckpointError(
                f"{path}: {label} claims {size:,} bytes, more than the {self.max_tensor_bytes:,}-byte "
                "limit per tensor "
                "(damaged or hostile checkpoint); refused"
            )
        try:
            with open_regular(path, "checkpoint data shard") as fh:
                file_size = os.fstat(fh.fileno()).st_size
                if offset < 0 or size < 0 or offset + size > file_size:
                    raise TFCheckpointError(
                        f"{path}: truncated ({file_size} bytes, but {label} needs bytes up to "
                        f"{offset + size})"
                    )
                fh.seek(offset)
                raw = fh.read(size)
        except FileReadError as exc:
            raise TFCheckpointError(str(exc)) from None
        except FileNotFoundError:
            raise TFCheckpointError(
                f"{path}: data shard missing (download both the .index and the .data file)"
            ) from None
        except OSError as exc:
            raise TFCheckpointError(
                f"{path}: cannot read ({exc.strerror or type(exc).__name__}); check the file's permissions"
            ) from None
        if len(raw) != size:
            raise TFCheckpointError(f"{path}: truncated while reading {label} ({len(raw)} of {size} bytes)")
        return raw

    def read(self, name: str, verify: bool = True) -> np.ndarray:
        """Read one tensor (checked against its CRC-32C unless ``verify`` is false).

        Only the tensor's byte range is read from the shard (see the class docstring).
        """
        label = short_repr(name)
        info = self._infos[name]
        if info.sliced:
            raise TFCheckpointError(
                f"{self.index_path}: {label} is a partitioned (sliced) variable, not supported"
            )
        if any(d < 0 for d in info.shape):
            raise TFCheckpointError(f"{self.index_path}: {label} has an unknown shape")
        path = self.shard_path(info.shard_id)
        count = math.prod(info.shape) if info.shape else 1
        itemsize = (
            2
            if info.dtype == DT_BFLOAT16
            else (TF_DTYPES[info.dtype].itemsize if info.dtype in TF_DTYPES else None)
        )
        if itemsize is not None and count * itemsize != info.size:
            raise TFCheckpointError(
                f"{path}: {label} takes {info.size:,} bytes, but its shape {short_repr(info.shape)} needs "
                f"{count * itemsize:,} (damaged index)"
            )
        raw = self._read_range(path, info.offset, info.size, name)
        if info.dtype == DT_STRING:
            return self._decode_strings(raw, count, info, path, verify)
        if verify and info.crc32c_masked is not None and unmask_crc(info.crc32c_masked) != crc32c(raw):
            raise TFCheckpointError(f"{path}: checksum mismatch for {label} (damaged or tampered data)")
        if info.dtype == DT_BFLOAT16:
            arr16 = np.frombuffer(raw, dtype="<u2")
            arr = (arr16.astype(np.uint32) << 16).view(np.float32)
        elif info.dtype in TF_DTYPES:
            arr = np.frombuffer(raw, dtype=TF_DTYPES[info.dtype])
        else:
            raise TFCheckpointError(f"{self.index_path}: {label} has unsupported dtype {info.dtype_name}")
        if arr.size != count:
            raise TFCheckpointError(
                f"{path}: {label} holds {arr.size} values, its shape {short_repr(info.shape)} needs {count}"
            )
        return arr.reshape(info.shape).copy()

    @staticmethod
    def _decode_strings(raw: bytes, count: int, info: TensorInfo, path: Path, verify: bool) -> np.ndarray:
        label = short_repr(info.name)
        # [varint64 len_0 .. len_n-1][4-byte masked crc of the lengths][bytes]; the entry's
        # CRC covers the lengths as little-endian uint32 (not as varints; uint64 in some
        # older writers, also accepted), then the 4 bytes, then the string bytes.
        try:
            pos = 0
            lengths = []
            for _ in range(count):
                n, pos = read_varint(raw, pos)
                lengths.append(n)
            if verify and info.crc32c_masked is not None:
                want = unmask_crc(info.crc32c_masked)
                if max(lengths, default=0) >= 1 << 32 or want != crc32c(
                    raw[pos:], crc32c(struct.pack(f"<{count}I", *lengths))
                ):
                    if want != crc32c(raw[pos:], crc32c(struct.pack(f"<{count}Q", *lengths))):
                        raise _ChecksumError(
                            f"{path}: checksum mismatch for {label} (damaged or tampered data)"
                        )
            pos += 4
            out = np.empty(count, dtype=object)
            for i, n in enumerate(lengths):
                if pos + n > len(raw):
                    raise IndexError
                out[i] = bytes(raw[pos : pos + n])
                pos += n
        except _ChecksumError:
            raise
        except (IndexError, ValueError, struct.error):
            raise TFCheckpointError(f"{path}: malformed string tensor {label}") from None
        return out.reshape(info.shape)

    def tensors(self) -> dict[str, np.ndarray]:
        """Every tensor, read and checked."""
        return {name: self.read(name) for name in self._infos}


def read_checkpoint(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every tensor of a TF checkpoint (prefix, ``.index`` file or folder) into numpy arrays.

    Each tensor is streamed from its byte range and checked (see :class:`TFCheckpoint`).

    Example:
        >>> import tempfile, os
        >>> from animegan_edu.weights.tf.checkpoint import write_bundle
        >>> prefix = os.path.join(tempfile.mkdtemp(), "t.ckpt")
        >>> _ = write_bundle(prefix, {"b": np.zeros(3, np.float32)})
        >>> read_checkpoint(prefix)["b"].tolist()
        [0.0, 0.0, 0.0]
    """
    return TFCheckpoint(path).tensors()
