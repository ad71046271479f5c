"""Video to anime: ``animegan-edu video IN -o OUT``, resumable, atomic, with less flicker.

Introduced in ``notebooks/10_video.ipynb``. Decoding and encoding go through PyAV (``av`` on
PyPI, whose wheels carry their own FFmpeg: no system ffmpeg is needed). Every frame goes
through the one stylize pipeline (:func:`animegan_edu.pipeline.prepare`,
:func:`~animegan_edu.pipeline.generate`, :func:`~animegan_edu.pipeline.finish`); between the
generator and the colour grade, :class:`animegan_edu.temporal.TemporalStabilizer` blends the
previous output along the optical flow (``--temporal``, on by default: it lowers the measured
warping error, see :mod:`animegan_edu.temporal`).

How a run goes (:func:`stylize_video`):

1. :func:`probe_video` checks the input before any work (one :class:`VideoError` line naming
   the file: not a video, a still image, no video stream, zero frames, a variable frame rate,
   too many pixels per frame or in total);
2. each frame is stylised and saved, as a lossless 8-bit PNG, in a **work folder** next to the
   output, ``.<OUT name>.animegan-edu-video-<key>``, keyed by a hash of the input file's bytes,
   the weights and every option that changes the frames. An interrupted run (Ctrl-C, a crash,
   a full disk) continues from the frames it has; a changed input or option gets another key and
   never reuses stale frames. A folder of that name that the toolkit did not create is refused,
   never used or deleted;
3. the video is encoded (H.264 in MP4, MKV or MOV, the input's frame rate; the audio re-encoded
   to AAC) into a temporary file in the output's folder and moved into place with ``os.replace``
   (:func:`animegan_edu.imageio.atomic_write`); then the work folder's own files are removed.

Frames are ``(3, H, W)`` RGB tensors in ``[0, 1]``; the longest side is ``size`` pixels (never
enlarged), both sides multiples of 4.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import torch

from .imageio import ImageLoadError, atomic_write, max_pixels_default, read_image, save_png_atomic
from .pipeline import check_look, check_size, finish, generate, int8_model, prepare

__all__ = [
    "VideoError",
    "VideoInfo",
    "VideoResult",
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
    "stylize_video",
    "register_cli",
]

#: Output suffix -> container format (video H.264 ``yuv420p``, audio AAC).
OUTPUT_FORMATS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov"}
#: Default cap on frames x pixels per frame of one input (about 6.7 hours of 1080p at 25 fps).
DEFAULT_MAX_VIDEO_PIXELS = 1_250_000_000_000
#: Environment variable overriding :data:`DEFAULT_MAX_VIDEO_PIXELS`.
MAX_VIDEO_PIXELS_ENV = "ANIMEGAN_EDU_MAX_VIDEO_PIXELS"
#: Most frames one input may have (the work folder holds one PNG per frame).
MAX_FRAMES = 1_000_000
WORK_TAG = "animegan-edu-video"
MARKER = f"{WORK_TAG}.json"
_FRAME_RE = re.compile(r"^frame_\d{6,7}\.png$")
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


@dataclass
class VideoResult:
    """What :func:`stylize_video` did: the output, frames computed now and reused, the work folder."""

    output: Path
    frames: int
    computed: int
    reused: int
    size: tuple[int, int]
    fps: Fraction
    audio: bool
    work_dir: Path
    messages: list[str] = field(default_factory=list)


def _import_av() -> Any:
    try:
        import av
    except ImportError:  # pragma: no cover - a dependency of the package
        raise VideoError("video needs PyAV: pip install av") from None
    av.logging.set_level(av.logging.PANIC)  # FFmpeg's own chatter would bury our one-line errors
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def probe_video(path: Union[str, os.PathLike], *, max_pixels: Optional[int] = None, max_total_pixels: Optional[int] = None) -> VideoInfo:
    """Check a video before any work, reading only its packets (no frame is decoded).

    Args:
        path: the video file.
        max_pixels: most pixels per frame (default :func:`animegan_edu.imageio.max_pixels_default`, 40 MP).
        max_total_pixels: most frames x pixels (default :data:`DEFAULT_MAX_VIDEO_PIXELS`, or
            ``$ANIMEGAN_EDU_MAX_VIDEO_PIXELS``).

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
    try:
        container = av.open(str(p))
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        raise VideoError(f"{p}: not a readable video file; {_HINT}") from None
    try:
        fmt = container.format.name or ""
        if any(f in fmt.split(",") for f in _STILL_FORMATS):
            raise VideoError(f"{p}: a still image ({fmt}), not a video; stylise it with `animegan-edu stylize`, or {_HINT}")
        if not container.streams.video:
            raise VideoError(f"{p}: has no video stream (audio only?); {_HINT}")
        stream = container.streams.video[0]
        w, h = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        if w <= 0 or h <= 0:
            raise VideoError(f"{p}: the video stream has no frame size; the file is damaged, re-export it")
        if min(w, h) < 8:
            raise VideoError(f"{p}: {w}x{h} pixels per frame is too small (at least 8x8); use a larger video")
        if w * h > limit:
            raise VideoError(
                f"{p}: {w}x{h} pixels per frame ({w * h / 1e6:.1f} MP) is over the limit of {limit / 1e6:g} MP; "
                f"shrink the video first, or raise the limit (--max-megapixels)"
            )
        rate = stream.average_rate or stream.base_rate or stream.guessed_rate
        if not rate or rate <= 0:
            raise VideoError(f"{p}: the frame rate is unknown; re-encode it at a constant frame rate")
        fps = Fraction(rate)
        pts = []
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
                    f"{p}: over {total_limit / 1e9:g} G pixels in total (frames x {w}x{h}); cut it into shorter parts, "
                    f"or raise ${MAX_VIDEO_PIXELS_ENV}"
                )
        if n == 0:
            raise VideoError(f"{p}: the video stream has zero frames; re-export the video")
        if len(pts) == n and n >= 3 and stream.time_base:
            step = float(1 / (fps * stream.time_base))
            d = np.diff(np.sort(np.asarray(pts, dtype=np.float64)))
            if d.size and (np.abs(d - step) > 0.5 * step).any():
                lo, hi = float(d.min()), float(d.max())
                raise VideoError(
                    f"{p}: variable frame rate (frame gaps from {lo * float(stream.time_base) * 1000:.0f} to "
                    f"{hi * float(stream.time_base) * 1000:.0f} ms); re-encode it at a constant rate first "
                    f"(e.g. ffmpeg -i IN -fps_mode cfr OUT.mp4)"
                )
        has_audio = bool(container.streams.audio)
    except av.error.FFmpegError as exc:
        raise VideoError(f"{p}: corrupt or truncated video ({type(exc).__name__}); re-export or re-download it") from None
    finally:
        container.close()
    return VideoInfo(p, w, h, fps, n, has_audio, _sha256(p))


