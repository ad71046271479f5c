"""Shared test fixtures.

``shared_dir`` points at ``../shared`` (reference facts, parity fixtures, TF checkpoints).
A user's clone has no ``../shared``: tests that need it are skipped there with a reason,
and fail instead when ``CI=true`` (CI always has it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANIMEGAN_EDU_SHARED", REPO.parent / "shared"))


def _need_shared(rel: str) -> Path:
    path = SHARED / rel
    if not path.exists():
        msg = f"{path} not found (reference data lives in ../shared beside the clone)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + "; CI must have it")
        pytest.skip(msg)
    return path


@pytest.fixture
def shared_dir():
    """Return a function ``need(rel_path) -> Path`` that skips (or fails in CI) when absent."""
    return _need_shared


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield


def make_tiny_dataset(
    root: Path, n_photos: int = 3, n_style: int = 2, size: int = 48, style: str = "Demo"
) -> Path:
    """A tiny dataset in the original layout (plus ``paired``) from generated images."""
    from animegan_edu.data.dataset import cartoonize, edge_smooth
    from animegan_edu.imageio import save_png_atomic as _save_png

    gen = torch.Generator().manual_seed(0)
    for sub in ("train_photo", f"{style}/style", f"{style}/smooth", f"{style}/paired"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size + 8), indexing="ij")
    for i in range(n_photos):
        c = torch.rand(3, 1, 1, generator=gen)
        photo = (
            c * (0.5 + 0.5 * torch.sin(6 * xx + i) * yy) + 0.1 * torch.rand(3, size, size + 8, generator=gen)
        ).clamp(0, 1)
        _save_png(photo, root / "train_photo" / f"p{i}.png")
        _save_png(cartoonize(photo[None])[0], root / style / "paired" / f"p{i}.png")
    for j in range(n_style):
        s = (torch.rand(3, 1, 1, generator=gen) * (xx > 0.3 + 0.2 * j) + 0.2).clamp(0, 1).expand(3, -1, -1)
        _save_png(s, root / style / "style" / f"s{j}.png")
        _save_png(edge_smooth(s[None])[0], root / style / "smooth" / f"s{j}.png")
    return root


@pytest.fixture
def tiny_dataset(tmp_path):
    return make_tiny_dataset(tmp_path / "data")
