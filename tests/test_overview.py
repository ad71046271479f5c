"""The system diagram names modules and notebooks that exist, and docs/overview.png is what it draws now."""

from __future__ import annotations

import importlib
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

from animegan_edu.teaching import overview
from animegan_edu.viz import DPI

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "animegan_edu"
COMMITTED = ROOT / "docs" / "overview.png"
REMAKE = "re-make it with `python -m animegan_edu.teaching.overview docs/overview.png`"


def _source_of(dotted: str) -> Path | None:
    """The file or package folder of ``animegan_edu.<dotted>`` in the checkout, or None."""
    path = PACKAGE.joinpath(*dotted.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path
    return None


@pytest.mark.parametrize("box", overview.BOXES, ids=lambda b: b.key)
def test_box_names_real_modules_and_notebooks(box: overview.Box) -> None:
    assert box.modules, f"{box.key}: names no module"
    for mod in box.modules:
        where = _source_of(mod)
        assert where is not None, f"{box.key}: animegan_edu.{mod} is neither a module nor a subpackage"
        importlib.import_module(f"animegan_edu.{mod}")
    assert box.notebooks, f"{box.key}: names no notebook"
    for nb in box.notebooks:
        assert list((ROOT / "notebooks").glob(f"{nb}_*.ipynb")), f"{box.key}: no notebook {nb}"


def test_source_of_refuses_a_moved_module() -> None:
    """The check above fails for a name of the old flat layout (``quantize`` is ``int8.quantize`` now)."""
    assert _source_of("quantize") is None and _source_of("tf_checkpoint") is None
    assert _source_of("int8") == PACKAGE / "int8"
    assert _source_of("int8.quantize") == PACKAGE / "int8" / "quantize.py"


def test_arrows_join_known_boxes() -> None:
    keys = {b.key for b in overview.BOXES}
    ends = {a for a, _, _ in overview.ARROWS} | {b for _, b, _ in overview.ARROWS}
    assert ends <= keys, ends - keys
    assert keys == ends, f"boxes with no arrow: {keys - ends}"  # every box is connected to the picture


def test_save_overview_writes_a_readable_png(tmp_path: Path) -> None:
    out = overview.save_overview(tmp_path / "o.png")
    with Image.open(out) as im:
        assert im.height >= 256
        assert round(im.info["dpi"][0]) >= 100
        assert im.info[overview.METADATA_KEY] == overview.diagram_text()


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def test_committed_overview_is_current(tmp_path: Path) -> None:
    """docs/overview.png is what ``overview_figure`` draws now: same text, size, dpi and pixels."""
    assert COMMITTED.is_file(), f"{COMMITTED} is missing; {REMAKE}"
    with Image.open(COMMITTED) as im:
        stored_text = im.info.get(overview.METADATA_KEY)
        stored_dpi = im.info.get("dpi", (0, 0))
        software = im.info.get("Software", "")
    changed = "the boxes or arrows changed since the picture was made"
    assert stored_text == overview.diagram_text(), f"{changed}; {REMAKE}"
    assert round(stored_dpi[0]) == DPI, f"stored at {stored_dpi[0]:.0f} dpi, drawn at {DPI}; {REMAKE}"

    fresh = _rgb(overview.save_overview(tmp_path / "now.png"))
    stored = _rgb(COMMITTED)
    sizes = f"stored {stored.shape[1]}x{stored.shape[0]} px, drawn now {fresh.shape[1]}x{fresh.shape[0]}"
    assert stored.shape == fresh.shape, f"{sizes}; {REMAKE}"
    differs = float((np.abs(stored - fresh).max(axis=-1) > 48).mean())
    # The same matplotlib draws the same pixels; another version may move glyphs by a pixel.
    same_renderer = matplotlib.__version__ in software
    limit = 0.001 if same_renderer else 0.03
    assert differs <= limit, f"{differs:.2%} of the pixels differ from the diagram drawn now; {REMAKE}"
