"""The five multi-step exercises (animegan_edu.teaching.exercises_projects), piece by piece.

For each: the reference solution (``solutions/nbNN_*.py``) passes on fresh inputs; a typical
mistake in one piece gets a first-level hint that names that piece; the library's own function is
refused; the notebook's stub cell runs without raising and prints "Not yet".
"""

from __future__ import annotations

import ast
import functools
import runpy
from pathlib import Path
from typing import Any, Callable

import kornia
import pytest
import torch
from torch import nn

from animegan_edu.data.dataset import edge_smooth
from animegan_edu.inference.face import estimate_similarity
from animegan_edu.models import InvertedResBlock
from animegan_edu.teaching import checking
from animegan_edu.teaching import exercises_projects as P
from animegan_edu.training import losses

ROOT = Path(__file__).resolve().parents[1]

#: checker -> (solution file, the names of its pieces in order)
PIECES = {
    "check_inverted_residual": ("nb01_generator", ("MyBlock",)),
    "check_power_iteration": ("nb02_discriminators", ("power_step", "estimate_sigma", "spectral_normalise")),
    "check_edge_smoothing": ("nb03_losses", ("edge_band", "blur", "composite")),
    "check_generator_step": ("nb04_training", ("g_step",)),
    "check_umeyama": ("nb05_face", ("centre_cov", "rotation", "scale", "translation")),
}
NOTEBOOKS = {
    "check_inverted_residual": "01_generator",
    "check_power_iteration": "02_discriminators",
    "check_edge_smoothing": "03_losses_and_data",
    "check_generator_step": "04_training",
    "check_umeyama": "05_face_alignment",
}


@functools.cache
def _solution(stem: str) -> dict[str, Any]:
    return runpy.run_path(str(ROOT / "solutions" / f"{stem}.py"))


def answers(name: str, **wrong: Callable[..., Any]) -> tuple:
    """The reference pieces of checker ``name``, those named in ``wrong`` replaced."""
    stem, names = PIECES[name]
    return tuple(wrong.get(n) or _solution(stem)[n] for n in names)


class NoResidual(nn.Module):
    def __init__(self, i: int, o: int, r: int = 2) -> None:
        super().__init__()
        m = i * r
        self.layers = nn.Sequential(
            nn.Conv2d(i, m, 1, bias=False), nn.GroupNorm(1, m), nn.LeakyReLU(0.2), nn.ReflectionPad2d(1),
            nn.Conv2d(m, m, 3, groups=m), nn.GroupNorm(1, m), nn.LeakyReLU(0.2),
            nn.Conv2d(m, o, 1, bias=False), nn.GroupNorm(1, o),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class FullConv(NoResidual):
    """The 3x3 convolution is not depthwise (groups=1)."""

    def __init__(self, i: int, o: int, r: int = 2) -> None:
        super().__init__(i, o, r)
        self.layers[4] = nn.Conv2d(i * r, i * r, 3)


def g_step_detached(G, D, feat, g_opt, photo, style_gray, w):  # noqa: ANN001, ANN201
    fake = G(photo)
    terms = {
        "g_adv": losses.lsgan_g_loss(D(fake.detach())),  # the adversarial term no longer reaches G
        "content": losses.content_loss(feat(fake), feat(photo)),
        "style": losses.style_loss(feat(fake), feat(style_gray)),
        "colour": losses.colour_loss(fake, photo),
        "tv": losses.total_variation_loss(fake),
    }
    total = sum(getattr(w, k) * v for k, v in terms.items())
    g_opt.zero_grad()
    total.backward()
    g_opt.step()
    return {**{k: v.item() for k, v in terms.items()}, "total": total.item()}


def g_step_no_zero_grad(G, D, feat, g_opt, photo, style_gray, w):  # noqa: ANN001, ANN201
    g_opt.zero_grad = lambda *a, **k: None  # as if the call were forgotten
    return _solution("nb04_training")["g_step"](G, D, feat, g_opt, photo, style_gray, w)


def g_step_steps_d(G, D, feat, g_opt, photo, style_gray, w):  # noqa: ANN001, ANN201
    out = _solution("nb04_training")["g_step"](G, D, feat, g_opt, photo, style_gray, w)
    with torch.no_grad():
        for p in D.parameters():
            p.add_(0.01)
    return out


def no_mirror_fix(cov: torch.Tensor) -> torch.Tensor:
    u, _, vh = torch.linalg.svd(cov)
    return u @ vh


def scale_without_sign(src: torch.Tensor, cov: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
    return torch.linalg.svdvals(cov).sum() / ((src - src.mean(0)) ** 2).sum(1).mean()


#: (checker, answers, the piece the first-level hint must name)
WRONG = [
    ("check_inverted_residual", (NoResidual,), "piece (c) the residual"),
    ("check_inverted_residual", (FullConv,), "piece (a) the layers"),
    (
        "check_power_iteration",
        answers("check_power_iteration", power_step=lambda w, u: (w @ (w.T @ u), w.T @ u)),
        "piece (a) one power-iteration step",
    ),
    (
        "check_power_iteration",
        answers("check_power_iteration", estimate_sigma=lambda w, u, k: float(w.norm())),
        "piece (b) the sigma estimate",
    ),
    (
        "check_power_iteration",
        answers("check_power_iteration", spectral_normalise=lambda w, u, k: w / w.abs().max()),
        "piece (c) the normalised weight",
    ),
    (
        "check_edge_smoothing",
        answers(
            "check_edge_smoothing",
            edge_band=lambda im, lo, hi, d: kornia.filters.canny(kornia.color.rgb_to_grayscale(im), lo, hi)[
                1
            ],
        ),
        "piece (a) the edge band",
    ),
    (
        "check_edge_smoothing",
        answers("check_edge_smoothing", composite=lambda im, b, band: b),
        "piece (c) the composite",
    ),
    (
        "check_edge_smoothing",
        answers("check_edge_smoothing", blur=lambda im, s, k: kornia.filters.box_blur(im, (k, k))),
        "piece (b) the blur",
    ),
    ("check_generator_step", (g_step_detached,), "piece (c) the update of G"),
    ("check_generator_step", (g_step_no_zero_grad,), "piece (c) the update of G"),
    ("check_generator_step", (g_step_steps_d,), "piece (d) only G changes"),
    ("check_umeyama", answers("check_umeyama", rotation=no_mirror_fix), "piece (b) the rotation"),
    ("check_umeyama", answers("check_umeyama", scale=scale_without_sign), "piece (c) the scale"),
    (
        "check_umeyama",
        answers("check_umeyama", translation=lambda ms, md, s, r: md - ms),
        "piece (d) the translation",
    ),
]


@pytest.mark.parametrize("name", sorted(PIECES))
def test_reference_passes_on_fresh_seeds(name: str) -> None:
    seeds = set()
    for _ in range(2):
        fb = getattr(P, name)(*answers(name))
        assert fb.correct, fb
        seeds.add(fb.seed)
    assert len(seeds) == 2


@pytest.mark.parametrize(("name", "given", "piece"), WRONG, ids=[f"{w[0]}-{w[2][6:9]}" for w in WRONG])
def test_wrong_piece_is_named_in_the_first_hint(name: str, given: tuple, piece: str) -> None:
    fb = getattr(P, name)(*given)
    assert not fb.correct and fb.startswith(f"Not yet: {piece}: ") and "Hint: " in fb, fb
    assert "Closer: " not in fb and "Closer: " in getattr(P, name)(*given, seed=fb.seed, hint=2)


def test_each_exercise_has_two_wrong_answers() -> None:
    counts = {n: sum(w[0] == n for w in WRONG) for n in PIECES}
    assert min(counts.values()) >= 2, counts


def test_missing_zero_grad_and_mirror_fix_are_explained() -> None:
    assert "old gradients" in P.check_generator_step(g_step_no_zero_grad)
    assert "mirror" in P.check_umeyama(*answers("check_umeyama", rotation=no_mirror_fix), hint=2)


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("check_inverted_residual", (InvertedResBlock,)),
        ("check_inverted_residual", (lambda i, o, r: InvertedResBlock(i, o, r),)),
        ("check_edge_smoothing", (edge_smooth,)),
        (
            "check_edge_smoothing",
            answers("check_edge_smoothing", composite=lambda im, b, band: edge_smooth(im)),
        ),
        ("check_generator_step", (P.library_generator_step,)),
        ("check_umeyama", (estimate_similarity,)),
        ("check_umeyama", (lambda s, d: estimate_similarity(s, d),)),
    ],
)
def test_library_is_refused(name: str, given: tuple) -> None:
    fb = getattr(P, name)(*given)
    assert not fb.correct and "library's own" in fb and "write your own version" in fb, fb


