"""Hygiene of the committed notebooks: no stored errors, no internal wording, a standard ending."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from animegan_edu import exercises

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
INTERNAL = re.compile(r"\bFACTS\b|(?i:\bthe issue\b|\bissue's|\bthis session\b)")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def test_notebooks_found() -> None:
    assert len(NOTEBOOKS) == 9


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
    headings = [(i, line[3:].strip()) for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                for line in _source(c).splitlines() if line.startswith("## ")]
    assert [h for _, h in headings[-3:]] == ["Summary", "References", "Exercises"], headings[-3:]
    start = headings[-1][0]
    calls = {m for c in cells[start:] if c["cell_type"] == "code"
             for m in re.findall(r"exercises\.(check_\w+)\(", _source(c))}
    assert len(calls) >= 2, calls
    assert calls <= set(exercises.__all__), calls - set(exercises.__all__)
    refs = _source(cells[headings[-2][0]])
    assert "AnimeGANv2技术揭秘" in refs, "the article is cited by its title"
