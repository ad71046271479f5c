"""The bytes under a TF tensor bundle: CRC-32C, the protobuf wire format, TF dtype codes.

Introduced in ``notebooks/01_generator.ipynb`` (section "TensorFlow versus PyTorch").

The reader (:mod:`animegan_edu.weights.tf.bundle`) and the writer
(:mod:`animegan_edu.weights.tf.checkpoint`) share these pieces:

* CRC-32C (Castagnoli) as TF and LevelDB use it, vectorised with numpy
  (:func:`crc32c`), and the *masked* form stored in files (:func:`masked_crc32c`,
  :func:`mask_crc`, :func:`unmask_crc`);
* the protobuf wire format, just what the bundle protos need (:func:`read_varint`,
  :func:`put_varint`, :func:`proto_fields`, :func:`proto_field`);
* TF ``DataType`` codes (:data:`TF_DTYPES`, :data:`TF_DTYPE_NAMES`) and the sorted-table
  footer constants (:data:`TABLE_MAGIC`, :data:`FOOTER_LEN`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

__all__ = [
    "crc32c",
    "masked_crc32c",
    "crc_register",
    "mask_crc",
    "unmask_crc",
    "read_varint",
    "put_varint",
    "proto_fields",
    "proto_field",
    "TF_DTYPES",
    "TF_DTYPE_NAMES",
    "DT_STRING",
    "DT_BFLOAT16",
    "TABLE_MAGIC",
    "FOOTER_LEN",
]


# --------------------------------------------------------------------------------------
# CRC-32C (Castagnoli), as TF uses it, vectorised with numpy
# --------------------------------------------------------------------------------------
_POLY = 0x82F63B78  # reflected Castagnoli polynomial


def _make_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table[i] = c
    return table


_TABLE = _make_table()
_TABLE_LIST = [int(v) for v in _TABLE]


def _shift_zero_byte(reg: int) -> int:
    """The CRC register after feeding one zero byte (a linear map over GF(2))."""
    return _TABLE_LIST[reg & 0xFF] ^ (reg >> 8)


def _matrix_apply(cols: list[int], v: int) -> int:
    out = 0
    j = 0
    while v:
        if v & 1:
            out ^= cols[j]
        v >>= 1
        j += 1
    return out


_ZERO_OP_CACHE: dict[int, list[np.ndarray]] = {}


def _zero_op_tables(n: int) -> list[np.ndarray]:
    """Four 256-entry tables applying "feed ``n`` zero bytes" to a 32-bit register."""
    if n in _ZERO_OP_CACHE:
        return _ZERO_OP_CACHE[n]
    one = [_shift_zero_byte(1 << j) for j in range(32)]  # columns of the one-byte operator
    result = [1 << j for j in range(32)]  # identity
    power = one
    k = n
    while k:
        if k & 1:
            result = [_matrix_apply(power, c) for c in result]
        power = [_matrix_apply(power, c) for c in power]
        k >>= 1
    tables = []
    for byte in range(4):
        t = np.zeros(256, dtype=np.uint32)
        for b in range(256):
            t[b] = _matrix_apply(result, b << (8 * byte))
        tables.append(t)
    _ZERO_OP_CACHE[n] = tables
    return tables


def crc_register(reg: int, data: np.ndarray) -> int:
    """Plain byte-at-a-time update of the raw register (for short inputs)."""
    for b in data.tolist():
        reg = _TABLE_LIST[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg


def crc32c(data: bytes | bytearray | memoryview | np.ndarray, crc: int = 0) -> int:
    """CRC-32C (Castagnoli) of ``data``, continuing from ``crc`` (0 to start).

    Long inputs are split into many lanes whose registers are updated together with
    numpy, then combined with the "append zero bytes" linear operator: megabytes take a
    few tens of milliseconds in pure Python + numpy.

    Example:
        >>> hex(crc32c(b"123456789"))
        '0xe3069283'
    """
    buf = (
        np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
        if not isinstance(data, np.ndarray)
        else data.view(np.uint8).ravel()
    )
    reg = (crc ^ 0xFFFFFFFF) & 0xFFFFFFFF
    n = buf.size
    if n < 8192:
        return crc_register(reg, buf) ^ 0xFFFFFFFF
    lanes = 1 << max(6, min(13, int(np.sqrt(n / 4)).bit_length()))
    length = n // lanes
    body = buf[: lanes * length].reshape(lanes, length).T.copy()  # (length, lanes)
    regs = np.zeros(lanes, dtype=np.uint32)
    table = _TABLE
    mask = np.uint32(0xFF)
    eight = np.uint32(8)
    for row in body:
        regs = table[(regs ^ row) & mask] ^ (regs >> eight)
    t0, t1, t2, t3 = (t.tolist() for t in _zero_op_tables(length))
    for r in regs.tolist():
        reg = t0[reg & 0xFF] ^ t1[(reg >> 8) & 0xFF] ^ t2[(reg >> 16) & 0xFF] ^ t3[reg >> 24] ^ r
    reg = crc_register(reg, buf[lanes * length :])
    return reg ^ 0xFFFFFFFF


def masked_crc32c(data: bytes | np.ndarray) -> int:
    """TF's (and LevelDB's) *masked* CRC-32C, stored in files so CRCs of CRCs stay useful.

    Example:
        >>> unmask_crc(masked_crc32c(b"123456789")) == crc32c(b"123456789")
        True
    """
    return mask_crc(crc32c(data))


def mask_crc(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def unmask_crc(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# --------------------------------------------------------------------------------------
# Protobuf wire format (just what the bundle protos need)
# --------------------------------------------------------------------------------------
def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise IndexError("varint runs past the end")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def put_varint(v: int) -> bytes:
    """The protobuf base-128 varint of a non-negative ``v`` (a negative one never ends: refused).

    Example:
        >>> put_varint(300).hex()
        'ac02'
    """
    if v < 0:
        raise ValueError(f"a varint holds a non-negative integer, not {v}")
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def proto_fields(buf: bytes) -> Iterator[tuple[int, int, object]]:
    """Yield ``(field_number, wire_type, value)`` of a serialised protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            if pos + length > len(buf):
                raise IndexError("length-delimited field runs past the end")
            value = buf[pos : pos + length]
            pos += length
        elif wire == 5:
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def proto_field(field: int, wire: int, value: int | bytes) -> bytes:
    key = put_varint((field << 3) | wire)
    if wire == 0:
        return key + put_varint(int(value))
    if wire == 2:
        return key + put_varint(len(value)) + bytes(value)
    if wire == 5:
        return key + struct.pack("<I", int(value))
    raise ValueError(wire)


