"""Exercises v2, for every checker: the reference solution passes on fresh inputs (a new seed on each
call, the same inputs again with ``seed=``); the library's own function is refused; typical wrong
answers get a first-level hint, and ``hint=2`` a closer, longer one; forbidden shortcuts are refused.

One table (:data:`TABLE`) names every checker with its reference solution (from ``solutions/``),
the library function it compares against, typical wrong answers and forbidden shortcuts.
"""

from __future__ import annotations

import dataclasses
import functools
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import kornia
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gan_answers import TOPICS, d_bce, d_swapped, g_swapped, update

from animegan_edu import conditioned, imageio, metrics, models
from animegan_edu.data import dataset
from animegan_edu.inference import face, grading, pipeline
from animegan_edu.teaching import (
    exercises_gan,
    exercises_losses,
    exercises_models,
    exercises_projects,
)
from animegan_edu.training import losses
from animegan_edu.video import temporal

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


@functools.cache
def solution(stem: str) -> dict[str, Any]:
    return runpy.run_path(str(SOLUTIONS / f"{stem}.py"))


def ref(stem: str, *names: str) -> Callable[[], tuple]:
    """The reference answer(s) of a checker: functions of ``solutions/<stem>.py``, loaded on use."""
    return lambda: tuple(solution(stem)[n] for n in names)


def d_with_library_loss(D, d_opt, real, fake):  # noqa: ANN001, ANN201
    return update(losses.lsgan_d_loss(D(real), D(fake.detach())), d_opt)


def sigma_swallowing(w: torch.Tensor) -> float:
    """Tries the SVD, and falls back on the Frobenius norm when it is refused."""
    try:
        return float(torch.linalg.svdvals(w)[0])
    except Exception:  # noqa: BLE001
        return float(w.norm())


def sigma_svd_method(w: torch.Tensor) -> float:
    return float(w.svd().S[0])


def sol(stem: str, name: str) -> Callable[..., Any]:
    """A function of ``solutions/<stem>.py``, loaded on its first call (a wrong answer's right pieces)."""

    def call(*args: Any) -> Any:
        return solution(stem)[name](*args)

    call.__name__ = name
    return call


def sols(stem: str, *names: str, **wrong: Callable[..., Any]) -> tuple:
    """The solution's pieces ``names`` in order, those named in ``wrong`` replaced by a mistake."""
    return tuple(wrong.get(n) or sol(stem, n) for n in names)


def block_class(residual: bool = True, depthwise: bool = True, act_after_project: bool = False) -> type:
    """An inverted residual block with one of the typical mistakes."""

    class Block(torch.nn.Module):
        def __init__(self, i: int, o: int, r: int = 2) -> None:
            super().__init__()
            m, nn = i * r, torch.nn
            self.res = residual and i == o
            layers = [nn.Conv2d(i, m, 1, bias=False), nn.GroupNorm(1, m), nn.LeakyReLU(0.2)]
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(m, m, 3, groups=m if depthwise else 1)]
            layers += [nn.GroupNorm(1, m), nn.LeakyReLU(0.2)]
            layers += [nn.Conv2d(m, o, 1, bias=False), nn.GroupNorm(1, o)]
            self.layers = nn.Sequential(*layers, *([nn.LeakyReLU(0.2)] if act_after_project else []))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.layers(x) if self.res else self.layers(x)

    return Block


class LibrarySubclass(models.InvertedResBlock):
    pass


def g_step_variant(detach: bool = False, zero_grad: bool = True, weighted: bool = True) -> Callable:
    """The generator step with one of the typical mistakes."""

    def g_step(G, D, feat, g_opt, photo, style_gray, w):  # noqa: ANN001, ANN202
        fake = G(photo)
        terms = {
            "g_adv": losses.lsgan_g_loss(D(fake.detach() if detach else fake)),
            "content": losses.content_loss(feat(fake), feat(photo)),
            "style": losses.style_loss(feat(fake), feat(style_gray)),
            "colour": losses.colour_loss(fake, photo),
            "tv": losses.total_variation_loss(fake),
        }
        total = sum((getattr(w, k) if weighted else 1.0) * v for k, v in terms.items())
        if zero_grad:
            g_opt.zero_grad()
        total.backward()
        g_opt.step()
        return {**{k: v.item() for k, v in terms.items()}, "total": total.item()}

    return g_step


