"""Score a multi-style run (animegan-edu train-styles) the way the style issue's acceptance reads.

    python tools/evaluate_multistyle.py runs/multistyle [--size 512] [--checkpoint]

For each named style: the style distance of its outputs on the 8 validation photos to every
set (the confusion table); for each pair of styles, the mix at 0.5 against the two pure
styles, read three ways: its distance to each of the two sets lies between the pure styles'
(``between_on_both_sets``), and its outputs' patch statistics are nearer each pure style's
than those are to each other (``between_in_output_space``), and its lean (distance to the
first set minus distance to the second) lies between the pure styles' leans
(``between_in_lean``); and the reference path: the
code the encoder gives for each set's held-out pictures (never trained on), its weights over
the named styles, how many of the pictures it reads as their own set one at a time, and the
distance of its outputs to every set. ``--checkpoint`` scores
``checkpoint.pt`` (the EMA generator, before the encoder is fitted: the reference path is
then skipped), otherwise ``multistyle.safetensors``. The teachers of the config are scored
the same way, for comparison. Writes ``<run>/evaluation.json`` (with the SHA-256 of the file scored).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import torch

from animegan_edu.conditioned import StyleView
from animegan_edu.data.dataset import read_image
from animegan_edu.files import sha256_file
from animegan_edu.machine import cpu_info
from animegan_edu.metrics import patch_features, style_distance
from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01
from animegan_edu.training.multistyle import (
    checkpoint_generator,
    load_multistyle_config,
    reference_stats,
    split_set,
)
from animegan_edu.training.style_eval import confusion_table, load_style_sets, style_scores
from animegan_edu.weights.conditioned import load_conditioned
from animegan_edu.weights.hub import get_generator


def _outputs(model: torch.nn.Module, size: int) -> np.ndarray:
    """Patch statistics of ``model``'s outputs on the validation photos at ``size`` px."""
    outs = [((model(sample_photo01(n, size)[None] * 2 - 1) + 1) / 2).clamp(0, 1) for n in VALIDATION_PHOTOS]
    return patch_features(outs)


def _teachers(cfg, sets, size: int) -> dict:
    """The style distances of each set's teacher (``cfg.teachers``), for comparison with its code."""
    out = {}
    with torch.no_grad():
        for name, weights in cfg.teachers.items():
            teacher, _ = get_generator(weights, fallback=None, progress=False)
            s = style_scores(teacher, sets, size)
            out[name] = {"weights": weights, "distance": s.distance, "edge_corr": s.edge_corr,
                         "nearest": s.nearest()}  # fmt: skip
            print("teacher", name, weights, {t: round(d, 2) for t, d in s.distance.items()})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--checkpoint", action="store_true")
    ap.add_argument("--config", default="configs/multistyle.yaml")
    a = ap.parse_args()
    cfg = load_multistyle_config(a.config)
    names = list(cfg.styles)
    if a.checkpoint:
        model, step = checkpoint_generator(dataclasses.replace(cfg, out_dir=a.run))
    else:
        model, step = load_conditioned(Path(a.run) / "multistyle.safetensors"), None
    model.eval()
    sets = load_style_sets(cfg.data_root, names)
    with torch.no_grad():
        scores = {n: style_scores(StyleView(model, n), sets, a.size) for n in names}
        outputs = {n: _outputs(StyleView(model, n), a.size) for n in names}
        mixes = {}
        for x, y in itertools.combinations(names, 2):
            view = StyleView(model, model.mix({x: 0.5, y: 0.5}))
            s = style_scores(view, sets, a.size)
            between = all(
                min(scores[x].distance[t], scores[y].distance[t]) - 1e-9
                <= s.distance[t]
                <= max(scores[x].distance[t], scores[y].distance[t]) + 1e-9
                for t in (x, y)
            )
            # between in the outputs' own style space: nearer each pure style than they are to each other
            mix_feats, apart = _outputs(view, a.size), style_distance(outputs[x], outputs[y])
            to_x, to_y = style_distance(mix_feats, outputs[x]), style_distance(mix_feats, outputs[y])
            # between in preference: how much nearer set x than set y, against the pure styles'
            lean = {n: v.distance[x] - v.distance[y] for n, v in ((x, scores[x]), (y, scores[y]), ("mix", s))}
            mixes[f"{x}+{y}"] = {
                "distance": s.distance, "between_on_both_sets": between,
                "to_pure": {x: to_x, y: to_y}, "pure_apart": apart,
                "between_in_output_space": bool(to_x < apart and to_y < apart),
                "lean": lean, "between_in_lean": bool(lean[x] < lean["mix"] < lean[y]),
            }  # fmt: skip
        refs = {}
        if not a.checkpoint:
            for n in names:
                _, held = split_set(Path(cfg.data_root) / n, cfg.held_out_every)
                stats = reference_stats([read_image(f) for f in held])
                s = style_scores(StyleView(model, model.reference_code(stats)), sets, a.size)
                alone = [model.reference_weights(stats[i : i + 1]) for i in range(len(stats))]
                refs[n] = {
                    "held_out": len(held), "weights": model.reference_weights(stats),
                    "pictures_read_as_own": sum(max(w, key=w.__getitem__) == n for w in alone),
                    "distance": s.distance, "nearest": s.nearest(),
                }  # fmt: skip
    table = confusion_table({f"style {n}": s for n, s in scores.items()})
    print(f"step {step}; {a.size} px\n{table}")
    for k, v in mixes.items():
        print(
            "mix 0.5",
            k,
            {t: round(d, 2) for t, d in v["distance"].items()},
            "between (set distances):",
            v["between_on_both_sets"],
            "between (output space):",
            v["between_in_output_space"],
            "between (lean):",
            v["between_in_lean"],
        )
    for k, v in refs.items():
        print(
            "reference path", k, {t: round(d, 2) for t, d in v["distance"].items()}, "nearest:", v["nearest"],
            f"weights {({t: round(w, 2) for t, w in v['weights'].items()})},",
            f"{v['pictures_read_as_own']}/{v['held_out']} pictures read as {k} alone",
        )
    scored = None if a.checkpoint else sha256_file(Path(a.run) / "multistyle.safetensors")
    out = {
        "cpu": cpu_info(), "step": step, "size": a.size, "weights_sha256": scored,
        "styles": {n: {"distance": s.distance, "edge_corr": s.edge_corr, "output_ab": s.output_ab,
                       "nearest": s.nearest()} for n, s in scores.items()},
        "mixes": mixes, "reference_path": refs, "table": table, "teachers": _teachers(cfg, sets, a.size),
    }  # fmt: skip
    Path(a.run, "evaluation.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
