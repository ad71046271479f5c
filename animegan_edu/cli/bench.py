"""``animegan-edu bench``: CPU inference paths timed side by side, or ``--video`` throughput.

The measurements are :func:`animegan_edu.bench.run.run_benchmark` (printed by
:func:`~animegan_edu.bench.report.format_benchmark`) and
:func:`animegan_edu.bench.video.run_video_benchmark`.
"""

from __future__ import annotations

import argparse
import json
import sys

from animegan_edu.bench.report import format_benchmark
from animegan_edu.bench.run import default_generator, run_benchmark
from animegan_edu.bench.video import format_video_benchmark, run_video_benchmark
from animegan_edu.cli.common import positive_int, thread_count

__all__ = ["add_bench_parser", "cmd_bench"]


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``animegan-edu bench``.

    Example:
        >>> p = argparse.ArgumentParser(); add_bench_parser(p.add_subparsers())
        >>> p.parse_args(["bench"]).repeat
        5
    """
    p = sub.add_parser(
        "bench",
        help="time fp32, INT8 and ONNX Runtime CPU inference side by side",
        description="Median seconds per image for each CPU path (interleaved in one process), "
        "INT8 PSNR against fp32, file sizes.",
    )
    p.add_argument(
        "--size",
        type=positive_int,
        action="append",
        metavar="N",
        help="image side in pixels; repeat for several (default 512)",
    )
    p.add_argument(
        "--repeat", type=positive_int, default=5, metavar="R", help="timed runs per path (default 5)"
    )
    p.add_argument(
        "--threads",
        type=thread_count,
        default=None,
        metavar="T",
        help="intra-op threads (default: PyTorch's)",
    )
    p.add_argument(
        "--weights",
        default=None,
        metavar="NAME|PATH",
        help="generator weights (default: as `stylize`, else seeded random)",
    )
    p.add_argument(
        "--calib-size",
        type=positive_int,
        default=512,
        metavar="N",
        help="calibration photo size (default 512)",
    )
    p.add_argument(
        "--no-compile", action="store_true", help="skip torch.compile (saves ~45 s of compilation per size)"
    )
    p.add_argument(
        "--no-e2e",
        action="store_true",
        help="skip the end-to-end figures (whole `stylize` command, face path)",
    )
    p.add_argument(
        "--e2e-size",
        type=positive_int,
        default=512,
        metavar="N",
        help="image size of the end-to-end figures (default 512)",
    )
    p.add_argument(
        "--video",
        action="store_true",
        help="instead: frames per second of `animegan-edu video` on the test clip, fp32 against INT8 "
        "(--size: width)",
    )
    p.add_argument(
        "--video-frames",
        type=positive_int,
        default=12,
        metavar="N",
        help="frames of the --video clip (default 12)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark (or the video one) and print the report, or JSON with ``--json``."""
    sizes = args.size or [512]
    if min(sizes) < 8:
        raise ValueError(f"--size must be at least 8 pixels, got {min(sizes)}")
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    if args.video:
        vres = run_video_benchmark(sizes[0], args.video_frames, args.threads, args.weights, log=log)
        print(json.dumps(vres, indent=2) if args.json else format_video_benchmark(vres))
        return 0
    gen, label = default_generator(args.weights)
    result = run_benchmark(
        sizes,
        args.repeat,
        args.threads,
        gen,
        label,
        compile=not args.no_compile,
        calib_size=args.calib_size,
        log=log,
        e2e=not args.no_e2e,
        e2e_size=args.e2e_size,
    )
    print(json.dumps(result, indent=2) if args.json else format_benchmark(result))
    return 0
