"""Hygiene of the committed notebooks: no stored errors, no internal wording, a standard ending,
figures readable on a projector, code lines that fit on the screen."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from gan_answers import TOPICS
from PIL import Image

from animegan_edu.viz import MIN_DPI, MIN_PICTURE_PX

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
IMAGE_TYPES = ("image/png", "image/jpeg")
MAX_CODE_LINE = 100  # characters; a longer line runs off the right edge of a projected notebook
URL = re.compile(r"https?://")
INTERNAL = re.compile(r"\bFACTS\b|(?i:\bthe issue\b|\bissue's|\bthis session\b)")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def test_notebooks_found() -> None:
    assert len(NOTEBOOKS) >= 9
    assert {p.name[:2] for p in NOTEBOOKS} >= {f"{i:02d}" for i in range(9)}
    assert {p.stem for p in SOURCES} >= {p.stem for p in NOTEBOOKS}, "every notebook has its .py source"


def _stored_images(path: Path):
    """(cell index, mime type, PIL image) of every picture stored in the notebook's outputs."""
    for i, cell in enumerate(_cells(path)):
        for out in cell.get("outputs", []):
            for mime in IMAGE_TYPES:
                data = out.get("data", {}).get(mime)
                if data:
                    raw = base64.b64decode(data if isinstance(data, str) else "".join(data))
                    yield i, mime, Image.open(io.BytesIO(raw))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_figures_are_readable(path: Path) -> None:
    """Every stored figure: at least 100 dpi and at least 256 px tall.

    matplotlib (also through the inline backend) records its dpi in the file: the PNG
    pHYs chunk, the JPEG JFIF density; PIL reads either as ``info["dpi"]``.
    """
    bad = []
    for i, mime, im in _stored_images(path):
        dpi = im.info.get("dpi")
        if not dpi:
            bad.append(f"cell {i}: {mime} {im.width}x{im.height} records no dpi (no pHYs/JFIF density)")
        elif min(dpi) < MIN_DPI - 0.5:
            bad.append(f"cell {i}: {mime} at {min(dpi):.0f} dpi (< {MIN_DPI})")
        if im.height < MIN_PICTURE_PX:
            bad.append(f"cell {i}: {mime} {im.width}x{im.height} px is under {MIN_PICTURE_PX} px tall")
    assert not bad, f"{path.name}: figures too small for a projector:\n" + "\n".join(bad)


def _code_lines(path: Path):
    """(line number, text) of the code lines of a jupytext percent source (markdown cells skipped)."""
    in_markdown = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line or "[md]" in line
            continue
        if n == 1 or not in_markdown:
            yield n, line


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_code_lines_fit_on_screen(path: Path) -> None:
    long = [
        f"line {n}: {len(t)} chars"
        for n, t in _code_lines(path)
        if len(t) > MAX_CODE_LINE and not URL.search(t)
    ]
    assert not long, f"{path.name}: code lines over {MAX_CODE_LINE} characters:\n" + "\n".join(long)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_stored_errors(path: Path) -> None:
    for i, cell in enumerate(_cells(path)):
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"cell {i}: stored {out.get('ename')}"
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                assert "Traceback" not in "".join(out.get("text", "")), f"cell {i}: traceback on stderr"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_internal_wording(path: Path) -> None:
    for i, cell in enumerate(_cells(path)):
        m = INTERNAL.search(_source(cell))
        assert m is None, f"cell {i} says {m.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ends_with_summary_references_exercises(path: Path) -> None:
    cells = _cells(path)
    headings = [
        (i, line[3:].strip())
        for i, c in enumerate(cells)
        if c["cell_type"] == "markdown"
        for line in _source(c).splitlines()
        if line.startswith("## ")
    ]
    assert [h for _, h in headings[-3:]] == ["Summary", "References", "Exercises"], headings[-3:]
    start = headings[-1][0]
    calls = {
        m
        for c in cells[start:]
        if c["cell_type"] == "code"
        for m in re.findall(r"(?:exercises|projects)\.(check_\w+)\(", _source(c))
    }
    assert len(calls) >= 2, calls
    checkers = {
        name
        for m in TOPICS
        for name in m.__all__
    }
    assert calls <= checkers, calls - checkers
    refs = _source(cells[headings[-2][0]])
    assert "AnimeGANv2技术揭秘" in refs, "the article is cited by its title"
