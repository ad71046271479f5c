"""The CPU inference benchmark: every path timed side by side on one image, and INT8 quality.

Introduced in ``notebooks/07_quantized_cpu_inference.ipynb``; the command is
``animegan-edu bench`` (:mod:`animegan_edu.cli.bench`).

* :func:`run_benchmark`: every path of :mod:`animegan_edu.int8.quantize` and
  :mod:`animegan_edu.inference.fastpaths` timed side by side, interleaved in one process, and
  INT8 quality against fp32; :mod:`animegan_edu.bench.report` prints the result
  (:func:`~animegan_edu.bench.report.format_benchmark`, :func:`~animegan_edu.bench.report.bench_report`);
* :mod:`animegan_edu.bench.profile`: milliseconds per generator unit, float or INT8;
* :mod:`animegan_edu.bench.e2e`: what a user waits for (the whole command, the face path);
* ``animegan-edu bench --video``: frames per second of ``animegan-edu video``, fp32 against INT8
  (:func:`animegan_edu.video.stylize.run_video_benchmark`).

Tensor conventions: generator inputs and outputs are ``(N, 3, H, W)`` RGB in ``[-1, 1]``.
"""

from __future__ import annotations

import datetime
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from animegan_edu.bench.e2e import cli_seconds, face_seconds
from animegan_edu.imageio import from_generator_range
from animegan_edu.inference.fastpaths import (
    OnnxRuntimeGenerator,
    bf16_channels_last,
    export_onnx,
    fp32_channels_last,
    fp32_compiled,
    fp32_torchscript,
    quantize_onnx,
)
from animegan_edu.inference.pipeline import default_path
from animegan_edu.int8.calib import CALIBRATION_PHOTOS, calibration_photos
from animegan_edu.int8.diagnose import one_at_a_time
from animegan_edu.int8.files import load_int8, save_int8
from animegan_edu.int8.quantize import QuantizedGenerator, quantize_generator
from animegan_edu.machine import cpu_info, num_threads
from animegan_edu.metrics import psnr, ssim
from animegan_edu.models import Generator
from animegan_edu.samples import sample_photos
from animegan_edu.weights.hub import get_generator

__all__ = ["default_generator", "run_benchmark"]

Log = Callable[[str], None]


def default_generator(weights: str | None) -> tuple[Generator, str]:
    """``(generator, label)`` for a benchmark (:func:`animegan_edu.weights.hub.get_generator`).

    The named weights (no fallback), else the default ones, else an untrained generator
    whose label says so (its quality figures are not representative). Nothing is downloaded.
    """
    return get_generator(
        weights, fallback=None if weights is not None else "random", download=False, progress=False
    )


def _median(v: Sequence[float]) -> float:
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


@dataclass
class _Built:
    """The models every size is timed with, built once, and what building them cost."""

    generator: Generator
    int8: QuantizedGenerator
    ort32: OnnxRuntimeGenerator
    ort8: OnnxRuntimeGenerator
    channels_last: torch.nn.Module
    calib: torch.Tensor
    calib_seconds: float
    fp32_bytes: int
    int8_bytes: int


def _build(generator: Generator, tmp: Path, calib_size: int, threads: int, say: Log) -> _Built:
    """Quantize (INT8 saved and loaded back), export and quantize ONNX, in ``tmp``."""
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in generator.state_dict().items()}, str(tmp / "fp32.safetensors"))
    say(f"calibrating INT8 on {calib_size}-px calibration photos (not the evaluation ones)")
    calib = calibration_photos(calib_size)
    t0 = time.perf_counter()
    qgen = quantize_generator(generator, calib)
    calib_s = time.perf_counter() - t0
    int8_bytes = save_int8(qgen, tmp / "int8.safetensors")
    say("exporting ONNX, quantizing it with ONNX Runtime")
    export_onnx(generator, tmp / "fp32.onnx")
    quantize_onnx(tmp / "fp32.onnx", tmp / "int8.onnx", calib)
    return _Built(
        generator,
        load_int8(tmp / "int8.safetensors"),
        OnnxRuntimeGenerator(tmp / "fp32.onnx", threads),
        OnnxRuntimeGenerator(tmp / "int8.onnx", threads),
        fp32_channels_last(generator),
        calib,
        calib_s,
        (tmp / "fp32.safetensors").stat().st_size,
        int8_bytes,
    )


