"""Solutions to notebook 09's exercises."""

import torch

from animegan_edu.teaching import exercises_gan as exercises


def d_step(D, d_opt, real, fake):  # noqa: ANN001, ANN201 - the notebook's signature
    loss = (D(real) - 1).pow(2).mean() + D(fake.detach()).pow(2).mean()  # real -> 1, fake -> 0
    d_opt.zero_grad()
    loss.backward()
    d_opt.step()
    return loss.item()


def g_step(G, D, g_opt, x):  # noqa: ANN001, ANN201
    loss = (D(G(x)) - 1).pow(2).mean()  # the generator wants "real"
    g_opt.zero_grad()
    loss.backward()
    g_opt.step()  # only the generator's weights move
    return loss.item()


def frechet_1d(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.mean() - b.mean()) ** 2 + (a.std() - b.std()) ** 2)


def saturation(image: torch.Tensor) -> float:
    hi, lo = image.amax(0), image.amin(0)
    return float(torch.where(hi > 0, (hi - lo) / hi.clamp_min(1e-12), 0.0).mean())


RESULTS = [
    exercises.check_lsgan_steps(d_step, g_step),
    exercises.check_frechet_1d(frechet_1d),
    exercises.check_saturation(saturation),
]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