def test_subclassing_the_library_block_is_refused() -> None:
    class Mine(InvertedResBlock):
        pass

    assert "library's own InvertedResBlock" in P.check_inverted_residual(Mine)


@pytest.mark.parametrize(
    "wrong",
    [
        {"power_step": lambda w, u: (torch.linalg.svd(w)[0][:, 0], torch.linalg.svd(w)[2][0])},
        {"estimate_sigma": lambda w, u, k: float(torch.linalg.svdvals(w)[0])},
        {"spectral_normalise": lambda w, u, k: nn.utils.spectral_norm(nn.Linear(1, 1)).weight},
        {"spectral_normalise": lambda w, u, k: w / torch.linalg.matrix_norm(w, ord=2)},
    ],
)
def test_svd_is_refused_in_the_power_iteration(wrong: dict) -> None:
    fb = P.check_power_iteration(*answers("check_power_iteration", **wrong))
    assert not fb.correct and "do not call an SVD" in fb, fb


def test_later_pieces_must_be_passed() -> None:
    stem, names = PIECES["check_umeyama"]
    fb = P.check_umeyama(_solution(stem)[names[0]])
    assert fb.startswith("Not yet: piece (b) the rotation: pass all your functions"), fb


def _stub_cell(notebook: str, call: str) -> str:
    """The source of the code cell of ``notebooks/<notebook>.py`` that calls ``projects.<call>(``."""
    cells = (ROOT / "notebooks" / f"{notebook}.py").read_text(encoding="utf-8").split("\n# %%")
    found = [c for c in cells if f"projects.{call}(" in c and not c.startswith(" [markdown]")]
    assert len(found) == 1, (notebook, call, len(found))
    return found[0].split("\n", 1)[1]


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_stub_says_not_yet(name: str) -> None:
    """The stub cell (not the notebook) run as it is: its last expression is a "Not yet" Feedback."""
    tree = ast.parse(_stub_cell(NOTEBOOKS[name], name))
    last = tree.body.pop()
    assert isinstance(last, ast.Expr)
    space: dict[str, Any] = {}
    exec(compile(tree, name, "exec"), space)  # noqa: S102 - the notebook's own stub
    fb = eval(compile(ast.Expression(last.value), name, "eval"), space)  # noqa: S307
    assert isinstance(fb, checking.Feedback) and fb.startswith("Not yet: piece (a)"), fb
