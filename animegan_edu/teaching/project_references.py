"""The references the multi-step exercises (:mod:`~animegan_edu.teaching.exercises_projects`) compare with.

Helpers that check one piece, inputs drawn from a ``torch.Generator`` and reference computations:
the library block with random weights, matrices with a clear largest singular value, blocky
images, the tiny networks of the generator step, point sets for Umeyama's transform, and the
pieces of that transform.

Example:
    >>> from animegan_edu.teaching.checking import seeded
    >>> w, top = gapped_matrix(seeded(0))
    >>> abs(float(torch.linalg.matrix_norm(w, ord=2)) - top) < 1e-9
    True
"""

from __future__ import annotations

import math
from typing import Any, Callable

import kornia
import torch
from torch import nn

from animegan_edu.models import InvertedResBlock
from animegan_edu.teaching.checking import (
    Wrong,
    answer_number,
    answer_tensor,
    call_answer,
    randint,
    require_close,
    uniform,
)
from animegan_edu.training.losses import (
    LossWeights,
    colour_loss,
    content_loss,
    lsgan_g_loss,
    style_loss,
    total_variation_loss,
)

__all__ = [
    "centre_cov_piece",
    "composite_piece",
    "edge_band_piece",
    "rotation_piece",
    "scale_piece",
    "translation_piece",
    "BLOCK_STUB",
    "TERM_HINTS",
    "answer_tuple",
    "as_mask",
    "build_block",
    "power_step_piece",
    "copy_weights",
    "G_TERMS",
    "blocky_image",
    "edge_band_reference",
    "flat_parameters",
    "gapped_matrix",
    "junk_grads",
    "library_block",
    "library_generator_step",
    "point_sets",
    "power_steps",
    "tiny_networks",
    "umeyama_pieces",
    "umeyama_rotation",
]


def library_block(gen: torch.Generator, i: int, o: int, ratio: int) -> nn.Module:
    """The library's ``InvertedResBlock(i, o, ratio)`` with random weights drawn from ``gen``."""
    lib = InvertedResBlock(i, o, ratio).eval()
    with torch.no_grad():
        for p in lib.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=gen))
    return lib


def gapped_matrix(gen: torch.Generator) -> tuple[torch.Tensor, float]:
    """A random ``(m, n)`` matrix whose largest singular value (returned) is at least twice the next."""
    m, n = randint(gen, 4, 12), randint(gen, 4, 12)
    k = min(m, n)
    q1 = torch.linalg.qr(torch.randn(m, k, generator=gen, dtype=torch.float64))[0]
    q2 = torch.linalg.qr(torch.randn(n, k, generator=gen, dtype=torch.float64))[0]
    top = uniform(gen, 1.5, 5.0)
    s = torch.tensor([top] + [uniform(gen, 0.05, 0.5 * top) for _ in range(k - 1)], dtype=torch.float64)
    return q1 @ torch.diag(s) @ q2.T, top