def blur_zero_padded(im: torch.Tensor, sigma: float, k: int) -> torch.Tensor:
    return kornia.filters.gaussian_blur2d(im, (k, k), (sigma, sigma), border_type="constant")


def centre_cov_transposed(src: torch.Tensor, dst: torch.Tensor) -> tuple:
    mu_s, mu_d = src.mean(0), dst.mean(0)
    return mu_s, mu_d, (src - mu_s).T @ (dst - mu_d) / len(src)


NB02 = ("nb02_discriminators", "power_step", "estimate_sigma", "spectral_normalise")
NB03 = ("nb03_losses", "edge_band", "blur", "composite")
NB05 = ("nb05_face", "centre_cov", "rotation", "scale", "translation")


@dataclass
class Row:
    """A checker, its reference answer(s), the library's function, typical mistakes, forbidden shortcuts."""

    reference: Callable[[], tuple]
    library: Optional[
        tuple
    ]  # None: no library function to compare with (see :func:`test_library_is_refused`)
    wrong: tuple[tuple, ...]  # each: the answers, as passed to the checker
    shortcuts: tuple[tuple, ...] = ()  # each: the answers; refused "Not yet: your function calls ..."


TABLE: dict[str, Row] = {
    "check_to_generator_range": Row(
        ref("nb00_quickstart", "to_gen"),
        (imageio.to_generator_range,),
        ((lambda x: x * 2,), (lambda x: x - 0.5,), (lambda x: 2 * x + 1,)),
    ),
    "check_blend_strength": Row(
        ref("nb00_quickstart", "blend"),
        (grading.blend_strength,),
        ((lambda p, st, s: st * s,), (lambda p, st, s: st + s * (p - st),)),
    ),
    "check_stride2_size": Row(
        ref("nb01_generator", "out_size"),
        (models.ConvNormLReLU,),
        ((lambda h, t, b: h // 2,), (lambda h, t, b: (h - 3) // 2 + 1,), (lambda h, t, b: -(-h // 2),)),
        (
            (
                lambda h, t, b: models.ConvNormLReLU(1, 1, 3, 2, (0, 0, t, b))(torch.zeros(1, 1, h, 4)).shape[
                    -2
                ],
            ),
        ),
    ),
    "check_conv_parameters": Row(
        ref("nb01_generator", "conv_params"),
        (models.count_parameters,),
        ((lambda i, o, k, g, b: o * i * k * k,), (lambda i, o, k, g, b: o * (i // g) * k * k,)),
        (
            (
                lambda i, o, k, g, b: sum(
                    p.numel() for p in torch.nn.Conv2d(i, o, k, groups=g, bias=b).parameters()
                ),
            ),
        ),
    ),
    "check_receptive_field": Row(
        ref("nb02_discriminators", "rf"),
        (models.receptive_field,),
        (
            (lambda ks, ss: sum(ks) - len(ks) + 1,),  # ignores the strides
            (
                lambda ks, ss: 1 + sum((k - 1) * int(np.prod(ss[: i + 1])) for i, k in enumerate(ks)),
            ),  # own stride
        ),
    ),
    "check_patch_grid": Row(
        ref("nb02_discriminators", "grid"),
        (models.Discriminator,),
        ((lambda s: s // 8,), (lambda s: s // 8 + 1,)),
    ),
    "check_spectral_sigma": Row(
        ref("nb02_discriminators", "sigma_max"),
        (torch.linalg.svdvals,),
        ((lambda w: float(w.norm()),), (lambda w: float(w.abs().max()),)),
        (
            (lambda w: torch.linalg.svdvals(w)[0],),
            (lambda w: torch.linalg.matrix_norm(w, ord=2),),
            (lambda w: torch.linalg.norm(w, 2),),
            (lambda w: torch.svd(w)[1][0],),
            (lambda w: torch.linalg.svd(w).S[0],),
            (sigma_svd_method,),
            (lambda w: torch.linalg.eigvalsh(w.T @ w)[-1].sqrt(),),
            (lambda w: float(np.linalg.norm(w.numpy(), 2)),),
            (lambda w: float(np.linalg.svd(w.numpy())[1][0]),),
            (sigma_swallowing,),
        ),
    ),
    "check_gram": Row(
        ref("nb03_losses", "my_gram"),
        (losses.gram,),
        (
            (lambda f: f.flatten(2) @ f.flatten(2).transpose(1, 2),),  # not normalised
            (lambda f: f.flatten(2) @ f.flatten(2).transpose(1, 2) / f.shape[-1] / f.shape[-2],),  # by H*W
        ),
    ),
    "check_lsgan_d_loss": Row(
        ref("nb03_losses", "d_loss"),
        (losses.lsgan_d_loss,),
        (
            (lambda r, f, g, s: (r - 1).pow(2).mean() + f.pow(2).mean(),),  # drops two terms
            (lambda r, f, g, s: r.pow(2).mean() + sum((m - 1).pow(2).mean() for m in (f, g, s)),),  # swapped
            (lambda r, f, g, s: (r - 1).pow(2).sum() + f.pow(2).sum() + g.pow(2).sum() + s.pow(2).sum(),),
        ),
    ),
    "check_total_variation": Row(
        ref("nb03_losses", "tv"),
        (losses.total_variation_loss,),
        (
            (lambda x: (x[..., 1:, :] - x[..., :-1, :]).abs().mean(),),
            (lambda x: (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean(),),
        ),
    ),
    "check_lsgan_g_loss": Row(
        ref("nb04_training", "g_loss"),
        (losses.lsgan_g_loss,),
        ((lambda d: d.pow(2).mean(),), (lambda d: (d - 1).abs().mean(),)),
    ),
    "check_generator_loss": Row(
        ref("nb04_training", "g_total"),
        None,
        (
            (lambda t, w: sum(float(v) for v in t.values()),),
            (lambda t, w: w.g_adv * t["g_adv"] + w.content * t["content"],),
        ),
    ),
    "check_similarity": Row(
        ref("nb05_face", "similarity"),
        (face.estimate_similarity,),
        (
            (
                lambda s, d: (
                    torch.linalg.lstsq(torch.cat([s, torch.ones(len(s), 1, dtype=s.dtype)], 1), d).solution.T
                ),
            ),
            (lambda s, d: torch.cat([torch.eye(2, dtype=s.dtype), (d.mean(0) - s.mean(0))[:, None]], 1),),
        ),
    ),
    "check_invert_similarity": Row(
        ref("nb05_face", "invert"),
        None,
        (
            (lambda m: torch.cat([torch.linalg.inv(m[:, :2]), -m[:, 2:]], 1),),
            (lambda m: torch.cat([m[:, :2].T, -m[:, 2:]], 1),),
        ),
    ),
    "check_luma": Row(
        ref("nb06_grading", "my_luma"),
        (grading.luma,),
        (
            (lambda im: im.mean(1, keepdim=True),),
            (lambda im: 0.114 * im[:, :1] + 0.587 * im[:, 1:2] + 0.299 * im[:, 2:],),  # BGR
        ),
    ),
    "check_blue_boost": Row(
        ref("nb06_grading", "boost_blue"),
        (grading.channel_gains,),
        (
            (lambda im, g: torch.cat([im[:, :1] * g, im[:, 1:]], 1).clamp(0, 1),),  # the red channel
            (lambda im, g: torch.cat([im[:, :2], im[:, 2:] * g], 1),),  # no clipping
        ),
    ),
    "check_resize_size": Row(
        ref("nb08_studio", "new_size"),
        (imageio.resize_longest,),
        (
            (lambda w, h, size: (size, size),),
            (lambda w, h, size: (w * size // max(w, h) // 4 * 4, h * size // max(w, h) // 4 * 4),),
        ),
    ),
    "check_finish": Row(
        ref("nb08_studio", "my_finish"),
        (pipeline.finish,),
        (
            (lambda p, r, s: torch.lerp(p, r, s),),  # no grade
            (lambda p, r, s: grading.blend_strength(p, grading.color_grade(r, "shinkai"), s),),  # wrong order
        ),
    ),
    "check_qparams": Row(
        ref("nb07_quantize", "qparams"),
        None,
        (
            (lambda lo, hi: ((hi - lo) / 256, 0),),
            (lambda lo, hi: ((hi - lo) / 255, round(-lo / ((hi - lo) / 255))),),
        ),
    ),
    "check_fake_quantize": Row(
        ref("nb07_quantize", "fake_quant"),
        None,
        ((lambda x, s, z: torch.round(x / s) * s,), (lambda x, s, z: ((x / s).floor() + z - z) * s,)),
    ),
    "check_psnr": Row(
        ref("nb07_quantize", "my_psnr"),
        (metrics.psnr,),
        (
            (lambda a, b: float(10 * torch.log10(1 / (a - b).abs().mean())),),  # MAE
            (lambda a, b: float(10 * torch.log(1 / (a - b).pow(2).mean())),),  # natural log
        ),
    ),
    "check_masked_error": Row(
        ref("nb10_video", "masked_error"),
        (temporal.warping_error,),
        (
            (lambda a, b, m: float((a - b).abs().mean()),),
            (lambda a, b, m: float((a - b).abs().sum(0)[m].mean()),),
        ),
    ),
    "check_temporal_blend": Row(
        ref("nb10_video", "blend"),
        (temporal.blend_previous,),
        (
            (lambda s, w, m, a: (1 - a) * s + a * w,),
            (lambda s, w, m, a: (1 - a * m.float()) * w + a * m.float() * s,),
        ),
    ),
    "check_modulated_norm": Row(
        ref("nb11_many_styles", "modulated_norm"),
        (conditioned.ModulatedGroupNorm,),
        (
            (lambda x, g, w, b, dg, db: F.group_norm(x, g, w, b) + db[:, :, None, None],),  # no scale
            # one code for the whole batch
            (lambda x, g, w, b, dg, db: F.group_norm(x, g, w * (1 + dg.mean(0)), b + db.mean(0)),),
            (lambda x, g, w, b, dg, db: F.group_norm(x, 1, w, b) * (1 + dg[:, :, None, None]),),  # 1 group
        ),
    ),
    "check_channel_stats": Row(
        ref("nb11_many_styles", "stats"),
        (conditioned.channel_stats,),
        (
            (lambda f: torch.cat([f.mean((2, 3)), f.std((2, 3), unbiased=False)], 1),),  # population std
            (lambda f: torch.stack([f.mean((2, 3)), f.std((2, 3))], 2).flatten(1),),  # interleaved
            (lambda f: torch.cat([f.mean(1).flatten(1)[:, : f.shape[1]], f.std((2, 3))], 1),),  # wrong axis
        ),
    ),
    "check_lsgan_steps": Row(
        ref("nb09_learn_a_style", "d_step", "g_step"),
        (exercises_gan.library_d_step, exercises_gan.library_g_step),
        (
            (
                d_swapped,
                exercises_gan.library_g_step.__wrapped__
                if hasattr(exercises_gan.library_g_step, "__wrapped__")
                else g_swapped,
            ),
            (d_bce, g_swapped),
        ),
        ((d_with_library_loss, g_swapped),),
    ),
    "check_frechet_1d": Row(
        ref("nb09_learn_a_style", "frechet_1d"),
        (metrics.frechet_distance,),
        (
            (lambda a, b: float((a.mean() - b.mean()) ** 2),),
            (lambda a, b: float((a.mean() - b.mean()) ** 2 + (a.var() - b.var()) ** 2),),
        ),
    ),
    "check_inverted_residual": Row(
        ref("nb01_generator", "MyBlock"),
        (models.InvertedResBlock,),
        (
            (block_class(residual=False),),
            (block_class(depthwise=False),),
            (block_class(act_after_project=True),),
        ),
        ((LibrarySubclass,),),
    ),
    "check_power_iteration": Row(
        ref(*NB02),
        (torch.linalg.svdvals,),
        (
            sols(*NB02, power_step=lambda w, u: (w @ (w.T @ u), w.T @ u)),  # u, v not normalised
            sols(*NB02, estimate_sigma=lambda w, u, k: float(w.norm())),  # Frobenius
            sols(*NB02, spectral_normalise=lambda w, u, k: w / w.norm()),  # Frobenius
        ),
        (
            sols(*NB02, estimate_sigma=lambda w, u, k: float(torch.linalg.svdvals(w)[0])),
            sols(*NB02, spectral_normalise=lambda w, u, k: w / torch.linalg.matrix_norm(w, ord=2)),
        ),
    ),
    "check_edge_smoothing": Row(
        ref(*NB03),
        (dataset.edge_smooth,),
        (
            sols(*NB03, edge_band=lambda im, lo, hi, d: sol(*NB03[:2])(im, lo, hi, 1)),  # no dilation
            sols(*NB03, blur=blur_zero_padded),
            sols(*NB03, composite=lambda im, b, band: b),  # blurred everywhere
            sols(*NB03, composite=lambda im, b, band: torch.where(band, im, b)),  # the band inverted
        ),
        (sols(*NB03, composite=lambda im, b, band: dataset.edge_smooth(im)),),
    ),
    "check_generator_step": Row(
        ref("nb04_training", "g_step"),
        (exercises_projects.library_generator_step,),
        (
            (g_step_variant(detach=True),),
            (g_step_variant(zero_grad=False),),
            (g_step_variant(weighted=False),),
        ),
    ),
    "check_umeyama": Row(
        ref(*NB05),
        (face.estimate_similarity,),
        (
            sols(*NB05, rotation=lambda c: torch.linalg.svd(c)[0] @ torch.linalg.svd(c)[2]),  # no mirror fix
            sols(*NB05, translation=lambda ms, md, s, r: md - ms),  # ignores s and R
            sols(*NB05, centre_cov=centre_cov_transposed),
        ),
        ((lambda a, b: face.estimate_similarity(a, b),),),
    ),
    "check_saturation": Row(
        ref("nb09_learn_a_style", "saturation"),
        (metrics.patch_features,),
        (
            (lambda im: (im.amax(0) - im.amin(0)).mean(),),
            (lambda im: (im.amax(0) - im.amin(0)).mean() / im.amax(),),
        ),
    ),
}

CHECKERS = {name: getattr(m, name) for m in TOPICS for name in dir(m) if name.startswith("check_")}

#: Formulas the hints must not print (the issue: sigma, PSNR, fake-quant, stride-2 size, receptive field).
GIVEAWAYS = (
    "log10(peak",
    "log10(1 /",
    "floor((",
    "(k - 1) times",
    "round(x / scale)",
    "sigma = u",
    "u = W v",
    "(1 + dg)",
)


def test_table_covers_every_checker() -> None:
    assert set(CHECKERS) == set(TABLE), set(CHECKERS) ^ set(TABLE)
    assert set(CHECKERS) == {n for m in TOPICS for n in m.__all__}
    assert len(CHECKERS) == 33


def _snapshot(a: Any) -> Any:
    if isinstance(a, torch.Tensor):
        return a.detach().clone()
    if isinstance(a, dict):
        return {k: _snapshot(v) for k, v in a.items()}
    if dataclasses.is_dataclass(a):
        return _snapshot(dataclasses.asdict(a))
    return a if isinstance(a, (int, float, list, tuple)) else None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (
            isinstance(a, torch.Tensor)
            and isinstance(b, torch.Tensor)
            and a.shape == b.shape
            and torch.equal(a, b)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _recording(answers: tuple, seen: list) -> tuple:
    """The answers, the first one wrapped to record the inputs of its calls."""

    def record(*args: Any) -> Any:
        seen.append([_snapshot(a) for a in args])
        return first(*args)

    first = answers[0]
    return (record, *answers[1:])


@pytest.mark.parametrize("name", sorted(TABLE))
def test_reference_passes_on_fresh_inputs(name: str) -> None:
    check, answers = CHECKERS[name], TABLE[name].reference()
    runs = []
    for seed in (None, None):
        seen: list = []
        fb = check(*_recording(answers, seen), seed=seed)
        assert fb.correct and fb.startswith("Correct: "), fb
        runs.append((fb.seed, seen))
    (s1, in1), (s2, in2) = runs
    assert s1 != s2 and not _same(in1, in2), "two calls drew the same inputs"
    seen = []
    again = check(*_recording(answers, seen), seed=s1)
    assert again.correct and again.seed == s1 and _same(seen, in1), "seed= does not reproduce the inputs"


@pytest.mark.parametrize("name", sorted(TABLE))
def test_library_is_refused(name: str) -> None:
    check, lib = CHECKERS[name], TABLE[name].library
    tries = []
    if lib is None:  # nothing in the library computes it: any function of the package is refused
        lib = (metrics.psnr,)
    else:  # a wrapper around the function the checker compares with, too
        tries.append((lambda *a: lib[0](*a), *lib[1:]))
    tries += [lib, (functools.partial(lib[0]), *lib[1:])]
    for answers in tries:
        fb = check(*answers)
        assert not fb.correct, fb
        assert ("library's own" in fb and "write your own version" in fb) or "do not call an SVD" in fb, fb


@pytest.mark.parametrize(("name", "i"), [(n, i) for n in sorted(TABLE) for i in range(len(TABLE[n].wrong))])
def test_wrong_answer_gets_the_first_hint_and_a_closer_one(name: str, i: int) -> None:
    check, answers = CHECKERS[name], TABLE[name].wrong[i]
    fb = check(*answers)
    assert not fb.correct and "Hint: " in fb and "Closer: " not in fb, fb
    assert (
        f"inputs seed {fb.seed}: " in fb and f"seed={fb.seed})" in fb and "hint=2) for a closer hint" in fb
    ), fb
    again = check(*answers, seed=fb.seed)
    assert again == fb, "the same seed gives the same message"
    closer = check(*answers, seed=fb.seed, hint=2)
    assert not closer.correct and "Closer: " in closer and len(closer) > len(fb) and closer != fb, closer
    assert "hint=2) for a closer hint" not in closer
    for text in (fb, closer):
        assert "\n" not in text and not any(g in text for g in GIVEAWAYS), text


def test_at_least_two_wrong_answers_per_checker() -> None:
    assert all(len(row.wrong) >= 2 for row in TABLE.values())


@pytest.mark.parametrize(
    ("name", "i"), [(n, i) for n in sorted(TABLE) for i in range(len(TABLE[n].shortcuts))]
)
def test_forbidden_shortcut_is_refused(name: str, i: int) -> None:
    fb = CHECKERS[name](*TABLE[name].shortcuts[i])
    assert not fb.correct, fb
    assert "your function calls" in fb or "library's own" in fb, fb


def test_shortcuts_are_restored_after_the_check() -> None:
    w = torch.randn(6, 4)
    exercises_models.check_spectral_sigma(lambda m: torch.linalg.svdvals(m)[0])
    assert torch.allclose(torch.linalg.svdvals(w)[0], torch.linalg.matrix_norm(w, ord=2))
    assert float(torch.linalg.norm(torch.ones(4))) == 2.0  # vector norms are allowed anyway
    assert torch.nn.Conv2d(2, 2, 1).weight.shape == (2, 2, 1, 1)
    assert losses.gram is not None and "refuse" not in getattr(losses.gram, "__name__", "")
    assert exercises_losses.check_gram(lambda f: losses.gram(f)).startswith(
        "Not yet: this is the library's own"
    )
    assert losses.gram.__name__ == "gram" and losses.gram.__module__ == "animegan_edu.training.losses"


def test_power_iteration_with_vector_norms_passes() -> None:
    def sigma(w: torch.Tensor) -> float:
        v = torch.ones(w.shape[1], dtype=w.dtype)
        for _ in range(200):
            v = w.T @ (w @ v)
            v = v / torch.linalg.norm(v)  # a vector norm: allowed
        return float(np.linalg.norm((w @ v).numpy()))

    fb = exercises_models.check_spectral_sigma(sigma)
    assert fb.correct, fb


def test_seed_is_printed_for_a_stub_too() -> None:
    fb = exercises_losses.check_gram(lambda f: None, seed=12345)
    assert "returned None" in fb and "check_gram(fn, seed=12345)" in fb and fb.seed == 12345
