"""After the demo run (`animegan-edu train --config demo`): bundle its generator as the demo weights.

    python tools/finish_demo_weights.py [RUN_DIR]      # default runs/demo

1. copies RUN_DIR/generator.safetensors to weights/demo.safetensors (atomically) and writes
   its SHA-256 sidecar (the registry reads the hash from there);
2. keeps every 10th row of the loss history (weights/demo_history.json) and the validation
   curve (weights/demo_val_curve.json);
3. evaluates the new weights at 256, 512 and 1024 px on the validation photos
   (`animegan_edu.training.evaluate`) and writes weights/demo_eval.json with the CPU, the date, the
   steps, pixels seen and wall time of the run;
4. draws the input | target | output grid at 512 px (weights/demo_grid.jpg);
5. prints the Markdown tables the model card and docs/weights.md quote, and whether the shipping
   targets are met (512 px: mean PSNR >= 24 dB, every photo >= input + 3 dB, Lab shift <= 3,
   Laplacian ratio >= 0.7).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RUN = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "runs" / "demo"
W = REPO / "weights"
TARGETS = {"mean_psnr_db": 24.0, "min_margin_db": 3.0, "max_lab_shift": 3.0, "min_laplacian_ratio": 0.7}


def met(summary: dict) -> dict[str, bool]:
    return {
        "mean_psnr_db": summary["mean_psnr_db"] >= TARGETS["mean_psnr_db"],
        "min_margin_db": summary["min_margin_db"] >= TARGETS["min_margin_db"],
        "max_lab_shift": summary["max_lab_shift"] <= TARGETS["max_lab_shift"],
        "min_laplacian_ratio": summary["min_laplacian_ratio"] >= TARGETS["min_laplacian_ratio"],
    }


def pixels_seen(rows: list[dict], cfg) -> float:  # noqa: ANN001
    total = 0
    for r in rows:
        crop, bs = cfg.crop_at(int(r["step"]))
        total += crop * crop * bs
    return float(total)


def main() -> None:
    from animegan_edu.data.dataset import cartoonize
    from animegan_edu.files import atomic_write, write_sidecar
    from animegan_edu.machine import cpu_info
    from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01
    from animegan_edu.training.config import load_config
    from animegan_edu.training.evaluate import evaluate_generator, summarize
    from animegan_edu.weights.hub import get_generator

    src = RUN / "generator.safetensors"
    dst = W / "demo.safetensors"
    atomic_write(dst, lambda tmp: shutil.copyfile(src, tmp))
    digest = write_sidecar(dst)

    rows = json.loads((RUN / "history.json").read_text())
    keep = [
        {k: (round(v, 5) if isinstance(v, float) else v) for k, v in r.items()}
        for r in rows
        if r["step"] % 10 == 0 or r is rows[-1]
    ]
    atomic_write(W / "demo_history.json", lambda tmp: tmp.write_text(json.dumps(keep)))
    if (RUN / "val_curve.json").exists():
        atomic_write(
            W / "demo_val_curve.json", lambda tmp: tmp.write_text((RUN / "val_curve.json").read_text())
        )

    cfg = load_config("demo")
    secs = sum(r.get("seconds", 0.0) for r in rows)
    model, label = get_generator("demo", fallback=None)
    result: dict = {
        "weights": "weights/demo.safetensors",
        "sha256": digest,
        "date": dt.date.today().isoformat(),
        "cpu": cpu_info(),
        "torch": torch.__version__.split("+")[0],
        "steps": len(rows),
        "pixels_seen_g": round(pixels_seen(rows, cfg) / 1e9, 2),
        "train_hours_summed_steps": round(secs / 3600, 2),
        "targets_512": TARGETS,
        "sizes": {},
    }
    for size in (256, 512, 1024):
        scores = evaluate_generator(model, size=size, progress=True)
        result["sizes"][str(size)] = {"summary": summarize(scores), "photos": [vars(s) for s in scores]}
    result["targets_met_512"] = met(result["sizes"]["512"]["summary"])
    atomic_write(W / "demo_eval.json", lambda tmp: tmp.write_text(json.dumps(result, indent=1) + "\n"))

    # input | target | output at 512 px, four validation photos
    tiles = []
    with torch.no_grad():
        for name in list(VALIDATION_PHOTOS)[:4]:
            photo = sample_photo01(name, 512)[None]
            out = ((model(photo * 2 - 1).float() + 1) / 2).clamp(0, 1)
            row = torch.cat([photo[0], cartoonize(photo)[0], out[0]], dim=-1)
            tiles.append((row.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
    width = max(t.shape[1] for t in tiles)
    canvas = np.full((sum(t.shape[0] for t in tiles), width, 3), 255, np.uint8)
    y0 = 0
    for t in tiles:
        canvas[y0 : y0 + t.shape[0], : t.shape[1]] = t
        y0 += t.shape[0]
    atomic_write(
        W / "demo_grid.jpg", lambda tmp: Image.fromarray(canvas).save(tmp, format="JPEG", quality=90)
    )

    print(
        f"{label}\nsha256 {digest}; {len(rows)} steps; {result['pixels_seen_g']} G pixels; "
        f"summed step time {secs / 3600:.2f} h; {result['cpu']['model']}"
    )
    print(
        "| size | mean PSNR vs target | unchanged input | min margin | max Lab shift "
        "| Laplacian ratio (min) | edge corr |"
    )
    print("|---|---|---|---|---|---|---|")
    for size, r in result["sizes"].items():
        s = r["summary"]
        print(
            f"| {size} px | {s['mean_psnr_db']:.2f} dB | {s['mean_input_psnr_db']:.2f} dB "
            f"| {s['min_margin_db']:+.2f} dB | {s['max_lab_shift']:.2f} "
            f"| {s['mean_laplacian_ratio']:.2f} ({s['min_laplacian_ratio']:.2f}) "
            f"| {s['mean_edge_corr']:.2f} |"
        )
    print("targets met at 512 px:", result["targets_met_512"])
    print(
        "wrote weights/demo.safetensors(.sha256), demo_history.json, demo_val_curve.json, "
        "demo_eval.json, demo_grid.jpg"
    )


if __name__ == "__main__":
    main()
