"""Seeded fuzzing of every reader of user files: PNG, JPEG, safetensors, TF index, YAML config.

Each input is a valid file written by the toolkit (or a bundled config), changed by a few
seeded random mutations: bit flips, truncation, inserted bytes, duplicated spans, and per
format the dangerous ones (huge PNG/JPEG sizes and chunk lengths, duplicated chunks and
segments, a huge safetensors header length or shape, a TF index whose blocks are changed
with their checksums recomputed, or whose footer points far away, YAML aliases, tags and
deep nesting). Every input must end in a correct result or a one-line error of the reader's
own type naming the file: never another exception (a traceback), a file left behind, more
than 1 GB of memory or more than 30 s.

Plain seeded ``random`` (no Hypothesis): the cases are the same on every run, and a failure
names its format and seed; ``_run_case(fmt, seed, folder)`` replays it in an empty folder.
The 30 s limit is an alarm, so it stops Python code, not a C call that never returns. The numbers of cases per
format (:data:`CASES`) keep the whole file to about a minute on two cores.
"""

from __future__ import annotations

import contextlib
import io as _bio
import random
import re
import resource
import signal
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from animegan_edu.imageio import ImageLoadError, read_image
from animegan_edu.models import Generator
from animegan_edu.resources import config_path
from animegan_edu.samples import sample_photo_array
from animegan_edu.training.config import ConfigError, TrainConfig, load_config
from animegan_edu.weights.files import WeightsError
from animegan_edu.weights.hub import load_generator
from animegan_edu.weights.tf.bundle import TFCheckpoint, TFCheckpointError
from animegan_edu.weights.tf.checkpoint import save_state_dict_safetensors, write_bundle
from animegan_edu.weights.tf.wire import masked_crc32c, put_varint, read_varint

#: Cases per format, sized so that the whole file takes about a minute on two cores.
CASES = {"png": 2500, "jpeg": 2000, "safetensors": 250, "tf": 3000, "yaml": 600}
#: One input may take at most this long, and raise the peak memory by at most this much.
TIME_LIMIT_S = 30
MEMORY_LIMIT_BYTES = 2**30
#: ``(format, seed) -> reason`` for crashes found in readers being fixed elsewhere: each is
#: checked to still fail (strict xfail), so the entry must go once its reader is fixed.
KNOWN_CRASHES: dict[tuple[str, int], str] = {}  # tf 35, 621, ...: a wrong wire type, fixed in bundle.py


# --------------------------------------------------------------------------- the valid inputs


def _photo(size: int = 32) -> Image.Image:
    img = Image.fromarray(sample_photo_array("coffee"))
    img.thumbnail((size, size))
    return img


def _encoded(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = _bio.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_seeds() -> list[bytes]:
    photo = _photo()
    pal = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    grey16 = Image.fromarray((np.asarray(photo.convert("L")).astype(np.uint16) * 257))
    return [
        _encoded(photo, "PNG"),
        _encoded(photo.convert("RGBA"), "PNG"),
        _encoded(pal, "PNG", transparency=3),
        _encoded(grey16, "PNG", transparency=257 * 40),
    ]


def _jpeg_seeds() -> list[bytes]:
    photo = _photo()
    exif = Image.Exif()
    exif[0x0112] = 6
    return [
        _encoded(photo, "JPEG", quality=90),
        _encoded(photo, "JPEG", quality=75, progressive=True),
        _encoded(photo.convert("L"), "JPEG", exif=exif.tobytes()),
    ]


def _safetensors_seed(folder: Path) -> bytes:
    """The generator's own state dict, in float16 (a 4 MB file; no sidecar, so the parser is reached)."""
    state = {k: v.half() for k, v in Generator().state_dict().items()}
    return save_state_dict_safetensors(state, folder / "seed.safetensors", sidecar=False).read_bytes()


def _tf_seed(folder: Path) -> tuple[bytes, bytes]:
    """A small bundle with several dtypes, in small blocks so the index has several data blocks."""
    tensors = {
        f"generator/layer_{i}/w": np.arange(6 * (i + 1), dtype=np.float32).reshape(-1, 3) for i in range(12)
    }
    tensors["step"] = np.array(7, dtype=np.int64)
    tensors["mask"] = np.array([1, 0, 1], dtype=np.uint8)
    index, data = write_bundle(folder / "seed.ckpt", tensors, block_size=256)
    return index.read_bytes(), data.read_bytes()


def _yaml_seeds() -> list[bytes]:
    return [config_path(name).read_bytes() for name in ("demo", "hayao")]


# --------------------------------------------------------------------------- mutations


def _flip_bits(data: bytes, rng: random.Random, lo: int = 0, hi: int | None = None) -> bytes:
    out = bytearray(data)
    hi = len(out) if hi is None else min(hi, len(out))
    for _ in range(rng.randint(1, 8)):
        if hi > lo:
            out[rng.randrange(lo, hi)] ^= 1 << rng.randrange(8)
    return bytes(out)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))] if data else data


