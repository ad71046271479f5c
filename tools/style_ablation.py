"""What each loss of the style fine-tune does: the same run with one loss switched off at a time.

    python tools/style_ablation.py [--style Hedgewars] [--steps 60]

From the demo weights, five copies train for the same steps on the same batches (the recipe of
``configs/style_<style>.yaml``, full style and photo sets from ``prepare-styles`` and
``prepare-demo``): all losses, then content, style, colour and the adversarial term switched
off in turn. Each copy is scored on the validation photos at 256 px against the style set
(:mod:`animegan_edu.training.style_eval`). Writes ``weights/ablation/style_ablation.json``
(with the CPU) and ``weights/ablation/style_ablation.png`` (two photos at 384 px, one column per copy),
which notebook 09 shows.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from animegan_edu.machine import cpu_info  # noqa: E402
from animegan_edu.samples import sample_photo01  # noqa: E402
from animegan_edu.training.config import load_config  # noqa: E402
from animegan_edu.training.style_eval import load_style_set, style_scores  # noqa: E402
from animegan_edu.training.train import Trainer  # noqa: E402

VARIANTS = {
    "all": {},
    "no_content": {"content": 0.0},
    "no_style": {"style_weight": 0.0},
    "no_colour": {"colour": 0.0},
    "no_adversarial": {"g_adv": 0.0, "d_adv": 0.0},
}
PHOTOS = ("chelsea", "china")
OUT = Path("weights/ablation")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--style", default="Hedgewars")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    style_set = load_style_set(Path("data/styles") / a.style, a.style)
    photos = [sample_photo01(n, 384)[None] for n in PHOTOS]  # the figure's pictures (scores: 256 px)
    rows, pictures = {}, {}
    for name, over in VARIANTS.items():
        t0 = time.perf_counter()
        cfg = load_config(
            f"style_{a.style.lower()}", out_dir=tempfile.mkdtemp(), adv_steps=a.steps, threads=a.threads,
            sample_every=0, checkpoint_every=0, **over,
        )  # fmt: skip
        trainer = Trainer(cfg)
        trainer.fit(progress=True)
        g = trainer.output_generator.eval()
        with torch.no_grad():
            s = style_scores(g, [style_set], 256)
            pictures[name] = [((g(p * 2 - 1) + 1) / 2).clamp(0, 1)[0] for p in photos]
        rows[name] = {"distance": s.distance[a.style], "edge_corr": s.edge_corr,
                      "output_ab": list(s.output_ab),
                      "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
        print(name, rows[name], flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    record = {"cpu": cpu_info()["model"], "steps": a.steps, "style": a.style, "photos": list(PHOTOS),
              "recipe": f"configs/style_{a.style.lower()}.yaml", "size": 256, "variants": rows}  # fmt: skip
    (OUT / "style_ablation.json").write_text(json.dumps(record, indent=1) + "\n")
    cols = ["photo", *VARIANTS]
    fig, axes = plt.subplots(len(PHOTOS), len(cols), figsize=(4.3 * len(cols), 3.2 * len(PHOTOS)), dpi=110)
    for r, p in enumerate(photos):
        for c, col in enumerate(cols):
            img = p[0] if col == "photo" else pictures[col][r]
            axes[r, c].imshow(img.permute(1, 2, 0).numpy())
            axes[r, c].set_axis_off()
            if r == 0:
                axes[r, c].set_title(col.replace("_", " "), fontsize=11)
    fig.tight_layout()
    fig.savefig(OUT / "style_ablation.png", dpi=110)
    print(f"wrote {OUT / 'style_ablation.json'} and {OUT / 'style_ablation.png'}")


if __name__ == "__main__":
    main()