def output_size(width: int, height: int, size: int) -> tuple[int, int]:
    """``(w, h)`` of the stylised frames: longest side ``size`` (never enlarged), sides multiples of 4.

    The same rule as :func:`animegan_edu.pipeline.prepare` with ``min(size, longest side)``.

    Example:
        >>> output_size(1920, 1080, 512), output_size(320, 240, 512)
        ((512, 288), (320, 240))
    """
    n = _longest(width, height, size)
    k = n / max(width, height)
    snap = lambda v: max(4, int(round(v * k / 4)) * 4)  # noqa: E731 - the rule of imageio.resize_longest
    return snap(width), snap(height)


def _longest(width: int, height: int, size: int) -> int:
    return max(8, min(check_size(size), max(width, height)))


def read_frames(info: VideoInfo, size: Optional[int] = None, max_frames: Optional[int] = None) -> Iterator[torch.Tensor]:
    """Decode ``info``'s video frame by frame: ``(3, h, w)`` float tensors in ``[0, 1]``.

    With ``size``, each frame is resized like :func:`animegan_edu.pipeline.prepare` to
    :func:`output_size` (never enlarged). ``max_frames`` stops early.

    Raises:
        VideoError: the frame size changes mid-stream, or the data is corrupt.
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
                    raise VideoError(f"{info.path}: the frame size changes mid-stream ({info.width}x{info.height} to "
                                     f"{frame.width}x{frame.height}); re-encode it at one size")
                arr = frame.to_ndarray(format="rgb24")
                x = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float().div_(255.0)
                if target is not None and target != (info.width, info.height):
                    x = prepare(x, longest)[0]
                    if (x.shape[-1], x.shape[-2]) != target:  # pragma: no cover - same rounding rule
                        raise VideoError(f"{info.path}: resize gave {tuple(x.shape)}, expected {target}")
                yield x
                done += 1
    except av.error.FFmpegError as exc:
        raise VideoError(f"{info.path}: corrupt video data at frame {done} ({type(exc).__name__}); re-export it") from None


def read_clip(path: Union[str, os.PathLike], size: Optional[int] = None, max_frames: Optional[int] = None) -> torch.Tensor:
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
    """An AAC stream in ``out`` for ``source``'s first audio stream (before anything is muxed); ``None`` if it has none."""
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


