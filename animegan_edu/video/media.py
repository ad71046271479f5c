"""Video files for the toolkit: checking, decoding, encoding (PyAV), and the test clip.

Introduced in ``notebooks/10_video.ipynb``; :mod:`animegan_edu.video.stylize` (``animegan-edu video``)
builds on it. PyAV (``av`` on PyPI) carries its own FFmpeg inside the wheel, so no system
ffmpeg is needed.

* :func:`probe_video` checks an input before any work (one :class:`VideoError` line naming the
  file: not a video, a still image, no video stream, zero frames, a variable frame rate, too many
  pixels per frame or in total);
* :func:`read_frames` / :func:`read_clip` decode to ``(3, h, w)`` / ``(T, 3, h, w)`` float
  tensors in ``[0, 1]``, resized like :func:`animegan_edu.inference.pipeline.prepare` (never enlarged);
* :func:`write_video` encodes H.264 (MP4, MKV or MOV) atomically, with the audio of another
  file re-encoded to AAC;
* :func:`make_test_clip` renders the toolkit's own test clip offline (CC0, :func:`sample_clip_licence`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch

from animegan_edu.files import (
    MAX_RECORD_BYTES,
    FileReadError,
    atomic_write,
    open_regular,
    read_regular,
    sha256_file,
)
from animegan_edu.imageio import max_pixels_default, snapped_size
from animegan_edu.inference.pipeline import check_size, prepare
from animegan_edu.samples import sample_photo_array

__all__ = [
    "VideoError",
    "VideoInfo",
    "OUTPUT_FORMATS",
    "DEFAULT_MAX_VIDEO_PIXELS",
    "MAX_VIDEO_PIXELS_ENV",
    "MAX_FRAMES",
    "probe_video",
    "read_frames",
    "read_clip",
    "output_size",
    "write_video",
    "sample_clip_frames",
    "make_test_clip",
    "sample_clip_licence",
]

#: Output suffix -> container format (video H.264 ``yuv420p``, audio AAC).
OUTPUT_FORMATS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov"}
#: Default cap on frames x pixels per frame of one input (about 6.7 hours of 1080p at 25 fps).
DEFAULT_MAX_VIDEO_PIXELS = 1_250_000_000_000
#: Environment variable overriding :data:`DEFAULT_MAX_VIDEO_PIXELS`.
MAX_VIDEO_PIXELS_ENV = "ANIMEGAN_EDU_MAX_VIDEO_PIXELS"
#: Most frames one input may have (the work folder holds one PNG per frame).
MAX_FRAMES = 1_000_000
_STILL_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif", "apng")
_HINT = "use an MP4, MKV, MOV, WebM or AVI video"
#: Encoder settings: H.264, constant quality (CRF 18 is visually near lossless).
CRF = "18"


class VideoError(ValueError):
    """A video the toolkit cannot use; the message is one line, names the file and says what to do."""


@dataclass
class VideoInfo:
    """What :func:`probe_video` found (nothing decoded yet).

    Attributes:
        path: the file.
        width, height: frame size in pixels.
        fps: frame rate (exact fraction, e.g. ``30000/1001``).
        frames: number of video frames.
        has_audio: whether there is an audio stream.
        sha256: hash of the file's bytes (the work folder's key).
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    frames: int
    has_audio: bool
    sha256: str

    @property
    def seconds(self) -> float:
        """Duration in seconds (``frames / fps``)."""
        return self.frames / float(self.fps)


def _import_av() -> Any:
    try:
        import av
    except ImportError:  # pragma: no cover - a dependency of the package
        raise VideoError("video needs PyAV: pip install av") from None
    # FFmpeg's own messages would bury our one-line errors: silence them at the source. (Not with
    # av.logging.set_level, which routes every message through Python and can deadlock threaded decoding.)
    if av.logging.get_level() is None:
        av.logging.set_libav_level(av.logging.PANIC)
    return av


