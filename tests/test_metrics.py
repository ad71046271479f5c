"""animegan_edu.metrics: PSNR, SSIM, Laplacian ratio, edge correlation."""

from __future__ import annotations

import math

import pytest
import torch

from animegan_edu.metrics import edge_correlation, laplacian_ratio, psnr, ssim


def _picture(seed: int = 0, size: int = 48) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, size, size, generator=g)


@pytest.mark.parametrize(("shift", "db"), [(0.1, 20.0), (0.01, 40.0), (0.5, 6.0206)])
def test_psnr_of_a_known_shift(shift, db):
    a = torch.zeros(2, 3, 8, 8)
    assert psnr(a, a + shift) == pytest.approx(db, abs=1e-4)
    assert psnr(a + shift, a) == pytest.approx(db, abs=1e-4)  # symmetric


def test_psnr_uses_the_data_range_and_is_inf_for_equal_inputs():
    a = torch.zeros(4)
    assert psnr(a, a + 25.5, data_range=255.0) == pytest.approx(20.0, abs=1e-9)
    assert psnr(a, a) == math.inf
    assert isinstance(psnr(a, a + 0.1), float)


def test_psnr_is_the_textbook_formula_in_float64():
    a, b = _picture(1), _picture(2)
    mse = float((a.double() - b.double()).pow(2).mean())
    assert psnr(a, b) == pytest.approx(10 * math.log10(1 / mse), abs=1e-9)


def test_psnr_refuses_different_shapes():
    with pytest.raises(ValueError, match=r"equal shapes.*\(3, 4\).*\(4, 3\)"):
        psnr(torch.zeros(3, 4), torch.zeros(4, 3))


def test_ssim_is_one_for_equal_pictures_and_falls_with_damage():
    x = _picture()
    noisy = (x + 0.05 * torch.randn(x.shape, generator=torch.Generator().manual_seed(3))).clamp(0, 1)
    very = (x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(4))).clamp(0, 1)
    assert ssim(x, x) == 1.0
    assert 0 < ssim(x, very) < ssim(x, noisy) < 1
    assert ssim(x, 1 - x) < 0.5


def test_ssim_needs_two_nchw_tensors_of_one_shape():
    with pytest.raises(ValueError, match="ssim needs two"):
        ssim(torch.zeros(3, 8, 8), torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="ssim needs two"):
        ssim(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9))


def test_laplacian_ratio_measures_detail_kept():
    x = _picture()
    blurred = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    assert laplacian_ratio(x, x) == pytest.approx(1.0, abs=1e-6)
    assert laplacian_ratio(blurred, x) < 0.6
    assert laplacian_ratio(x, blurred) > 1.5
    assert math.isnan(laplacian_ratio(x, torch.full_like(x, 0.5)))  # a flat target has no detail


def test_edge_correlation_is_one_for_the_same_edges_and_zero_for_none():
    x = _picture()
    assert edge_correlation(x, x) == pytest.approx(1.0, abs=1e-9)
    assert edge_correlation(x, x * 0.5 + 0.2) == pytest.approx(1.0, abs=1e-6)  # same edges, less contrast
    assert edge_correlation(x, torch.zeros_like(x)) == 0.0
    assert abs(edge_correlation(x, _picture(7))) < 0.2  # unrelated pictures
