"""The stylize options of the face and grading modules: --face, --grade, --glow, --strength."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
from PIL import Image

from animegan_edu.cli import main as cli
from animegan_edu.cli.stylize import look_options
from animegan_edu.imageio import from_generator_range, pil_to_tensor01, to_generator_range
from animegan_edu.inference import pipeline
from animegan_edu.inference.grading import PRESETS, color_grade
from animegan_edu.models import Generator


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory) -> str:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "random.pt"
    torch.save(Generator().state_dict(), path)
    return str(path)


@pytest.fixture(scope="module")
def model(weights_file):
    from animegan_edu.weights.hub import load_generator

    return load_generator(weights_file)


def _photo(tmp_path, name="photo.png", size=(48, 40)) -> str:
    g = np.random.default_rng(0)
    arr = (g.random((size[1] // 8, size[0] // 8, 3)) * 255).astype(np.uint8)
    Image.fromarray(arr).resize(size, Image.Resampling.BICUBIC).save(tmp_path / name)
    return str(tmp_path / name)


def _astronaut(tmp_path) -> str:
    from skimage import data

    Image.fromarray(data.astronaut()[0:300, 80:380]).save(tmp_path / "astronaut.png")
    return str(tmp_path / "astronaut.png")


def _args(**kw) -> argparse.Namespace:
    base = dict(face=False, grade="neutral", glow=None, strength=1.0)
    base.update(kw)
    return argparse.Namespace(**base)


def _stylize(x: torch.Tensor, model, args: argparse.Namespace) -> torch.Tensor:
    """What `stylize` does to one image with these flags: the shared pipeline."""
    return pipeline.stylize(x, model, **look_options(args))


def test_parser_accepts_the_options_with_defaults():
    ns = cli.build_parser().parse_args(["stylize", "a.png", "-o", "out"])
    assert (ns.face, ns.grade, ns.glow, ns.strength) == (False, "neutral", None, 1.0)
    ns = cli.build_parser().parse_args(
        [
            "stylize",
            "a.png",
            "-o",
            "out",
            "--face",
            "--grade",
            "shinkai",
            "--glow",
            "0.5",
            "--strength",
            "0.25",
        ]
    )
    assert (ns.face, ns.grade, ns.glow, ns.strength) == (True, "shinkai", 0.5, 0.25)


@pytest.mark.parametrize(
    "flag,value,expect",
    [
        ("--strength", "1.5", "[0, 1]"),
        ("--strength", "x", "number"),
        ("--glow", "-1", ">= 0"),
        ("--grade", "hayao", "invalid choice"),
        ("--glow", "inf", "finite"),
        ("--glow", "nan", "finite"),
        ("--strength", "nan", "finite"),
    ],
)
def test_bad_values_are_rejected(capsys, flag, value, expect):
    with pytest.raises(SystemExit) as exc:
        cli.main(["stylize", "a.png", "-o", "out", flag, value])
    assert exc.value.code == 2
    assert expect in capsys.readouterr().err


def test_strength_zero_with_neutral_grade_returns_the_photo(model):
    x = torch.rand(3, 32, 40)
    out = _stylize(x, model, _args(strength=0.0))
    assert torch.equal(out, x)


def test_pipeline_order_strength_then_grade_then_glow(model):
    torch.manual_seed(1)
    x = torch.rand(3, 32, 40)
    with torch.no_grad():
        styl = from_generator_range(model(to_generator_range(x)[None]))
    blend = x[None] + 0.6 * (styl - x[None])
    expected = color_grade(blend, PRESETS["shinkai"].replace(glow=0.8))[0]
    out = _stylize(x, model, _args(grade="shinkai", glow=0.8, strength=0.6))
    assert torch.allclose(out, expected, atol=1e-5)
    plain = _stylize(x, model, _args())
    assert torch.allclose(plain, styl[0], atol=1e-6)
    assert float((out - plain).abs().mean()) > 0.01


def test_glow_alone_only_brightens(model):
    x = torch.rand(3, 32, 40)
    plain = _stylize(x, model, _args())
    glowing = _stylize(x, model, _args(glow=1.0))
    assert bool((glowing >= plain - 1e-6).all())


def test_end_to_end_files(tmp_path, weights_file, capsys):
    src = _photo(tmp_path)
    rc = cli.main(
        [
            "stylize",
            src,
            "-o",
            str(tmp_path / "a.png"),
            "--weights",
            weights_file,
            "--size",
            "48",
            "--strength",
            "0",
        ]
    )
    assert rc == 0
    same = pil_to_tensor01(Image.open(tmp_path / "a.png"))
    assert torch.allclose(same, pil_to_tensor01(Image.open(src)), atol=1.5 / 255)
    rc = cli.main(
        [
            "stylize",
            src,
            "-o",
            str(tmp_path / "b.png"),
            "--weights",
            weights_file,
            "--size",
            "48",
            "--grade",
            "shinkai",
            "--glow",
            "0.6",
        ]
    )
    assert rc == 0 and (tmp_path / "b.png").stat().st_size > 0
    assert "b.png" in capsys.readouterr().out


def test_face_flag_without_faces_says_so(tmp_path, weights_file, capsys):
    src = _photo(tmp_path, size=(64, 64))
    rc = cli.main(
        ["stylize", src, "-o", str(tmp_path / "f.png"), "--weights", weights_file, "--size", "64", "--face"]
    )
    assert rc == 0
    assert "no face found: stylised the whole image" in capsys.readouterr().out


def test_face_flag_aligns_a_real_face(tmp_path, weights_file, capsys):
    src = _astronaut(tmp_path)
    rc = cli.main(
        [
            "stylize",
            src,
            "-o",
            str(tmp_path / "face.png"),
            "--weights",
            weights_file,
            "--size",
            "256",
            "--face",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "1 face(s) found, 1 aligned and stylised" in out
    assert Image.open(tmp_path / "face.png").size == (256, 256)


def test_glow_inf_cannot_blacken_the_output(tmp_path, weights_file, capsys):
    """Defect: `--glow inf` passed the option check and the grade turned the picture black."""
    src = _photo(tmp_path)
    with pytest.raises(SystemExit) as exc:
        cli.main(["stylize", src, "-o", str(tmp_path / "g.png"), "--weights", weights_file, "--glow", "inf"])
    assert exc.value.code == 2 and "finite" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()
