"""The style-conditioned generator: identity equivalence, the public layout, mixing, the encoder."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from animegan_edu.conditioned import (
    REF_STATS_DIM,
    ModulatedGroupNorm,
    StyleConditionedGenerator,
    StyleEncoder,
)
from animegan_edu.models import Generator
from animegan_edu.weights.hub import get_generator

STYLES = ("Wesnoth", "Hedgewars", "Clipart")


def _photo(seed: int = 0, size: int = 48) -> torch.Tensor:
    return torch.rand(2, 3, size, size + 8, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _trained_heads(g: StyleConditionedGenerator, seed: int = 1) -> StyleConditionedGenerator:
    """Random, non-zero FiLM heads: as after training, so that codes really differ."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for head in g.film:
            head.weight.copy_(torch.randn(head.weight.shape, generator=gen) * 0.05)
            head.bias.copy_(torch.randn(head.bias.shape, generator=gen) * 0.05)
    return g


def test_every_group_norm_is_modulated_and_keeps_its_name():
    plain, cond = Generator(), StyleConditionedGenerator(STYLES)
    plain_norms = [n for n, m in plain.named_modules() if isinstance(m, nn.GroupNorm)]
    assert plain_norms and cond.norm_names == plain_norms
    assert all(isinstance(cond.get_submodule(n), ModulatedGroupNorm) for n in plain_norms)
    assert len(cond.film) == len(plain_norms)


@pytest.mark.parametrize("source", ["public layout (random init)", "bundled demo weights"])
def test_identity_modulation_computes_the_plain_generator(source):
    if source.startswith("public"):
        plain = Generator().eval()
    else:
        plain, _ = get_generator("demo", fallback=None, progress=False)
        plain.eval()
    cond = StyleConditionedGenerator(STYLES).eval()
    cond.load_generator_state(plain.state_dict())
    x = _photo()
    with torch.no_grad():
        ref = plain(x)
        assert torch.equal(cond(x), ref)  # no code: the plain generator, bit for bit
        for name in STYLES:  # untrained (zero) heads: every code is the identity modulation
            assert torch.allclose(cond(x, cond.style_code(name)), ref, atol=1e-6, rtol=0)
        zero = torch.zeros(cond.code_dim)
        assert torch.allclose(_trained_heads(cond)(x, zero - zero), cond(x, zero), atol=0)


def test_zero_code_with_zero_bias_heads_is_the_identity():
    plain = Generator().eval()
    cond = _trained_heads(StyleConditionedGenerator(STYLES)).eval()
    cond.load_generator_state(plain.state_dict())
    for head in cond.film:
        nn.init.zeros_(head.bias)
    x = _photo(3)
    with torch.no_grad():
        assert torch.allclose(cond(x, torch.zeros(cond.code_dim)), plain(x), atol=1e-6, rtol=0)


def test_public_layout_loads_and_a_wrong_layout_is_refused():
    cond = StyleConditionedGenerator(STYLES)
    style_parts = ("film", "embedding", "encoder")
    before = {k: v.clone() for k, v in cond.state_dict().items() if not k.startswith(style_parts)}
    state = Generator().state_dict()
    cond.load_generator_state(state)
    for k, v in state.items():
        assert torch.equal(cond.state_dict()[k], v), k
    assert any(not torch.equal(before[k], state[k]) for k in state if k in before)  # something was loaded
    broken = dict(state)
    broken.pop(next(iter(broken)))
    with pytest.raises(ValueError, match="not a Generator state dict: 1 keys missing"):
        cond.load_generator_state(broken)
    with pytest.raises(ValueError, match="unexpected"):
        cond.load_generator_state({**state, "extra.weight": torch.zeros(1)})


