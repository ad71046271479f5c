"""The generator against the public layout and the parity fixtures; shapes, modes, counts."""

from __future__ import annotations

import json

import pytest
import torch
from parity_helpers import assert_parity, assert_parity_any, parity_cases

from animegan_edu.models import (
    ConvNormLReLU,
    Generator,
    InvertedResBlock,
    ResnetGenerator,
    count_macs,
    count_parameters,
    macs_by_unit,
    receptive_field,
    resize,
)


def test_state_dict_manifest(shared_dir):
    """Keys and shapes equal the public weights' manifest (so their files load strictly)."""
    manifest = json.loads(shared_dir("reference/animegan2_generator_state_dict.json").read_text())
    if isinstance(manifest, dict) and "tensors" in manifest:
        manifest = manifest["tensors"]
    if isinstance(manifest, dict):
        expected = {
            k: list(v["shape"] if isinstance(v, dict) else v)
            for k, v in manifest.items()
            if k not in ("what", "total")
        }
    else:
        expected = {e["name"]: list(e["shape"]) for e in manifest}
    got = {k: list(v.shape) for k, v in Generator().state_dict().items()}
    assert list(got) == [k for k in expected] or set(got) == set(expected)
    assert got == expected


def test_parameter_count():
    assert count_parameters(Generator()) == 2_143_552


def test_parity_cases_found(shared_dir):
    assert parity_cases(shared_dir("reference/parity")), (
        "no (generator, input, output) triple in the parity folder"
    )


def test_parity_with_stored_output(shared_dir):
    """Every parity triple (the shared one and any added later) matches to 1e-5."""
    for candidates, inp, out in parity_cases(shared_dir("reference/parity")):
        err = assert_parity_any(candidates, inp, out)
        assert err <= 1e-5, (candidates, inp, out)


def test_parity_fails_for_other_upsample_mode(shared_dir):
    """The stored output is the align_corners one: the other modes must differ (the check is not vacuous)."""
    candidates, inp, out = parity_cases(shared_dir("reference/parity"))[0]
    for mode in ("half_pixel", "tf1"):
        with pytest.raises(AssertionError, match="max abs difference"):
            assert_parity(candidates[0], inp, out, upsample=mode)


@pytest.mark.parametrize("size", [(8, 8), (9, 13), (33, 18), (64, 64)])
def test_output_shape_odd_sizes(size):
    g = Generator().eval()
    x = torch.rand(2, 3, *size) * 2 - 1
    with torch.no_grad():
        y = g(x)
    assert y.shape == x.shape
    assert y.abs().max() <= 1.0


def test_wrong_input_shape_raises():
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        Generator()(torch.zeros(1, 4, 16, 16))
    with pytest.raises(ValueError, match="H, W >= 8"):
        Generator()(torch.zeros(1, 3, 7, 30))
    with pytest.raises(ValueError):
        Generator(upsample="nearest")  # type: ignore[arg-type]


def test_upsample_default_is_align_corners():
    assert Generator().upsample == "align_corners"
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    expected = torch.nn.functional.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True)
    assert torch.equal(resize(x, (7, 9)), expected)


def test_upsample_half_pixel_matches_pytorch():
    x = torch.rand(1, 2, 5, 6)
    expected = torch.nn.functional.interpolate(x, size=(9, 13), mode="bilinear", align_corners=False)
    assert torch.allclose(resize(x, (9, 13), "half_pixel"), expected)


def test_upsample_tf1_by_hand():
    """TF1: source = destination * in/out, no offsets; the last rows repeat the edge."""
    x = torch.tensor([[[[0.0, 10.0]]]])  # 1x2
    y = resize(x, (1, 4), "tf1")
    # sources 0, 0.5, 1.0, 1.5 -> 0, 5, 10, 10 (clamped at the edge)
    assert torch.allclose(y, torch.tensor([[[[0.0, 5.0, 10.0, 10.0]]]]))
    # integer factor 2 keeps every even output equal to the input pixel
    x = torch.rand(1, 3, 5, 7)
    y = resize(x, (10, 14), "tf1")
    assert torch.allclose(y[..., ::2, ::2], x)


def test_upsample_modes_differ_but_share_weights():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 30, 42) * 2 - 1
    sd = Generator().state_dict()
    outs = {}
    for mode in ("align_corners", "half_pixel", "tf1"):
        g = Generator(upsample=mode).eval()
        g.load_state_dict(sd)
        with torch.no_grad():
            outs[mode] = g(x)
    assert not torch.allclose(outs["align_corners"], outs["tf1"])
    assert not torch.allclose(outs["align_corners"], outs["half_pixel"])
    # same weights, same picture up to the resize detail
    assert (outs["align_corners"] - outs["tf1"]).abs().mean() < 0.1


def test_macs_at_256_and_512():
    g = Generator()
    assert round(count_macs(g, 256) / 1e9, 2) == 26.28
    assert round(count_macs(g, 512) / 1e9, 2) == 105.14


def test_units_are_the_blocks_in_forward_order():
    g = Generator()
    units = g.units(out_layer=True)
    names = [n for n, _ in units]
    assert names[:3] == ["block_a.0", "block_a.1", "block_a.2"] and names[-1] == "out_layer"
    assert len(names) == 17 and len(set(names)) == 17
    assert all(isinstance(m, (ConvNormLReLU, InvertedResBlock)) for _, m in units[:-1])
    # every parameter belongs to exactly one unit, and the units run in this order
    assert sum(count_parameters(m) for _, m in units) == count_parameters(g)
    order: list[str] = []
    hooks = [m.register_forward_hook(lambda m, a, y, n=n: order.append(n)) for n, m in units]
    with torch.no_grad():
        g(torch.zeros(1, 3, 16, 16))
    for h in hooks:
        h.remove()
    assert order == names


def test_macs_by_unit_add_up_to_the_whole():
    g = Generator()
    per = macs_by_unit(g, g.units(out_layer=True), 64)
    assert sum(per.values()) == count_macs(g, 64)
    assert per["out_layer"] == 32 * 3 * 64 * 64  # a 1x1 conv, 32 -> 3 channels


def test_resnet_generator_shapes_and_size():
    r = ResnetGenerator().eval()
    with torch.no_grad():
        y = r(torch.zeros(1, 3, 32, 48))
    assert y.shape == (1, 3, 32, 48)
    # the article's generator is several times larger than AnimeGANv2's
    assert count_parameters(r) > 5 * count_parameters(Generator())


def test_receptive_field_map():
    rf = receptive_field(Generator(), size=128)
    assert rf.shape == (128, 128)
    assert torch.isfinite(rf).all() and rf.max() == 1.0
    assert rf[64, 64] > 0
    # finite support: the corners of a 128 px input do not reach the centre pixel
    cols = (rf > 0).any(0).nonzero()
    assert 20 < cols.numel() < 128
    assert rf[0, 0] == 0