def _max_total_pixels() -> int:
    text = os.environ.get(MAX_VIDEO_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_VIDEO_PIXELS
    try:
        v = int(float(text))
    except (ValueError, OverflowError):
        v = 0
    if v < 1:
        raise ValueError(f"{MAX_VIDEO_PIXELS_ENV}={text!r}: expected a positive number of pixels")
    return v


def _check_frame_size(p: Path, w: int, h: int, limit: int) -> None:
    """Refuse a frame with no size, smaller than 8x8, or over ``limit`` pixels."""
    if w <= 0 or h <= 0:
        raise VideoError(f"{p}: the video stream has no frame size; the file is damaged, re-export it")
    if min(w, h) < 8:
        raise VideoError(f"{p}: {w}x{h} pixels per frame is too small (at least 8x8); use a larger video")
    if w * h > limit:
        raise VideoError(
            f"{p}: {w}x{h} pixels per frame ({w * h / 1e6:.1f} MP) is over the limit of {limit / 1e6:g} MP; "
            "shrink the video first, or raise the limit (--max-megapixels)"
        )


def _count_frames(
    p: Path, container: Any, stream: Any, w: int, h: int, total_limit: int
) -> tuple[int, list[int]]:
    """The number of (non-empty) packets of ``stream`` and their timestamps, read without decoding.

    Stops with a :class:`VideoError` past :data:`MAX_FRAMES` frames, or past ``total_limit``
    pixels of ``w`` x ``h`` frames.
    """
    pts: list[int] = []
    n = 0
    for pkt in container.demux(stream):
        if pkt.size == 0:
            continue
        n += 1
        if pkt.pts is not None:
            pts.append(int(pkt.pts))
        if n > MAX_FRAMES:
            raise VideoError(f"{p}: more than {MAX_FRAMES:,} frames; cut it into shorter parts")
        if n * w * h > total_limit:
            raise VideoError(
                f"{p}: over {total_limit / 1e9:g} G pixels in total (frames x {w}x{h}); "
                f"cut it into shorter parts, or raise ${MAX_VIDEO_PIXELS_ENV}"
            )
    if n == 0:
        raise VideoError(f"{p}: the video stream has zero frames; re-export the video")
    return n, pts


def _check_constant_rate(p: Path, pts: list[int], n: int, fps: Fraction, time_base: Any) -> None:
    """Refuse a variable frame rate: a gap between timestamps far (half a frame) from ``1 / fps``."""
    if len(pts) == n and n >= 3 and time_base:
        step = float(1 / (fps * time_base))
        d = np.diff(np.sort(np.asarray(pts, dtype=np.float64)))
        if d.size and (np.abs(d - step) > 0.5 * step).any():
            lo, hi = float(d.min()), float(d.max())
            raise VideoError(
                f"{p}: variable frame rate (frame gaps from {lo * float(time_base) * 1000:.0f} to "
                f"{hi * float(time_base) * 1000:.0f} ms); re-encode it at a constant rate first "
                f"(e.g. ffmpeg -i IN -fps_mode cfr OUT.mp4)"
            )


def probe_video(
    path: Union[str, os.PathLike],
    *,
    max_pixels: Optional[int] = None,
    max_total_pixels: Optional[int] = None,
    digest: bool = True,
) -> VideoInfo:
    """Check a video before any work, reading only its packets (no frame is decoded).

    Args:
        path: the video file.
        max_pixels: most pixels per frame (default :func:`animegan_edu.imageio.max_pixels_default`, 40 MP).
        max_total_pixels: most frames x pixels (default :data:`DEFAULT_MAX_VIDEO_PIXELS`, or
            ``$ANIMEGAN_EDU_MAX_VIDEO_PIXELS``).
        digest: hash the file's bytes (``sha256``; ``""`` without).

    Returns:
        a :class:`VideoInfo`.

    Raises:
        VideoError: one line naming the file: missing, not a video, a still image, no video
            stream, zero frames, an unknown or variable frame rate, too large.

    Example:
        >>> import tempfile, os
        >>> p = make_test_clip(os.path.join(tempfile.mkdtemp(), "c.mp4"), seconds=0.5, fps=8, size=64)
        >>> i = probe_video(p)
        >>> (i.width, i.height, i.fps, i.frames, i.has_audio)
        (64, 36, Fraction(8, 1), 4, False)
    """
    av = _import_av()
    p = Path(path)
    limit = max_pixels_default() if max_pixels is None else int(max_pixels)
    total_limit = _max_total_pixels() if max_total_pixels is None else int(max_total_pixels)
    if not p.exists():
        raise VideoError(f"{p}: no such file; check the path")
    if p.is_dir():
        raise VideoError(f"{p}: is a folder, not a video file; give a video file")
    try:  # a FIFO or /dev/zero would be read without end
        open_regular(p, "video").close()
    except FileReadError as exc:
        raise VideoError(str(exc)) from None
    except OSError as exc:
        raise VideoError(f"{p}: cannot read ({exc.strerror}); check the file's permissions") from None
    try:
        container = av.open(str(p))
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        raise VideoError(f"{p}: not a readable video file; {_HINT}") from None
    try:
        fmt = container.format.name or ""
        if any(f in fmt.split(",") for f in _STILL_FORMATS):
            raise VideoError(
                f"{p}: a still image ({fmt}), not a video; stylise it with `animegan-edu stylize`, or {_HINT}"
            )
        if not container.streams.video:
            raise VideoError(f"{p}: has no video stream (audio only?); {_HINT}")
        stream = container.streams.video[0]
        w, h = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        _check_frame_size(p, w, h, limit)
        rate = stream.average_rate or stream.base_rate or stream.guessed_rate
        if not rate or rate <= 0:
            raise VideoError(f"{p}: the frame rate is unknown; re-encode it at a constant frame rate")
        fps = Fraction(rate)
        n, pts = _count_frames(p, container, stream, w, h, total_limit)
        _check_constant_rate(p, pts, n, fps, stream.time_base)
        has_audio = bool(container.streams.audio)
    except av.error.FFmpegError as exc:
        raise VideoError(
            f"{p}: corrupt or truncated video ({type(exc).__name__}); re-export or re-download it"
        ) from None
    finally:
        container.close()
    return VideoInfo(p, w, h, fps, n, has_audio, sha256_file(p) if digest else "")


def output_size(width: int, height: int, size: int) -> tuple[int, int]:
    """``(w, h)`` of the stylised frames: longest side ``size`` (never enlarged), sides multiples of 4.

    The same rule as :func:`animegan_edu.inference.pipeline.prepare` with ``min(size, longest side)``.

    Example:
        >>> output_size(1920, 1080, 512), output_size(320, 240, 512)
        ((512, 288), (320, 240))
    """
    return snapped_size(width, height, _longest(width, height, size))


def _longest(width: int, height: int, size: int) -> int:
    return max(8, min(check_size(size), max(width, height)))


def read_frames(
    info: VideoInfo, size: Optional[int] = None, max_frames: Optional[int] = None
) -> Iterator[torch.Tensor]:
    """Decode ``info``'s video frame by frame: ``(3, h, w)`` float tensors in ``[0, 1]``.

    With ``size``, each frame is resized like :func:`animegan_edu.inference.pipeline.prepare` to
    :func:`output_size` (never enlarged). ``max_frames`` stops early.

    Raises:
        VideoError: the frame size changes mid-stream, or the data is corrupt.

    Example:
        >>> import tempfile, os
        >>> info = probe_video(make_test_clip(os.path.join(tempfile.mkdtemp(), "c.mp4"), 0.5, 8, 96))
        >>> [tuple(f.shape) for f in read_frames(info, size=48, max_frames=2)]
        [(3, 28, 48), (3, 28, 48)]
    """
    av = _import_av()
    target = None if size is None else output_size(info.width, info.height, size)
    longest = None if size is None else _longest(info.width, info.height, size)
    done = 0
    try:
        with av.open(str(info.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                if max_frames is not None and done >= max_frames:
                    return
                if (frame.width, frame.height) != (info.width, info.height):
                    raise VideoError(
                        f"{info.path}: the frame size changes mid-stream ({info.width}x{info.height} to "
                        f"{frame.width}x{frame.height}); re-encode it at one size"
                    )
                arr = frame.to_ndarray(format="rgb24")
                x = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float().div_(255.0)
                if target is not None and target != (info.width, info.height):
                    x = prepare(x, longest)[0]
                    if (x.shape[-1], x.shape[-2]) != target:  # pragma: no cover - same rounding rule
                        raise VideoError(f"{info.path}: resize gave {tuple(x.shape)}, expected {target}")
                yield x
                done += 1
    except av.error.FFmpegError as exc:
        raise VideoError(
            f"{info.path}: corrupt video data at frame {done} ({type(exc).__name__}); re-export it"
        ) from None


def read_clip(
    path: Union[str, os.PathLike], size: Optional[int] = None, max_frames: Optional[int] = None
) -> torch.Tensor:
    """A whole (short) video as ``(T, 3, h, w)`` in ``[0, 1]`` (for notebooks and tests).

    Example:
        >>> import tempfile, os
        >>> p = make_test_clip(os.path.join(tempfile.mkdtemp(), "c.mp4"), seconds=0.5, fps=8, size=64)
        >>> tuple(read_clip(p).shape)
        (4, 3, 36, 64)
    """
    return torch.stack(list(read_frames(probe_video(path), size, max_frames)))


# --------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------
def _to_u8(x: torch.Tensor) -> np.ndarray:
    return x.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()


_AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)


def _add_audio_stream(av: Any, out: Any, source: Path) -> Optional[tuple[Any, int, str]]:
    """An AAC stream in ``out`` for ``source``'s first audio stream (added before anything is muxed).

    ``None`` if ``source`` has no audio.
    """
    with av.open(str(source)) as src:
        if not src.streams.audio:
            return None
        ctx = src.streams.audio[0].codec_context
        rate = int(ctx.sample_rate or 48000)
        layout = "stereo" if (ctx.channels or 1) >= 2 else "mono"
    rate = rate if rate in _AAC_RATES else 48000
    aout = out.add_stream("aac", rate=rate)
    aout.layout = layout
    return aout, rate, layout


def _mux_audio(
    av: Any, out: Any, stream: tuple[Any, int, str], source: Path, max_seconds: Optional[float]
) -> None:
    """Decode ``source``'s audio, resample, encode to AAC into ``out``, cut at ``max_seconds``."""
    aout, rate, layout = stream
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    written = 0
    limit = None if max_seconds is None else int(round(max_seconds * rate))

    def put(frames: Any) -> None:
        nonlocal written
        for r in frames:
            if limit is not None and written >= limit:
                return
            r.pts, r.time_base = written, Fraction(1, rate)
            written += r.samples
            out.mux(aout.encode(r))

    with av.open(str(source)) as src:
        for frame in src.decode(src.streams.audio[0]):
            frame.pts = None
            put(resampler.resample(frame))
    put(resampler.resample(None))
    out.mux(aout.encode(None))


def write_video(
    path: Union[str, os.PathLike],
    frames: Union[torch.Tensor, Iterator[torch.Tensor]],
    fps: Union[Fraction, float, int],
    *,
    audio_from: Optional[Union[str, os.PathLike]] = None,
    max_seconds: Optional[float] = None,
    tmp_folder: Optional[Union[str, os.PathLike]] = None,
) -> Path:
    """Encode frames (``(3, H, W)`` in ``[0, 1]``, or a ``(T, 3, H, W)`` clip) as H.264, atomically.

    The container follows the suffix (:data:`OUTPUT_FORMATS`). The file appears only when
    complete (temporary file in the same folder, then ``os.replace``). ``audio_from``: a video
    whose first audio stream is re-encoded to AAC, cut at ``max_seconds``. ``tmp_folder``:
    where the temporary file is written (:func:`animegan_edu.files.atomic_write`).

    Raises:
        VideoError: unknown suffix, or no frames.

    Example:
        >>> import tempfile, os
        >>> p = write_video(os.path.join(tempfile.mkdtemp(), "z.mp4"), torch.zeros(3, 3, 16, 24), 5)
        >>> probe_video(p).frames, probe_video(p).fps
        (3, Fraction(5, 1))
    """
    av = _import_av()
    dest = Path(path)
    fmt = OUTPUT_FORMATS.get(dest.suffix.lower())
    if fmt is None:
        raise VideoError(
            f"{dest}: unknown video type {dest.suffix!r}; end the name in {', '.join(OUTPUT_FORMATS)}"
        )
    rate = Fraction(fps).limit_denominator(1_000_000)
    if rate <= 0:
        raise VideoError(f"{dest}: frame rate must be positive, got {fps}")

    def encode(tmp: Path) -> None:
        n = 0
        with av.open(str(tmp), "w", format=fmt) as out:
            vs = astream = None
            for x in frames:
                arr = _to_u8(x)
                if vs is None:
                    vs = out.add_stream("libx264", rate=rate)
                    vs.width, vs.height = arr.shape[1], arr.shape[0]
                    vs.pix_fmt = "yuv420p"
                    vs.options = {"crf": CRF, "x264-params": "threads=1:lookahead-threads=1"}
                    vs.codec_context.thread_count = 1  # one encoder thread: the cores are for the generator
                    vs.codec_context.time_base = 1 / rate
                    astream = None if audio_from is None else _add_audio_stream(av, out, Path(audio_from))
                if (arr.shape[1], arr.shape[0]) != (vs.width, vs.height):
                    raise VideoError(
                        f"{dest}: frame {n} is {arr.shape[1]}x{arr.shape[0]}, not {vs.width}x{vs.height}"
                    )
                vf = av.VideoFrame.from_ndarray(arr, format="rgb24")
                vf.pts = n
                vf.time_base = 1 / rate
                out.mux(vs.encode(vf))
                n += 1
            if vs is None:
                raise VideoError(f"{dest}: no frames to write")
            out.mux(vs.encode(None))
            if astream is not None:
                _mux_audio(av, out, astream, Path(audio_from), max_seconds)  # type: ignore[arg-type]

    return atomic_write(dest, encode, tmp_folder=tmp_folder)


# --------------------------------------------------------------------------------------
# The test clip
# --------------------------------------------------------------------------------------
_CLIP_ASSET = Path(__file__).resolve().parents[1] / "assets" / "test_clip.json"


def sample_clip_licence() -> dict:
    """The test clip's sources and licence (``animegan_edu/assets/test_clip.json``).

    Example:
        >>> sample_clip_licence()["licence"]
        'CC0-1.0'
    """
    return json.loads(read_regular(_CLIP_ASSET, MAX_RECORD_BYTES, "clip record").decode("utf-8"))


def sample_clip_frames(seconds: float = 2.0, fps: int = 12, size: int = 256) -> np.ndarray:
    """The test clip's frames: a pan and zoom over ``coffee`` with a disc cut from ``chelsea`` moving across.

    Deterministic (the same arrays on every call on a given machine). Both photos are CC0 and come
    with scikit-image (:func:`sample_clip_licence`).

    Returns:
        ``(T, H, W, 3)`` uint8, ``T = round(seconds * fps)``, 16:9, ``W = size``.

    Example:
        >>> sample_clip_frames(0.5, 8, 64).shape
        (4, 36, 64, 3)
    """
    import cv2

    n = int(round(float(seconds) * int(fps)))
    if not 1 <= n <= 10_000 or not 16 <= int(size) <= 2048:
        raise ValueError(
            f"test clip needs 1 to 10000 frames and a size of 16 to 2048 px, got {n} frames, {size} px"
        )
    W = int(size)
    H = max(4, int(round(W * 9 / 16 / 4)) * 4)
    bg = sample_photo_array("coffee").astype(np.float32)  # 400 x 600
    cat = sample_photo_array("chelsea").astype(np.float32)[10:290, 100:380]  # 280 x 280, the face
    S = cat.shape[0]
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    alpha = np.clip((S / 2 - np.hypot(xx - S / 2 + 0.5, yy - S / 2 + 0.5)) / 2.0, 0, 1)[..., None]
    sprite = np.concatenate([cat * alpha, alpha * 255], -1)  # premultiplied RGBA
    crop_w0 = 0.8 * bg.shape[1]
    sigma = 0.5 * max(0.0, crop_w0 / W - 1)
    if sigma > 0.3:
        bg = cv2.GaussianBlur(bg, (0, 0), sigma)
    d = 0.44 * H
    if S / d > 2:
        sprite = cv2.GaussianBlur(sprite, (0, 0), 0.5 * (S / d - 1))
    frames = np.empty((n, H, W, 3), np.uint8)
    for t in range(n):
        u = t / max(1, n - 1)
        zoom = 1.0 + 0.3 * u
        cw = crop_w0 / zoom
        cx, cy = bg.shape[1] * (0.4 + 0.2 * u), bg.shape[0] * (0.55 - 0.1 * u)
        s = cw / W
        m = np.array([[s, 0, cx - cw / 2], [0, s, cy - s * H / 2]], np.float32)
        img = cv2.warpAffine(
            bg, m, (W, H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
        )
        px, py = W * (0.15 + 0.7 * u), H * (0.5 + 0.2 * math.sin(2 * math.pi * u))
        k = d / S
        ms = np.array([[k, 0, px - d / 2], [0, k, py - d / 2]], np.float32)
        spr = cv2.warpAffine(
            sprite, ms, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        a = spr[..., 3:4] / 255.0
        frames[t] = np.clip(img * (1 - a) + spr[..., :3] + 0.5, 0, 255).astype(np.uint8)
    return frames


def make_test_clip(
    path: Union[str, os.PathLike],
    seconds: float = 2.0,
    fps: int = 12,
    size: int = 256,
    *,
    audio: bool = False,
) -> Path:
    """Write the test clip (:func:`sample_clip_frames`) as an H.264 video, optionally with a 440 Hz AAC tone.

    Made offline, deterministic, CC0 (:func:`sample_clip_licence`); used by the tests, notebook 10
    and ``animegan-edu bench --video``. Written atomically.

    Example:
        >>> import tempfile, os
        >>> p = make_test_clip(os.path.join(tempfile.mkdtemp(), "c.mp4"), 0.5, 8, 64, audio=True)
        >>> probe_video(p).has_audio
        True
    """
    av = _import_av()
    frames = sample_clip_frames(seconds, fps, size)
    dest = Path(path)
    fmt = OUTPUT_FORMATS.get(dest.suffix.lower())
    if fmt is None:
        raise VideoError(f"{dest}: end the name in {', '.join(OUTPUT_FORMATS)}")

    def encode(tmp: Path) -> None:
        with av.open(str(tmp), "w", format=fmt) as out:
            vs = out.add_stream("libx264", rate=int(fps))
            vs.width, vs.height, vs.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
            vs.options = {"crf": "12"}
            if audio:
                rate = 44100
                aout = out.add_stream("aac", rate=rate)
                aout.layout = "mono"
            for i, arr in enumerate(frames):
                vf = av.VideoFrame.from_ndarray(arr, format="rgb24")
                vf.pts = i
                vf.time_base = Fraction(1, int(fps))
                out.mux(vs.encode(vf))
            out.mux(vs.encode(None))
            if audio:
                total = int(round(len(frames) / fps * rate))
                tt = np.arange(total) / rate
                wave = (0.3 * np.sin(2 * np.pi * 440.0 * tt)).astype(np.float32)
                for start in range(0, total, 1024):
                    chunk = wave[start : start + 1024][None]
                    af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                    af.sample_rate = rate
                    af.pts = start
                    af.time_base = Fraction(1, rate)
                    out.mux(aout.encode(af))
                out.mux(aout.encode(None))

    return atomic_write(dest, encode)
