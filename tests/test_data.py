"""Data: edge smoothing, colour offset, the demo style, the seeded dataset (prepare-demo: test_demoset.py)."""

import pytest
import torch

from animegan_edu.data import dataset as D


def _step_image(h=32, w=32):
    x = torch.zeros(1, 3, h, w)
    x[..., w // 2 :] = 1.0
    return x


def test_edge_smooth_shape_and_range():
    x = torch.rand(2, 3, 24, 40)
    y = D.edge_smooth(x)
    assert y.shape == x.shape
    assert y.min() >= 0 and y.max() <= 1


def test_edge_smooth_leaves_flat_regions_alone():
    flat = torch.full((1, 3, 32, 32), 0.4)
    assert torch.equal(D.edge_smooth(flat), flat)


def test_edge_smooth_blurs_only_near_edges():
    x = _step_image()
    y = D.edge_smooth(x, dilate=3)
    changed = (y - x).abs().sum(1)[0] > 1e-6
    cols = changed.any(0).nonzero().flatten()
    assert len(cols) > 0
    assert cols.min() >= 16 - 4 and cols.max() <= 16 + 3  # a narrow band around the step
    assert torch.equal(D.EdgeSmooth(dilate=3)(x), y)


def test_edge_smooth_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        D.edge_smooth(torch.rand(3, 8, 8))


def test_colour_offset_by_hand():
    img = torch.stack([torch.full((4, 4), 0.6), torch.full((4, 4), 0.4), torch.full((4, 4), 0.2)])
    off = D.colour_offset([img])
    assert torch.allclose(off, torch.tensor([0.2, 0.0, -0.2]), atol=1e-6)
    assert off.sum().abs() < 1e-6
    # relative to a reference with the same tint: no offset
    assert torch.allclose(D.colour_offset([img], reference=[img]), torch.zeros(3), atol=1e-6)


def test_cartoonize_changes_image_and_stays_in_range():
    torch.manual_seed(0)
    ramp = torch.linspace(0.2, 0.8, 32).view(1, 1, 1, 32).expand(1, 3, 32, 32)
    x = (ramp + 0.05 * torch.randn(1, 3, 32, 32)).clamp(0, 1)  # a noisy photo-like gradient
    y = D.cartoonize(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    assert (y - x).abs().mean() > 0.02
    # flatter: less high-frequency energy than the noisy input
    assert D.kornia.filters.laplacian(y, 3).abs().mean() < D.kornia.filters.laplacian(x, 3).abs().mean()


def test_dataset_batches_are_a_function_of_step(tiny_dataset):
    ds = D.AnimeDataset(tiny_dataset, "Demo", paired=True)
    a = ds.batch(5, 2, 32, seed=1)
    b = ds.batch(5, 2, 32, seed=1)
    c = ds.batch(6, 2, 32, seed=1)
    r = ds.batch(5, 2, 32, seed=1, rank=1)
    assert torch.equal(a.photo, b.photo) and torch.equal(a.style, b.style)
    assert not torch.equal(a.photo, c.photo)
    assert not torch.equal(a.photo, r.photo)
    for t in (a.photo, a.style, a.smooth, a.style_gray, a.target):
        assert t.shape == (2, 3, 32, 32)
        assert t.min() >= -1 and t.max() <= 1
    assert torch.equal(a.style_gray[:, 0], a.style_gray[:, 1])  # grey: equal channels


def test_dataset_paired_targets_are_aligned(tmp_path):
    """With paired/ equal to the photos, every target crop equals its photo crop."""
    import shutil

    from tests.conftest import make_tiny_dataset

    root = make_tiny_dataset(tmp_path / "d")
    shutil.rmtree(root / "Demo" / "paired")
    shutil.copytree(root / "train_photo", root / "Demo" / "paired")
    ds = D.AnimeDataset(root, "Demo", paired=True)
    for step in range(4):
        b = ds.batch(step, 3, 24)
        assert torch.equal(b.photo, b.target)


def test_dataset_errors_name_the_folder(tmp_path, tiny_dataset):
    with pytest.raises(D.DataError, match="train_photo"):
        D.AnimeDataset(tmp_path / "nowhere", "Demo")
    (tiny_dataset / "train_photo" / "p0.png").write_bytes(b"not a png")
    with pytest.raises(D.DataError, match="p0.png"):
        D.AnimeDataset(tiny_dataset, "Demo")
