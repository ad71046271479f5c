"""Two short probes of the v2 demo weights: why they miss the 512-px targets (weights/MODEL_CARD.md).

    python research/demo_probes.py finetune [--minutes 8] [--out /tmp/probe.json]
    python research/demo_probes.py overfit  [--photo china] [--minutes 12] [--out /tmp/probe.json]

``finetune``: continue from ``weights/demo.safetensors`` on the demo set (``data/demo``, from
``animegan-edu data prepare-demo``) with the paired guide losses of ``configs/demo.yaml`` only
(no adversarial term), 256-px crops, batch 4, lr 1e-4; every 4 minutes, score the raw weights
and an exponential moving average of them (decay 0.995) at 512 px on four validation photos.
Asks: does more pixel-loss training raise PSNR without losing detail?

``overfit``: train the same weights on ONE validation photo's target only (MSE, full photo at
512 px, lr 2e-4, bf16 autocast where the CPU has it, 1 thread). Asks: can the generator reach
"input + 3 dB" on that photo at all, even by memorising it? (Never done for shipped weights:
validation photos are not trained on.)

Both print JSON lines (step, seconds, figures of :func:`animegan_edu.training.evaluate.summarize` or
:func:`animegan_edu.training.evaluate.image_metrics`) and write them to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from animegan_edu.data.dataset import cartoonize
from animegan_edu.machine import cpu_info, has_native_bf16
from animegan_edu.samples import sample_photo01
from animegan_edu.training.config import load_config
from animegan_edu.training.evaluate import evaluate_generator, image_metrics, summarize
from animegan_edu.training.train import Trainer
from animegan_edu.weights.hub import load_generator

FINETUNE_PHOTOS = ("china", "stereo_motorcycle", "astronaut", "chelsea")


def _score(state: dict[str, torch.Tensor]) -> dict[str, float]:
    g = load_generator("demo", progress=False)
    g.load_state_dict(state)
    return {k: round(v, 3) for k, v in summarize(evaluate_generator(g, 512, names=FINETUNE_PHOTOS)).items()}


def finetune(minutes: float, emit) -> None:  # type: ignore[no-untyped-def]
    cfg = load_config(
        "configs/demo.yaml", out_dir="/tmp/demo_probe_finetune", init_steps=0, adv_steps=10**6,
        warmup_steps=50,
        g_lr=1e-4, lr_decay_to=1.0, g_adv=0.0, d_adv=0.0, crop_schedule=None, crop=256, batch_size=4,
        val_every=0, sample_every=0, checkpoint_every=0,
    )  # fmt: skip
    tr = Trainer(cfg)
    tr.generator.load_state_dict(load_generator("demo", progress=False).state_dict())
    ema = {k: v.detach().clone().float() for k, v in tr.generator.state_dict().items()}
    emit({"step": 0, "raw": _score(tr.generator.state_dict())})
    t0 = last = time.time()
    while time.time() - t0 < minutes * 60:
        tr.train_step()
        tr.step += 1
        with torch.no_grad():
            for k, v in tr.generator.state_dict().items():
                ema[k].mul_(0.995).add_(v.float(), alpha=0.005)
        if time.time() - last > 240:
            last = time.time()
            emit(
                {
                    "step": tr.step,
                    "seconds": round(last - t0),
                    "raw": _score(tr.generator.state_dict()),
                    "ema": _score(ema),
                }
            )
    emit(
        {
            "step": tr.step,
            "seconds": round(time.time() - t0),
            "raw": _score(tr.generator.state_dict()),
            "ema": _score(ema),
        }
    )


def overfit(photo: str, minutes: float, emit) -> None:  # type: ignore[no-untyped-def]
    torch.set_num_threads(1)
    g = load_generator("demo", progress=False).train()
    p = sample_photo01(photo, 512)[None]
    t = cartoonize(p)
    opt = torch.optim.Adam(g.parameters(), lr=2e-4)
    bf16 = has_native_bf16()

    def score() -> dict[str, float]:
        g.eval()
        with torch.no_grad():
            o = ((g(p * 2 - 1) + 1) / 2).clamp(0, 1)
        g.train()
        return {k: round(v, 3) for k, v in image_metrics(o, t, p).items()}

    emit({"step": 0, photo: score()})
    t0 = last = time.time()
    step = 0
    while time.time() - t0 < minutes * 60:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            o = g(p * 2 - 1).float()
        loss = ((o - (t * 2 - 1)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if time.time() - last > 120:
            last = time.time()
            emit({"step": step, "seconds": round(last - t0), photo: score()})
    emit({"step": step, "seconds": round(time.time() - t0), photo: score()})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("probe", choices=("finetune", "overfit"))
    ap.add_argument("--minutes", type=float, default=None)
    ap.add_argument("--photo", default="china")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows: list[dict] = []

    def emit(row: dict) -> None:
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.out:
            args.out.write_text(
                json.dumps({"probe": args.probe, "machine": cpu_info(), "rows": rows}, indent=1)
            )

    if args.probe == "finetune":
        finetune(args.minutes or 8.0, emit)
    else:
        overfit(args.photo, args.minutes or 12.0, emit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
