"""``animegan-edu video IN -o OUT``: a video to anime, resumable, with less flicker.

The work is :func:`animegan_edu.video.stylize.stylize_video` (checks by
:func:`~animegan_edu.video.media.probe_video`); the face, look and INT8 options are the
same as ``stylize``'s (:func:`animegan_edu.cli.stylize.add_stylize_options`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from animegan_edu.cli.common import PROG, positive_float
from animegan_edu.cli.stylize import add_stylize_options
from animegan_edu.inference.pipeline import MAX_SIZE, MIN_SIZE
from animegan_edu.outputs import check_output
from animegan_edu.video.media import OUTPUT_FORMATS, probe_video
from animegan_edu.video.stylize import stylize_video
from animegan_edu.video.temporal import DEFAULT_WEIGHT, MAX_WEIGHT, check_weight
from animegan_edu.weights.hub import get_generator

__all__ = ["add_video_parser", "cmd_video", "frames_arg", "weight_arg"]


def cmd_video(args: argparse.Namespace) -> int:
    """Check the input and output names, load the weights, stylise the video, print a summary."""
    src, dest = Path(args.input), Path(args.output)
    if dest.is_dir():
        dest = dest / f"{src.stem}-anime.mp4"
    check_output(dest, [src], suffixes=tuple(OUTPUT_FORMATS), what="input video")
    max_pixels = None if args.max_megapixels is None else max(1, int(args.max_megapixels * 1e6))
    probe_video(
        src, max_pixels=max_pixels, digest=False
    )  # bad input: one line, before the weights are loaded
    model, label = get_generator(args.weights, fallback=None, upsample=args.upsample, download=True)
    if args.weights is None:
        print(f"{PROG}: using weights {label} (choose others with --weights)", file=sys.stderr)
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
        f"{src} -> {result.output} ({result.frames} frames at {float(result.fps):g} fps, "
        f"{result.size[0]}x{result.size[1]}"
        f"{', with audio' if result.audio else ''}; {result.computed} stylised now{extra})"
    )
    return 0


def frames_arg(text: str) -> int:
    """A whole number of frames >= 1."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of frames >= 1, got {text!r}")
    return v


def weight_arg(text: str) -> float:
    """A temporal blend weight (:func:`animegan_edu.video.temporal.check_weight`)."""
    try:
        return check_weight(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_video_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``animegan-edu video IN -o OUT``.

    Example:
        >>> p = argparse.ArgumentParser(); add_video_parser(p.add_subparsers())
        >>> p.parse_args(["video", "in.mp4", "-o", "out.mp4"]).temporal
        True
    """
    p = sub.add_parser(
        "video",
        help="turn a video into anime (resumable, less flicker)",
        description=(
            "Stylise every frame of a video and write an H.264 video (.mp4, .mkv or .mov) at the same "
            "frame rate, with the audio re-encoded to AAC. Frames are kept in a work folder next to the "
            "output while the run lasts, so an interrupted run continues where it stopped; the output "
            "appears only when complete."
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
        help=f"longest side in pixels, {MIN_SIZE} to {MAX_SIZE} "
        "(default 512; a smaller video is not enlarged)",
    )
    p.add_argument(
        "--upsample", choices=("align_corners", "half_pixel", "tf1"), default=None, help=argparse.SUPPRESS
    )
    p.add_argument(
        "--max-frames",
        type=frames_arg,
        default=None,
        metavar="N",
        help="stop after N frames (audio cut to match)",
    )
    p.add_argument(
        "--max-megapixels",
        type=positive_float,
        default=None,
        metavar="MP",
        help="refuse videos with larger frames (default 40)",
    )
    p.add_argument(
        "--temporal",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="blend the previous output along the optical flow, which measurably reduces flicker "
        "(default on)",
    )
    p.add_argument(
        "--temporal-weight",
        type=weight_arg,
        default=DEFAULT_WEIGHT,
        metavar="W",
        help=f"blend weight of the previous frame, 0 to {MAX_WEIGHT} (default {DEFAULT_WEIGHT})",
    )
    p.add_argument("--no-audio", action="store_true", help="drop the audio")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_stylize_options(p)
    p.set_defaults(func=cmd_video)