def _paths(built: _Built, x: torch.Tensor, compile: bool, bf16: bool) -> tuple[dict, dict[str, float]]:
    """The paths timed at ``x``'s size, and the seconds spent building the TorchScript one."""
    paths: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "fp32_eager": built.generator,
        "fp32_channels_last": built.channels_last,
        "int8": built.int8,
        "onnxruntime_fp32": built.ort32,
        "onnxruntime_int8": built.ort8,
    }
    t0 = time.perf_counter()
    paths["fp32_torchscript"] = fp32_torchscript(built.generator, x)
    build = {"fp32_torchscript_build": time.perf_counter() - t0}
    if compile:
        paths["fp32_compile"] = fp32_compiled(built.generator)
    if bf16:
        paths["bf16_channels_last"] = bf16_channels_last(built.generator)
    return paths, build


@torch.inference_mode()
def _time_interleaved(
    paths: dict, x: torch.Tensor, repeat: int, say: Log, label: str
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """``(seconds of every timed run, seconds of the first call)`` per path.

    One warm-up call each, then ``repeat`` rounds that run every path once, in an order
    rotated by one each round.
    """
    warm: dict[str, float] = {}
    for name, f in paths.items():
        say(f"{label}: warm-up {name}")
        t0 = time.perf_counter()
        f(x)
        warm[name] = time.perf_counter() - t0
    names = list(paths)
    times: dict[str, list[float]] = {k: [] for k in names}
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            paths[name](x)
            times[name].append(time.perf_counter() - t0)
        say(f"{label}: repeat {r + 1}/{repeat}")
    return times, warm


@torch.inference_mode()
def _quality(paths: dict, photos: torch.Tensor) -> dict[str, object]:
    """PSNR and SSIM against fp32 eager of INT8, ONNX Runtime INT8 and bf16, on ``photos``.

    Each model runs one photo at a time, so memory stays that of one image.
    """
    compared = [k for k in paths if not k.startswith("fp32_") or k == "fp32_eager"]
    out = {k: one_at_a_time(paths[k], photos) for k in compared}
    ref = out["fp32_eager"]
    pic = {k: from_generator_range(v) for k, v in out.items()}
    q: dict[str, object] = {
        "int8_psnr_db": psnr(pic["int8"], pic["fp32_eager"]),
        "int8_psnr_db_per_photo": [psnr(a, b) for a, b in zip(pic["int8"], pic["fp32_eager"])],
        "int8_ssim": ssim(pic["int8"], pic["fp32_eager"]),
        "onnxruntime_int8_psnr_db": psnr(pic["onnxruntime_int8"], pic["fp32_eager"]),
        "onnxruntime_int8_ssim": ssim(pic["onnxruntime_int8"], pic["fp32_eager"]),
        "onnxruntime_fp32_max_abs_diff": float((out["onnxruntime_fp32"] - ref).abs().max()),
    }
    if "bf16_channels_last" in out:
        q["bf16_psnr_db"] = psnr(pic["bf16_channels_last"], pic["fp32_eager"])
        q["bf16_ssim"] = ssim(pic["bf16_channels_last"], pic["fp32_eager"])
        q["bf16_max_abs_diff"] = float((out["bf16_channels_last"] - ref).abs().max())
    return q


def _one_size(built: _Built, size: int, repeat: int, compile: bool, bf16: bool, say: Log) -> dict:
    """The ``by_size`` entry of :func:`run_benchmark` for one size."""
    photos = sample_photos(size)
    paths, build = _paths(built, photos[:1], compile, bf16)
    times, warm = _time_interleaved(paths, photos[:1], repeat, say, f"{size} px")
    med = {k: _median(v) for k, v in times.items()}
    fp32_methods = {k: med[k] for k in ("fp32_channels_last", "fp32_torchscript", "fp32_compile") if k in med}
    best = min(fp32_methods, key=fp32_methods.__getitem__)
    entry: dict[str, object] = {
        "size": size,
        "fp32_eager": med["fp32_eager"],
        "fp32_best": med[best],
        "fp32_best_method": best.removeprefix("fp32_"),
        "int8": med["int8"],
        "onnxruntime_fp32": med["onnxruntime_fp32"],
        "onnxruntime_int8": med["onnxruntime_int8"],
    }
    quality = _quality(paths, photos)
    entry.update({k: v for k, v in quality.items() if not k.startswith("bf16_")})
    entry["int8_vs_onnxruntime_fp32"] = med["int8"] / med["onnxruntime_fp32"]
    entry.update(
        {"fp32_candidates": fp32_methods, "first_call_seconds": {**build, **warm}, "all_runs": times}
    )
    if "bf16_channels_last" in med:
        entry["bf16_channels_last"] = med["bf16_channels_last"]
        entry.update({k: v for k, v in quality.items() if k.startswith("bf16_")})
    return entry


def _end_to_end(generator: Generator, size: int, repeat: int, threads: int, say: Log) -> dict[str, object]:
    """``default_path``, ``cli`` and ``face`` of :func:`run_benchmark` (see :mod:`animegan_edu.bench.e2e`)."""
    say(f"end to end: animegan-edu stylize, one {size}-px image, fresh process")
    with num_threads(threads):
        choice = default_path(generator, pixels=size * size)
    say(f"default path at {size} px: {choice}")
    out: dict[str, object] = {
        "default_path": {"path": choice.path, "cpu_class": choice.cpu_class, "reason": choice.reason}
    }
    out["cli"] = cli_seconds(generator, size, repeat, threads)
    say(f"end to end: the face path at {size} px")
    with num_threads(threads):
        out["face"] = face_seconds(generator, size, repeat)
    return out


def run_benchmark(
    sizes: Sequence[int] = (512,),
    repeat: int = 5,
    threads: int | None = None,
    generator: Generator | None = None,
    weights_label: str = "given",
    compile: bool = True,
    calib_size: int = 512,
    bf16: bool = True,
    log: Log | None = None,
    e2e: bool = False,
    e2e_size: int = 512,
) -> dict[str, object]:
    """Time every CPU inference path on one image and compare INT8 with fp32.

    All paths run in one process, interleaved (each repeat runs every path once, in a
    rotating order), so their ratios hold on a noisy machine; each figure is the median
    of ``repeat`` runs of one ``(1, 3, size, size)`` image, after one warm-up run.

    Paths: ``fp32_eager`` (the plain generator), ``fp32_best`` (fastest of channels-last,
    TorchScript-frozen and, with ``compile``, ``torch.compile``), ``int8``
    (:class:`~animegan_edu.int8.quantize.QuantizedGenerator`, saved and loaded back),
    ``onnxruntime_fp32``, ``onnxruntime_int8``; plus ``bf16`` (autocast) where the CPU has
    native bf16.

    Quality: PSNR and SSIM (:mod:`animegan_edu.metrics`) of INT8, ONNX Runtime INT8 and bf16
    against fp32 eager, on the sample photos. With ``e2e``: ``"cli"``, the whole
    ``animegan-edu stylize`` command for one ``e2e_size``-px image
    (:func:`animegan_edu.bench.e2e.cli_seconds`), and ``"face"``, the face path against one
    plain pass (:func:`animegan_edu.bench.e2e.face_seconds`). ``log``: called with one line
    per step.

    Returns a JSON-ready dict: the figures of the first size at the top level, every
    size under ``"by_size"``, and the machine, versions, load averages and weights used.

    Example (not run by the test suite, which runs it through ``animegan-edu bench``):
        >>> g = Generator()
        >>> res = run_benchmark((32,), 1, generator=g, compile=False, calib_size=32)  # doctest: +SKIP
        >>> res["int8"] > 0 and res["by_size"]["32"]["int8_psnr_db"] > 20  # doctest: +SKIP
        True
    """
    import onnxruntime

    say: Log = log if callable(log) else (lambda msg: None)
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    if not sizes or min(sizes) < 8:
        raise ValueError(f"sizes must be >= 8 pixels, got {list(sizes)}")
    if generator is None:
        generator, weights_label = default_generator(None)
    generator = generator.float().eval()
    info = cpu_info()
    n_threads = threads or torch.get_num_threads()
    load_before = os.getloadavg()
    use_bf16 = bf16 and bool(info["amx"] or info.get("avx512_bf16"))
    with num_threads(n_threads), tempfile.TemporaryDirectory() as tmpd:
        built = _build(generator, Path(tmpd), calib_size, n_threads, say)
        by_size = {str(s): _one_size(built, s, repeat, compile, use_bf16, say) for s in sizes}
    skip = ("all_runs", "first_call_seconds", "fp32_candidates")
    result: dict[str, object] = {k: v for k, v in by_size[str(sizes[0])].items() if k not in skip}
    result.update(
        {
            "int8_size_bytes": built.int8_bytes,
            "fp32_size_bytes": built.fp32_bytes,
            "threads": n_threads,
            "torch_version": torch.__version__,
            "onnxruntime_version": onnxruntime.__version__,
            "int8_engine": built.int8.engine,
            "int8_float_layers": list(built.int8.float_layers),
            "int8_calibration_seconds": built.calib_seconds,
            "calibration": f"{built.calib.shape[0]} photos ({', '.join(CALIBRATION_PHOTOS)}) "
            f"at {calib_size} px; PSNR/SSIM on 4 others",
            "weights": weights_label,
            "repeat": repeat,
            "sizes": list(sizes),
            "machine": {**info, "platform": platform.platform()},
            "load_average_before": list(load_before),
            "load_average_after": list(os.getloadavg()),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "by_size": by_size,
        }
    )
    if e2e:
        result.update(_end_to_end(generator, e2e_size, repeat, n_threads, say))
    return result
