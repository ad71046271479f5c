"""Solutions to notebook 05's exercises."""

import torch

from animegan_edu.teaching import exercises_inference as exercises


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


RESULTS = [exercises.check_similarity(similarity), exercises.check_invert_similarity(invert)]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