def _insert(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    junk = rng.choice([b"\x00", b"\xff" * 4, bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))])
    return data[:at] + junk + data[at:]


def _duplicate_span(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return data + data
    a = rng.randrange(len(data) - 1)
    b = min(len(data), a + rng.randint(1, 512))
    return data[:b] + data[a:b] + data[b:]


def _overwrite(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    a = rng.randrange(len(data))
    n = rng.randint(1, 16)
    fill = rng.choice([b"\x00" * n, b"\xff" * n, bytes(rng.randrange(256) for _ in range(n))])
    return data[:a] + fill + data[a + n :]


GENERIC = [_flip_bits, _truncate, _insert, _duplicate_span, _overwrite]
_HUGE = [0, 1, 2**15, 2**16 - 1, 2**31 - 1, 2**31, 2**32 - 1]


def _png_chunks(data: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` of each whole chunk (length, type, data, CRC) after the signature."""
    spans, pos = [], 8
    while pos + 12 <= len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        end = pos + 12 + n
        if end > len(data):
            break
        spans.append((pos, end))
        pos = end
    return spans


def _png_with_crc(data: bytes, start: int, end: int) -> bytes:
    body = data[start + 4 : end - 4]
    return data[: end - 4] + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF) + data[end:]


def _png_huge_size(data: bytes, rng: random.Random) -> bytes:
    """IHDR width and/or height set to a huge (or zero) value, its CRC made right."""
    if data[12:16] != b"IHDR":
        return data
    w, h = struct.unpack_from(">II", data, 16)
    big = rng.choice(_HUGE)
    w, h = rng.choice([(big, h), (w, big), (big, rng.choice(_HUGE))])
    out = data[:16] + struct.pack(">II", w, h) + data[24:]
    return _png_with_crc(out, 8, 33)


def _png_dup_chunk(data: bytes, rng: random.Random) -> bytes:
    spans = _png_chunks(data)
    if not spans:
        return data
    a, b = rng.choice(spans)
    at = rng.choice([b, len(data) - 12, 8])
    return data[:at] + data[a:b] + data[at:]


def _png_huge_length(data: bytes, rng: random.Random) -> bytes:
    spans = _png_chunks(data)
    if not spans:
        return data
    a, _ = rng.choice(spans)
    return data[:a] + struct.pack(">I", rng.choice(_HUGE[2:])) + data[a + 4 :]


def _png_flip_in_chunk(data: bytes, rng: random.Random) -> bytes:
    """Bits flipped inside one chunk's data, its CRC made right (so the decoder sees the damage)."""
    spans = [s for s in _png_chunks(data) if s[1] - s[0] > 12]
    if not spans:
        return data
    a, b = rng.choice(spans)
    return _png_with_crc(_flip_bits(data, rng, a + 8, b - 4), a, b)


def _jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` of each marker segment before the scan data."""
    spans, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        (n,) = struct.unpack_from(">H", data, pos + 2)
        spans.append((pos, pos + 2 + n))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + n
    return spans


def _jpeg_dup_segment(data: bytes, rng: random.Random) -> bytes:
    spans = _jpeg_segments(data)
    if not spans:
        return data
    a, b = rng.choice(spans)
    return data[:b] + data[a:b] + data[b:]


def _jpeg_huge_size(data: bytes, rng: random.Random) -> bytes:
    for a, _ in _jpeg_segments(data):
        if data[a + 1] in (0xC0, 0xC1, 0xC2):  # SOF: length, precision, height, width
            h, w = rng.choice([(65535, 65535), (0, 16), (16, 0), (65500, 1)])
            return data[: a + 5] + struct.pack(">HH", h, w) + data[a + 9 :]
    return data


def _jpeg_segment_length(data: bytes, rng: random.Random) -> bytes:
    spans = _jpeg_segments(data)
    if not spans:
        return data
    a, _ = rng.choice(spans)
    return data[: a + 2] + struct.pack(">H", rng.choice([0, 1, 2, 0xFFFF])) + data[a + 4 :]


def _st_header_end(data: bytes) -> int:
    return 8 + struct.unpack_from("<Q", data, 0)[0]


def _st_header_length(data: bytes, rng: random.Random) -> bytes:
    n = rng.choice([0, 1, 7, 2**32, 2**40, 2**63, 2**64 - 1, len(data), len(data) - 7, _st_header_end(data)])
    return struct.pack("<Q", n) + data[8:]


def _st_flip_header(data: bytes, rng: random.Random) -> bytes:
    return _flip_bits(data, rng, 8, _st_header_end(data))


def _st_edit_numbers(data: bytes, rng: random.Random) -> bytes:
    """One shape or offset in the JSON header replaced by a huge, negative or odd number."""
    end = _st_header_end(data)
    header = data[8:end]
    numbers = list(re.finditer(rb"\d+", header))
    if not numbers:
        return data
    m = rng.choice(numbers)
    new = rng.choice([b"99999999999999999999", b"-1", b"1e30", b"4294967296", b"0"])
    header = header[: m.start()] + new + header[m.end() :]
    return struct.pack("<Q", len(header)) + header + data[end:]


def _st_duplicate_entry(data: bytes, rng: random.Random) -> bytes:
    """A tensor's header entry repeated (JSON with a duplicate key, or an overlapping second name)."""
    end = _st_header_end(data)
    header = data[8:end]
    entries = list(re.finditer(rb'"[^"]+":\{"dtype":[^}]*\}', header))
    if not entries:
        return data
    m = rng.choice(entries)
    dup = m.group(0) if rng.random() < 0.5 else m.group(0).replace(b'":{', b'_copy":{', 1)
    header = header[: m.end()] + b"," + dup + header[m.end() :]
    return struct.pack("<Q", len(header)) + header + data[end:]


def _tf_blocks(index: bytes) -> list[tuple[int, int]]:
    """``(offset, size)`` of the index block and of every data block of a pristine ``.index`` file."""
    footer = index[-48:]
    _, p = read_varint(footer, 0)
    _, p = read_varint(footer, p)
    idx_off, p = read_varint(footer, p)
    idx_size, _ = read_varint(footer, p)
    block = index[idx_off : idx_off + idx_size]
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit, pos, out = len(block) - 4 - 4 * restarts, 0, [(idx_off, idx_size)]
    while pos < limit:
        _shared, pos = read_varint(block, pos)
        non_shared, pos = read_varint(block, pos)
        vlen, pos = read_varint(block, pos)
        pos += non_shared
        off, q = read_varint(block, pos)
        size, _ = read_varint(block, q)
        out.append((off, size))
        pos += vlen
    return out


def _tf_with_crc(index: bytes, off: int, size: int) -> bytes:
    crc = masked_crc32c(index[off : off + size + 1])  # the block and its compression-type byte
    return index[: off + size + 1] + struct.pack("<I", crc) + index[off + size + 5 :]


def _tf_flip_in_block(data: bytes, rng: random.Random) -> bytes:
    """Bits flipped (or bytes overwritten) inside one block, its CRC-32C made right."""
    blocks = [b for b in _tf_blocks(_TF_PRISTINE[0]) if b[0] + b[1] + 5 <= len(data)]
    if not blocks:  # cut short by an earlier mutation
        return data
    off, size = rng.choice(blocks)
    if rng.random() < 0.7:
        out = _flip_bits(data, rng, off, off + size)
    else:
        a = rng.randrange(off, off + size)
        out = data[:a] + bytes([rng.choice([0x00, 0x7F, 0xFF])]) * min(4, off + size - a) + data[a + 4 :]
    return _tf_with_crc(out, off, size)


def _tf_huge_footer(data: bytes, rng: random.Random) -> bytes:
    """The footer's block handles replaced by huge or self-pointing ones (magic kept)."""
    if len(data) < 48:  # cut short by an earlier mutation
        return data
    vals = [rng.choice([0, 1, len(data) - 48, len(data), 2**31, 2**40, 2**63]) for _ in range(4)]
    handles = b"".join(put_varint(v) for v in vals)
    return data[:-48] + handles.ljust(40, b"\x00")[:40] + data[-8:]


_YAML_SNIPPETS = [
    b"betas: &b [0.5, 0.9]\nbetas2: *b\n",
    b"crop: !!python/object/apply:os.system ['true']\n",
    b"seed: 18446744073709551616\n",
    b"threads: 100000\n",
    b"init_lr: .nan\n",
    b"g_lr: 1e999\n",
    b"name: \xff\xfe\n",
    b"<<: {seed: 1}\n",
    b"? [a, b]\n: 1\n",
    b"\tseed: 1\n",
    b"--- \n...\n",
    b"%YAML 9.9\n---\n",
]


def _yaml_snippet(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    at = rng.randrange(len(lines) + 1)
    return b"\n".join(lines[:at] + [rng.choice(_YAML_SNIPPETS).rstrip(b"\n")] + lines[at:])


def _yaml_dup_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    return b"\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :])


def _yaml_deep(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([50, 500, 500, 50000])
    value = rng.choice([b"[" * depth + b"]" * depth, b"{a: " * depth + b"1" + b"}" * depth])
    return data + b"\nbetas: " + value + b"\n"


def _yaml_long_value(data: bytes, rng: random.Random) -> bytes:
    return data + b"\nname: " + b"x" * rng.choice([300, 100_000, 2_000_000]) + b"\n"


SPECIFIC: dict[str, list[Callable[[bytes, random.Random], bytes]]] = {
    "png": [_png_huge_size, _png_dup_chunk, _png_huge_length, _png_flip_in_chunk, _png_flip_in_chunk],
    "jpeg": [_jpeg_dup_segment, _jpeg_huge_size, _jpeg_segment_length],
    "safetensors": [
        _st_header_length, _st_flip_header, _st_flip_header, _st_edit_numbers, _st_duplicate_entry,
    ],  # fmt: skip
    "tf": [_tf_flip_in_block, _tf_flip_in_block, _tf_flip_in_block, _tf_huge_footer],
    "yaml": [_yaml_snippet, _yaml_snippet, _yaml_snippet, _yaml_dup_line, _yaml_deep, _yaml_long_value],
}


#: The share of mutations that are the format's own (the rest are generic); safetensors' are
#: aimed at its header, as a flip in 4 MB of weights mostly changes a weight (a correct result).
_OWN_SHARE = {"safetensors": 0.75}


def _mutate(data: bytes, rng: random.Random, fmt: str) -> tuple[bytes, list[str]]:
    """1 to 3 mutations, the format's own or generic; returns the bytes and the mutations' names."""
    names = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        op = rng.choice(SPECIFIC[fmt] if rng.random() < _OWN_SHARE.get(fmt, 0.5) else GENERIC)
        data = op(data, rng)
        names.append(op.__name__.lstrip("_"))
    return data, names


# --------------------------------------------------------------------------- running one case


class _TimeLimit(BaseException):
    """Raised by the alarm: a BaseException, so no reader's ``except Exception`` can swallow it."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    def alarm(signum, frame):
        raise _TimeLimit()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _check_image(out, path: Path) -> None:
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert out.ndim == 3 and out.shape[0] == 3 and out.shape[1] >= 1 and out.shape[2] >= 1
    assert bool(torch.isfinite(out).all()) and float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def _read_png_or_jpeg(path: Path):
    return read_image(path)


def _read_safetensors(path: Path):
    return load_generator(path)


def _read_tf(path: Path):
    return TFCheckpoint(path.with_suffix("")).tensors()


def _read_yaml(path: Path):
    return load_config(path)


# fmt -> (file name, reader, check of a correct result, the reader's own error types)
READERS = {
    "png": ("fuzz.png", _read_png_or_jpeg, _check_image, (ImageLoadError,)),
    "jpeg": ("fuzz.jpg", _read_png_or_jpeg, _check_image, (ImageLoadError,)),
    "safetensors": (
        "fuzz.safetensors", _read_safetensors, lambda out, p: isinstance(out, Generator), (WeightsError,),
    ),  # fmt: skip
    "tf": (
        "fuzz.ckpt.index",
        _read_tf,
        lambda out, p: all(isinstance(v, np.ndarray) for v in out.values()),
        (TFCheckpointError,),
    ),
    "yaml": ("fuzz.yaml", _read_yaml, lambda out, p: isinstance(out, TrainConfig), (ConfigError,)),
}

_TF_PRISTINE: tuple[bytes, bytes] = (b"", b"")


def _outcome(fmt: str, data: bytes, folder: Path) -> str | None:
    """Feed ``data`` to the format's reader: None when it ends well, else what went wrong (one line)."""
    name, reader, check, errors = READERS[fmt]
    path = folder / name
    path.write_bytes(data)
    before = sorted(p.name for p in folder.iterdir())
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    problem = None
    try:
        with _time_limit(TIME_LIMIT_S):
            out = reader(path)
        if check(out, path) is False:
            problem = f"returned a wrong result: {type(out).__name__}"
    except _TimeLimit:
        problem = f"ran over {TIME_LIMIT_S} s"
    except errors as exc:
        msg = str(exc)
        if "\n" in msg or not msg.strip():
            problem = f"{type(exc).__name__} message is not one line: {msg[:200]!r}"
        elif path.name not in msg and path.stem not in msg and str(folder) not in msg:
            problem = f"{type(exc).__name__} message does not name the file: {msg[:200]!r}"
    except AssertionError as exc:
        problem = f"returned a wrong result ({exc})"
    except BaseException as exc:  # noqa: BLE001 - any other exception is what this test is for
        problem = f"raised {type(exc).__name__}: {str(exc)[:200]!r}"
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0
    if grown > MEMORY_LIMIT_BYTES:
        problem = (problem + "; " if problem else "") + f"peak memory grew by {grown / 2**30:.1f} GB"
    after = sorted(p.name for p in folder.iterdir())
    if after != before:
        left = sorted(set(after) - set(before))
        problem = (problem + "; " if problem else "") + f"left files behind: {left}"
    return problem


_SEEDS: dict[str, list[bytes]] = {}


def _corpus(fmt: str, folder: Path) -> list[bytes]:
    """The valid inputs of a format (made once per session), the TF shard written beside the index."""
    global _TF_PRISTINE
    if fmt not in _SEEDS:
        if fmt == "png":
            _SEEDS[fmt] = _png_seeds()
        elif fmt == "jpeg":
            _SEEDS[fmt] = _jpeg_seeds()
        elif fmt == "safetensors":
            _SEEDS[fmt] = [_safetensors_seed(folder)]
            (folder / "seed.safetensors").unlink()
        elif fmt == "tf":
            _TF_PRISTINE = _tf_seed(folder)
            _SEEDS[fmt] = [_TF_PRISTINE[0]]
            for p in folder.glob("seed.ckpt*"):
                p.unlink()
        else:
            _SEEDS[fmt] = _yaml_seeds()
    if fmt == "tf":
        (folder / "fuzz.ckpt.data-00000-of-00001").write_bytes(_TF_PRISTINE[1])
    return _SEEDS[fmt]


def _run_case(fmt: str, seed: int, folder: Path) -> str | None:
    """Replay one case: ``_run_case("yaml", 17, tmp_path)`` gives what went wrong, or None."""
    corpus = _corpus(fmt, folder)
    rng = random.Random(f"{fmt}-{seed}")
    data, ops = _mutate(rng.choice(corpus), rng, fmt)
    problem = _outcome(fmt, data, folder)
    return None if problem is None else f"{fmt} seed {seed} ({', '.join(ops)}): {problem}"


@pytest.mark.parametrize("fmt", list(CASES))
def test_mutated_inputs_end_in_a_result_or_a_one_line_error(fmt, tmp_path):
    """Each mutated input: a correct result or the reader's one-line error; no traceback, litter, blow-up."""
    for data in _corpus(fmt, tmp_path):  # the valid inputs themselves are read correctly
        assert _outcome(fmt, data, tmp_path) is None
    problems = [
        problem
        for seed in range(CASES[fmt])
        if (fmt, seed) not in KNOWN_CRASHES
        for problem in [_run_case(fmt, seed, tmp_path)]
        if problem is not None
    ]
    assert not problems, f"{len(problems)} of {CASES[fmt]} {fmt} cases went wrong:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("fmt", "seed"),
    [
        pytest.param(fmt, seed, marks=pytest.mark.xfail(strict=True, reason=reason))
        for (fmt, seed), reason in KNOWN_CRASHES.items()
    ],
)
def test_known_crashes_still_fail(fmt, seed, tmp_path):
    """Crashes found by this fuzzer in readers fixed elsewhere: remove an entry once it passes."""
    assert _run_case(fmt, seed, tmp_path) is None
