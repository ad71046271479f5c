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
