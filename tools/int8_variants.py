"""Regenerate benchmarks/int8_variants.json: what was tried to make INT8 keep the picture (issue 12).

For each weight set (the bundled demo weights, a generator initialised with
``torch.manual_seed(0)``, the parity fixture's weights from ``../shared``) and each
variant of the quantizer:

* PSNR and SSIM of the INT8 output against fp32 eager, at 256 and 512 px, on the four
  default sample photos (astronaut, coffee, chelsea, rocket); unless a variant says
  otherwise, calibration uses the *other* validation photos
  (:data:`animegan_edu.int8.calib.CALIBRATION_PHOTOS`), so the figures are on unseen photos;
* the time of one 512-px image relative to ONNX Runtime fp32, measured in the same process,
  interleaved (each repeat runs every path once), median of ``--repeat``; with the demo
  weights only (speed does not depend on the weights' values);
* the INT8 file's size.

It also measures the float paths against fp32 eager (max-abs difference and speed), the
figures behind ``benchmarks/fast_paths.json`` (:func:`animegan_edu.inference.fastpaths.measured_paths`),
copied from the ``speed`` section by hand when a CPU class is measured again.

Absolute seconds are recorded but mean little on a shared machine (other jobs run); the
ratios, taken in one interleaved run, are the result. Run it with one thread:

    OMP_NUM_THREADS=1 nice -n 5 python tools/int8_variants.py --repeat 3 -o benchmarks/int8_variants.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

from animegan_edu.imageio import from_generator_range
from animegan_edu.inference.fastpaths import (
    OnnxRuntimeGenerator,
    bf16_channels_last,
    export_onnx,
    fp32_channels_last,
)
from animegan_edu.int8.calib import CALIBRATION_PHOTOS, calibration_photos
from animegan_edu.int8.diagnose import one_at_a_time, variants_table
from animegan_edu.int8.files import save_int8
from animegan_edu.int8.layers import kernel_settings
from animegan_edu.int8.quantize import quantize_generator
from animegan_edu.machine import cpu_info
from animegan_edu.metrics import psnr, ssim
from animegan_edu.models import Generator
from animegan_edu.samples import sample_photos

REPO = Path(__file__).resolve().parents[1]
warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor")

DECODER = ("block_d.1", "block_e.0", "block_e.1", "block_e.2")

#: name -> (description, calibration ("sample256": the 4 evaluation photos at 256 px, the
#: old default; "held512": CALIBRATION_PHOTOS at 512 px), group norm ("torch" or "exact"),
#: quantize_generator keyword arguments, plus "kernel_weight_qmax" for kernel_settings).
_ALL_INT8 = {"observer": "histogram", "float_layers": (), "float_dtype": "float32"}
_MINMAX_DECODER = {**_ALL_INT8, "observer": "minmax", "float_layers": DECODER}
VARIANTS: dict[str, tuple[str, str, str, dict]] = {
    "before": (
        "the quantizer before this work: histogram observers, PyTorch's quantized GroupNorm, "
        "calibrated on the 4 evaluation photos at 256 px",
        "sample256", "torch", _ALL_INT8,
    ),
    "exact_gn": (
        "exact GroupNorm statistics (histogram of the bytes + quantized batch_norm2d), otherwise as before",
        "sample256", "exact", _ALL_INT8,
    ),
    "exact_gn_held512": (
        "exact GroupNorm; histogram observers; calibrated at 512 px on 4 other photos",
        "held512", "exact", _ALL_INT8,
    ),
    "minmax": (
        "as exact_gn_held512 with min/max observers",
        "held512", "exact", {**_ALL_INT8, "observer": "minmax"},
    ),
    "mse": (
        "as exact_gn_held512 with MSE-optimal clipping (SampleObserver)",
        "held512", "exact", {**_ALL_INT8, "observer": "mse"},
    ),
    "equalize_minmax": (
        "channel equalization (alpha 0.5) + min/max",
        "held512", "exact", {**_ALL_INT8, "equalize": 0.5, "observer": "minmax"},
    ),
    "decoder_bf16_hist": (
        "histogram; the decoder's d.1, e.0, e.1, e.2 in bf16",
        "held512", "exact", {**_ALL_INT8, "float_layers": DECODER, "float_dtype": "bfloat16"},
    ),
    "e0_e2_bf16_minmax": (
        "min/max; e.0, e.1, e.2 in bf16",
        "held512", "exact",
        {**_ALL_INT8, "observer": "minmax", "float_layers": DECODER[1:], "float_dtype": "bfloat16"},
    ),
    "decoder_bf16_minmax": (
        "the new default: min/max; the decoder's d.1, e.0, e.1, e.2 in bf16",
        "held512", "exact", {**_MINMAX_DECODER, "float_dtype": "bfloat16"},
    ),
    "decoder_fp32_minmax": (
        "the default without native bf16 (AVX2-only CPUs): min/max; the decoder's d.1, e.0, e.1, e.2 "
        "in fp32; oneDNN, 8-bit activations, 7-bit kernel weights where there is no VNNI",
        "held512", "exact", {**_MINMAX_DECODER, "float_dtype": "float32"},
    ),
    "decoder_fp32_fbgemm_a7": (
        "the AVX2 default before 2026-11-29: as decoder_fp32_minmax on PyTorch's x86 engine (FBGEMM), "
        "7-bit activations, 8-bit weights",
        "held512", "exact",
        {**_MINMAX_DECODER, "float_dtype": "float32", "engine": "x86", "reduce_range": True,
         "kernel_weight_qmax": 127},
    ),
    "decoder_fp32_onednn_w8": (
        "as decoder_fp32_minmax with 8-bit kernel weights (saturates without VNNI)",
        "held512", "exact", {**_MINMAX_DECODER, "float_dtype": "float32", "kernel_weight_qmax": 127},
    ),
}  # fmt: skip


def weight_sets(shared: Path) -> dict[str, tuple[Generator, str]]:
    from animegan_edu.weights.hub import get_generator

    out: dict[str, tuple[Generator, str]] = {}
    g, label = get_generator("demo", fallback=None, progress=False, download=False)
    out["demo"] = (g.float().eval(), f"{label}: weights/demo.safetensors")
    torch.manual_seed(0)
    out["random_seed0"] = (Generator().eval(), "animegan_edu.models.Generator() after torch.manual_seed(0)")
    fixture = shared / "reference" / "parity" / "generator_random_seed0.pt"
    if fixture.is_file():
        g = Generator()
        g.load_state_dict(torch.load(fixture, map_location="cpu", weights_only=True), strict=True)
        out["parity_fixture"] = (
            g.eval(),
            f"{fixture.relative_to(shared.parent)} (torch.load weights_only=True)",
        )
    return out


def _each(model, photos: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return one_at_a_time(model, photos)


def kernels(variant: str) -> dict[str, object]:
    """The :func:`kernel_settings` of a variant: its GroupNorm kernel and forced weight range."""
    _, _, gn, kwargs = VARIANTS[variant]
    return {"group_norm": gn, "weight_qmax": kwargs.get("kernel_weight_qmax")}


def build(gen: Generator, variant: str, calib: dict[str, torch.Tensor]):
    """The variant's INT8 model; call it inside ``kernel_settings(**kernels(variant))``."""
    _, cal, _, kwargs = VARIANTS[variant]
    kwargs = {k: v for k, v in kwargs.items() if k != "kernel_weight_qmax"}
    return quantize_generator(gen, calib[cal], **kwargs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(REPO / "benchmarks" / "int8_variants.json"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--speed-size", type=int, default=512)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--weights", nargs="+", default=None, help="weight sets (default: all)")
    ap.add_argument(
        "--quality-from",
        default=None,
        metavar="JSON",
        help="take the quality of weight sets not measured in this run from an earlier run's JSON "
        "(same machine; the speed is always measured in this run)",
    )
    ap.add_argument(
        "--quality-only", action="store_true", help="skip the speed measurement (for --quality-from later)"
    )
    ap.add_argument("--shared", default=os.environ.get("ANIMEGAN_EDU_SHARED", str(REPO.parent / "shared")))
    args = ap.parse_args()
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    load_before = os.getloadavg()
    sets = weight_sets(Path(args.shared))
    if args.weights:
        sets = {k: v for k, v in sets.items() if k in args.weights}
    calib = {"sample256": sample_photos(256), "held512": calibration_photos(512)}
    evals = {s: sample_photos(s) for s in args.sizes}
    quality: dict[str, dict] = {}
    models_for_speed = {}
    sizes_bytes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmpd:
        for wname, (gen, wlabel) in sets.items():
            refs = {s: from_generator_range(_each(gen, x)) for s, x in evals.items()}  # [0, 1]
            quality[wname] = {"weights": wlabel, "variants": {}}
            for v in args.variants:
                say(f"{wname}: {v}")
                with kernel_settings(**kernels(v)):  # weights are packed for the kernel on first use
                    t0 = time.perf_counter()
                    q = build(gen, v, calib)
                    calib_s = time.perf_counter() - t0
                    entry: dict[str, object] = {"calibration_seconds": round(calib_s, 1)}
                    for s, x in evals.items():
                        out = from_generator_range(_each(q, x))
                        entry[f"psnr_db_{s}"] = round(psnr(out, refs[s]), 2)
                        entry[f"psnr_db_{s}_per_photo"] = [round(psnr(a, b), 2) for a, b in zip(out, refs[s])]
                        entry[f"ssim_{s}"] = round(ssim(out, refs[s]), 4)
                quality[wname]["variants"][v] = entry
                if wname == "demo":
                    sizes_bytes[v] = save_int8(q, Path(tmpd) / f"{v}.safetensors")
                    models_for_speed[v] = (q, VARIANTS[v][2])
                say(f"  {entry}")
        if args.quality_only:
            Path(args.output).write_text(
                json.dumps(
                    {
                        "quality": quality,
                        "machine": cpu_info(),
                        "torch_version": torch.__version__,
                        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    },
                    indent=1,
                )
                + "\n"
            )
            say(f"wrote {args.output} (quality only)")
            return 0
        # speed: demo weights, one image, every path interleaved
        gen = sets["demo"][0] if "demo" in sets else next(iter(sets.values()))[0]
        onnx = export_onnx(gen, Path(tmpd) / "g.onnx")
        x = sample_photos(args.speed_size)[:1]
        paths = {
            "onnxruntime_fp32": OnnxRuntimeGenerator(onnx, torch.get_num_threads()),
            "fp32_eager": gen,
            "fp32_channels_last": fp32_channels_last(gen),
            "bf16_channels_last": bf16_channels_last(gen),
        }
        gn_of = {k: "exact" for k in paths}
        for v, (q, gn) in models_for_speed.items():
            paths[f"int8:{v}"] = q
            gn_of[f"int8:{v}"] = gn
        with torch.inference_mode():
            ref = gen(x)
            diffs = {
                k: float((paths[k](x) - ref).abs().max())
                for k in ("onnxruntime_fp32", "fp32_channels_last", "bf16_channels_last")
            }
            times: dict[str, list[float]] = {k: [] for k in paths}
            names = list(paths)
            for k in names:  # warm-up
                with kernel_settings(group_norm=gn_of[k]):
                    paths[k](x)
            for r in range(args.repeat):
                order = names[r % len(names) :] + names[: r % len(names)]
                for k in order:
                    with kernel_settings(group_norm=gn_of[k]):
                        t0 = time.perf_counter()
                        paths[k](x)
                        times[k].append(time.perf_counter() - t0)
                say(f"speed repeat {r + 1}/{args.repeat}")
    if args.quality_from:
        earlier = json.loads(Path(args.quality_from).read_text())
        if earlier.get("machine", {}).get("model") != cpu_info()["model"]:
            raise SystemExit(
                f"{args.quality_from}: measured on another CPU ({earlier.get('machine')}); re-run it here"
            )
        for w, q in earlier["quality"].items():
            if w not in quality:
                quality[w] = {
                    **q,
                    "measured": f"in an earlier run on this machine, {earlier.get('date')} "
                    f"({args.quality_from})",
                }
    med = {k: statistics.median(v) for k, v in times.items()}
    ort = med["onnxruntime_fp32"]
    eager = med["fp32_eager"]
    speed = {
        "size": args.speed_size,
        "threads": torch.get_num_threads(),
        "vs_onnxruntime_fp32": {k: round(v / ort, 3) for k, v in med.items()},
        "vs_fp32_eager": {k: round(v / eager, 3) for k, v in med.items()},
        "max_abs_diff_vs_fp32_eager": diffs,
        "median_seconds_not_comparable_across_runs": {k: round(v, 3) for k, v in med.items()},
        "all_runs": times,
    }
    res = {
        "what": "INT8 variants tried for issue 12: PSNR/SSIM against fp32 eager (4 sample photos), "
        "speed relative to ONNX Runtime fp32 in the same run, INT8 file size",
        "made_by": "tools/int8_variants.py",
        "note": "Measured on a shared 2-core machine with other jobs running: absolute seconds are not "
        "meaningful, only ratios taken in the same interleaved run.",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {**cpu_info(), "platform": platform.platform()},
        "torch_version": torch.__version__,
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "evaluation_photos": "astronaut, coffee, chelsea, rocket (sample_photos)",
        "calibration_photos": {
            "sample256": "the 4 evaluation photos at 256 px",
            "held512": f"{', '.join(CALIBRATION_PHOTOS)} at 512 px",
        },
        "variants": {
            k: {
                "description": VARIANTS[k][0],
                "calibration": VARIANTS[k][1],
                "group_norm": VARIANTS[k][2],
                "options": {a: list(b) if isinstance(b, tuple) else b for a, b in VARIANTS[k][3].items()},
                "int8_file_bytes": sizes_bytes.get(k),
            }
            for k in args.variants
        },  # fmt: skip
        "quality": quality,
        "speed": speed,
    }
    Path(args.output).write_text(json.dumps(res, indent=1) + "\n")
    say(f"wrote {args.output}")
    print(variants_table(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
