"""Solutions to notebook 05's exercises."""

import torch

from animegan_edu.teaching import exercises_inference as exercises
from animegan_edu.teaching import exercises_projects as projects


def similarity(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    mu_s, mu_d = src.mean(0), dst.mean(0)
    sc, dc = src - mu_s, dst - mu_d
    var_s = (sc**2).sum() / len(src)
    cov = dc.T @ sc / len(src)
    u, sig, vh = torch.linalg.svd(cov)
    d = torch.ones(2, dtype=src.dtype)
    if torch.linalg.det(u) * torch.linalg.det(vh) < 0:  # no reflection
        d[1] = -1
    rot = u @ torch.diag(d) @ vh
    scale = (sig * d).sum() / var_s
    t = mu_d - scale * rot @ mu_s
    return torch.cat([scale * rot, t[:, None]], dim=1)


def invert(m: torch.Tensor) -> torch.Tensor:
    a_inv = torch.linalg.inv(m[:, :2])
    return torch.cat([a_inv, -(a_inv @ m[:, 2:])], dim=1)


def centre_cov(src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    mu_s, mu_d = src.mean(0), dst.mean(0)
    return mu_s, mu_d, (dst - mu_d).T @ (src - mu_s) / len(src)


def rotation(cov: torch.Tensor) -> torch.Tensor:
    u, _, vh = torch.linalg.svd(cov)
    d = torch.ones(2, dtype=cov.dtype)
    if torch.linalg.det(u) * torch.linalg.det(vh) < 0:  # a mirror: flip the last direction
        d[1] = -1
    return u @ torch.diag(d) @ vh


def scale(src: torch.Tensor, cov: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
    spread = ((src - src.mean(0)) ** 2).sum(1).mean()
    return torch.trace(R.T @ cov) / spread  # the singular values, the last one with the mirror's sign


def translation(mu_s: torch.Tensor, mu_d: torch.Tensor, s: float, R: torch.Tensor) -> torch.Tensor:
    return mu_d - s * R @ mu_s


RESULTS = [
    exercises.check_similarity(similarity),
    exercises.check_invert_similarity(invert),
    projects.check_umeyama(centre_cov, rotation, scale, translation),
]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
