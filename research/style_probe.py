"""One fine-tune probe towards a style set: train a few hundred steps, then score the result.

Usage (from the repository root, after ``animegan-edu data prepare-demo`` and
``animegan-edu data prepare-styles``)::

    python research/style_probe.py OUT_DIR --style Wesnoth --steps 300 [--set key=value ...]

``--set`` overrides any :class:`~animegan_edu.training.config.TrainConfig` field of
``configs/finetune.yaml`` (or ``--config NAME``; values are YAML). Prints and writes
``OUT_DIR/probe.json``: the style distance of the outputs to every set, the edge correlation and
the colour check, at ``--size`` px on the validation photos, with the demo weights' figures
beside them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import yaml

from animegan_edu.data.styles import style_set_names
from animegan_edu.machine import cpu_info
from animegan_edu.training.config import load_config
from animegan_edu.training.style_eval import load_style_sets, style_scores
from animegan_edu.training.train import check_out_dir, train


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--style", default="Wesnoth")
    ap.add_argument("--config", default="finetune", help="the recipe the --set values override")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--styles-root", default="data/styles")
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args()
    over = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in a.set)}
    cfg = load_config(
        a.config, style=a.style, out_dir=a.out, adv_steps=a.steps, data_root=a.styles_root, **over
    )
    check_out_dir(a.out)
    t0 = time.perf_counter()
    trainer = train(cfg)
    seconds = time.perf_counter() - t0
    sets = load_style_sets(a.styles_root, style_set_names())
    with torch.no_grad():
        ours = style_scores(trainer.output_generator, sets, a.size)
        trainer_demo = load_config("finetune", style=a.style, data_root=a.styles_root)
        from animegan_edu.weights.hub import get_generator

        demo, _ = get_generator(trainer_demo.init_weights or "demo", fallback=None, progress=False)
        base = style_scores(demo, sets, a.size)
    res = {
        "style": a.style, "steps": a.steps, "overrides": over, "seconds": seconds, "cpu": cpu_info(),
        "size": a.size, "distance": ours.distance, "demo_distance": base.distance,
        "edge_corr": ours.edge_corr, "demo_edge_corr": base.edge_corr,
        "output_ab": ours.output_ab, "photo_ab": ours.photo_ab, "set_ab": ours.set_ab,
        "cast_ok": ours.cast_ok(a.style),
        "gain": 1 - ours.distance[a.style] / base.distance[a.style],
    }  # fmt: skip
    Path(a.out, "probe.json").write_text(json.dumps(res, indent=1))
    print(json.dumps({k: res[k] for k in ("distance", "demo_distance", "edge_corr", "cast_ok", "gain")}))


if __name__ == "__main__":
    main()