def _mux_audio(av: Any, out: Any, stream: tuple[Any, int, str], source: Path, max_seconds: Optional[float]) -> None:
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
) -> Path:
    """Encode frames (``(3, H, W)`` in ``[0, 1]``, or a ``(T, 3, H, W)`` clip) as H.264, atomically.

    The container follows the suffix (:data:`OUTPUT_FORMATS`). The file appears only when
    complete (temporary file in the same folder, then ``os.replace``). ``audio_from``: a video
    whose first audio stream is re-encoded to AAC, cut at ``max_seconds``.

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
        raise VideoError(f"{dest}: unknown video type {dest.suffix!r}; end the name in {', '.join(OUTPUT_FORMATS)}")
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
                    raise VideoError(f"{dest}: frame {n} is {arr.shape[1]}x{arr.shape[0]}, not {vs.width}x{vs.height}")
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

    return atomic_write(dest, encode)


# --------------------------------------------------------------------------------------
# The test clip
# --------------------------------------------------------------------------------------
_CLIP_ASSET = Path(__file__).resolve().parent / "assets" / "test_clip.json"


def sample_clip_licence() -> dict:
    """The test clip's sources and licence (``animegan_edu/assets/test_clip.json``).

    Example:
        >>> sample_clip_licence()["licence"]
        'CC0-1.0'
    """
    return json.loads(_CLIP_ASSET.read_text(encoding="utf-8"))


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

    from .imageio import sample_photo_array

    n = int(round(float(seconds) * int(fps)))
    if not 1 <= n <= 10_000 or not 16 <= int(size) <= 2048:
        raise ValueError(f"test clip needs 1 to 10000 frames and a size of 16 to 2048 px, got {n} frames, {size} px")
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
        img = cv2.warpAffine(bg, m, (W, H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        px, py = W * (0.15 + 0.7 * u), H * (0.5 + 0.2 * math.sin(2 * math.pi * u))
        k = d / S
        ms = np.array([[k, 0, px - d / 2], [0, k, py - d / 2]], np.float32)
        spr = cv2.warpAffine(sprite, ms, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        a = spr[..., 3:4] / 255.0
        frames[t] = np.clip(img * (1 - a) + spr[..., :3] + 0.5, 0, 255).astype(np.uint8)
    return frames


def make_test_clip(
    path: Union[str, os.PathLike], seconds: float = 2.0, fps: int = 12, size: int = 256, *, audio: bool = False
) -> Path:
    """Write the test clip (:func:`sample_clip_frames`) as an H.264 video, optionally with a 440 Hz tone (AAC).

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


# --------------------------------------------------------------------------------------
# Stylising a video: resumable frames in a work folder, then one atomic encode
# --------------------------------------------------------------------------------------
def _model_fingerprint(model: Any) -> str:
    h = hashlib.sha256()
    if isinstance(model, torch.nn.Module):
        for k, v in model.state_dict().items():
            h.update(k.encode())
            if isinstance(v, torch.Tensor) and not v.is_quantized:
                h.update(v.detach().cpu().contiguous().numpy().tobytes())
    else:
        h.update(repr(model).encode())
    return h.hexdigest()


