"""Time one generator training step (Adam, L1) in fp32 and with bf16 autocast + channels-last.

The README's "faster training step" figures come from this script:

    python tools/bench_train_step.py [--threads 2] [--json benchmarks/train_step.json]

Each configuration runs 1 warm-up step and then `--repeat` timed steps on random input; the
median is reported with the pixel throughput and the CPU (`cpu_info()`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from animegan_edu.machine import cpu_info, has_native_bf16
from animegan_edu.models import Generator


def step_time(crop: int, batch: int, bf16: bool, repeat: int) -> float:
    torch.manual_seed(0)
    fmt = torch.channels_last if bf16 else torch.contiguous_format
    g = Generator().to(memory_format=fmt)
    opt = torch.optim.Adam(g.parameters(), 1e-3)
    x = (torch.rand(batch, 3, crop, crop) * 2 - 1).contiguous(memory_format=fmt)
    times = []
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            y = g(x).float()
        loss = (y - x).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for crop, batch in ((128, 8), (256, 2)):
        for bf16 in (False, True) if has_native_bf16() else (False,):
            s = step_time(crop, batch, bf16, args.repeat)
            rows.append(
                {
                    "crop": crop,
                    "batch": batch,
                    "precision": "bf16 autocast + channels-last" if bf16 else "fp32",
                    "seconds_per_step": round(s, 3),
                    "kpix_per_s": round(batch * crop * crop / s / 1e3, 1),
                }
            )
            print(
                f"crop {crop} batch {batch} {rows[-1]['precision']:<32} {s:.3f} s/step  "
                f"{rows[-1]['kpix_per_s']:.0f} kpix/s",
                flush=True,
            )
    report = {"cpu": cpu_info(), "threads": args.threads, "torch": torch.__version__, "rows": rows}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
