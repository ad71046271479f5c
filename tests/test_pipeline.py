"""animegan_edu.inference.pipeline: the one stylize pipeline of the CLI, the Studio and the benchmark."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from animegan_edu.imageio import from_generator_range, to_generator_range
from animegan_edu.inference import pipeline as P
from animegan_edu.inference.grading import PRESETS, color_grade
from animegan_edu.models import Generator


class Negative(nn.Module):
    """A cheap deterministic 'generator' that counts its calls: the photographic negative."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return -x


@pytest.fixture(scope="module")
def model() -> Generator:
    torch.manual_seed(0)
    return Generator().eval()


def test_shapes_follow_the_input():
    m = Negative()
    assert P.stylize(torch.rand(3, 20, 28), m).shape == (3, 20, 28)
    assert P.stylize(torch.rand(2, 3, 20, 28), m).shape == (2, 3, 20, 28)
    assert P.stylize(Image.new("RGB", (40, 30)), m, size=32).shape == (3, 24, 32)
    r = P.run(torch.rand(3, 30, 41), m, size=64)
    assert r.photo.shape == r.raw.shape == r.image.shape == (1, 3, 48, 64)


def test_benchmark_contract_is_the_plain_generator(model):
    """No size, neutral grade, strength 1: exactly the generator on the batch (what a benchmark times)."""
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = from_generator_range(model(to_generator_range(x)))
    assert torch.allclose(P.stylize(x, model), expected, atol=1e-6)


def test_strength_zero_with_neutral_grade_returns_the_photo(model):
    x = torch.rand(3, 32, 40)
    assert torch.equal(P.stylize(x, model, strength=0.0), x)


def test_order_strength_then_grade_then_glow(model):
    torch.manual_seed(1)
    x = torch.rand(3, 32, 40)
    with torch.no_grad():
        styl = from_generator_range(model(to_generator_range(x)[None]))
    blend = x[None] + 0.6 * (styl - x[None])
    expected = color_grade(blend, PRESETS["shinkai"].replace(glow=0.8))[0]
    out = P.stylize(x, model, grade="shinkai", glow=0.8, strength=0.6)
    assert torch.allclose(out, expected, atol=1e-5)
    half = P.stylize(x, model, grade="shinkai", grade_amount=0.5)
    assert torch.allclose(half, color_grade(styl, PRESETS["shinkai"].scaled(0.5))[0], atol=1e-5)


def test_glow_alone_only_brightens(model):
    x = torch.rand(3, 32, 40)
    plain = P.stylize(x, model)
    assert bool((P.stylize(x, model, glow=1.0) >= plain - 1e-6).all())


def test_finish_reuses_the_raw_output_without_the_generator():
    m = Negative()
    r = P.run(torch.rand(3, 16, 16), m)
    assert m.calls == 1
    again = P.finish(r.photo, r.raw, strength=0.5, grade="shinkai")
    assert m.calls == 1 and again.shape == r.image.shape


@pytest.mark.parametrize(
    "options",
    [
        {"glow": math.inf},
        {"glow": math.nan},
        {"glow": -1.0},
        {"strength": math.nan},
        {"strength": 1.5},
        {"grade_amount": math.inf},
        {"grade_amount": math.nan},
        {"size": 4097},
        {"size": 100000},
        {"size": 4},
        {"size": 64.5},
    ],
)
def test_bad_parameters_are_refused_before_any_work(options):
    """Defect: --glow inf graded to a black image; --size 100000 ended in a bare MemoryError."""
    m = Negative()
    with pytest.raises(ValueError) as info:
        P.run(torch.rand(3, 16, 16), m, **options)
    assert m.calls == 0 and "\n" not in str(info.value)


def test_non_finite_images_are_refused():
    x = torch.rand(3, 8, 8)
    x[0, 1, 1] = math.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        P.stylize(x, Negative())


def test_size_bounds_and_rounding():
    assert (P.MIN_SIZE, P.MAX_SIZE) == (8, 4096)
    assert P.check_size(4096) == 4096 and P.check_size(np.int64(8)) == 8
    assert P.prepare(torch.rand(3, 100, 37), 52).shape == (
        1,
        3,
        52,
        20,
    )  # longest side 52, both multiples of 4


def test_progress_reports_and_ends_complete():
    seen = []
    P.run(torch.rand(3, 16, 16), Negative(), progress=lambda d, n, m: seen.append((d, n, m)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1]


def test_face_mode_without_faces_says_so():
    seen = []
    r = P.run(torch.rand(3, 64, 64), Negative(), face=True, progress=lambda d, n, m: seen.append((d, n, m)))
    assert "no face found" in r.message and seen[-1][0] == seen[-1][1]


def test_int8_swaps_in_the_quantized_model_once(monkeypatch):
    fp32, int8 = Negative(), Negative()
    made = []

    def fake_int8(model):
        made.append(model)
        return int8

    from animegan_edu.int8 import files as int8_files

    monkeypatch.setattr(int8_files, "int8_generator", fake_int8)
    P.run(torch.rand(3, 8, 8), fp32, int8=True)
    P.run(torch.rand(3, 8, 8), fp32, int8=True)
    assert made == [fp32] and fp32.calls == 0 and int8.calls == 2


def test_input_is_not_changed():
    x = torch.rand(1, 3, 16, 16)
    before = x.clone()
    P.stylize(x, Negative(), grade="shinkai", size=32)
    assert torch.equal(x, before)
