"""Where the INT8 error enters: each unit's share of the final error, measured one unit at a time.

Part of the fast-CPU-inference topic (``notebooks/07_quantized_cpu_inference.ipynb``, with
:mod:`animegan_edu.int8.quantize` and :mod:`animegan_edu.bench.run`).

A per-layer *time* profile (:func:`animegan_edu.bench.profile.profile_layers`) says where INT8 saves
time; it does not say where it loses the picture. :func:`unit_contributions` does: for each
of the generator's 16 units (:func:`animegan_edu.int8.quantize.layer_names`) it

* quantizes **that unit alone** (every other unit in fp32) and measures the PSNR of the
  final output against fp32 (``alone_psnr_db``: the error this unit brings in by itself,
  its input and output activations included);
* keeps **that unit alone in float** (every other one INT8) and measures the PSNR again
  (``all_but_psnr_db``: what keeping it in float would buy).

:func:`format_contributions` prints the result as a table, worst unit first.

Tensor conventions: generator inputs and outputs are ``(N, 3, H, W)`` RGB in ``[-1, 1]``;
PSNR is computed on ``[0, 1]`` pictures (``(x + 1) / 2``), so 35 dB is an RMS error of
about 1.8 % of the range (4.5 grey levels of 255).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from animegan_edu.imageio import from_generator_range
from animegan_edu.int8.calib import calibrate
from animegan_edu.int8.quantize import QuantizedGenerator, layer_names
from animegan_edu.metrics import psnr
from animegan_edu.models import Generator
from animegan_edu.samples import sample_photos

__all__ = [
    "one_at_a_time",
    "unit_contributions",
    "format_contributions",
    "WEIGHT_SET_LABELS",
    "RECIPE_LABELS",
    "plain_label",
    "variants_table",
]


def one_at_a_time(model: Callable[[torch.Tensor], torch.Tensor], photos: torch.Tensor) -> torch.Tensor:
    """``model`` applied to each photo of ``(N, 3, H, W)`` separately, outputs concatenated.

    Memory stays that of one image (a batch of large photos in one ONNX Runtime call takes many
    times more), and GroupNorm statistics are per image either way.

    Example:
        >>> one_at_a_time(lambda t: t * 2, torch.ones(3, 3, 4, 4)).shape
        torch.Size([3, 3, 4, 4])
    """
    return torch.cat([model(photos[i : i + 1]) for i in range(photos.shape[0])])


@torch.no_grad()
def unit_contributions(
    generator: Generator,
    photos: torch.Tensor | None = None,
    calib: torch.Tensor | None = None,
    qparams: dict | None = None,
    all_but: bool = True,
    observer: str = "minmax",
) -> dict[str, dict[str, float]]:
    """Each unit's contribution to the INT8 error, measured by quantizing it alone.

    Args:
        generator: a float :class:`~animegan_edu.models.Generator` (not modified).
        photos: evaluation photos ``(N, 3, H, W)`` in ``[-1, 1]``; default
            :func:`~animegan_edu.samples.sample_photos` at 256 px (the 4 default photos).
        calib: calibration photos, same convention; default ``photos``. Ignored when
            ``qparams`` is given.
        qparams: activation parameters from :func:`~animegan_edu.int8.calib.calibrate`
            (to diagnose one particular calibration).
        all_but: also measure every unit INT8 but this one (``all_but_psnr_db``).
        observer: see :func:`~animegan_edu.int8.calib.calibrate`.

    Returns:
        ``{unit name: {"alone_psnr_db": float, "all_but_psnr_db": float}}`` in the
        generator's order, one entry per unit of :func:`layer_names` (16), plus
        ``"all"``: ``{"alone_psnr_db": PSNR with every unit INT8}``. PSNR in dB against
        the fp32 output (``inf``: identical). To weigh error against time per unit, put it
        beside :func:`animegan_edu.bench.profile.profile_layers` of the float and INT8 models.

    Cost: ``16 * (1 + all_but)`` forward passes over ``photos``, each mostly fp32 (alone)
    or mostly INT8 (all but).

    Example:
        >>> torch.manual_seed(0)
        <torch._C.Generator object at ...>
        >>> c = unit_contributions(Generator().eval(), torch.rand(1, 3, 32, 32) * 2 - 1, all_but=False)
        >>> len(c), list(c)[:2], c["block_a.0"]["alone_psnr_db"] > 20
        (17, ['block_a.0', 'block_a.1'], True)
    """
    gen = generator.float().eval()
    if photos is None:
        photos = sample_photos(256)
    if qparams is None:
        qparams = calibrate(gen, photos if calib is None else calib, observer=observer)
    names = layer_names(gen)
    ref = from_generator_range(one_at_a_time(gen, photos))

    def score(float_layers: Sequence[str]) -> float:
        q = QuantizedGenerator(gen, float_layers)
        q.set_float(gen, qparams)
        out = one_at_a_time(q, photos)
        return psnr(from_generator_range(out), ref)

    result: dict[str, dict[str, float]] = {}
    for n in names:
        entry = {"alone_psnr_db": score([m for m in names if m != n])}
        if all_but:
            entry["all_but_psnr_db"] = score([n])
        result[n] = entry
    result["all"] = {"alone_psnr_db": score([])}
    return result


def format_contributions(contrib: dict[str, dict[str, float]]) -> str:
    """A plain-text table of :func:`unit_contributions`, the unit that loses most first.

    Example:
        >>> print(format_contributions({"block_a.0": {"alone_psnr_db": 40.0, "all_but_psnr_db": 30.0},
        ...                             "all": {"alone_psnr_db": 28.0}}))
        unit        INT8 alone (dB)   all INT8 but it (dB)
        block_a.0              40.0                   30.0
        every unit INT8: 28.0 dB
    """
    rows = [(n, e) for n, e in contrib.items() if n != "all"]
    rows.sort(key=lambda kv: kv[1]["alone_psnr_db"])
    lines = [f"{'unit':<10} {'INT8 alone (dB)':>16} {'all INT8 but it (dB)':>22}"]
    for n, e in rows:
        ab = e.get("all_but_psnr_db")
        lines.append(f"{n:<10} {e['alone_psnr_db']:>16.1f} {'-' if ab is None else f'{ab:.1f}':>22}")
    if "all" in contrib:
        lines.append(f"every unit INT8: {contrib['all']['alone_psnr_db']:.1f} dB")
    return "\n".join(lines)


#: The sets of weights of a ``tools/int8_variants.py`` run (keys of its ``"quality"``), in words.
WEIGHT_SET_LABELS: dict[str, str] = {
    "demo": "demo weights",
    "random_seed0": "random init (seed 0)",
    "parity_fixture": "parity-test weights",
}

#: The quantizer recipes tried by ``tools/int8_variants.py`` (keys of its ``"variants"``), in words.
#: "Decoder" is the decoder's last four units (``block_d.1``, ``block_e.0-2``), kept in float; every
#: recipe from ``exact_gn_held512`` on uses exact GroupNorm statistics and calibrates at 512 px on
#: four held-out photos. A new recipe in the script needs a label here (a test checks the JSON files).
RECIPE_LABELS: dict[str, str] = {
    "before": (
        "first quantizer: PyTorch GroupNorm, histogram ranges, calibrated on the evaluation photos at 256 px"
    ),
    "exact_gn": "exact GroupNorm, otherwise the first quantizer",
    "exact_gn_held512": "exact GroupNorm, calibrated on held-out photos at 512 px",
    "minmax": "min/max ranges",
    "mse": "ranges of least squared error",
    "equalize_minmax": "channel equalisation, min/max ranges",
    "decoder_bf16_hist": "decoder in bf16, histogram ranges",
    "e0_e2_bf16_minmax": "decoder's last three units in bf16, min/max ranges",
    "decoder_bf16_minmax": "default: decoder in bf16, min/max ranges",
    "decoder_fp32_minmax": "default without bf16: decoder in fp32, min/max ranges",
    "decoder_fp32_fbgemm_a7": "decoder in fp32, min/max ranges, FBGEMM engine, 7-bit activations",
    "decoder_fp32_onednn_w8": "decoder in fp32, min/max ranges, oneDNN engine, 8-bit kernel weights",
}


def plain_label(name: str) -> str:
    """The words for a weight-set key or recipe name of ``tools/int8_variants.py``; unknown: ``name``.

    Example:
        >>> plain_label("random_seed0"), plain_label("decoder_bf16_minmax"), plain_label("new_idea")
        ('random init (seed 0)', 'default: decoder in bf16, min/max ranges', 'new_idea')
    """
    return WEIGHT_SET_LABELS.get(name) or RECIPE_LABELS.get(name, name)


def variants_table(res: dict) -> str:
    """Markdown table of a ``tools/int8_variants.py`` result: one row per variant of the quantizer.

    Columns: PSNR against fp32 (dB) for each weight set and evaluation size, the INT8 time as a
    fraction of ONNX Runtime fp32's (same run), the file size. Missing figures show ``-``. Recipes
    and weight sets are named by :func:`plain_label`.

    Example:
        >>> res = {"variants": {"minmax": {"int8_file_bytes": 2225728}},
        ...        "quality": {"demo": {"variants": {"minmax": {"psnr_db_512": 28.84}}}},
        ...        "speed": {"vs_onnxruntime_fp32": {"int8:minmax": 0.347}}}
        >>> print(variants_table(res))
        | recipe | demo weights PSNR 512 | INT8 / ORT fp32 | file MB |
        |---|---|---|---|
        | min/max ranges | 28.8 | 0.35x | 2.23 |
    """
    sets = list(res["quality"])
    sizes = sorted(
        {
            int(k.split("_")[2])
            for w in res["quality"].values()
            for e in w["variants"].values()
            for k in e
            if k.startswith("psnr_db_") and k.count("_") == 2
        }
    )
    head = (
        ["recipe"]
        + [f"{plain_label(w)} PSNR {s}" for w in sets for s in sizes]
        + ["INT8 / ORT fp32", "file MB"]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v, meta in res["variants"].items():
        row = [plain_label(v)]
        for w in sets:
            e = res["quality"][w]["variants"].get(v, {})
            row += [f"{e[f'psnr_db_{s}']:.1f}" if f"psnr_db_{s}" in e else "-" for s in sizes]
        r = res.get("speed", {}).get("vs_onnxruntime_fp32", {}).get(f"int8:{v}")
        size = meta.get("int8_file_bytes")
        row += [f"{r:.2f}x" if r is not None else "-", f"{size / 1e6:.2f}" if size else "-"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
