"""Why the first demo weights (v1, 4,200 CPU steps) smeared every photo: the evidence.

Writes the figures and figures' numbers that weights/MODEL_CARD.md shows, into
weights/diagnosis/. The v1 weights are read from git history (commit ee1ad02, the
last commit that shipped them), so this runs after the file was replaced:

    python research/diagnose_demo_v1.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import kornia
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from animegan_edu.data.dataset import cartoonize  # noqa: E402
from animegan_edu.machine import cpu_info  # noqa: E402
from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01  # noqa: E402
from animegan_edu.training.evaluate import evaluate_generator, summarize  # noqa: E402
from animegan_edu.weights.hub import load_generator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "weights" / "diagnosis"
V1_COMMIT = "ee1ad02"


def v1_file(tmp: Path) -> Path:
    path = tmp / "demo_v1.safetensors"
    blob = subprocess.run(
        ["git", "show", f"{V1_COMMIT}:weights/demo.safetensors"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    path.write_bytes(blob)
    return path


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        g = load_generator(v1_file(Path(tmp)))
    report: dict = {"cpu": cpu_info(), "weights": f"weights/demo.safetensors at commit {V1_COMMIT}"}

    # 1. the same failure at every size: not a resolution problem
    sizes = (128, 256, 512)
    by_size = {s: evaluate_generator(g, s) for s in sizes}
    report["by_size"] = {
        s: {"summary": summarize(v), "photos": [vars(x) for x in v]} for s, v in by_size.items()
    }

    # 2. the mean colour of input, target and output per photo (a*b*)
    ab_in, ab_out, ab_tgt = [], [], []
    with torch.no_grad():
        for name in VALIDATION_PHOTOS:
            x = sample_photo01(name, 256)[None]
            y = ((g(x * 2 - 1) + 1) / 2).clamp(0, 1)
            for store, img in ((ab_in, x), (ab_out, y), (ab_tgt, cartoonize(x))):
                store.append(kornia.color.rgb_to_lab(img).mean(dim=(-2, -1))[0, 1:].tolist())
    spread = lambda pts: float(torch.tensor(pts).std(dim=0).norm())  # noqa: E731
    report["ab_spread"] = {"input": spread(ab_in), "target": spread(ab_tgt), "v1_output": spread(ab_out)}

    fig, ax = plt.subplots(figsize=(6.5, 5.5), dpi=110)
    for pts, label, m in (
        (ab_in, "input photo", "o"),
        (ab_tgt, "target (cartoonize)", "s"),
        (ab_out, "v1 output", "x"),
    ):
        t = torch.tensor(pts)
        ax.scatter(t[:, 0], t[:, 1], label=label, marker=m, s=60)
    for name, p in zip(VALIDATION_PHOTOS, ab_in):
        ax.annotate(name, p, fontsize=8, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("mean a* (green - / red +)")
    ax.set_ylabel("mean b* (blue - / yellow +)")
    ax.set_title("Mean colour of each validation photo (256 px)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(OUT / "v1_mean_colour.png")
    plt.close(fig)

    # 3. the run: guide loss vs pixels seen, and the discriminator winning
    hist = (
        json.loads((ROOT / "weights" / "demo_history.json").read_text())
        if (ROOT / "weights" / "demo_history.json").exists()
        else []
    )
    hist = hist or json.loads(
        subprocess.run(
            ["git", "show", f"{V1_COMMIT}:weights/demo_history.json"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
    )
    adv = [r for r in hist if r.get("phase") == 1.0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    steps = [r["step"] for r in adv]
    axes[0].plot(steps, [r["guide"] for r in adv])
    axes[0].set_xlabel("step (every 10th logged)")
    axes[0].set_ylabel("guide L1 ([-1, 1] units)")
    axes[0].set_title("v1: paired L1 towards the target")
    axes[1].plot(steps, [r["d"] for r in adv], label="discriminator loss")
    axes[1].plot(steps, [r["g_adv"] for r in adv], label="generator adversarial loss")
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("LSGAN loss")
    axes[1].set_title("v1: the discriminator wins (D -> 0, G -> 1)")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(OUT / "v1_history.png")
    plt.close(fig)
    last = adv[-20:]
    report["v1_last_200_steps"] = {k: sum(r[k] for r in last) / len(last) for k in ("guide", "d", "g_adv")}
    report["v1_pixels_seen"] = 500 * 8 * 64**2 + 3200 * 8 * 64**2 + 500 * 4 * 128**2

    (OUT / "v1_diagnosis.json").write_text(json.dumps(report, indent=1, default=str))
    for s in sizes:
        m = report["by_size"][s]["summary"]
        print(
            f"{s:>4} px: mean {m['mean_psnr_db']:.2f} dB vs input {m['mean_input_psnr_db']:.2f}; "
            f"Laplacian ratio {m['mean_laplacian_ratio']:.2f}"
        )
    print(
        "a*b* spread (std of the mean colour over photos):",
        {k: round(v, 2) for k, v in report["ab_spread"].items()},
    )
    print("last 200 steps:", {k: round(v, 3) for k, v in report["v1_last_200_steps"].items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
