"""After `animegan-edu train --config configs/demo.yaml`: bundle the demo weights.

Copies runs/demo/generator.safetensors to weights/demo.safetensors, writes its SHA-256
sidecar, keeps every 10th row of the loss history (weights/demo_history.json), draws the
input | output grid on scikit-image photos (weights/demo_grid.jpg) and prints the
figures the model card quotes (steps, wall time, final losses).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
RUN = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "runs" / "demo"


def main() -> None:
    from animegan_edu.imageio import from_generator_range, pil_to_tensor01, resize_longest, to_generator_range
    from animegan_edu.weights import load_generator
    from animegan_edu.widgets import sample_images

    src = RUN / "generator.safetensors"
    dst = REPO / "weights" / "demo.safetensors"
    shutil.copyfile(src, dst)
    digest = hashlib.sha256(dst.read_bytes()).hexdigest()
    (REPO / "weights" / "demo.safetensors.sha256").write_text(f"{digest}  demo.safetensors\n")

    rows = json.loads((RUN / "history.json").read_text())
    keep = [{k: (round(v, 5) if isinstance(v, float) else v) for k, v in r.items()} for r in rows if r["step"] % 10 == 0 or r is rows[-1]]
    (REPO / "weights" / "demo_history.json").write_text(json.dumps(keep))

    def last_mean(key: str, n: int = 100) -> float:
        vals = [r[key] for r in rows if key in r][-n:]
        return statistics.fmean(vals) if vals else float("nan")

    secs = sum(r.get("seconds", 0.0) for r in rows)
    print(f"sha256 {digest}")
    print(f"size {dst.stat().st_size} bytes; steps {len(rows)}; summed step time {secs / 3600:.2f} h")
    for key in ("init", "guide", "d", "g_adv", "g"):
        print(f"mean of last 100 '{key}': {last_mean(key):.4f}")

    model = load_generator("demo")
    photos = sample_images(("astronaut", "coffee", "chelsea", "rocket"))
    tiles = []
    for name, img in photos.items():
        x = pil_to_tensor01(resize_longest(img, 384))[None]
        with torch.no_grad():
            y = from_generator_range(model(to_generator_range(x)))
        pair = torch.cat([x[0], y[0]], dim=-1)
        tiles.append((pair.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
        print(f"{name}: mean |output - input| = {float((y - x).abs().mean()):.3f} (0..1 scale)")
    width = max(t.shape[1] for t in tiles)
    canvas = np.full((sum(t.shape[0] for t in tiles), width, 3), 255, np.uint8)
    y0 = 0
    for t in tiles:
        canvas[y0 : y0 + t.shape[0], : t.shape[1]] = t
        y0 += t.shape[0]
    Image.fromarray(canvas).save(REPO / "weights" / "demo_grid.jpg", quality=88)
    print("wrote weights/demo.safetensors, .sha256, demo_history.json, demo_grid.jpg")


if __name__ == "__main__":
    main()