def work_dir_for(output: Union[str, os.PathLike], key: str) -> Path:
    """The work folder of an output and a key: ``<folder>/.<name>.animegan-edu-video-<key[:16]>``.

    Example:
        >>> work_dir_for("out/clip.mp4", "0123456789abcdef0123").name
        '.clip.mp4.animegan-edu-video-0123456789abcdef'
    """
    out = Path(output)
    return out.parent / f".{out.name}.{WORK_TAG}-{key[:16]}"


def _open_work_dir(work: Path, key: str, info: VideoInfo) -> None:
    """Create the work folder with its marker, or check that an existing one is ours and has this key."""
    marker = work / MARKER
    if work.exists():
        try:
            ours = json.loads(marker.read_text(encoding="utf-8")).get("key") == key
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours or not work.is_dir():
            raise VideoError(f"{work}: exists but was not made by animegan-edu for this input; move it away and run again")
        return
    work.mkdir()
    atomic_write(marker, lambda p: p.write_text(json.dumps(
        {"made_by": "animegan-edu video", "key": key, "input": str(info.path), "input_sha256": info.sha256,
         "note": "stylised frames of an unfinished run; removed when the video is written"}, indent=1), encoding="utf-8"))


def _remove_work_dir(work: Path) -> bool:
    """Remove the work folder's own files (frames and marker) and the folder; never anything else."""
    for p in work.iterdir():
        if _FRAME_RE.match(p.name) or p.name == MARKER:
            p.unlink()
    try:
        work.rmdir()
    except OSError:
        return False
    return True


def _frame_path(work: Path, i: int) -> Path:
    return work / f"frame_{i:06d}.png"


def _cached_frames(work: Path, n: int) -> int:
    """How many frames ``0, 1, ...`` are saved without a gap."""
    k = 0
    while k < n and _frame_path(work, k).is_file():
        k += 1
    return k


def _load_frame(path: Path) -> torch.Tensor:
    try:
        return read_image(path)
    except ImageLoadError as exc:
        raise VideoError(f"{exc}; delete the work folder {path.parent} and run again") from None


