"""The system diagram names modules and notebooks that exist."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from animegan_edu.teaching import overview

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("box", overview.BOXES, ids=lambda b: b.key)
def test_box_names_real_modules_and_notebooks(box: overview.Box) -> None:
    for mod in box.modules:
        importlib.import_module(f"animegan_edu.{mod}")
    for nb in box.notebooks:
        assert list((ROOT / "notebooks").glob(f"{nb}_*.ipynb")), f"{box.key}: no notebook {nb}"


def test_arrows_join_known_boxes() -> None:
    keys = {b.key for b in overview.BOXES}
    assert {a for a, _, _ in overview.ARROWS} | {b for _, b, _ in overview.ARROWS} <= keys
    # every box is connected to the picture
    assert keys == {a for a, _, _ in overview.ARROWS} | {b for _, b, _ in overview.ARROWS}


def test_save_overview_writes_a_readable_png(tmp_path: Path) -> None:
    from PIL import Image

    out = overview.save_overview(tmp_path / "o.png")
    with Image.open(out) as im:
        assert im.height >= 256
        assert round(im.info["dpi"][0]) >= 100


def test_committed_overview_is_current() -> None:
    """docs/overview.png exists (re-make it with python -m animegan_edu.teaching.overview docs/overview.png)."""
    assert (ROOT / "docs" / "overview.png").stat().st_size > 10_000
