"""Video to anime: ``animegan-edu video IN -o OUT``, resumable, atomic, with less flicker.

Introduced in ``notebooks/10_video.ipynb``. Decoding and encoding go through PyAV (``av`` on
PyPI, whose wheels carry their own FFmpeg: no system ffmpeg is needed). Every frame goes
through the one stylize pipeline (:func:`animegan_edu.inference.pipeline.prepare`,
:func:`~animegan_edu.inference.pipeline.generate`, :func:`~animegan_edu.inference.pipeline.finish`);
between the generator and the colour grade, :class:`animegan_edu.video.temporal.TemporalStabilizer`
blends the previous output along the optical flow (``--temporal``, on by default: it lowers the measured
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
   to AAC) into a temporary file in the work folder and moved into place with ``os.replace``
   (:func:`animegan_edu.files.atomic_write`); then the work folder's own files are removed, the
   temporary files of a run killed outright (SIGKILL, a power cut) included, and the folder with them.

One run at a time writes an output: a second run on it stops at once with "another animegan-edu
is writing OUT (pid N)" (:func:`animegan_edu.outputs.output_lock`); a lock left by a dead run is
taken over.

Frames are ``(3, H, W)`` RGB tensors in ``[0, 1]``; the longest side is ``size`` pixels (never
enlarged), both sides multiples of 4.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch

from animegan_edu.files import MAX_RECORD_BYTES, atomic_write, is_temp_name, read_regular
from animegan_edu.imageio import ImageLoadError, read_image, save_png_atomic
from animegan_edu.inference.pipeline import check_look, check_size, finish, generate, int8_model
from animegan_edu.outputs import output_lock, replaced_input
from animegan_edu.video.media import (
    OUTPUT_FORMATS,
    VideoError,
    VideoInfo,
    output_size,
    probe_video,
    read_frames,
    write_video,
)
from animegan_edu.video.temporal import DEFAULT_WEIGHT, TemporalStabilizer, check_weight

__all__ = [
    "VideoResult",
    "work_dir_for",
    "stylize_video",
]

WORK_TAG = "animegan-edu-video"
MARKER = f"{WORK_TAG}.json"
_FRAME_RE = re.compile(r"^frame_\d{6,7}\.png$")
#: Temporary files of older versions (``tempfile.mkstemp`` beside the frame or marker).
_OLD_TEMP_RE = re.compile(r"^\.(frame_\d{6,7}\.png|animegan-edu-video\.json)\.[a-z0-9_]{8}\.tmp$")


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


def _is_ours(name: str) -> bool:
    """Whether a work folder's file is one the toolkit writes there: a frame, the marker, or a temporary one.

    Temporary ones are what a process killed mid-write leaves (:func:`animegan_edu.files.is_temp_name`,
    and the names of older versions).

    Example:
        >>> [_is_ours(n) for n in ("frame_000003.png", ".tmp-0123456789abcdef.png", "notes.txt")]
        [True, True, False]
    """
    return bool(_FRAME_RE.match(name) or _OLD_TEMP_RE.match(name)) or name == MARKER or is_temp_name(name)


def _open_work_dir(work: Path, key: str, info: VideoInfo) -> None:
    """Create the work folder with its marker, or check that an existing one is ours and has this key.

    A folder without its marker that holds only temporary files of ours (a run killed while it
    wrote the marker) is taken as ours.
    """
    marker = work / MARKER
    if work.exists():
        try:
            text = read_regular(marker, MAX_RECORD_BYTES, "work-folder marker").decode("utf-8")
            ours = json.loads(text).get("key") == key
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours and work.is_dir() and not marker.exists():
            names = [p.name for p in work.iterdir()]
            ours = all(is_temp_name(n) or _OLD_TEMP_RE.match(n) for n in names)
            if ours:
                _write_marker(marker, key, info)
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
    _write_marker(marker, key, info)


def _write_marker(marker: Path, key: str, info: VideoInfo) -> None:
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
    """Remove the work folder's own files (:func:`_is_ours`, temporary ones included) and the folder.

    Never anything else: a folder that still holds another file is left in place.
    """
    for p in work.iterdir():
        if _is_ours(p.name) and p.is_file() and not p.is_symlink():
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
        temporal: blend the previous output along the flow
            (:class:`~animegan_edu.video.temporal.TemporalStabilizer`).
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
        >>> from animegan_edu.video.media import make_test_clip
        >>> d = tempfile.mkdtemp()
        >>> clip = make_test_clip(os.path.join(d, "in.mp4"), 0.5, 8, 64)
        >>> r = stylize_video(clip, os.path.join(d, "out.mp4"), lambda t: -t, progress=False)
        >>> r.frames, r.computed, r.size, sorted(os.listdir(d))
        (4, 4, (64, 36), ['in.mp4', 'out.mp4'])
    """
    check_look(strength, glow, 1.0)
    check_size(size)
    w = check_weight(DEFAULT_WEIGHT if weight is None else weight)
    src, dest = _check_request(max_frames, source, output)
    with output_lock(dest):  # a second run on the same output stops here (animegan_edu.outputs)
        info = probe_video(src, max_pixels=max_pixels)
        n = info.frames if max_frames is None else min(info.frames, int(max_frames))
        out_w, out_h = output_size(info.width, info.height, size)
        fingerprint = _model_fingerprint(model)  # of the float weights, before any INT8 conversion
        if int8:
            model = int8_model(model)
        gen = generate if generate_fn is None else generate_fn
        key = _work_key(info, fingerprint, (int8, face, temporal), (out_w, out_h), w)
        work = work_dir_for(dest, key)
        _open_work_dir(work, key, info)
        computed, face_notes = _stylise_frames(
            info,
            work,
            n,
            size,
            TemporalStabilizer(w if temporal else 0.0),
            lambda photo: gen(photo[None], model, face=face),
            face=face,
            progress=progress,
            desc=f"stylising {src.name}",
        )
        have = _cached_frames(work, n)
        if have < n:
            raise VideoError(
                f"{src}: decoded only {have} of {n} frames; the file may be truncated, re-export it"
            )
        frames_iter = (
            finish(
                photo[None],
                _load_frame(_frame_path(work, i))[None],
                strength=strength,
                grade=grade,
                glow=glow,
            )[0]
            for i, photo in enumerate(read_frames(info, size, n))
        )
        keep_audio = audio and info.has_audio
        write_video(
            dest,
            frames_iter,
            info.fps,
            audio_from=src if keep_audio else None,
            max_seconds=n / float(info.fps),
            tmp_folder=work,  # killed mid-encode: the temporary video is the work folder's, cleaned next run
        )
        messages = [f"face2paint: {note} ({k} frame{'s' if k > 1 else ''})" for note, k in face_notes.items()]
        if not _remove_work_dir(work):
            messages.append(f"left {work} in place: it holds files animegan-edu did not make")
        reused = n - computed
        return VideoResult(dest, n, computed, reused, (out_w, out_h), info.fps, keep_audio, work, messages)


