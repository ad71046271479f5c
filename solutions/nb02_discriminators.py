"""Solutions to notebook 02's exercises."""

import torch

from animegan_edu.teaching import exercises_models as exercises
from animegan_edu.teaching import exercises_projects as projects


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


def power_step(W: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    v = W.T @ u
    v = v / v.norm()
    u = W @ v
    return u / u.norm(), v


def estimate_sigma(W: torch.Tensor, u0: torch.Tensor, k: int) -> float:
    u = u0
    for _ in range(k):
        u, v = power_step(W, u)
    return float(u @ W @ v)


def spectral_normalise(W: torch.Tensor, u0: torch.Tensor, k: int) -> torch.Tensor:
    return W / estimate_sigma(W, u0, k)


RESULTS = [
    exercises.check_receptive_field(rf),
    exercises.check_patch_grid(grid),
    exercises.check_spectral_sigma(sigma_max),
    projects.check_power_iteration(power_step, estimate_sigma, spectral_normalise),
]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