def power_steps(w: torch.Tensor, u: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    v = torch.zeros(w.shape[1], dtype=w.dtype)
    for _ in range(k):
        v = w.T @ u
        v = v / v.norm()
        u = w @ v
        u = u / u.norm()
    return u, v


def blocky_image(gen: torch.Generator) -> torch.Tensor:
    """``(1, 3, H, W)`` in [0, 1]: flat coloured blocks, so that the edges are the block borders."""
    small = torch.rand(1, 3, randint(gen, 3, 6), randint(gen, 3, 6), generator=gen)
    size = (randint(gen, 24, 40), randint(gen, 24, 40))
    return nn.functional.interpolate(small, size=size, mode="nearest")


def edge_band_reference(
    image: torch.Tensor, low: float, high: float, dilate: int
) -> tuple[torch.Tensor, torch.Tensor]:
    _, edges = kornia.filters.canny(kornia.color.rgb_to_grayscale(image), low, high)
    band = kornia.morphology.dilation(edges, torch.ones(dilate, dilate)) > 0.5
    return band, edges > 0.5


G_TERMS = ("g_adv", "content", "style", "colour", "tv")


def library_generator_step(
    G: nn.Module,
    D: nn.Module,
    feat: nn.Module,
    g_opt: torch.optim.Optimizer,
    photo: torch.Tensor,
    style_gray: torch.Tensor,
    w: LossWeights,
    zero_grad: bool = True,
) -> dict[str, float]:
    """One generator step with the library's losses; the five terms and their weighted ``total``.

    ``photo`` and ``style_gray`` are ``(N, 3, H, W)`` in [-1, 1]; ``feat`` maps images to features.
    """
    fake = G(photo)
    f_fake = feat(fake)
    terms = {
        "g_adv": lsgan_g_loss(D(fake)),
        "content": content_loss(f_fake, feat(photo)),
        "style": style_loss(f_fake, feat(style_gray)),
        "colour": colour_loss(fake, photo),
        "tv": total_variation_loss(fake),
    }
    total = sum(getattr(w, k) * v for k, v in terms.items())
    if zero_grad:
        g_opt.zero_grad()
    total.backward()
    g_opt.step()
    return {**{k: v.item() for k, v in terms.items()}, "total": total.item()}


def tiny_networks(gen: torch.Generator) -> tuple[nn.Module, ...]:
    G = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 3, padding=1))
    feat = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 8, 3, 2, 1))
    with torch.no_grad():
        for p in [*G.parameters(), *D.parameters(), *feat.parameters()]:
            p.copy_(0.4 * torch.randn(p.shape, generator=gen))
    feat.requires_grad_(False)
    return G, D, feat


def flat_parameters(net: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in net.parameters()]).clone()


def junk_grads(G: nn.Module, gen: torch.Generator) -> None:
    for p in G.parameters():
        p.grad = torch.randn(p.shape, generator=gen)


