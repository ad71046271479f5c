"""Solutions to notebook 00's exercises."""

import torch

from animegan_edu.teaching import exercises_models as exercises


def to_gen(x01: torch.Tensor) -> torch.Tensor:
    return x01 * 2 - 1


def blend(photo: torch.Tensor, stylised: torch.Tensor, s: float) -> torch.Tensor:
    return photo + s * (stylised - photo)


RESULTS = [exercises.check_to_generator_range(to_gen), exercises.check_blend_strength(blend)]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