def stylize_video(
    source: Union[str, os.PathLike],
    output: Union[str, os.PathLike],
    model: Any,
    *,
    size: int = 512,
    face: bool = False,
    strength: float = 1.0,
    grade: str = "neutral",
    glow: Optional[float] = None,
    int8: bool = False,
    temporal: bool = True,
    weight: Optional[float] = None,
    max_frames: Optional[int] = None,
    audio: bool = True,
    max_pixels: Optional[int] = None,
    progress: bool = True,
    generate_fn: Optional[Callable[..., tuple[torch.Tensor, list[str]]]] = None,
) -> VideoResult:
    """Stylise a video frame by frame through the pipeline, with temporal blending, resumably.

    Args:
        source: the input video (never written to).
        output: ``.mp4``, ``.mkv`` or ``.mov``; must not be the input. Written atomically.
        model: the generator (``(N, 3, H, W)`` in ``[-1, 1]`` to the same), e.g. from
            :func:`animegan_edu.weights.get_generator`.
        size: longest side of the output in pixels (8 to 4096; the video is never enlarged).
        face, strength, grade, glow: as :func:`animegan_edu.pipeline.run`.
        int8: use :func:`animegan_edu.pipeline.int8_model` of ``model``.
        temporal: blend the previous output along the flow (:class:`~animegan_edu.temporal.TemporalStabilizer`).
        weight: its blend weight (default :data:`animegan_edu.temporal.DEFAULT_WEIGHT`).
        max_frames: stop after this many frames (the audio is cut to match).
        audio: keep the audio (re-encoded to AAC).
        max_pixels: per-frame pixel limit (see :func:`probe_video`).
        progress: show a tqdm bar (frames per second, time left) on stderr.
        generate_fn: replaces :func:`animegan_edu.pipeline.generate` (tests count calls with it).

    Returns:
        a :class:`VideoResult` (frames computed now and reused from an interrupted run).

    Raises:
        VideoError, ValueError: bad input or option (one line), before any work.

    Example:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> clip = make_test_clip(os.path.join(d, "in.mp4"), 0.5, 8, 64)
        >>> r = stylize_video(clip, os.path.join(d, "out.mp4"), lambda t: -t, progress=False)
        >>> r.frames, r.computed, r.size, sorted(os.listdir(d))
        (4, 4, (64, 36), ['in.mp4', 'out.mp4'])
    """
    from tqdm.auto import tqdm

    from .temporal import DEFAULT_WEIGHT, TemporalStabilizer, check_weight

    check_look(strength, glow, 1.0)
    check_size(size)
    w = check_weight(DEFAULT_WEIGHT if weight is None else weight)
    if max_frames is not None and (isinstance(max_frames, bool) or int(max_frames) != max_frames or max_frames < 1):
        raise ValueError(f"max_frames must be a whole number >= 1, got {max_frames!r}")
    src, dest = Path(source), Path(output)
    if dest.suffix.lower() not in OUTPUT_FORMATS:
        raise VideoError(f"{dest}: unknown video type {dest.suffix or '(none)'!r}; end the name in {', '.join(OUTPUT_FORMATS)}")
    if not dest.parent.is_dir():
        raise VideoError(f"{dest}: output folder {dest.parent} does not exist; create it first")
    if dest.exists() and src.exists() and os.path.samefile(src, dest):
        raise VideoError(f"{dest}: that is the input video; refusing to overwrite it, choose another output name")
    if dest.is_dir():
        raise VideoError(f"{dest}: is a folder; give a file name ending in {', '.join(OUTPUT_FORMATS)}")
    info = probe_video(src, max_pixels=max_pixels)
    n = info.frames if max_frames is None else min(info.frames, int(max_frames))
    out_w, out_h = output_size(info.width, info.height, size)
    fingerprint = _model_fingerprint(model)  # of the float weights, before any INT8 conversion
    if int8:
        model = int8_model(model)
    gen = generate if generate_fn is None else generate_fn
    key_doc = {"v": 1, "input": info.sha256, "model": fingerprint, "int8": bool(int8), "face": bool(face),
               "size": [out_w, out_h], "temporal": bool(temporal), "weight": w if temporal else 0.0}
    key = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()
    work = work_dir_for(dest, key)
    _open_work_dir(work, key, info)
    done = _cached_frames(work, n)
    stab = TemporalStabilizer(w if temporal else 0.0)
    messages: list[str] = []
    computed = 0
    bar = tqdm(total=n, initial=done, unit="frame", desc=f"stylising {src.name}", disable=not progress, file=sys.stderr,
               dynamic_ncols=True, smoothing=0.1)
    try:
        if done < n:
            for i, photo in enumerate(read_frames(info, size, n)):
                if i < done - 1:
                    continue
                if i == done - 1:  # continue the blending from the last saved frame
                    stab.reset(photo, _load_frame(_frame_path(work, i)))
                    continue
                raw, msgs = gen(photo[None], model, face=face)
                if face and msgs:
                    messages.append(f"frame {i}: {'; '.join(msgs)}")
                save_png_atomic(stab.step(photo, raw[0]), _frame_path(work, i))
                computed += 1
                bar.update(1)
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: {_cached_frames(work, n)} of {n} frames are kept in {work}; run the same command again to "
              "continue from there", file=sys.stderr)
        raise
    finally:
        bar.close()
    have = _cached_frames(work, n)
    if have < n:
        raise VideoError(f"{src}: decoded only {have} of {n} frames; the file may be truncated, re-export it")
    frames_iter = (
        finish(photo[None], _load_frame(_frame_path(work, i))[None], strength=strength, grade=grade, glow=glow)[0]
        for i, photo in enumerate(read_frames(info, size, n))
    )
    keep_audio = audio and info.has_audio
    write_video(dest, frames_iter, info.fps, audio_from=src if keep_audio else None, max_seconds=n / float(info.fps))
    if not _remove_work_dir(work):
        messages.append(f"left {work} in place: it holds files animegan-edu did not make")
    return VideoResult(dest, n, computed, n - computed, (out_w, out_h), info.fps, keep_audio, work, messages)


