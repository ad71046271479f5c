"""The checked exercises: every reference solution passes, wrong answers get a hint and no exception."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import torch
from gan_answers import TOPICS

from animegan_edu.teaching import (
    checking,
    exercises_inference,
)

CHECKERS = {name: getattr(m, name) for m in TOPICS for name in m.__all__}

SOLUTIONS = sorted((Path(__file__).resolve().parents[1] / "solutions").glob("nb*.py"))


def test_one_solution_file_per_notebook() -> None:
    notebooks = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [p.name[:4] for p in SOLUTIONS] == [f"nb{nb.name[:2]}" for nb in notebooks]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_passes(path: Path) -> None:
    results = runpy.run_path(str(path))["RESULTS"]
    assert len(results) >= 2
    for fb in results:
        assert isinstance(fb, checking.Feedback)
        assert fb.correct and fb.startswith("Correct: "), fb


def test_every_checker_is_used_by_a_solution() -> None:
    used = set()
    for path in SOLUTIONS:
        text = path.read_text()
        used |= {name for name in CHECKERS if f"exercises.{name}(" in text or f"projects.{name}(" in text}
    assert used == set(CHECKERS)


def test_checkers_are_named_check_and_defined_once() -> None:
    names = [name for m in TOPICS for name in m.__all__]
    assert all(n.startswith("check_") for n in names) and len(names) == len(set(names))


def _stub(*args: object) -> None:
    raise NotImplementedError


# One plausible mistake per checker: a wrong value, a wrong shape, or a wrong type of answer.
WRONG = {
    "check_to_generator_range": lambda x: x * 2,  # forgot the shift
    "check_blend_strength": lambda p, st, s: st * s,  # loses the photo
    "check_stride2_size": lambda h, t, b: h // 2,  # ignores the padding
    "check_conv_parameters": lambda i, o, k, g, b: o * i * k * k,  # ignores groups and bias
    "check_receptive_field": lambda ks, ss: sum(ks) - len(ks) + 1,  # ignores strides
    "check_patch_grid": lambda s: s // 8,  # floors odd sizes
    "check_spectral_sigma": lambda w: float(w.norm()),  # Frobenius, not spectral
    "check_gram": lambda f: f.flatten(2) @ f.flatten(2).transpose(1, 2),  # not normalised
    "check_lsgan_d_loss": lambda r, f, g, s: (r - 1).pow(2).mean() + f.pow(2).mean(),  # drops two terms
    "check_total_variation": lambda x: (x[..., 1:, :] - x[..., :-1, :]).abs().mean(),  # L1, one direction
    "check_lsgan_g_loss": lambda d: d.pow(2).mean(),  # the fake label
    "check_generator_loss": lambda t, w: sum(float(v) for v in t.values()),  # unweighted
    "check_similarity": lambda s, d: (
        torch.linalg.lstsq(  # full affine: not a similarity
            torch.cat([s, torch.ones(len(s), 1, dtype=s.dtype)], 1), d
        ).solution.T
    ),
    "check_invert_similarity": lambda m: torch.cat([torch.linalg.inv(m[:, :2]), -m[:, 2:]], 1),  # wrong shift
    "check_luma": lambda im: im.mean(1, keepdim=True),  # plain average
    "check_blue_boost": lambda im, g: torch.cat([im[:, :1] * g, im[:, 1:]], 1).clamp(
        0, 1
    ),  # the article's red
    "check_qparams": lambda lo, hi: ((hi - lo) / 256, 0),  # no zero point
    "check_fake_quantize": lambda x, s, z: torch.round(x / s) * s,  # no clamp
    "check_psnr": lambda a, b: float(10 * torch.log10(1 / (a - b).abs().mean())),  # MAE, not MSE
    "check_resize_size": lambda w, h, size: (size, size),  # square
    "check_finish": lambda p, r, s: torch.lerp(p, r, s),  # no grade
    "check_masked_error": lambda a, b, m: float((a - b).abs().mean()),  # ignores the mask
    "check_temporal_blend": lambda s, w, m, a: (1 - a) * s + a * w,  # blends occluded pixels too
    # the discriminator's labels swapped (and no update)
    "check_lsgan_steps": lambda D, opt, r, f: (D(r).pow(2).mean() + (D(f) - 1).pow(2).mean()).item(),
    "check_frechet_1d": lambda a, b: float((a.mean() - b.mean()) ** 2),  # ignores the spreads
    "check_saturation": lambda im: (im.amax(0) - im.amin(0)).mean(),  # not divided by the max
    # the code replaces the learned scale instead of scaling it
    "check_modulated_norm": lambda x, g, w, b, dg, db: (
        torch.nn.functional.group_norm(x, g) * dg[:, :, None, None] + b[:, None, None] + db[:, :, None, None]
    ),
    "check_channel_stats": lambda f: torch.cat([f.mean((2, 3)), f.std((2, 3), unbiased=False)], 1),
    # the multi-step exercises (exercises_projects), passed their first piece only
    "check_inverted_residual": lambda i, o, r=2: torch.nn.Conv2d(i, o, 1),  # one layer, not the block
    "check_power_iteration": lambda w, u: (w @ (w.T @ u), w.T @ u),  # u and v not normalised
    "check_edge_smoothing": lambda im, lo, hi, d: torch.ones(1, 1, *im.shape[2:]),  # everything is an edge
    "check_generator_step": lambda *a: dict.fromkeys(("g_adv", "content", "style", "colour", "tv"), 0.0),
    "check_umeyama": lambda s, d: (s.mean(0), d.mean(0), d.T @ s / len(s)),  # not centred
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_answer_gets_a_hint(name: str) -> None:
    fb = CHECKERS[name](WRONG[name])
    assert not fb.correct and fb.startswith("Not yet: ") and "Hint" in fb, fb
    assert "hint=2) for a closer hint" in fb, fb


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_stub_wrong_type_and_crash_are_feedback(name: str) -> None:
    check = CHECKERS[name]
    assert name in WRONG
    for answer in (_stub, lambda *a: None, 42, lambda *a: 1 / 0, lambda *a: "text"):
        fb = check(answer)
        assert isinstance(fb, checking.Feedback), (answer, fb)
        assert not fb.correct and fb.startswith("Not yet: "), (answer, fb)
        assert "\n" not in fb
        assert f"inputs seed {fb.seed}: " in fb, fb  # every "Not yet" says how to draw its inputs again


def test_blue_boost_names_the_red_mistake() -> None:
    fb = exercises_inference.check_blue_boost(WRONG["check_blue_boost"])
    assert "RED" in fb


def test_in_place_change_is_caught() -> None:
    def in_place(im: torch.Tensor, g: float) -> torch.Tensor:
        im[:, 2] *= g
        return im.clamp(0, 1)

    assert "in place" in exercises_inference.check_blue_boost(in_place)
