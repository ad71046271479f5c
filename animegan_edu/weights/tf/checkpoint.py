"""TensorFlow checkpoints without TensorFlow: read, write, and convert AnimeGANv2 ones.

Introduced in ``notebooks/01_generator.ipynb`` (section "TensorFlow versus PyTorch").

The reader (tensor bundle format, streaming, size caps) is
:mod:`animegan_edu.weights.tf.bundle`; the CRC-32C and protobuf pieces both share are in
:mod:`animegan_edu.weights.tf.wire`.
:func:`write_bundle` writes the same format (used by the tests to make damaged files,
and handy for round trips). :func:`convert_generator` maps the 77 variables of the
original AnimeGANv2 generator to :class:`animegan_edu.models.Generator` state-dict keys;
:func:`convert_checkpoint` reads, checks (shapes, dtypes, finite values) and converts,
optionally saving safetensors with a recorded SHA-256.

Integrity, honestly: the CRC-32C checksums catch truncation and accidental corruption,
not tampering (anyone can recompute them). A converted file's SHA-256 is recorded at
conversion (``<file>.sha256``) and required by :mod:`animegan_edu.weights.hub` afterwards.

Errors are :class:`TFCheckpointError` with a one-line message naming the file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from animegan_edu.files import atomic_write, write_sidecar
from animegan_edu.models import Generator
from animegan_edu.weights.files import StorageError
from animegan_edu.weights.tf.bundle import TFCheckpoint, TFCheckpointError
from animegan_edu.weights.tf.wire import (
    TABLE_MAGIC,
    TF_DTYPES,
    crc32c,
    mask_crc,
    masked_crc32c,
    proto_field,
    put_varint,
)

__all__ = [
    "write_bundle",
    "tf_variable_map",
    "convert_generator",
    "convert_checkpoint",
    "save_state_dict_safetensors",
]


# --------------------------------------------------------------------------------------
# A writer of the same format
# --------------------------------------------------------------------------------------
def _table_block(entries: list[tuple[bytes, bytes]], restart_interval: int = 16) -> bytes:
    out = bytearray()
    restarts = []
    prev = b""
    for i, (key, value) in enumerate(entries):
        if i % restart_interval == 0:
            restarts.append(len(out))
            shared = 0
        else:
            shared = 0
            while shared < min(len(prev), len(key)) and prev[shared] == key[shared]:
                shared += 1
        out += put_varint(shared) + put_varint(len(key) - shared) + put_varint(len(value))
        out += key[shared:] + value
        prev = key
    if not restarts:
        restarts = [0]
    for r in restarts:
        out += struct.pack("<I", r)
    out += struct.pack("<I", len(restarts))
    return bytes(out)


def _short_successor_between(a: bytes, b: bytes) -> bytes:
    """A short key ``k`` with ``a <= k < b`` (LevelDB's ``FindShortestSeparator``)."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if i < min(len(a), len(b)) and a[i] < 0xFF and a[i] + 1 < b[i]:
        return a[:i] + bytes([a[i] + 1])
    return a


def _short_successor(a: bytes) -> bytes:
    """A short key ``k >= a`` (LevelDB's ``FindShortSuccessor``), used after the last block."""
    for i, byte in enumerate(a):
        if byte != 0xFF:
            return a[:i] + bytes([byte + 1])
    return a


def write_bundle(
    prefix: str | os.PathLike,
    tensors: Mapping[str, np.ndarray | torch.Tensor],
    block_size: int = 262144,
) -> tuple[Path, Path]:
    """Write ``tensors`` as a one-shard TF tensor bundle (``prefix.index`` + ``prefix.data-00000-of-00001``).

    The layout follows TF's V2 format (sorted table, header entry, masked CRC-32Cs), so
    :class:`TFCheckpoint` (and TF itself) can read it. Numeric numpy arrays or torch
    tensors only. With the default ``block_size`` (TF's own, 256 KiB) the files are byte
    for byte what TensorFlow writes for the same tensors. Used by the tests to make intact
    and damaged checkpoints.

    Returns:
        ``(index_path, data_path)``.

    Example:
        >>> import tempfile, os
        >>> prefix = os.path.join(tempfile.mkdtemp(), "m.ckpt")
        >>> idx, data = write_bundle(prefix, {"w": np.ones(2, np.float32)})
        >>> idx.name, data.name
        ('m.ckpt.index', 'm.ckpt.data-00000-of-00001')
    """
    prefix = Path(prefix)
    entries, data = _bundle_entries(tensors)
    table = _sorted_table(entries, block_size)
    index_path = Path(str(prefix) + ".index")
    data_path = Path(str(prefix) + ".data-00000-of-00001")
    data_path.write_bytes(data)
    index_path.write_bytes(table)
    return index_path, data_path


def _bundle_entries(
    tensors: Mapping[str, np.ndarray | torch.Tensor],
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The sorted ``(key, BundleEntryProto)`` entries, header first, and the shard's bytes."""
    data = bytearray()
    entries: list[tuple[bytes, bytes]] = []
    for name in sorted(tensors, key=lambda k: k.encode()):
        t = tensors[name]
        arr = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        dt = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        key = np.dtype(dt.str.replace("=", "<")) if dt.kind != "b" else np.dtype("?")
        tf_dtype = next((k for k, v in TF_DTYPES.items() if v == key), None)
        if tf_dtype is None:
            raise TFCheckpointError(f"write_bundle: dtype {arr.dtype} of {name!r} is not supported")
        raw = np.ascontiguousarray(arr, dtype=TF_DTYPES[tf_dtype]).tobytes()
        shape = b"".join(proto_field(2, 2, proto_field(1, 0, d)) for d in arr.shape)
        entry = proto_field(1, 0, tf_dtype) + proto_field(2, 2, shape)
        if data:
            entry += proto_field(4, 0, len(data))
        entry += proto_field(5, 0, len(raw)) + proto_field(6, 5, masked_crc32c(raw))
        entries.append((name.encode(), entry))
        data += raw
    header = proto_field(1, 0, 1) + proto_field(3, 2, proto_field(1, 0, 1))
    entries.insert(0, (b"", header))
    return entries, bytes(data)


def _with_trailer(block: bytes) -> bytes:
    """A table block followed by its compression byte (none) and masked CRC-32C."""
    return block + b"\x00" + struct.pack("<I", mask_crc(crc32c(block + b"\x00")))


def _sorted_table(entries: list[tuple[bytes, bytes]], block_size: int) -> bytes:
    """The ``.index`` file: data blocks of ``entries``, an empty meta block, the index block, the footer."""
    table = bytearray()
    index_entries: list[tuple[bytes, bytes]] = []

    def flush(block_entries: list[tuple[bytes, bytes]], next_key: bytes | None) -> None:
        block = _table_block(block_entries)
        off = len(table)
        table.extend(_with_trailer(block))
        last = block_entries[-1][0]
        sep = _short_successor_between(last, next_key) if next_key is not None else _short_successor(last)
        index_entries.append((sep, put_varint(off) + put_varint(len(block))))

    current: list[tuple[bytes, bytes]] = []
    size = 0
    for i, (k, v) in enumerate(entries):
        current.append((k, v))
        size += len(k) + len(v) + 3
        if size >= block_size:
            flush(current, entries[i + 1][0] if i + 1 < len(entries) else None)
            current, size = [], 0
    if current:
        flush(current, None)
    meta_block = _table_block([])
    meta_off = len(table)
    table.extend(_with_trailer(meta_block))
    index_block = _table_block(index_entries, restart_interval=1)
    idx_off = len(table)
    table.extend(_with_trailer(index_block))
    footer = (
        put_varint(meta_off)
        + put_varint(len(meta_block))
        + put_varint(idx_off)
        + put_varint(len(index_block))
    )
    footer = footer.ljust(40, b"\x00") + struct.pack("<Q", TABLE_MAGIC)
    table.extend(footer)
    return bytes(table)


# --------------------------------------------------------------------------------------
# AnimeGANv2: TF variable names -> Generator state-dict keys
# --------------------------------------------------------------------------------------
def _suffix(i: int) -> str:
    return "" if i == 0 else f"_{i}"


def tf_variable_map(scope: str = "generator/G_MODEL") -> dict[str, str]:
    """The 77 variable names of the original TF generator and the state-dict key of each.

    TF names its layers per ``variable_scope`` with a counter (``Conv``, ``Conv_1``, ...;
    ``LayerNorm``, ``LayerNorm_1``, ...), so the map is a rule over the blocks:
    ``A`` (3 units), ``B`` (2), ``C`` (a unit, four inverted residual blocks ``r1..r4``,
    a unit), ``D`` (2), ``E`` (3), ``out_layer``. Inside ``rK``: ``Conv`` (1x1 expand) +
    ``LayerNorm``, ``rK/w`` + ``rK/bias`` (3x3 depthwise) + ``1`` (its norm),
    ``Conv_1`` (1x1 project) + ``2`` (its norm).

    Example:
        >>> m = tf_variable_map()
        >>> len(m), m["generator/G_MODEL/C/r1/r1/w"]
        (77, 'block_c.1.layers.1.1.weight')
    """
    out: dict[str, str] = {}

    def unit(tf_block: str, conv_i: int, torch_prefix: str) -> None:
        out[f"{scope}/{tf_block}/Conv{_suffix(conv_i)}/weights"] = f"{torch_prefix}.1.weight"
        out[f"{scope}/{tf_block}/LayerNorm{_suffix(conv_i)}/gamma"] = f"{torch_prefix}.2.weight"
        out[f"{scope}/{tf_block}/LayerNorm{_suffix(conv_i)}/beta"] = f"{torch_prefix}.2.bias"

    for tf_block, torch_block, n in (
        ("A", "block_a", 3),
        ("B", "block_b", 2),
        ("D", "block_d", 2),
        ("E", "block_e", 3),
    ):
        for i in range(n):
            unit(tf_block, i, f"{torch_block}.{i}")
    unit("C", 0, "block_c.0")
    unit("C", 1, "block_c.5")
    for k in range(1, 5):
        r = f"{scope}/C/r{k}"
        t = f"block_c.{k}.layers"
        out[f"{r}/Conv/weights"] = f"{t}.0.1.weight"
        out[f"{r}/LayerNorm/gamma"] = f"{t}.0.2.weight"
        out[f"{r}/LayerNorm/beta"] = f"{t}.0.2.bias"
        out[f"{r}/r{k}/w"] = f"{t}.1.1.weight"
        out[f"{r}/r{k}/bias"] = f"{t}.1.1.bias"
        out[f"{r}/1/gamma"] = f"{t}.1.2.weight"
        out[f"{r}/1/beta"] = f"{t}.1.2.bias"
        out[f"{r}/Conv_1/weights"] = f"{t}.2.weight"
        out[f"{r}/2/gamma"] = f"{t}.3.weight"
        out[f"{r}/2/beta"] = f"{t}.3.bias"
    out[f"{scope}/out_layer/Conv/weights"] = "out_layer.0.weight"
    return out


def _tf_to_torch_layout(name: str, value: np.ndarray) -> np.ndarray:
    """HWIO conv kernels -> OIHW; depthwise ``(H, W, C, 1)`` -> ``(C, 1, H, W)``; vectors unchanged."""
    if value.ndim == 4:
        if name.endswith("/w"):  # depthwise: channel multiplier 1 becomes the "in per group" axis
            return value.transpose(2, 3, 0, 1)
        return value.transpose(3, 2, 0, 1)
    return value


def _find_scope(names: list[str]) -> str:
    scopes = sorted({n[: n.index("G_MODEL") + len("G_MODEL")] for n in names if "G_MODEL/" in n})
    if len(scopes) == 1:
        return scopes[0]
    if "generator/G_MODEL" in scopes:
        return "generator/G_MODEL"
    return "generator/G_MODEL"


def convert_generator(
    tensors: Mapping[str, np.ndarray],
    where: str = "checkpoint",
    available: list[str] | None = None,
) -> dict[str, torch.Tensor]:
    """Turn the TF generator variables of ``tensors`` into a :class:`~animegan_edu.models.Generator` state.

    Variables outside the generator (discriminator, optimiser slots, the step counter)
    are ignored. Kernels are transposed (:func:`_tf_to_torch_layout`), layer-norm
    ``gamma``/``beta`` become the ``GroupNorm(1, C)`` ``weight``/``bias``; values are
    copied bit for bit (float32).

    Args:
        tensors: ``name -> array`` (a :class:`TFCheckpoint` or a dict).
        where: the file name used in error messages.
        available: every variable name of the checkpoint, for error messages (default:
            the keys of ``tensors``).

    Returns:
        an ordered state dict with exactly the keys of ``Generator().state_dict()``
        (float32 tensors, conv kernels ``OIHW``).

    Raises:
        TFCheckpointError: generator variables are missing (names the gaps), or a shape
            does not fit (names the variable and both shapes), or a value is NaN/infinite.

    Example:
        >>> try:
        ...     convert_generator({"global_step": np.array(1)}, where="x.ckpt")
        ... except TFCheckpointError as e:
        ...     print(str(e)[:52])
        x.ckpt: no AnimeGANv2 generator variables under gene
    """
    names = list(tensors.keys()) if available is None else list(available)
    scope = _find_scope(names)
    mapping = tf_variable_map(scope)
    missing = [n for n in mapping if n not in tensors]
    if missing:
        shown = ", ".join(m[len(scope) + 1 :] for m in missing[:6])
        more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
        if len(missing) == len(mapping):
            others = ", ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")
            raise TFCheckpointError(
                f"{where}: no AnimeGANv2 generator variables under {scope}/ "
                f"(the checkpoint holds {len(names)} other: {others or 'nothing'}); is this a generator "
                "checkpoint?"
            )
        raise TFCheckpointError(
            f"{where}: {len(missing)} of the {len(mapping)} generator variables are missing under {scope}/: "
            f"{shown}{more}"
        )
    reference = Generator().state_dict()
    by_key = {v: k for k, v in mapping.items()}
    state: dict[str, torch.Tensor] = {}
    for key, ref in reference.items():
        tf_name = by_key[key]
        value = np.asarray(tensors[tf_name])
        if value.dtype != np.float32:
            raise TFCheckpointError(f"{where}: {tf_name} is {value.dtype}, expected float32")
        if not np.isfinite(value).all():
            raise TFCheckpointError(
                f"{where}: {tf_name} holds NaN or infinite values (damaged or tampered checkpoint); refused"
            )
        converted = _tf_to_torch_layout(tf_name, value)
        if tuple(converted.shape) != tuple(ref.shape):
            raise TFCheckpointError(
                f"{where}: {tf_name} has TF shape {tuple(value.shape)}, which does not fit {key} "
                f"{tuple(ref.shape)}"
            )
        state[key] = torch.from_numpy(np.ascontiguousarray(converted).copy())
    return state


def convert_checkpoint(
    path: str | os.PathLike, out: str | os.PathLike | None = None
) -> dict[str, torch.Tensor]:
    """Read a TF AnimeGANv2 generator checkpoint and convert it (optionally saving safetensors).

    Args:
        path: bundle prefix, ``.index`` file or folder (e.g. ``generator_Shinkai_weight/``).
        out: if given, write the state dict there as safetensors with its SHA-256 recorded
            in ``<out>.sha256`` (atomically: a temporary
            file in the same folder, renamed when complete).

    Returns:
        the state dict (see :func:`convert_generator`).

    Raises:
        TFCheckpointError: a missing, damaged, foreign or non-finite checkpoint (one line).

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> _ = write_bundle(d + "/x.ckpt", {"global_step": np.array(1)})
        >>> try:
        ...     convert_checkpoint(d)
        ... except TFCheckpointError as e:
        ...     print("refused:", "no AnimeGANv2 generator variables" in str(e))
        refused: True
    """
    ckpt = TFCheckpoint(path)
    wanted = set(tf_variable_map(_find_scope(list(ckpt))))
    tensors = {name: ckpt.read(name) for name in ckpt if name in wanted}  # absent ones: reported below
    state = convert_generator(tensors, where=str(ckpt.index_path), available=list(ckpt))
    if out is not None:
        save_state_dict_safetensors(
            state, out, metadata={"source": f"TF checkpoint {ckpt.prefix.name}", "upsample": "tf1"}
        )
    return state


def save_state_dict_safetensors(
    state: Mapping[str, torch.Tensor],
    out: str | os.PathLike,
    metadata: dict[str, str] | None = None,
    sidecar: bool = True,
) -> Path:
    """Save a state dict as safetensors, atomically, with the permissions ``0o666 & ~umask``.

    A temporary file in the target folder is written, given the umask's permissions and
    renamed into place: readers never see a half-written file, nothing is left on failure.
    With ``sidecar`` (the default) its SHA-256 is then recorded in ``<out>.sha256``, which
    :func:`animegan_edu.weights.hub.get_generator` requires for converted files from then on.

    Raises:
        animegan_edu.weights.files.StorageError: safetensors refused the tensors (one line naming the file).
        animegan_edu.files.FileWriteError: the file or its folder cannot be written (one line naming it).

    Example:
        >>> import tempfile
        >>> p = save_state_dict_safetensors({"w": torch.zeros(2)}, tempfile.mkdtemp() + "/w.safetensors")
        >>> p.suffix
        '.safetensors'
    """
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    out = Path(out)
    meta = {"format": "pt", "model": "animegan_edu.models.Generator"}
    meta.update(metadata or {})

    def write(tmp: Path) -> None:
        try:
            save_file({k: v.contiguous() for k, v in state.items()}, str(tmp), metadata=meta)
        except (SafetensorError, ValueError, RuntimeError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            raise StorageError(f"{out}: cannot write safetensors ({first})") from None

    atomic_write(out, write, make_folder=True)
    if sidecar:
        write_sidecar(out)
    return out
