"""Does the adversarial term help? L1-only against L1 + adversarial, at equal steps, on the same crops.

Two copies of one demo-run checkpoint are trained for the same number of steps with the demo
recipe (``configs/demo.yaml``). The only difference: copy A has ``g_adv = 0`` (the paired guide
loss alone; its discriminator still trains, so both runs see identical batches and RNG), copy B
keeps the recipe's adversarial weight. Batches are a pure function of the step, so both copies
see the same crops.

Then both are scored on the validation photos (``animegan_edu.training.evaluate``), and B's
discriminator scores sharp anime (the target), the same anime edge-smoothed, grey anime and
the generator's own output: LSGAN trains it towards 1 for real and 0 for fakes.

    python research/gan_ablation.py --checkpoint runs/demo/checkpoint.pt --steps 300

writes ``weights/ablation/gan_ablation.json`` (figures, settings, cpu_info, wall time) and
``weights/ablation/crops.png`` (target | L1 only | L1 + adversarial, zoomed), which notebook 04
shows. Resumable: each branch checkpoints under ``runs/ablation/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from animegan_edu.data.dataset import cartoonize, edge_smooth  # noqa: E402
from animegan_edu.files import atomic_write  # noqa: E402
from animegan_edu.imageio import save_png_atomic  # noqa: E402
from animegan_edu.machine import cpu_info  # noqa: E402
from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01  # noqa: E402
from animegan_edu.training.config import load_config  # noqa: E402
from animegan_edu.training.evaluate import evaluate_generator, summarize  # noqa: E402
from animegan_edu.training.train import Trainer  # noqa: E402


def branch(name: str, start: Path, steps: int, g_adv: float | None, threads: int) -> Trainer:
    out = ROOT / "runs" / "ablation" / name
    out.mkdir(parents=True, exist_ok=True)
    over = dict(
        out_dir=str(out),
        data_root=str(ROOT / "data" / "demo"),
        threads=threads,
        val_every=0,
        sample_every=0,
        checkpoint_every=50,
    )
    if g_adv is not None:
        over["g_adv"] = g_adv
    cfg = load_config("demo", **over)
    tr = Trainer(cfg)
    if not tr.load_checkpoint(out / "checkpoint.pt"):
        tr.load_checkpoint(start, other_config=True)  # a branch: the demo run's state, another g_adv
        tr.history.rows.clear()
    first = int(torch.load(start, map_location="cpu", weights_only=True)["step"])
    tr.fit(first + steps)
    tr.save_checkpoint()
    return tr


@torch.no_grad()
def d_scores(tr: Trainer, size: int = 256) -> dict[str, dict[str, float]]:
    """Mean and std of the discriminator's patch scores on each kind of picture (val photos)."""
    d, g = tr.discriminator.eval(), tr.generator.eval()
    kinds: dict[str, list[torch.Tensor]] = {
        "sharp anime (target)": [],
        "edge-smoothed anime": [],
        "grey anime": [],
        "generator output": [],
    }
    for name in VALIDATION_PHOTOS:
        photo = sample_photo01(name, size)[None]
        target = cartoonize(photo)
        grey = target.mean(1, keepdim=True).expand_as(target)
        fake = ((g(photo * 2 - 1).float() + 1) / 2).clamp(0, 1)
        for k, x in zip(kinds, (target, edge_smooth(target), grey, fake)):
            kinds[k].append(d(x * 2 - 1).float().flatten())
    return {
        k: {"mean": float(torch.cat(v).mean()), "std": float(torch.cat(v).std())} for k, v in kinds.items()
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=str(ROOT / "runs/demo/checkpoint.pt"))
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "weights/ablation"))
    args = ap.parse_args()
    start = Path(args.checkpoint)
    first = int(torch.load(start, map_location="cpu", weights_only=True)["step"])
    t0 = time.perf_counter()
    a = branch(f"l1_only_from_{first}", start, args.steps, 0.0, args.threads)
    b = branch(f"l1_adv_from_{first}", start, args.steps, None, args.threads)
    wall = time.perf_counter() - t0
    res: dict = {
        "what": "same checkpoint, same crops, same steps; A: paired guide loss only (g_adv=0); "
        "B: guide + the recipe's adversarial term",
        "start_step": first,
        "steps": args.steps,
        "g_adv_B": b.cfg.g_adv,
        "crop_batch": list(b.cfg.crop_at(first)),
        "date": dt.date.today().isoformat(),
        "cpu": cpu_info(),
        "wall_s_both": round(wall, 1),
        "branches": {},
    }
    from animegan_edu.models import Generator

    g0 = Generator()
    g0.load_state_dict(torch.load(start, map_location="cpu", weights_only=True)["generator"])
    res["branches"]["start"] = {str(s): summarize(evaluate_generator(g0, size=s)) for s in (256, 512)}
    for label, tr in (("L1 only", a), ("L1 + adversarial", b)):
        res.setdefault("history", {})[label] = [
            {k: round(float(v), 5) for k, v in r.items()} for r in tr.history.rows
        ]
        row = {}
        for size in (256, 512):
            row[str(size)] = summarize(evaluate_generator(tr.generator, size=size))
        res["branches"][label] = row
    res["d_scores_B"] = d_scores(b)
    res["d_scores_A"] = d_scores(a)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "gan_ablation.json", lambda tmp: tmp.write_text(json.dumps(res, indent=1) + "\n"))
    # zoomed crops: target | A | B on two validation photos, 512 px, centre 192 px
    tiles = []
    with torch.no_grad():
        for name in list(VALIDATION_PHOTOS)[:3]:
            photo = sample_photo01(name, 512)[None]
            h, w = photo.shape[-2:]
            ys, xs = (h - 192) // 2, (w - 192) // 2
            crop = slice(ys, ys + 192), slice(xs, xs + 192)
            outs = [cartoonize(photo)] + [
                ((t.generator.eval()(photo * 2 - 1).float() + 1) / 2).clamp(0, 1) for t in (a, b)
            ]
            tiles.append(torch.cat([o[0][:, crop[0], crop[1]] for o in [photo] + outs], dim=2))
    grid = torch.nn.functional.interpolate(torch.cat(tiles, dim=1)[None], scale_factor=2, mode="nearest")[0]
    save_png_atomic(grid, out / "crops.png")
    print(json.dumps(res["branches"], indent=1))
    print(json.dumps(res["d_scores_B"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
