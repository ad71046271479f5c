"""The benchmark's reports: a plain-text table, and markdown (table, targets, provenance).

Everything here formats a result of :func:`animegan_edu.bench.run.run_benchmark` (or the JSON
``animegan-edu bench --json`` prints, e.g. ``benchmarks/cpu_bench.json``); nothing is measured.
``tools/bench_table.py`` prints :func:`bench_report` of a JSON file; notebook 07 shows it.
"""

from __future__ import annotations

__all__ = [
    "format_benchmark", "bench_table_markdown", "bench_targets", "bench_provenance", "bench_report",
    "EXAMPLE_RESULT",
]  # fmt: skip


def format_benchmark(result: dict[str, object]) -> str:
    """A plain-text table of a :func:`~animegan_edu.bench.run.run_benchmark` result (seconds per image).

    Example:
        >>> print(format_benchmark(EXAMPLE_RESULT))  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
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
    r = result
    lines.append(
        f"fp32_best = {r['fp32_best_method']}; INT8 file {r['int8_size_bytes'] / 1e6:.2f} MB vs fp32 "
        f"{r['fp32_size_bytes'] / 1e6:.2f} MB; {r['threads']} threads; {m['model']}; "
        f"torch {r['torch_version']}; weights: {r['weights']}; load average before/after "
        f"{r['load_average_before'][0]:.1f}/{r['load_average_after'][0]:.1f}"
    )
    return "\n".join(lines)


#: A made-up benchmark result (one size, round figures) for the examples below.
EXAMPLE_RESULT: dict = {
    "by_size": {
        "512": {
            "size": 512, "fp32_eager": 2.0, "fp32_best": 1.5, "fp32_best_method": "torchscript",
            "int8": 0.8, "onnxruntime_fp32": 1.6, "onnxruntime_int8": 1.0, "int8_psnr_db": 36.0,
            "onnxruntime_int8_psnr_db": 31.0,
        },
    },
    "fp32_best_method": "torchscript", "int8_size_bytes": 2_200_000, "fp32_size_bytes": 8_600_000,
    "threads": 2, "torch_version": "2.14.1", "onnxruntime_version": "1.22.0", "weights": "demo",
    "repeat": 5, "int8_engine": "onednn", "calibration": "4 skimage.data photos at 256 px",
    "date": "2026-11-29 05:00 UTC",
    "load_average_before": [0.2, 0.2, 0.2], "load_average_after": [1.9, 1.0, 0.5],
    "machine": {
        "model": "Example CPU", "logical_cpus": 2, "avx2": True, "avx512": True, "vnni": True, "amx": False,
    },
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
    """Markdown table (one row per size) of a benchmark result: median seconds, ratios, PSNR.

    Example:
        >>> bench_table_markdown(EXAMPLE_RESULT).splitlines()[2]
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
    """The issue's four targets at 512 px, each marked met or missed (from a benchmark result).

    Example:
        >>> bench_targets(EXAMPLE_RESULT).count("(met)")
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
        >>> print(bench_provenance(EXAMPLE_RESULT))  # doctest: +ELLIPSIS
        Measured 2026-11-29 05:00 UTC on Example CPU (2 logical CPUs; AVX2, AVX512, VNNI), ...(3.9x smaller).
    """
    m = res["machine"]
    loaded = res["load_average_before"][0] > 0.5 * (m.get("logical_cpus") or 1)
    isa = ", ".join(k.upper() for k in ("avx2", "avx512", "vnni", "amx") if m.get(k)) or "no AVX2"
    lb, la = res["load_average_before"][0], res["load_average_after"][0]
    return (
        "MEASURED UNDER LOAD (other jobs were running): timings are not representative. " if loaded else ""
    ) + (
        f"Measured {res['date']} on {m['model']} ({m['logical_cpus']} logical CPUs; {isa}), "
        f"{res['threads']} threads, torch {res['torch_version']}, onnxruntime {res['onnxruntime_version']}; "
        f"median of {res['repeat']} interleaved runs of one image; INT8 engine {res['int8_engine']}, "
        f"calibrated on {res['calibration']}; weights: {res['weights']}; "
        f"1-minute load average {lb:.1f} before, {la:.1f} after. "
        f"Files: INT8 {res['int8_size_bytes'] / 1e6:.2f} MB, fp32 {res['fp32_size_bytes'] / 1e6:.2f} MB "
        f"({res['fp32_size_bytes'] / res['int8_size_bytes']:.1f}x smaller)."
    )


def bench_report(res: dict) -> str:
    """Table, targets and provenance of a benchmark result, as markdown.

    Example:
        >>> bench_report(EXAMPLE_RESULT).splitlines()[0]
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