# --------------------------------------------------------------------------------------
# Command line: `animegan-edu video IN -o OUT`
# --------------------------------------------------------------------------------------
def _cmd_video(args: Any) -> int:
    from .cli import CLIError, _file_key
    from .weights import get_generator

    src, dest = Path(args.input), Path(args.output)
    if dest.is_dir():
        dest = dest / f"{src.stem}-anime.mp4"
    if dest.suffix.lower() not in OUTPUT_FORMATS:
        raise CLIError(f"-o {dest}: end the name in {', '.join(OUTPUT_FORMATS)} (H.264 video)")
    key = _file_key(src)
    if key is not None and (_file_key(dest) == key or dest.resolve() == src.resolve()):
        raise CLIError(f"-o {dest}: that is the input video; refusing to overwrite it, choose another output name")
    max_pixels = None if args.max_megapixels is None else max(1, int(args.max_megapixels * 1e6))
    probe_video(src, max_pixels=max_pixels)  # bad input: one line, before the weights are loaded
    model, label = get_generator(args.weights, fallback=None, upsample=args.upsample, download=True)
    if args.weights is None:
        print(f"animegan-edu: using weights {label} (choose others with --weights)", file=sys.stderr)
    result = stylize_video(
        src, dest, model, size=args.size, face=args.face, strength=args.strength, grade=args.grade, glow=args.glow,
        int8=args.int8, temporal=args.temporal, weight=args.temporal_weight, max_frames=args.max_frames,
        audio=not args.no_audio, max_pixels=max_pixels, progress=not args.no_progress,
    )
    for m in result.messages:
        print(m, file=sys.stderr)
    extra = f", {result.reused} reused from an interrupted run" if result.reused else ""
    print(f"{src} -> {result.output} ({result.frames} frames at {float(result.fps):g} fps, {result.size[0]}x{result.size[1]}"
          f"{', with audio' if result.audio else ''}; {result.computed} stylised now{extra})")
    return 0


def _frames_arg(text: str) -> int:
    import argparse

    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of frames >= 1, got {text!r}")
    return v


def _weight_arg(text: str) -> float:
    import argparse

    from .temporal import check_weight

    try:
        return check_weight(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register_cli(subparsers: Any) -> None:
    """Add ``video`` to the ``animegan-edu`` command.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="animegan-edu").add_subparsers()
        >>> register_cli(sub)
        >>> sorted(sub.choices)
        ['video']
    """
    import argparse

    from .cli import _add_stylize_options, _positive_float
    from .pipeline import MAX_SIZE, MIN_SIZE
    from .temporal import DEFAULT_WEIGHT, MAX_WEIGHT

    p = subparsers.add_parser(
        "video",
        help="turn a video into anime (resumable, less flicker)",
        description=(
            "Stylise every frame of a video and write an H.264 video (.mp4, .mkv or .mov) at the same frame rate, "
            "with the audio re-encoded to AAC. Frames are kept in a work folder next to the output while the run "
            "lasts, so an interrupted run continues where it stopped; the output appears only when complete."
        ),
    )
    p.add_argument("input", metavar="IN", help="input video (MP4, MKV, MOV, WebM, AVI, ...); never overwritten")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file ending in .mp4, .mkv or .mov, or a folder (OUT/<name>-anime.mp4)")
    p.add_argument("--weights", default=None, metavar="NAME|PATH", help="generator weights, as for `stylize`")
    p.add_argument("--size", type=int, default=512, metavar="N",
                   help=f"longest side in pixels, {MIN_SIZE} to {MAX_SIZE} (default 512; a smaller video is not enlarged)")
    p.add_argument("--upsample", choices=("align_corners", "half_pixel", "tf1"), default=None, help=argparse.SUPPRESS)
    p.add_argument("--max-frames", type=_frames_arg, default=None, metavar="N", help="stop after N frames (audio cut to match)")
    p.add_argument("--max-megapixels", type=_positive_float, default=None, metavar="MP",
                   help="refuse videos with larger frames (default 40)")
    p.add_argument("--temporal", action=argparse.BooleanOptionalAction, default=True,
                   help="blend the previous output along the optical flow, which measurably reduces flicker (default on)")
    p.add_argument("--temporal-weight", type=_weight_arg, default=DEFAULT_WEIGHT, metavar="W",
                   help=f"blend weight of the previous frame, 0 to {MAX_WEIGHT} (default {DEFAULT_WEIGHT})")
    p.add_argument("--no-audio", action="store_true", help="drop the audio")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_stylize_options(p)
    p.set_defaults(func=_cmd_video)