def point_sets(gen: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Two (src, dst) pairs of ``(K, 2)`` float64 points: a noisy similarity, and a mirrored copy."""
    k = randint(gen, 4, 12)
    src = torch.randn(k, 2, generator=gen, dtype=torch.float64) * uniform(gen, 0.5, 3.0)
    a = uniform(gen, -3.0, 3.0)
    rot = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)
    shift = torch.randn(2, generator=gen, dtype=torch.float64) * 5

    def noise() -> torch.Tensor:
        return 0.05 * torch.randn(k, 2, generator=gen, dtype=torch.float64)

    dst = uniform(gen, 0.5, 2.0) * src @ rot.T + shift + noise()
    mirror = src * torch.tensor([1.0, -1.0], dtype=torch.float64) + shift
    return [(src, dst), (src, mirror + noise())]


def umeyama_pieces(src: torch.Tensor, dst: torch.Tensor) -> dict[str, torch.Tensor]:
    mu_s, mu_d = src.mean(0), dst.mean(0)
    cov = (dst - mu_d).T @ (src - mu_s) / len(src)
    rot = umeyama_rotation(cov)
    scale = torch.trace(rot.T @ cov) / ((src - mu_s) ** 2).sum(1).mean()
    return {
        "mu_s": mu_s,
        "mu_d": mu_d,
        "cov": cov,
        "rot": rot,
        "scale": scale,
        "t": mu_d - scale * rot @ mu_s,
    }


def umeyama_rotation(cov: torch.Tensor) -> torch.Tensor:
    u, _, vh = torch.linalg.svd(cov)
    d = torch.ones(2, dtype=cov.dtype)
    d[1] = -1.0 if float(torch.linalg.det(u) * torch.linalg.det(vh)) < 0 else 1.0
    return u @ torch.diag(d) @ vh


BLOCK_STUB = "class MyBlock(nn.Module) with __init__(self, in_ch, out_ch, expansion_ratio=2)"


def build_block(block_cls: Any, i: int, o: int, ratio: int) -> nn.Module:
    """``block_cls(i, o, ratio)``, the student's block; the library's own block is refused."""
    block = call_answer(block_cls, i, o, ratio, stub=BLOCK_STUB, want="an nn.Module")
    if not isinstance(block, nn.Module):
        raise Wrong(f"MyBlock({i}, {o}, {ratio}) should be an nn.Module, got {type(block).__name__}.")
    if any(isinstance(m, InvertedResBlock) for m in block.modules()):
        raise Wrong("this is the library's own InvertedResBlock; write your own version.")
    return block


def copy_weights(lib: nn.Module, mine: nn.Module) -> None:
    """Load ``lib``'s state_dict into ``mine`` entry by entry, in order (else :class:`Wrong`)."""
    ours, theirs = mine.state_dict(), lib.state_dict()
    got = [tuple(t.shape) for t in ours.values()]
    want = [tuple(t.shape) for t in theirs.values()]
    if got != want:
        raise Wrong(
            f"your block's state_dict holds tensors of shapes {got}; the library's, in order, {want}.",
            "create the layers in __init__ in the order they run, each convolution followed by its norm.",
            "only the 3x3 depthwise convolution has a bias; each GroupNorm(1, C) holds a weight and a bias "
            "of C numbers.",
        )
    mine.load_state_dict(dict(zip(ours.keys(), theirs.values())))


def power_step_piece(step: Callable, w: torch.Tensor, u0: torch.Tensor) -> None:
    m, n = w.shape
    out = call_answer(step, w.clone(), u0.clone(), stub="def power_step(W, u): ...", want="(u, v)")
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Wrong("power_step should return two vectors, (u, v).")
    u = answer_tensor(out[0], (m,), "the new u")
    v = answer_tensor(out[1], (n,), "the new v")
    ru, rv = power_steps(w, u0, 1)
    if not (torch.allclose(u.norm(), torch.ones((), dtype=u.dtype)) and torch.allclose(v.norm(), u.norm())):
        raise Wrong(
            f"the new u and v have lengths {float(u.norm()):.3g} and {float(v.norm()):.3g}.",
            "u and v are directions: scale each to length 1 right after computing it.",
            "without that step their lengths grow or shrink like sigma to the power of the step count.",
        )
    require_close(
        torch.cat([u, v]),
        torch.cat([ru, rv]),
        "v comes from u through W^T, then the new u from that v through W.",
        "compute v first, from the u you were given; then the new u from that new v, in this order.",
    )


def as_mask(out: Any, shape: tuple[int, ...]) -> torch.Tensor:
    return answer_tensor(out, shape, "the edge band") > 0.5


TERM_HINTS = {
    "g_adv": (
        "the adversarial term: the generator wants D to score its output as real.",
        "least squares towards the real label, on D's scores of G(photo).",
    ),
    "content": (
        "the content term compares features of the output with features of the photo.",
        "L1 between feat(G(photo)) and feat(photo) (notebook 03's content loss).",
    ),
    "style": (
        "the style term compares Gram matrices of features, against the grey style images.",
        "notebook 03's style loss, of feat(G(photo)) and feat(style_gray).",
    ),
    "colour": (
        "the colour term compares the output with the photo in YUV.",
        "notebook 03's colour loss, of G(photo) and the photo.",
    ),
    "tv": (
        "the TV term measures how much neighbouring pixels of the output differ.",
        "notebook 03's total variation loss, on G(photo).",
    ),
    "total": (
        "each term is multiplied by its own weight from w before adding.",
        "w has one field per term, with the same name as the term.",
    ),
}


def answer_tuple(out: Any, n: int, what: str) -> tuple:
    if not (isinstance(out, (tuple, list)) and len(out) == n):
        raise Wrong(f"{what} should return {n} values.")
    return tuple(out)


def edge_band_piece(
    edge_band: Any,
    image: torch.Tensor,
    low: float,
    high: float,
    dilate: int,
    band: torch.Tensor,
    edges: torch.Tensor,
) -> None:
    """Piece (a) of the edge-smoothing exercise: ``edge_band`` against the dilated Canny edges ``band``."""
    mask_shape = (1, 1, *image.shape[2:])
    got = as_mask(
        call_answer(
            edge_band,
            image.clone(),
            low,
            high,
            dilate,
            stub="def edge_band(image, low, high, dilate): ...",
        ),
        mask_shape,
    )
    if not torch.equal(got, band):
        thin = torch.equal(got, edges)
        raise Wrong(
            ("your mask is the edges themselves: " if thin else "")
            + f"{int((got != band).sum())} of {band.numel()} pixels differ from the dilated edges.",
            "find the edges of the grey image, then widen them to cover both sides of each edge.",
            "dilation with a dilate x dilate square of ones turns every edge pixel into a square.",
        )


def composite_piece(composite: Any, image: torch.Tensor, blurred: torch.Tensor, band: torch.Tensor) -> None:
    """Piece (c) of the edge smoothing: ``composite`` takes the blurred pixels inside the band only."""
    got = answer_tensor(
        call_answer(
            composite,
            image.clone(),
            blurred.clone(),
            band.clone(),
            stub="def composite(image, blurred, band): ...",
        ),
        tuple(image.shape),
        "the composite",
    )
    if torch.allclose(got, blurred.double()):
        raise Wrong(
            "your composite is blurred everywhere.",
            "only the pixels inside the band take the blurred value.",
            "pick, pixel by pixel, between the original image and the blurred one, "
            "using the band as the switch.",
        )
    require_close(
        got,
        torch.where(band, blurred, image),
        "inside the band the blurred pixel, outside it the original one.",
        "the band has one channel: it selects the same pixels in all three colour channels of the image.",
    )


def centre_cov_piece(centre_cov: Any, src: torch.Tensor, dst: torch.Tensor, ref: dict) -> None:
    """Piece (a) of the Umeyama exercise: the means and the cross-covariance, against ``ref``."""
    out = answer_tuple(
        call_answer(
            centre_cov,
            src.clone(),
            dst.clone(),
            stub="def centre_cov(src, dst): ...",
            want="(mu_s, mu_d, cov)",
        ),
        3,
        "centre_cov",
    )
    for got, key, shape in zip(out, ("mu_s", "mu_d", "cov"), ((2,), (2,), (2, 2))):
        got = answer_tensor(got, shape, key)
        if key == "cov" and torch.allclose(got, ref["cov"].T):
            raise Wrong(
                "your covariance is transposed.",
                "rows belong to dst, columns to src.",
                "entry (i, j) averages, over the K points, the centred dst coordinate i "
                "times the centred src coordinate j.",
            )
        require_close(
            got,
            ref[key],
            f"{key}: centre both point sets on their means first.",
            "the covariance averages the products of centred dst and centred src "
            "coordinates over the K points.",
            atol=1e-8,
        )


def rotation_piece(rotation: Any, covs: list) -> None:
    """Piece (b) of the Umeyama exercise: ``rotation(cov)`` for each of ``covs``, with the reflection fix."""
    for cov in covs:
        rot = umeyama_rotation(cov)
        got = answer_tensor(
            call_answer(rotation, cov.clone(), stub="def rotation(cov): ..."),
            (2, 2),
            "the rotation",
        )
        require_close(
            got,
            rot,
            "R comes from the SVD of cov and must be a rotation: det(R) = +1.",
            "when det(U) det(V^T) < 0, U V^T is a mirror: flip the sign belonging to the "
            "smallest singular value.",
            atol=1e-7,
        )


def scale_piece(scale: Any, src: torch.Tensor, ref: dict, n: int) -> None:
    """Piece (c) of the Umeyama exercise: ``scale(src, cov, R)`` on point set ``n``."""
    got = answer_number(
        call_answer(
            scale,
            src.clone(),
            ref["cov"].clone(),
            ref["rot"].clone(),
            stub="def scale(src, cov, R): ...",
            want="a number",
        ),
        "s",
    )
    if not abs(got - float(ref["scale"])) <= 1e-6 * abs(float(ref["scale"])) + 1e-9:
        raise Wrong(
            f"s = {got:.6g}, expected {float(ref['scale']):.6g} (point set {n + 1}).",
            "the scale is how much of the covariance R explains, over the spread of src.",
            "with a mirror fix the smallest singular value counts with its sign; the "
            "spread is the mean squared distance of src from its centre.",
        )


def translation_piece(translation: Any, ref: dict) -> None:
    """Piece (d) of the Umeyama exercise: ``translation(mu_s, mu_d, s, R)``."""
    got = answer_tensor(
        call_answer(
            translation,
            ref["mu_s"].clone(),
            ref["mu_d"].clone(),
            float(ref["scale"]),
            ref["rot"].clone(),
            stub="def translation(mu_s, mu_d, s, R): ...",
        ),
        (2,),
        "t",
    )
    require_close(
        got,
        ref["t"],
        "t moves the transformed centre of src onto the centre of dst.",
        "apply s and R to mu_s first, then see what is still missing to reach mu_d: that vector is t.",
    )