def _work_key(
    info: VideoInfo, fingerprint: str, flags: tuple[bool, bool, bool], size: tuple[int, int], weight: float
) -> str:
    """The work folder's key: a hash of the input, the weights and every option that changes the frames.

    ``flags`` is ``(int8, face, temporal)``.
    """
    int8, face, temporal = flags
    key_doc = {
        "v": 1,
        "input": info.sha256,
        "model": fingerprint,
        "int8": bool(int8),
        "face": bool(face),
        "size": list(size),
        "temporal": bool(temporal),
        "weight": weight if temporal else 0.0,
    }
    return hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()


def _check_request(
    max_frames: Optional[int], source: Union[str, os.PathLike], output: Union[str, os.PathLike]
) -> tuple[Path, Path]:
    """Refuse a bad ``max_frames`` or output path (one line each), before any work; the two paths."""
    if max_frames is not None and (
        isinstance(max_frames, bool) or int(max_frames) != max_frames or max_frames < 1
    ):
        raise ValueError(f"max_frames must be a whole number >= 1, got {max_frames!r}")
    src, dest = Path(source), Path(output)
    if dest.suffix.lower() not in OUTPUT_FORMATS:
        raise VideoError(
            f"{dest}: unknown video type {dest.suffix or '(none)'!r}; "
            f"end the name in {', '.join(OUTPUT_FORMATS)}"
        )
    if not dest.parent.is_dir():
        raise VideoError(f"{dest}: output folder {dest.parent} does not exist; create it first")
    if replaced_input(dest, [src]) is not None:
        raise VideoError(
            f"{dest}: that is the input video {src}; refusing to replace it, choose another output name"
        )
    if dest.is_dir():
        raise VideoError(f"{dest}: is a folder; give a file name ending in {', '.join(OUTPUT_FORMATS)}")
    return src, dest


def _stylise_frames(
    info: VideoInfo,
    work: Path,
    n: int,
    size: int,
    stab: TemporalStabilizer,
    stylise: Callable[[torch.Tensor], tuple[torch.Tensor, list[str]]],
    *,
    face: bool,
    progress: bool,
    desc: str,
) -> tuple[int, dict[str, int]]:
    """Stylise and blend the frames not yet saved in ``work``, saving each as it is done.

    Frames already saved by an interrupted run are skipped; the blending continues from the
    last of them. ``stylise(photo)`` is the pipeline's raw pass of one ``(3, H, W)`` frame in
    ``[0, 1]``. Returns the number of frames computed now and what face2paint said (each note
    with the number of frames it was said for). ``desc`` labels the progress bar. Ctrl-C
    keeps the saved frames and says so.
    """
    from tqdm.auto import tqdm

    done = _cached_frames(work, n)
    face_notes: dict[str, int] = {}  # what face2paint said, and for how many frames
    computed = 0
    bar = tqdm(
        total=n,
        initial=done,
        unit="frame",
        desc=desc,
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
                raw, msgs = stylise(photo)
                if face and msgs:
                    note = msgs[0].split("; ")[0]  # "N face(s) found, M aligned...": no per-frame coordinates
                    face_notes[note] = face_notes.get(note, 0) + 1
                save_png_atomic(stab.step(photo, raw[0]), _frame_path(work, i))
                computed += 1
                bar.update(1)
    except KeyboardInterrupt:
        bar.close()
        print(
            f"interrupted: {_cached_frames(work, n)} of {n} frames are kept in {work}; "
            "run the same command again to continue from there",
            file=sys.stderr,
        )
        raise
    finally:
        bar.close()
    return computed, face_notes
