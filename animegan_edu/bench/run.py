"""Measuring CPU inference: machine facts, per-layer profiles and the benchmark with its reports.

Introduced in ``notebooks/07_quantized_cpu_inference.ipynb``; the command is
``animegan-edu bench`` (registered through :func:`animegan_edu.int8.quantize.register_cli`).

* :func:`cpu_info` (AVX2, AVX-512, VNNI, AMX), :func:`num_threads`, :func:`psnr`;
* :func:`profile_layers`: milliseconds per generator unit, float or INT8;
* :func:`run_benchmark`: every path of :mod:`animegan_edu.int8.quantize` and
  :mod:`animegan_edu.inference.fastpaths` timed side by side, interleaved in one process, and INT8
  quality against fp32; :func:`format_benchmark` and :func:`bench_report` (markdown:
  :func:`bench_table_markdown`, :func:`bench_targets`, :func:`bench_provenance`) print it;
* ``animegan-edu bench --video``: frames per second of ``animegan-edu video``, fp32 against INT8
  (:func:`animegan_edu.video.stylize.run_video_benchmark`).

Tensor conventions: generator inputs and outputs are ``(N, 3, H, W)`` RGB in ``[-1, 1]``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from torch import nn

from animegan_edu.imageio import sample_photos
from animegan_edu.inference.fastpaths import (
    ChannelsLast,
    OnnxRuntimeGenerator,
    bf16_channels_last,
    export_onnx,
    fp32_channels_last,
    fp32_compiled,
    fp32_torchscript,
    quantize_onnx,
)
from animegan_edu.int8.calib import CALIBRATION_PHOTOS, calibration_photos
from animegan_edu.int8.diagnose import one_at_a_time, ssim01
from animegan_edu.int8.files import load_int8, save_int8
from animegan_edu.int8.quantize import _BLOCKS, quantize_generator
from animegan_edu.models import Generator

__all__ = [
    "cpu_info",
    "num_threads",
    "psnr",
    "profile_layers",
    "run_benchmark",
    "format_benchmark",
    "bench_table_markdown",
    "bench_targets",
    "bench_provenance",
    "bench_report",
    "register_cli",
]


# --------------------------------------------------------------------------------------
# The machine, threads, a quality measure
# --------------------------------------------------------------------------------------
def cpu_info() -> dict[str, object]:
    """What the CPU offers for INT8 and bf16: model name, AVX2, AVX-512, VNNI, AMX, AVX-512 BF16.

    Example:
        >>> {"model", "logical_cpus", "avx2", "avx512", "vnni", "amx"} <= set(cpu_info())
        True
    """
    name = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    flag = lambda f: bool(getattr(torch.cpu, f, lambda: False)())  # noqa: E731
    return {
        "model": name,
        "logical_cpus": os.cpu_count(),
        "avx2": flag("_is_avx2_supported"),
        "avx512": flag("_is_avx512_supported"),
        "vnni": flag("_is_vnni_supported"),
        "amx": flag("_is_amx_tile_supported"),
        "avx512_bf16": flag("_is_avx512_bf16_supported"),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


@contextlib.contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """Temporarily use ``n`` intra-op threads (``None``: leave as is).

    Example:
        >>> before = torch.get_num_threads()
        >>> with num_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    old = torch.get_num_threads()
    if n is not None:
        if n < 1:
            raise ValueError(f"threads must be >= 1, got {n}")
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB between two tensors of the same shape (values in ``[0, data_range]``).

    Example:
        >>> round(psnr(torch.zeros(4), torch.full((4,), 0.1)), 3)
        20.0
        >>> psnr(torch.ones(2), torch.ones(2))
        inf
    """
    if a.shape != b.shape:
        raise ValueError(f"psnr needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    mse = (a.double() - b.double()).pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * math.log10(data_range**2 / mse)


# --------------------------------------------------------------------------------------
# Per-layer profile
# --------------------------------------------------------------------------------------
def profile_layers(model: nn.Module, x: torch.Tensor, repeat: int = 3) -> dict[str, float]:
    """Median milliseconds per top-level unit (``"block_a.0"`` ... ``"out_layer"``).

    Works for :class:`~animegan_edu.models.Generator`, :class:`QuantizedGenerator` and
    a :class:`ChannelsLast` wrapper. ``"other"`` is the rest of the forward pass
    (decoder resizes, the quantization of the input, layout changes). ``x``: ``(N, 3, H, W)``
    in ``[-1, 1]``.

    Example:
        >>> prof = profile_layers(Generator().eval(), torch.zeros(1, 3, 32, 32), repeat=1)
        >>> list(prof)[:2], list(prof)[-2:], len(prof)
        (['block_a.0', 'block_a.1'], ['out_layer', 'other'], 18)
    """
    import time

    inner = model.model if isinstance(model, ChannelsLast) else model
    units = [(f"{b}.{i}", m) for b in _BLOCKS for i, m in enumerate(getattr(inner, b))] + [
        ("out_layer", inner.out_layer)
    ]
    runs: dict[str, list[float]] = {n: [] for n, _ in units}
    runs["other"] = []
    starts: dict[str, float] = {}
    handles = []
    for name, mod in units:
        handles.append(
            mod.register_forward_pre_hook(lambda m, a, n=name: starts.__setitem__(n, time.perf_counter()))
        )
        handles.append(
            mod.register_forward_hook(lambda m, a, y, n=name: runs[n].append(time.perf_counter() - starts[n]))
        )
    try:
        with torch.no_grad():
            model(x)  # warm-up (weight packing, allocator)
            for r in runs.values():
                r.clear()
            for _ in range(repeat):
                t0 = time.perf_counter()
                model(x)
                total = time.perf_counter() - t0
                runs["other"].append(total - sum(runs[n][-1] for n, _ in units))
    finally:
        for h in handles:
            h.remove()
    return {n: 1000 * sorted(v)[len(v) // 2] for n, v in runs.items()}


# --------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------
def _median(v: Sequence[float]) -> float:
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def _default_generator(weights: str | None) -> tuple[Generator, str]:
    """``(generator, label)`` from :func:`animegan_edu.weights.hub.get_generator`: the named weights
    (no fallback), else the default ones, else an untrained generator whose label says so
    (its quality figures are not representative)."""
    from animegan_edu.weights.hub import get_generator

    return get_generator(
        weights, fallback=None if weights is not None else "random", download=False, progress=False
    )


def run_benchmark(
    sizes: Sequence[int] = (512,),
    repeat: int = 5,
    threads: int | None = None,
    generator: Generator | None = None,
    weights_label: str = "given",
    compile: bool = True,
    calib_size: int = 512,
    bf16: bool = True,
    log: object = None,
    e2e: bool = False,
    e2e_size: int = 512,
) -> dict[str, object]:
    """Time every CPU inference path on one image and compare INT8 with fp32.

    All paths run in one process, interleaved (each repeat runs every path once, in a
    rotating order), so their ratios hold on a noisy machine; each figure is the median
    of ``repeat`` runs of one ``(1, 3, size, size)`` image, after one warm-up run.

    Paths: ``fp32_eager`` (the plain generator), ``fp32_best`` (fastest of channels-last,
    TorchScript-frozen and, with ``compile``, ``torch.compile``), ``int8``
    (:class:`QuantizedGenerator`, saved and loaded back), ``onnxruntime_fp32``,
    ``onnxruntime_int8``; plus ``bf16`` (autocast) where the CPU has native bf16.

    Quality: PSNR and SSIM (kornia, :func:`animegan_edu.int8.diagnose.ssim01`) of INT8,
    ONNX Runtime INT8 and bf16 against fp32 eager, on the four sample photos. With
    ``e2e``: ``"cli"``, the whole ``animegan-edu stylize`` command for one
    ``e2e_size``-px image (:func:`animegan_edu.bench.e2e.cli_seconds`), and ``"face"``,
    the face path against one plain pass (:func:`animegan_edu.bench.e2e.face_seconds`).

    Returns a JSON-ready dict: the figures of the first size at the top level, every
    size under ``"by_size"``, and the machine, versions, load averages and weights used.

    Example (not run by the test suite: about 5 s; ``tests/test_quantize.py`` runs it):
        >>> res = run_benchmark((32,), repeat=1, generator=Generator(), compile=False, calib_size=32)  # doctest: +SKIP
        >>> res["int8"] > 0 and res["by_size"]["32"]["int8_psnr_db"] > 20  # doctest: +SKIP
        True
    """
    import datetime
    import platform
    import tempfile
    import time

    import onnxruntime

    def say(msg: str) -> None:
        if callable(log):
            log(msg)

    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    if not sizes or min(sizes) < 8:
        raise ValueError(f"sizes must be >= 8 pixels, got {list(sizes)}")
    if generator is None:
        generator, weights_label = _default_generator(None)
    generator = generator.float().eval()
    info = cpu_info()
    n_threads = threads or torch.get_num_threads()
    load_before = os.getloadavg()
    result: dict[str, object] = {}
    with num_threads(n_threads), tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        from safetensors.torch import save_file

        save_file(
            {k: v.contiguous() for k, v in generator.state_dict().items()}, str(tmp / "fp32.safetensors")
        )
        fp32_size = (tmp / "fp32.safetensors").stat().st_size
        say(f"calibrating INT8 on {calib_size}-px calibration photos (not the evaluation ones)")
        calib = calibration_photos(calib_size)
        t0 = time.perf_counter()
        qgen = quantize_generator(generator, calib)
        calib_s = time.perf_counter() - t0
        int8_size = save_int8(qgen, tmp / "int8.safetensors")
        qgen = load_int8(tmp / "int8.safetensors")
        say("exporting ONNX, quantizing it with ONNX Runtime")
        export_onnx(generator, tmp / "fp32.onnx")
        quantize_onnx(tmp / "fp32.onnx", tmp / "int8.onnx", calib)
        ort32 = OnnxRuntimeGenerator(tmp / "fp32.onnx", n_threads)
        ort8 = OnnxRuntimeGenerator(tmp / "int8.onnx", n_threads)
        cl = fp32_channels_last(generator)
        use_bf16 = bf16 and bool(
            info["amx"] or getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
        )
        by_size: dict[str, dict[str, object]] = {}
        for size in sizes:
            photos = sample_photos(size)
            x = photos[:1]
            paths: dict[str, object] = {
                "fp32_eager": generator,
                "fp32_channels_last": cl,
                "int8": qgen,
                "onnxruntime_fp32": ort32,
                "onnxruntime_int8": ort8,
            }
            warm: dict[str, float] = {}
            t0 = time.perf_counter()
            paths["fp32_torchscript"] = fp32_torchscript(generator, x)
            warm["fp32_torchscript_build"] = time.perf_counter() - t0
            if compile:
                paths["fp32_compile"] = fp32_compiled(generator)
            if use_bf16:
                paths["bf16_channels_last"] = bf16_channels_last(generator)
            times: dict[str, list[float]] = {k: [] for k in paths}
            with torch.inference_mode():
                for name, f in paths.items():
                    say(f"{size} px: warm-up {name}")
                    t0 = time.perf_counter()
                    f(x)
                    warm[name] = time.perf_counter() - t0
                names = list(paths)
                for r in range(repeat):
                    order = names[r % len(names) :] + names[: r % len(names)]
                    for name in order:
                        t0 = time.perf_counter()
                        paths[name](x)
                        times[name].append(time.perf_counter() - t0)
                    say(f"{size} px: repeat {r + 1}/{repeat}")
                med = {k: _median(v) for k, v in times.items()}
                fp32_methods = {
                    k: med[k] for k in ("fp32_channels_last", "fp32_torchscript", "fp32_compile") if k in med
                }
                best = min(fp32_methods, key=fp32_methods.__getitem__)
                # one photo at a time: a batch of four 1024-px photos through ONNX Runtime took 24 GB
                ref, q = one_at_a_time(generator, photos), one_at_a_time(qgen, photos)
                o8, o32 = one_at_a_time(ort8, photos), one_at_a_time(ort32, photos)
                b16 = (
                    one_at_a_time(paths["bf16_channels_last"], photos)
                    if "bf16_channels_last" in paths
                    else None
                )
            to01 = lambda t: (t.clamp(-1, 1) + 1) / 2  # noqa: E731
            entry: dict[str, object] = {
                "size": size,
                "fp32_eager": med["fp32_eager"],
                "fp32_best": med[best],
                "fp32_best_method": best.removeprefix("fp32_"),
                "int8": med["int8"],
                "onnxruntime_fp32": med["onnxruntime_fp32"],
                "onnxruntime_int8": med["onnxruntime_int8"],
                "int8_psnr_db": psnr(to01(q), to01(ref)),
                "int8_psnr_db_per_photo": [psnr(to01(a), to01(b)) for a, b in zip(q, ref)],
                "int8_ssim": ssim01(q, ref),
                "onnxruntime_int8_psnr_db": psnr(to01(o8), to01(ref)),
                "onnxruntime_int8_ssim": ssim01(o8, ref),
                "onnxruntime_fp32_max_abs_diff": float((o32 - ref).abs().max()),
                "int8_vs_onnxruntime_fp32": med["int8"] / med["onnxruntime_fp32"],
                "fp32_candidates": fp32_methods,
                "first_call_seconds": warm,
                "all_runs": times,
            }
            if "bf16_channels_last" in med:
                entry["bf16_channels_last"] = med["bf16_channels_last"]
                entry["bf16_psnr_db"] = psnr(to01(b16), to01(ref))
                entry["bf16_ssim"] = ssim01(b16, ref)
                entry["bf16_max_abs_diff"] = float((b16 - ref).abs().max())
            by_size[str(size)] = entry
        first = by_size[str(sizes[0])]
        result.update(
            {k: v for k, v in first.items() if k not in ("all_runs", "first_call_seconds", "fp32_candidates")}
        )
        result.update(
            {
                "int8_size_bytes": int8_size,
                "fp32_size_bytes": fp32_size,
                "threads": n_threads,
                "torch_version": torch.__version__,
                "onnxruntime_version": onnxruntime.__version__,
                "int8_engine": qgen.engine,
                "int8_float_layers": list(qgen.float_layers),
                "int8_calibration_seconds": calib_s,
                "calibration": f"{calib.shape[0]} photos ({', '.join(CALIBRATION_PHOTOS)}) at {calib_size} px; PSNR/SSIM on 4 others",
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
        from animegan_edu.bench.e2e import cli_seconds, face_seconds

        say(f"end to end: animegan-edu stylize, one {e2e_size}-px image, fresh process")
        from animegan_edu.inference.pipeline import default_path

        with num_threads(n_threads):
            choice = default_path(generator, pixels=e2e_size * e2e_size)
        result["default_path"] = {"path": choice.path, "cpu_class": choice.cpu_class, "reason": choice.reason}
        say(f"default path at {e2e_size} px: {choice}")
        result["cli"] = cli_seconds(generator, e2e_size, repeat, n_threads)
        say(f"end to end: the face path at {e2e_size} px")
        with num_threads(n_threads):
            result["face"] = face_seconds(generator, e2e_size, repeat)
    return result


def format_benchmark(result: dict[str, object]) -> str:
    """A plain-text table of :func:`run_benchmark`'s result (seconds per image).

    Example:
        >>> print(format_benchmark(_EXAMPLE))  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
        size fp32_eager fp32_best int8 onnxruntime_fp32 onnxruntime_int8 int8 PSNR dB
         512 2.000s 1.500s 0.800s 1.600s 1.000s 36.0
        fp32_best = torchscript; INT8 file 2.20 MB vs fp32 8.60 MB; 2 threads; Example CPU; ...
    """
    cols = ["fp32_eager", "fp32_best", "int8", "onnxruntime_fp32", "onnxruntime_int8"]
    lines = [f"{'size':>6} " + " ".join(f"{c:>17}" for c in cols) + f" {'int8 PSNR dB':>13}"]
    for size, e in result["by_size"].items():  # type: ignore[union-attr]
        lines.append(
            f"{size:>6} " + " ".join(f"{e[c]:>16.3f}s" for c in cols) + f" {e['int8_psnr_db']:>13.1f}"
        )
    m = result["machine"]  # type: ignore[index]
    lines.append(
        f"fp32_best = {result['fp32_best_method']}; INT8 file {result['int8_size_bytes'] / 1e6:.2f} MB vs fp32 "
        f"{result['fp32_size_bytes'] / 1e6:.2f} MB; {result['threads']} threads; {m['model']}; torch {result['torch_version']}; "
        f"weights: {result['weights']}; load average before/after {result['load_average_before'][0]:.1f}/{result['load_average_after'][0]:.1f}"
    )
    return "\n".join(lines)


#: A made-up :func:`run_benchmark` result (one size, round figures) for the examples below.
_EXAMPLE: dict = {
    "by_size": {
        "512": {
            "size": 512, "fp32_eager": 2.0, "fp32_best": 1.5, "fp32_best_method": "torchscript", "int8": 0.8,
            "onnxruntime_fp32": 1.6, "onnxruntime_int8": 1.0, "int8_psnr_db": 36.0, "onnxruntime_int8_psnr_db": 31.0,
        },
    },
    "fp32_best_method": "torchscript", "int8_size_bytes": 2_200_000, "fp32_size_bytes": 8_600_000, "threads": 2,
    "torch_version": "2.14.1", "onnxruntime_version": "1.22.0", "weights": "demo", "repeat": 5,
    "int8_engine": "onednn", "calibration": "4 skimage.data photos at 256 px", "date": "2026-11-29 05:00 UTC",
    "load_average_before": [0.2, 0.2, 0.2], "load_average_after": [1.9, 1.0, 0.5],
    "machine": {"model": "Example CPU", "logical_cpus": 2, "avx2": True, "avx512": True, "vnni": True, "amx": False},
}  # fmt: skip

_TABLE_PATHS = [
    ("fp32_eager", "fp32 eager"),
    ("fp32_best", "fp32 best"),
    ("int8", "INT8 (ours)"),
    ("onnxruntime_fp32", "ORT fp32"),
    ("onnxruntime_int8", "ORT INT8"),
]


def _fmt_s(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.2f}"


def bench_table_markdown(res: dict) -> str:
    """Markdown table (one row per size) of :func:`run_benchmark`'s result: median seconds, ratios, PSNR.

    Example:
        >>> bench_table_markdown(_EXAMPLE).splitlines()[2]
        '| 512 | 2.000 | 1.500 | 0.800 | 1.600 | 1.000 | torchscript | 0.50x | 36.0 | 31.0 |'
    """
    by_size = res.get("by_size") or {str(res["size"]): res}
    has_bf16 = any("bf16_channels_last" in e for e in by_size.values())
    head = ["size (px)"] + [label for _, label in _TABLE_PATHS] + (["bf16 autocast"] if has_bf16 else [])
    head += ["fp32 best is", "INT8 / ORT fp32", "INT8 PSNR (dB)", "ORT INT8 PSNR (dB)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size, e in sorted(by_size.items(), key=lambda kv: int(kv[0])):
        row = [size] + [_fmt_s(e[k]) for k, _ in _TABLE_PATHS]
        if has_bf16:
            row.append(_fmt_s(e["bf16_channels_last"]) if "bf16_channels_last" in e else "-")
        row += [
            e["fp32_best_method"],
            f"{e['int8'] / e['onnxruntime_fp32']:.2f}x",
            f"{e['int8_psnr_db']:.1f}",
            f"{e['onnxruntime_int8_psnr_db']:.1f}",
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def bench_targets(res: dict) -> str:
    """The issue's four targets at 512 px, each marked met or missed (from :func:`run_benchmark`'s result).

    Example:
        >>> bench_targets(_EXAMPLE).count("(met)")
        4
        >>> bench_targets({"by_size": {}})
        'Targets (512 px): not measured in this run.'
    """
    e = (res.get("by_size") or {}).get("512")
    if e is None:
        return "Targets (512 px): not measured in this run."
    checks = [
        (f"INT8 at most 1.0 s: {e['int8']:.3f} s", e["int8"] <= 1.0),
        (
            f"INT8 at most 0.5x ORT fp32: {e['int8'] / e['onnxruntime_fp32']:.2f}x",
            e["int8"] <= 0.5 * e["onnxruntime_fp32"],
        ),
        (f"INT8 PSNR at least 35 dB: {e['int8_psnr_db']:.1f} dB", e["int8_psnr_db"] >= 35),
        (f"INT8 file at most 2.5 MB: {res['int8_size_bytes'] / 1e6:.2f} MB", res["int8_size_bytes"] <= 2.5e6),
    ]
    return (
        "Targets at 512 px: "
        + "; ".join(f"{text} ({'met' if ok else 'missed'})" for text, ok in checks)
        + "."
    )


def bench_provenance(res: dict) -> str:
    """One line: when, on what machine and load, with which versions and weights the figures were taken.

    Example:
        >>> print(bench_provenance(_EXAMPLE))  # doctest: +ELLIPSIS
        Measured 2026-11-29 05:00 UTC on Example CPU (2 logical CPUs; AVX2, AVX512, VNNI), 2 threads, ...(3.9x smaller).
    """
    m = res["machine"]
    loaded = res["load_average_before"][0] > 0.5 * (m.get("logical_cpus") or 1)
    isa = ", ".join(k.upper() for k in ("avx2", "avx512", "vnni", "amx") if m.get(k)) or "no AVX2"
    lb, la = res["load_average_before"][0], res["load_average_after"][0]
    return (
        "MEASURED UNDER LOAD (other jobs were running): timings are not representative. " if loaded else ""
    ) + (
        f"Measured {res['date']} on {m['model']} ({m['logical_cpus']} logical CPUs; {isa}), {res['threads']} threads, "
        f"torch {res['torch_version']}, onnxruntime {res['onnxruntime_version']}; median of {res['repeat']} interleaved runs "
        f"of one image; INT8 engine {res['int8_engine']}, calibrated on {res['calibration']}; weights: {res['weights']}; "
        f"1-minute load average {lb:.1f} before, {la:.1f} after. Files: INT8 {res['int8_size_bytes'] / 1e6:.2f} MB, "
        f"fp32 {res['fp32_size_bytes'] / 1e6:.2f} MB ({res['fp32_size_bytes'] / res['int8_size_bytes']:.1f}x smaller)."
    )


def bench_report(res: dict) -> str:
    """Table, targets and provenance of a benchmark result, as markdown.

    Example:
        >>> bench_report(_EXAMPLE).splitlines()[0]
        'Median seconds per image:'
    """
    return (
        "Median seconds per image:\n\n"
        + bench_table_markdown(res)
        + "\n\n"
        + bench_targets(res)
        + "\n\n"
        + bench_provenance(res)
    )


# --------------------------------------------------------------------------------------
# Command line: `animegan-edu bench`
# --------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    import argparse

    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _cmd_bench(args) -> int:  # type: ignore[no-untyped-def]
    import sys

    sizes = args.size or [512]
    if min(sizes) < 8:
        raise ValueError(f"--size must be at least 8 pixels, got {min(sizes)}")
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    if getattr(args, "video", False):  # video throughput: animegan_edu.video.stylize.run_video_benchmark
        from animegan_edu.video.stylize import format_video_benchmark, run_video_benchmark

        vres = run_video_benchmark(sizes[0], args.video_frames, args.threads, args.weights, log=log)
        print(json.dumps(vres, indent=2) if args.json else format_video_benchmark(vres))
        return 0
    gen, label = _default_generator(args.weights)
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


def register_cli(subparsers) -> None:  # type: ignore[no-untyped-def]
    """Add ``bench`` to the ``animegan-edu`` command (called by :func:`animegan_edu.int8.quantize.register_cli`).

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="animegan-edu").add_subparsers()
        >>> register_cli(sub)
        >>> sorted(sub.choices)
        ['bench']
    """
    p = subparsers.add_parser(
        "bench",
        help="time fp32, INT8 and ONNX Runtime CPU inference side by side",
        description="Median seconds per image for each CPU path (interleaved in one process), INT8 PSNR against fp32, file sizes.",
    )
    p.add_argument(
        "--size",
        type=_positive_int,
        action="append",
        metavar="N",
        help="image side in pixels; repeat for several (default 512)",
    )
    p.add_argument(
        "--repeat", type=_positive_int, default=5, metavar="R", help="timed runs per path (default 5)"
    )
    p.add_argument(
        "--threads",
        type=_positive_int,
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
        type=_positive_int,
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
        type=_positive_int,
        default=512,
        metavar="N",
        help="image size of the end-to-end figures (default 512)",
    )
    p.add_argument(
        "--video",
        action="store_true",
        help="instead: frames per second of `animegan-edu video` on the test clip, fp32 against INT8 (--size: width)",
    )
    p.add_argument(
        "--video-frames",
        type=_positive_int,
        default=12,
        metavar="N",
        help="frames of the --video clip (default 12)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=_cmd_bench)
