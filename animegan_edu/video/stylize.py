"""Video to anime: ``animegan-edu video IN -o OUT``, resumable, atomic, with less flicker.

Introduced in ``notebooks/10_video.ipynb``. Decoding and encoding go through PyAV (``av`` on
PyPI, whose wheels carry their own FFmpeg: no system ffmpeg is needed). Every frame goes
through the one stylize pipeline (:func:`animegan_edu.inference.pipeline.prepare`,
:func:`~animegan_edu.inference.pipeline.generate`, :func:`~animegan_edu.inference.pipeline.finish`); between the
generator and the colour grade, :class:`animegan_edu.video.temporal.TemporalStabilizer` blends the
previous output along the optical flow (``--temporal``, on by default: it lowers the measured
warping error, see :mod:`animegan_edu.video.temporal`).

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
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch

from animegan_edu.imageio import ImageLoadError, atomic_write, read_image, save_png_atomic
from animegan_edu.inference.pipeline import check_look, check_size, finish, generate, int8_model
from animegan_edu.video.media import (  # noqa: F401 - re-exported: animegan_edu.video.stylize is the front door
    DEFAULT_MAX_VIDEO_PIXELS,
    MAX_FRAMES,
    MAX_VIDEO_PIXELS_ENV,
    OUTPUT_FORMATS,
    VideoError,
    VideoInfo,
    make_test_clip,
    output_size,
    probe_video,
    read_clip,
    read_frames,
    sample_clip_frames,
    sample_clip_licence,
    write_video,
)

__all__ = [
    "VideoError",
    "VideoInfo",
    "VideoResult",
    "OUTPUT_FORMATS",
    "probe_video",
    "read_frames",
    "read_clip",
    "output_size",
    "write_video",
    "sample_clip_frames",
    "make_test_clip",
    "sample_clip_licence",
    "work_dir_for",
    "stylize_video",
    "run_video_benchmark",
    "format_video_benchmark",
    "register_cli",
]

WORK_TAG = "animegan-edu-video"
MARKER = f"{WORK_TAG}.json"
_FRAME_RE = re.compile(r"^frame_\d{6,7}\.png$")


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
            raise VideoError(
                f"{work}: exists but was not made by animegan-edu for this input; move it away and run again"
            )
        return
    try:
        work.mkdir()
    except OSError as exc:
        raise VideoError(
            f"{work}: cannot create the work folder ({exc.strerror or exc}); choose a writable output folder"
        ) from None
    atomic_write(
        marker,
        lambda p: p.write_text(
            json.dumps(
                {
                    "made_by": "animegan-edu video",
                    "key": key,
                    "input": str(info.path),
                    "input_sha256": info.sha256,
                    "note": "stylised frames of an unfinished run; removed when the video is written",
                },
                indent=1,
            ),
            encoding="utf-8",
        ),
    )


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
            :func:`animegan_edu.weights.hub.get_generator`.
        size: longest side of the output in pixels (8 to 4096; the video is never enlarged).
        face, strength, grade, glow: as :func:`animegan_edu.inference.pipeline.run`.
        int8: use :func:`animegan_edu.inference.pipeline.int8_model` of ``model``.
        temporal: blend the previous output along the flow (:class:`~animegan_edu.video.temporal.TemporalStabilizer`).
        weight: its blend weight (default :data:`animegan_edu.video.temporal.DEFAULT_WEIGHT`).
        max_frames: stop after this many frames (the audio is cut to match).
        audio: keep the audio (re-encoded to AAC).
        max_pixels: per-frame pixel limit (see :func:`probe_video`).
        progress: show a tqdm bar (frames per second, time left) on stderr.
        generate_fn: replaces :func:`animegan_edu.inference.pipeline.generate` (tests count calls with it).

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

    from animegan_edu.video.temporal import DEFAULT_WEIGHT, TemporalStabilizer, check_weight

    check_look(strength, glow, 1.0)
    check_size(size)
    w = check_weight(DEFAULT_WEIGHT if weight is None else weight)
    if max_frames is not None and (
        isinstance(max_frames, bool) or int(max_frames) != max_frames or max_frames < 1
    ):
        raise ValueError(f"max_frames must be a whole number >= 1, got {max_frames!r}")
    src, dest = Path(source), Path(output)
    if dest.suffix.lower() not in OUTPUT_FORMATS:
        raise VideoError(
            f"{dest}: unknown video type {dest.suffix or '(none)'!r}; end the name in {', '.join(OUTPUT_FORMATS)}"
        )
    if not dest.parent.is_dir():
        raise VideoError(f"{dest}: output folder {dest.parent} does not exist; create it first")
    if dest.exists() and src.exists() and os.path.samefile(src, dest):
        raise VideoError(
            f"{dest}: that is the input video; refusing to overwrite it, choose another output name"
        )
    if dest.is_dir():
        raise VideoError(f"{dest}: is a folder; give a file name ending in {', '.join(OUTPUT_FORMATS)}")
    info = probe_video(src, max_pixels=max_pixels)
    n = info.frames if max_frames is None else min(info.frames, int(max_frames))
    out_w, out_h = output_size(info.width, info.height, size)
    fingerprint = _model_fingerprint(model)  # of the float weights, before any INT8 conversion
    if int8:
        model = int8_model(model)
    gen = generate if generate_fn is None else generate_fn
    key_doc = {
        "v": 1,
        "input": info.sha256,
        "model": fingerprint,
        "int8": bool(int8),
        "face": bool(face),
        "size": [out_w, out_h],
        "temporal": bool(temporal),
        "weight": w if temporal else 0.0,
    }
    key = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()
    work = work_dir_for(dest, key)
    _open_work_dir(work, key, info)
    done = _cached_frames(work, n)
    stab = TemporalStabilizer(w if temporal else 0.0)
    messages: list[str] = []
    face_notes: dict[str, int] = {}  # what face2paint said, and for how many frames
    computed = 0
    bar = tqdm(
        total=n,
        initial=done,
        unit="frame",
        desc=f"stylising {src.name}",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    )
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
                    note = msgs[0].split("; ")[0]  # "N face(s) found, M aligned...": no per-frame coordinates
                    face_notes[note] = face_notes.get(note, 0) + 1
                save_png_atomic(stab.step(photo, raw[0]), _frame_path(work, i))
                computed += 1
                bar.update(1)
    except KeyboardInterrupt:
        bar.close()
        print(
            f"interrupted: {_cached_frames(work, n)} of {n} frames are kept in {work}; run the same command again to "
            "continue from there",
            file=sys.stderr,
        )
        raise
    finally:
        bar.close()
    have = _cached_frames(work, n)
    if have < n:
        raise VideoError(f"{src}: decoded only {have} of {n} frames; the file may be truncated, re-export it")
    frames_iter = (
        finish(
            photo[None], _load_frame(_frame_path(work, i))[None], strength=strength, grade=grade, glow=glow
        )[0]
        for i, photo in enumerate(read_frames(info, size, n))
    )
    keep_audio = audio and info.has_audio
    write_video(
        dest, frames_iter, info.fps, audio_from=src if keep_audio else None, max_seconds=n / float(info.fps)
    )
    if not _remove_work_dir(work):
        messages.append(f"left {work} in place: it holds files animegan-edu did not make")
    messages[:0] = [f"face2paint: {note} ({k} frame{'s' if k > 1 else ''})" for note, k in face_notes.items()]
    return VideoResult(dest, n, computed, n - computed, (out_w, out_h), info.fps, keep_audio, work, messages)


# --------------------------------------------------------------------------------------
# Video throughput: `animegan-edu bench --video` (registered by animegan_edu.bench.run)
# --------------------------------------------------------------------------------------
def run_video_benchmark(
    size: int = 512,
    frames: int = 12,
    threads: int | None = None,
    weights: str | None = None,
    log: object = None,
) -> dict[str, object]:
    """Frames per second of ``animegan-edu video`` (:func:`animegan_edu.video.stylize.stylize_video`), fp32 against INT8.

    The input is the toolkit's test clip (:func:`animegan_edu.video.stylize.make_test_clip`, 16:9, ``size``
    pixels wide, 12 fps, ``frames`` frames). Each figure is the whole command path per frame: decode,
    generator, optical flow and blending (``--temporal``, on), PNG work files and the H.264 encode;
    INT8 calibration is done before the clock starts. The fp32 and INT8 runs alternate twice and the
    faster of each pair is kept.

    Example (not run by the test suite: tens of seconds):
        >>> r = run_video_benchmark(64, frames=4)  # doctest: +SKIP
        >>> r["fp32_fps"] > 0 and r["int8_fps"] > 0  # doctest: +SKIP
        True
    """
    import datetime
    import platform
    import tempfile
    import time

    from animegan_edu.bench.run import _default_generator, cpu_info, num_threads
    from animegan_edu.inference.pipeline import int8_model

    def say(msg: str) -> None:
        if callable(log):
            log(msg)

    if frames < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    generator, label = _default_generator(weights)
    n_threads = threads or torch.get_num_threads()
    load_before = os.getloadavg()
    best: dict[str, float] = {}
    with num_threads(n_threads), tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        clip = make_test_clip(tmp / "clip.mp4", seconds=frames / 12, fps=12, size=size)
        say("calibrating INT8 (once, not timed)")
        int8_model(generator)
        for rep in range(2):
            for name, int8 in (("fp32", False), ("int8", True)):
                say(f"video {size} px, {name}, run {rep + 1}/2")
                t0 = time.perf_counter()
                stylize_video(clip, tmp / f"{name}.mp4", generator, size=size, int8=int8, progress=False)
                seconds = time.perf_counter() - t0
                best[name] = min(best.get(name, math.inf), seconds)
    return {
        "size": size,
        "frame_size": [size, max(4, int(round(size * 9 / 16 / 4)) * 4)],
        "frames": frames,
        "fp32_fps": frames / best["fp32"],
        "int8_fps": frames / best["int8"],
        "fp32_seconds": best["fp32"],
        "int8_seconds": best["int8"],
        "temporal": True,
        "threads": n_threads,
        "weights": label,
        "torch_version": torch.__version__,
        "machine": {**cpu_info(), "platform": platform.platform()},
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def format_video_benchmark(res: dict) -> str:
    """Two lines: frames per second fp32 and INT8, and where they were measured.

    Example:
        >>> print(format_video_benchmark({"size": 512, "frame_size": [512, 288], "frames": 12, "fp32_fps": 0.5,
        ...     "int8_fps": 0.8, "threads": 2, "weights": "demo", "date": "2026-11-29 09:00 UTC",
        ...     "load_average_before": [0.1], "machine": {"model": "Example CPU", "logical_cpus": 2}}))
        video 512x288, 12 frames, --temporal on: fp32 0.50 frames/s, INT8 0.80 frames/s (1.60x)
        measured 2026-11-29 09:00 UTC on Example CPU (2 logical CPUs), 2 threads, weights demo, load average 0.1 before
    """
    w, h = res["frame_size"]
    m = res["machine"]
    return (
        f"video {w}x{h}, {res['frames']} frames, --temporal on: fp32 {res['fp32_fps']:.2f} frames/s, "
        f"INT8 {res['int8_fps']:.2f} frames/s ({res['int8_fps'] / res['fp32_fps']:.2f}x)\n"
        f"measured {res['date']} on {m['model']} ({m['logical_cpus']} logical CPUs), {res['threads']} threads, "
        f"weights {res['weights']}, load average {res['load_average_before'][0]:.1f} before"
    )


# --------------------------------------------------------------------------------------
# Command line: `animegan-edu video IN -o OUT`
# --------------------------------------------------------------------------------------
def _cmd_video(args: Any) -> int:
    from animegan_edu.cli.main import CLIError, _file_key
    from animegan_edu.weights.hub import get_generator

    src, dest = Path(args.input), Path(args.output)
    if dest.is_dir():
        dest = dest / f"{src.stem}-anime.mp4"
    if dest.suffix.lower() not in OUTPUT_FORMATS:
        raise CLIError(f"-o {dest}: end the name in {', '.join(OUTPUT_FORMATS)} (H.264 video)")
    key = _file_key(src)
    if key is not None and (_file_key(dest) == key or dest.resolve() == src.resolve()):
        raise CLIError(
            f"-o {dest}: that is the input video; refusing to overwrite it, choose another output name"
        )
    max_pixels = None if args.max_megapixels is None else max(1, int(args.max_megapixels * 1e6))
    probe_video(
        src, max_pixels=max_pixels, digest=False
    )  # bad input: one line, before the weights are loaded
    model, label = get_generator(args.weights, fallback=None, upsample=args.upsample, download=True)
    if args.weights is None:
        print(f"animegan-edu: using weights {label} (choose others with --weights)", file=sys.stderr)
    result = stylize_video(
        src,
        dest,
        model,
        size=args.size,
        face=args.face,
        strength=args.strength,
        grade=args.grade,
        glow=args.glow,
        int8=args.int8,
        temporal=args.temporal,
        weight=args.temporal_weight,
        max_frames=args.max_frames,
        audio=not args.no_audio,
        max_pixels=max_pixels,
        progress=not args.no_progress,
    )
    for m in result.messages:
        print(m, file=sys.stderr)
    extra = f", {result.reused} reused from an interrupted run" if result.reused else ""
    print(
        f"{src} -> {result.output} ({result.frames} frames at {float(result.fps):g} fps, {result.size[0]}x{result.size[1]}"
        f"{', with audio' if result.audio else ''}; {result.computed} stylised now{extra})"
    )
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

    from animegan_edu.video.temporal import check_weight

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

    from animegan_edu.cli.main import _add_stylize_options, _positive_float
    from animegan_edu.inference.pipeline import MAX_SIZE, MIN_SIZE
    from animegan_edu.video.temporal import DEFAULT_WEIGHT, MAX_WEIGHT

    p = subparsers.add_parser(
        "video",
        help="turn a video into anime (resumable, less flicker)",
        description=(
            "Stylise every frame of a video and write an H.264 video (.mp4, .mkv or .mov) at the same frame rate, "
            "with the audio re-encoded to AAC. Frames are kept in a work folder next to the output while the run "
            "lasts, so an interrupted run continues where it stopped; the output appears only when complete."
        ),
    )
    p.add_argument(
        "input", metavar="IN", help="input video (MP4, MKV, MOV, WebM, AVI, ...); never overwritten"
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output file ending in .mp4, .mkv or .mov, or a folder (OUT/<name>-anime.mp4)",
    )
    p.add_argument("--weights", default=None, metavar="NAME|PATH", help="generator weights, as for `stylize`")
    p.add_argument(
        "--size",
        type=int,
        default=512,
        metavar="N",
        help=f"longest side in pixels, {MIN_SIZE} to {MAX_SIZE} (default 512; a smaller video is not enlarged)",
    )
    p.add_argument(
        "--upsample", choices=("align_corners", "half_pixel", "tf1"), default=None, help=argparse.SUPPRESS
    )
    p.add_argument(
        "--max-frames",
        type=_frames_arg,
        default=None,
        metavar="N",
        help="stop after N frames (audio cut to match)",
    )
    p.add_argument(
        "--max-megapixels",
        type=_positive_float,
        default=None,
        metavar="MP",
        help="refuse videos with larger frames (default 40)",
    )
    p.add_argument(
        "--temporal",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="blend the previous output along the optical flow, which measurably reduces flicker (default on)",
    )
    p.add_argument(
        "--temporal-weight",
        type=_weight_arg,
        default=DEFAULT_WEIGHT,
        metavar="W",
        help=f"blend weight of the previous frame, 0 to {MAX_WEIGHT} (default {DEFAULT_WEIGHT})",
    )
    p.add_argument("--no-audio", action="store_true", help="drop the audio")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_stylize_options(p)
    p.set_defaults(func=_cmd_video)
