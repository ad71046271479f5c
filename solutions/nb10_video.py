"""Solutions to notebook 10's exercises."""

import torch

from animegan_edu.teaching import exercises_video as exercises


def masked_error(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    per_pixel = (a - b).abs().mean(0)  # (H, W): mean over R, G, B
    return float(per_pixel[mask].mean())  # only the pixels the flow can follow


def blend(
    stylized: torch.Tensor, warped_prev: torch.Tensor, mask: torch.Tensor, weight: float
) -> torch.Tensor:
    a = weight * mask.float()  # 0 where occluded: keep the new frame there
    return (1 - a) * stylized + a * warped_prev


RESULTS = [exercises.check_masked_error(masked_error), exercises.check_temporal_blend(blend)]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