def test_mixing_at_0_and_1_gives_the_pure_styles_and_moves_continuously():
    cond = _trained_heads(StyleConditionedGenerator(STYLES)).eval()
    x = _photo(5)
    a, b = STYLES[0], STYLES[1]
    with torch.no_grad():
        pure_a, pure_b = cond(x, cond.style_code(a)), cond(x, cond.style_code(b))
        assert not torch.allclose(pure_a, pure_b, atol=1e-3)  # the styles differ
        assert torch.equal(cond(x, cond.mix({a: 1.0, b: 0.0})), pure_a)
        assert torch.equal(cond(x, cond.mix({a: 0.0, b: 1.0})), pure_b)
        assert torch.equal(cond.mix({a: 2.0}), cond.style_code(a))  # weights are normalised
        steps = [cond(x, cond.mix({a: 1 - t, b: t})) for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    gaps = [(s - pure_a).abs().mean().item() for s in steps]
    assert gaps[0] == 0 and all(g1 < g2 for g1, g2 in zip(gaps, gaps[1:]))  # further from A at each step


@pytest.mark.parametrize(
    "weights, match",
    [({}, "not all 0"), ({"Wesnoth": -1.0}, ">= 0"), ({"Wesnoth": 0.0}, "not all 0"),
     ({"Wesnoth": float("nan")}, ">= 0"), ({"Nope": 1.0}, "unknown style 'Nope'")],
)  # fmt: skip
def test_bad_mixes_are_refused(weights, match):
    with pytest.raises(ValueError, match=match):
        StyleConditionedGenerator(STYLES).mix(weights)


def test_per_picture_codes_and_bad_codes():
    cond = _trained_heads(StyleConditionedGenerator(STYLES)).eval()
    x = _photo(7)
    codes = torch.stack([cond.style_code(STYLES[0]), cond.style_code(STYLES[2])])
    with torch.no_grad():
        both = cond(x, codes)
        assert torch.allclose(both[:1], cond(x[:1], codes[0]), atol=1e-5)
        assert torch.allclose(both[1:], cond(x[1:], codes[1]), atol=1e-5)
    with pytest.raises(ValueError, match="style code must be"):
        cond(x, torch.zeros(3))
    assert all(cond.get_submodule(n).modulation is None for n in cond.norm_names)  # reset after an error


def test_encoder_is_deterministic_and_order_free():
    stats = torch.rand(4, REF_STATS_DIM, generator=torch.Generator().manual_seed(0))
    a, b = StyleConditionedGenerator(STYLES), StyleConditionedGenerator(STYLES)
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        code = a.reference_code(stats)
        assert code.shape == (a.code_dim,)
        assert torch.equal(code, a.reference_code(stats))
        assert torch.equal(code, b.reference_code(stats))
        assert torch.allclose(code, a.reference_code(stats.flip(0)), atol=1e-6)  # references are a set
        assert not torch.allclose(code, a.reference_code(stats[:1]), atol=1e-4)
    with pytest.raises(ValueError, match="StyleEncoder expects"):
        StyleEncoder()(torch.zeros(0, REF_STATS_DIM))


def test_a_reference_code_is_the_encoders_weighted_mean_of_the_named_codes():
    g = StyleConditionedGenerator(STYLES)
    stats = torch.rand(3, REF_STATS_DIM, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        w = g.reference_weights(stats)
        assert list(w) == list(STYLES) and all(v >= 0 for v in w.values())
        assert abs(sum(w.values()) - 1) < 1e-6
        by_hand = sum(w[n] * g.style_code(n) for n in STYLES)
        assert torch.allclose(g.reference_code(stats), by_hand, atol=1e-6)
        # each picture votes alike: two pictures give the mean of their single-picture weights
        one, two = g.reference_weights(stats[:1]), g.reference_weights(stats[1:2])
        both = g.reference_weights(stats[:2])
        assert all(abs(both[n] - (one[n] + two[n]) / 2) < 1e-6 for n in STYLES)
        # an encoder sure of one style gives exactly that style's code
        last = g.encoder.net[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.0, 60.0, 0.0]))
        assert torch.allclose(g.reference_code(stats), g.style_code(STYLES[1]), atol=1e-6)
        assert g.reference_weights(stats)[STYLES[1]] > 1 - 1e-6


def test_duplicate_style_names_are_refused():
    with pytest.raises(ValueError, match="must differ"):
        StyleConditionedGenerator(["a", "a"])


def test_the_bundled_styles_meet_their_measured_acceptance():
    """weights/styles_eval.json (tools/evaluate_multistyle.py, 512 px, full sets) is of the shipped file
    and says: each style nearest its own set, each mix between its pure styles, and the reference
    path on held-out pictures nearest their own set."""
    import json

    from animegan_edu.files import sha256_file
    from animegan_edu.resources import data_dir
    from animegan_edu.weights.conditioned import bundled_styles_path, get_conditioned

    ev = json.loads((data_dir("weights") / "styles_eval.json").read_text())
    assert ev["weights_sha256"] == sha256_file(bundled_styles_path()) and ev["size"] == 512
    names = list(get_conditioned("styles").style_names)
    assert len(names) >= 3 and set(ev["styles"]) == set(names)
    for n in names:
        d = ev["styles"][n]["distance"]
        assert min(d, key=d.__getitem__) == n, (n, d)
        assert ev["styles"][n]["edge_corr"] >= 0.5, n
        ref = ev["reference_path"][n]
        assert ref["nearest"] == n and ref["held_out"] >= 10, (n, ref)
        assert max(ref["weights"], key=ref["weights"].__getitem__) == n, (n, ref["weights"])
    assert len(ev["mixes"]) == len(names) * (len(names) - 1) // 2
    for pair, m in ev["mixes"].items():
        assert m["between_in_output_space"] and m["between_in_lean"], pair
