"""Solutions to notebook 07's exercises."""

import math

import torch

from animegan_edu.teaching import exercises_int8 as exercises


def qparams(x_min: float, x_max: float) -> tuple[float, int]:
    lo, hi = min(x_min, 0.0), max(x_max, 0.0)  # 0 must be representable exactly
    scale = (hi - lo) / 255
    return scale, int(min(255, max(0, round(-lo / scale))))


def fake_quant(x: torch.Tensor, scale: float, zero_point: int) -> torch.Tensor:
    q = (torch.round(x / scale) + zero_point).clamp(0, 255)
    return (q - zero_point) * scale


def my_psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float((a - b).pow(2).mean())
    return 10 * math.log10(1.0 / mse)


RESULTS = [
    exercises.check_qparams(qparams),
    exercises.check_fake_quantize(fake_quant),
    exercises.check_psnr(my_psnr),
]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
