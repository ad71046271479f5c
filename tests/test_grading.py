"""animegan_edu.inference.grading: shapes, ranges, invariants, errors, module == function, gradcheck."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from animegan_edu.inference import grading as G
from animegan_edu.inference import grading_modules as GM


def _img(n: int = 2, h: int = 24, w: int = 32, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 3, h, w, generator=g, dtype=dtype)


# --------------------------------------------------------------------------- presets


def test_neutral_preset_is_exact_identity():
    x = _img()
    assert G.PRESETS["neutral"].is_identity()
    assert torch.equal(G.color_grade(x, "neutral"), x)
    assert torch.equal(G.color_grade(x[0], G.PRESETS["neutral"]), x[0])
    assert torch.equal(GM.ColorGrade("neutral")(x), x)


def test_shinkai_changes_image_and_stays_in_range():
    x = _img()
    y = G.color_grade(x, "shinkai")
    assert y.shape == x.shape
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    assert float((y - x).abs().mean()) > 0.01


def test_shinkai_cools_a_grey_picture_blue_not_red():
    # The article's bug boosted channel 0 (red) as if it were blue; the preset must raise blue.
    grey = torch.full((1, 3, 16, 16), 0.4)
    y = G.color_grade(grey, G.PRESETS["shinkai"].replace(glow=0.0, clahe=0.0))
    r, g, b = (float(y[0, c].mean()) for c in range(3))
    assert b > g > r


def test_scaled_interpolates_from_neutral():
    p = G.PRESETS["shinkai"]
    assert p.scaled(0.0).is_identity()
    assert p.scaled(1.0) == p
    half = p.scaled(0.5)
    assert half.contrast == pytest.approx(p.contrast / 2)
    assert half.gains[2] == pytest.approx(1 + (p.gains[2] - 1) / 2)


def test_unknown_preset_and_bad_params():
    with pytest.raises(KeyError, match="shinkai"):
        G.color_grade(_img(), "hayao")
    with pytest.raises(ValueError):
        G.GradeParams(gains=(1.0, 1.0))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        G.GradeParams(clahe=2.0)
    with pytest.raises(ValueError):
        G.GradeParams(glow_mode="multiply")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- single operations


def test_channel_gains_follow_rgb_order():
    x = torch.full((1, 3, 2, 2), 0.5)
    y = G.channel_gains(x, (1.0, 1.0, 1.2))
    assert torch.allclose(y[0, :, 0, 0], torch.tensor([0.5, 0.5, 0.6]))
    per_image = G.channel_gains(_img(2), torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]))
    assert torch.equal(per_image[1], torch.zeros_like(per_image[1]))
    assert float(G.channel_gains(torch.ones(1, 3, 2, 2), (2.0, 2.0, 2.0)).max()) == 1.0  # clipped


def test_sigmoid_contrast_fixed_points_and_monotone():
    ramp = torch.linspace(0, 1, 101).view(1, 1, 1, -1).expand(1, 3, 1, 101).contiguous()
    for k in (0.5, 3.0, 8.0):
        y = G.sigmoid_contrast(ramp, k)[0, 0, 0]
        assert float(y[0]) == pytest.approx(0.0, abs=1e-6)
        assert float(y[-1]) == pytest.approx(1.0, abs=1e-6)
        assert float(y[50]) == pytest.approx(0.5, abs=1e-6)
        assert bool((y[1:] >= y[:-1]).all())
        assert float(y[25]) < 0.25 < 0.75 < float(y[75])  # an S: darker shadows, brighter highlights
    assert torch.equal(G.sigmoid_contrast(ramp, 0.0), ramp)
    # tiny slopes approach the straight line continuously
    assert torch.allclose(G.sigmoid_contrast(ramp, torch.tensor(1e-6)), ramp, atol=1e-4)


def test_saturation_zero_is_grey_one_is_identity():
    x = _img()
    grey = G.adjust_saturation_luma(x, 0.0)
    assert float(grey.std(dim=1).max()) < 1e-6
    assert torch.allclose(grey[:, :1], G.luma(x))
    assert torch.equal(G.adjust_saturation_luma(x, 1.0), x)
    more = G.adjust_saturation_luma(x, 1.5)
    assert float((more - G.luma(more)).abs().mean()) > float((x - G.luma(x)).abs().mean())


def test_clahe_luma_keeps_hue_roughly_and_raises_local_contrast():
    # a low-contrast image: values squeezed into [0.4, 0.6]
    x = 0.4 + 0.2 * _img(1, 64, 64)
    y = G.clahe_luma(x, 1.0, clip_limit=4.0)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert float(G.luma(y).std()) > float(G.luma(x).std())
    assert torch.equal(G.clahe_luma(x, 0.0), x)
    half = G.clahe_luma(x, 0.5, clip_limit=4.0)
    assert float(G.luma(x).std()) < float(G.luma(half).std()) < float(G.luma(y).std())


def test_glow_brightens_only_near_highlights():
    x = torch.full((1, 3, 64, 64), 0.2)
    x[..., 28:36, 28:36] = 1.0  # a bright square in a dark room
    mask = G.glow_mask(x, threshold=0.3, radius=0.05)
    assert mask.shape == (1, 1, 64, 64)
    assert float(mask[0, 0, 32, 32]) > 0 and float(mask[0, 0, 2, 2]) == 0.0
    for mode in ("screen", "add"):
        y = G.glow(x, 0.8, threshold=0.3, radius=0.05, mode=mode)
        assert float(y.max()) <= 1.0
        assert float(y[0, 0, 32, 37]) > 0.2 + 1e-3  # light spills beside the square
        assert float(y[0, 0, 2, 2]) == pytest.approx(0.2, abs=1e-6)  # the far corner is untouched
    assert torch.equal(G.glow(x, 0.0), x)


def test_screen_never_exceeds_add():
    x = _img(1, 32, 32)
    s = G.glow(x, 1.0, threshold=0.2, mode="screen")
    a = G.glow(x, 1.0, threshold=0.2, mode="add")
    assert bool((s <= a + 1e-6).all())
    assert bool((s >= x - 1e-6).all())


def test_blend_strength_endpoints_and_errors():
    p, s = _img(2), _img(2).flip(-1)
    assert torch.equal(G.blend_strength(p, s, 0.0), p)
    assert torch.allclose(G.blend_strength(p, s, 1.0), s)
    assert torch.allclose(G.blend_strength(p, s, 0.5), (p + s) / 2)
    per = G.blend_strength(p, s, torch.tensor([0.0, 1.0]))
    assert torch.equal(per[0], p[0]) and torch.allclose(per[1], s[1])
    with pytest.raises(ValueError, match="strength"):
        G.blend_strength(p, s, 1.5)
    with pytest.raises(ValueError, match="same shape"):
        G.blend_strength(p, s[:1], 0.5)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: G.channel_gains(x, (1, 1, 1)),
        lambda x: G.sigmoid_contrast(x, 2.0),
        lambda x: G.adjust_saturation_luma(x, 1.2),
        lambda x: G.glow(x, 0.3),
        lambda x: G.color_grade(x, "shinkai"),
        G.luma,
    ],
)
def test_input_checks(fn):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        fn(torch.rand(1, 4, 8, 8))
    with pytest.raises(TypeError):
        fn(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


def test_batch_equals_per_image():
    x = _img(3, 32, 32)
    batch = G.color_grade(x, "shinkai")
    single = torch.cat([G.color_grade(x[i : i + 1], "shinkai") for i in range(3)])
    assert torch.allclose(batch, single, atol=1e-6)


def test_modules_equal_functions():
    x = _img(2, 32, 32)
    assert torch.equal(GM.ChannelGains((1.0, 1.1, 1.2))(x), G.channel_gains(x, (1.0, 1.1, 1.2)))
    assert torch.equal(GM.SigmoidContrast(3.0)(x), G.sigmoid_contrast(x, 3.0))
    assert torch.equal(GM.SaturationLuma(1.3)(x), G.adjust_saturation_luma(x, 1.3))
    assert torch.equal(GM.ClaheLuma(0.5)(x), G.clahe_luma(x, 0.5))
    assert torch.equal(GM.Glow(0.4, 0.5)(x), G.glow(x, 0.4, 0.5))
    assert torch.equal(GM.ColorGrade("shinkai")(x), G.color_grade(x, "shinkai"))
    assert torch.equal(GM.BlendStrength(0.3)(x, x.flip(-1)), G.blend_strength(x, x.flip(-1), 0.3))


# --------------------------------------------------------------------------- gradients


def _interior(n: int = 1, h: int = 8, w: int = 8) -> torch.Tensor:
    # values away from 0 and 1 so the final clamps are inactive (they have no gradient at the kink)
    g = torch.Generator().manual_seed(3)
    return (0.3 + 0.4 * torch.rand(n, 3, h, w, generator=g, dtype=torch.float64)).requires_grad_()


def test_gradcheck_image_paths():
    x = _interior()
    assert gradcheck(lambda t: G.channel_gains(t, (0.9, 1.0, 1.1)), (x,))
    assert gradcheck(lambda t: G.sigmoid_contrast(t, 3.0), (x,))
    assert gradcheck(lambda t: G.adjust_saturation_luma(t, 1.1), (x,))
    # threshold 0 keeps the soft-threshold ramp away from its kink at these values
    assert gradcheck(lambda t: G.glow(t, 0.2, threshold=0.0, radius=0.2), (x,))
    assert gradcheck(lambda t: G.blend_strength(t, 1.0 - t, 0.3), (x,))


def test_gradcheck_parameters():
    x = _interior().detach()
    gains = torch.tensor([0.9, 1.0, 1.1], dtype=torch.float64, requires_grad=True)
    k = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    s = torch.tensor(1.1, dtype=torch.float64, requires_grad=True)
    a = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda g: G.channel_gains(x, g), (gains,))
    assert gradcheck(lambda t: G.sigmoid_contrast(x, t), (k,))
    assert gradcheck(lambda t: G.adjust_saturation_luma(x, t), (s,))
    assert gradcheck(lambda t: G.glow(x, t, threshold=0.0, radius=0.2), (a,))


def test_learnable_gains_receive_gradients():
    module = GM.ChannelGains(learnable=True)
    x = _img(1, 8, 8) * 0.5
    module(x).mean().backward()
    assert module.gains.grad is not None and float(module.gains.grad.abs().sum()) > 0


def test_clahe_fast_path_has_no_gradient_but_slow_path_does():
    # kornia's fast CLAHE counts integer histogram bins: no gradient reaches the image.
    x = _interior(1, 16, 16)
    y = G.clahe_luma(x, 1.0, grid_size=(2, 2), differentiable=True)
    y.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


# --------------------------------------------------------------------------- non-finite parameters


NON_FINITE = [float("inf"), float("-inf"), float("nan")]


@pytest.mark.parametrize("bad", NON_FINITE)
@pytest.mark.parametrize(
    "field",
    ["contrast", "saturation", "clahe", "clahe_clip", "glow", "glow_threshold", "glow_radius", "gains"],
)
def test_grade_params_refuse_non_finite(field, bad):
    """Defect: GradeParams(glow=inf) was accepted (``inf < 0`` is False) and graded to a black image."""
    value = (1.0, bad, 1.0) if field == "gains" else bad
    with pytest.raises(ValueError, match="finite"):
        G.GradeParams(**{field: value})


@pytest.mark.parametrize("bad", NON_FINITE)
def test_operations_refuse_non_finite_parameters(bad):
    x = _img(1, 16, 16)
    calls = [
        lambda: G.glow(x, bad),
        lambda: G.glow(x, 0.3, radius=bad),
        lambda: G.glow_mask(x, radius=bad),
        lambda: G.sigmoid_contrast(x, bad),
        lambda: G.adjust_saturation_luma(x, bad),
        lambda: G.channel_gains(x, (1.0, bad, 1.0)),
        lambda: G.clahe_luma(x, bad),
        lambda: G.blend_strength(x, x, bad),
        lambda: G.PRESETS["shinkai"].scaled(bad),
        lambda: G.glow(x, torch.tensor(bad)),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(ValueError, match="finite|in \\[0, 1\\]"):
            call()
            pytest.fail(f"call {i} accepted {bad}")


def test_glow_inf_no_longer_gives_a_black_image():
    x = _img(1, 16, 16)
    with pytest.raises(ValueError, match="finite"):
        G.color_grade(x, G.PRESETS["neutral"].replace(glow=float("inf")))


def test_glow_threshold_is_relative_to_the_images_white_point():
    """Defect: a stylised frame whose lights top out near luma 0.4 never glowed (fixed threshold 0.7)."""
    dim = torch.full((1, 3, 64, 64), 0.1)
    dim[..., 24:40, 24:40] = 0.4  # the brightest thing in a dark picture
    assert float(G.glow_mask(dim, threshold=0.7)[0, 0, 32, 32]) == pytest.approx(1.0)  # its own white point
    y = G.glow(dim, 1.0, threshold=0.7)
    assert float((y - dim).abs().max()) > 0.1 and float(y[0, 0, 2, 2]) == pytest.approx(0.1, abs=1e-6)
    assert torch.equal(G.glow(dim, 0.0), dim)  # 0 is still exactly the identity
    # a flat picture has no highlights at all
    flat = torch.full((1, 3, 32, 32), 0.5)
    assert float(G.glow_mask(flat).max()) == 0.0 and torch.equal(G.glow(flat, 1.5), flat)
    # with real whites (white point 1) it is the absolute ramp (Y - t) / (1 - t)
    x = torch.full((1, 3, 64, 64), 0.2)
    x[..., 20:44, 20:44] = 1.0
    blurred_luma = G.luma(G._gaussian_blur(x, 0.02))
    expected = ((blurred_luma - 0.3) / 0.7).clamp(0, 1)
    assert torch.allclose(G.glow_mask(x, threshold=0.3), expected, atol=1e-5)
    # thresholds are per image in a batch
    both = torch.cat([dim, x])
    assert torch.allclose(G.glow_mask(both, 0.7), torch.cat([G.glow_mask(dim, 0.7), G.glow_mask(x, 0.7)]))
