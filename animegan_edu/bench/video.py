"""Video throughput: frames per second of ``animegan-edu video``, fp32 against INT8.

The ``animegan-edu bench --video`` command (:mod:`animegan_edu.cli.bench`); the video path itself
is :func:`animegan_edu.video.stylize.stylize_video`.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from animegan_edu.bench.run import default_generator
from animegan_edu.inference.pipeline import int8_model
from animegan_edu.machine import cpu_info, num_threads
from animegan_edu.video.media import make_test_clip
from animegan_edu.video.stylize import stylize_video

__all__ = ["run_video_benchmark", "format_video_benchmark"]


def run_video_benchmark(
    size: int = 512,
    frames: int = 12,
    threads: int | None = None,
    weights: str | None = None,
    log: object = None,
) -> dict[str, object]:
    """Frames per second of ``animegan-edu video``, fp32 against INT8.

    The input is the toolkit's test clip (:func:`animegan_edu.video.media.make_test_clip`, 16:9,
    ``size`` pixels wide, 12 fps, ``frames`` frames). Each figure is the whole command path per frame: decode,
    generator, optical flow and blending (``--temporal``, on), PNG work files and the H.264 encode;
    INT8 calibration is done before the clock starts. The fp32 and INT8 runs alternate twice and the
    faster of each pair is kept.

    Example (not run by the test suite: tens of seconds):
        >>> r = run_video_benchmark(64, frames=4)  # doctest: +SKIP
        >>> r["fp32_fps"] > 0 and r["int8_fps"] > 0  # doctest: +SKIP
        True
    """
    def say(msg: str) -> None:
        if callable(log):
            log(msg)

    if frames < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    generator, label = default_generator(weights)
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
        >>> print(format_video_benchmark({"size": 512, "frame_size": [512, 288], "frames": 12,
        ...     "fp32_fps": 0.5, "int8_fps": 0.8, "threads": 2, "weights": "demo",
        ...     "date": "2026-11-29 09:00 UTC", "load_average_before": [0.1],
        ...     "machine": {"model": "Example CPU", "logical_cpus": 2}}))  # doctest: +NORMALIZE_WHITESPACE
        video 512x288, 12 frames, --temporal on: fp32 0.50 frames/s, INT8 0.80 frames/s (1.60x)
        measured 2026-11-29 09:00 UTC on Example CPU (2 logical CPUs), 2 threads, weights demo,
        load average 0.1 before
    """
    w, h = res["frame_size"]
    m = res["machine"]
    return (
        f"video {w}x{h}, {res['frames']} frames, --temporal on: fp32 {res['fp32_fps']:.2f} frames/s, "
        f"INT8 {res['int8_fps']:.2f} frames/s ({res['int8_fps'] / res['fp32_fps']:.2f}x)\n"
        f"measured {res['date']} on {m['model']} ({m['logical_cpus']} logical CPUs), "
        f"{res['threads']} threads, weights {res['weights']}, "
        f"load average {res['load_average_before'][0]:.1f} before"
    )
