"""Solutions to notebook 02's exercises."""

import torch

from animegan_edu.teaching import exercises_models as exercises


def rf(kernels: list[int], strides: list[int]) -> int:
    r, jump = 1, 1
    for k, s in zip(kernels, strides):
        r += (k - 1) * jump
        jump *= s
    return r


def grid(size: int) -> int:
    for _ in range(3):  # three stride-2 3x3 convs with padding 1
        size = (size + 2 - 3) // 2 + 1
    return size


def sigma_max(w: torch.Tensor, iters: int = 100) -> float:
    v = torch.ones(w.shape[1], dtype=w.dtype)
    for _ in range(iters):
        u = w @ v
        u = u / u.norm()
        v = w.T @ u
        v = v / v.norm()
    return float(u @ (w @ v))


RESULTS = [
    exercises.check_receptive_field(rf),
    exercises.check_patch_grid(grid),
    exercises.check_spectral_sigma(sigma_max),
]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