# TF DataType enum values -> numpy dtypes (bfloat16 is handled separately)
TF_DTYPES: dict[int, np.dtype] = {
    1: np.dtype("<f4"),
    2: np.dtype("<f8"),
    3: np.dtype("<i4"),
    4: np.dtype("u1"),
    5: np.dtype("<i2"),
    6: np.dtype("i1"),
    9: np.dtype("<i8"),
    10: np.dtype("?"),
    17: np.dtype("<u2"),
    19: np.dtype("<f2"),
    22: np.dtype("<u4"),
    23: np.dtype("<u8"),
}
DT_STRING = 7
DT_BFLOAT16 = 14
TF_DTYPE_NAMES = {
    1: "float32",
    2: "float64",
    3: "int32",
    4: "uint8",
    5: "int16",
    6: "int8",
    7: "string",
    9: "int64",
    10: "bool",
    14: "bfloat16",
    17: "uint16",
    19: "float16",
    20: "resource",
    21: "variant",
    22: "uint32",
    23: "uint64",
}


# --------------------------------------------------------------------------------------
# The sorted string table's footer (LevelDB layout)
# --------------------------------------------------------------------------------------
#: The magic number ending every ``.index`` file.
TABLE_MAGIC = 0xDB4775248B80FB57
#: The footer's length in bytes (two block handles, padding, the magic number).
FOOTER_LEN = 48
