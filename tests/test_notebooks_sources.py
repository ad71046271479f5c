"""Every notebook has one source of truth: its jupytext percent-format ``.py`` twin.

``notebooks/NN_name.py`` is what you edit; ``notebooks/NN_name.ipynb`` is the same cells plus
the outputs stored by the last execution. These tests fail when a pair disagrees (someone
edited one side only). Fix it with::

    jupytext --sync notebooks/*.ipynb

(the newer file of each pair wins), then re-execute the notebook you changed (see README,
"Editing a notebook"). They also fail when a notebook is missing from the README's notebooks
table or the teaching guide's, or when a table names a notebook that does not exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
FIX = "run `jupytext --sync notebooks/*.ipynb` (then re-execute the notebook you changed)"


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


#: A row of a markdown table whose first cell names a notebook: | `NN_name` | ...
TABLE_ROW = re.compile(r"^\| `(\d\d_\w+)` \|", re.MULTILINE)


def table_notebooks(markdown: str) -> list[str]:
    """Notebook names (``NN_name``) in the first column of the markdown tables of a document, in order."""
    return TABLE_ROW.findall(markdown)


def test_notebooks_found():
    assert len(IPYNBS) >= 10, f"{len(IPYNBS)} notebooks in {NOTEBOOKS}, expected the ten of the course"
    assert {p.stem for p in IPYNBS} == {p.stem for p in SOURCES}, (
        f".ipynb without .py: {sorted({p.stem for p in IPYNBS} - {p.stem for p in SOURCES})}; "
        f".py without .ipynb: {sorted({p.stem for p in SOURCES} - {p.stem for p in IPYNBS})}; {FIX}"
    )


@pytest.mark.parametrize("doc", ["README.md", "docs/teaching.md"])
def test_tables_list_every_notebook(doc: str):
    """The notebooks table of the README and of the teaching guide: every notebook once, nothing else."""
    named = table_notebooks((ROOT / doc).read_text(encoding="utf-8"))
    have = sorted(p.stem for p in IPYNBS)
    assert sorted(set(named)) == have, (
        f"{doc}: its tables name {sorted(set(named) - set(have))} that do not exist "
        f"and miss {sorted(set(have) - set(named))}"
    )
    first_table = named[: len(have)]
    assert first_table == have, f"{doc}: the first notebooks table lists {first_table}, not {have} in order"


def test_table_check_can_fail():
    """The table parser sees a row, so a missing or extra notebook cannot pass unnoticed."""
    table = "| notebook | what |\n|---|---|\n| `00_quickstart` | a |\n| `99_nothing` | b |\n| all | c |"
    assert table_notebooks(table) == ["00_quickstart", "99_nothing"]
    assert table_notebooks("text `00_quickstart` in prose") == []


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.name)
def test_every_source_has_its_notebook(py: Path):
    assert py.with_suffix(".ipynb").exists(), f"{py.name} has no {py.stem}.ipynb; {FIX}"


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.name)
def test_pair_agrees(ipynb: Path):
    py = ipynb.with_suffix(".py")
    assert py.exists(), (
        f"{ipynb.name} has no percent-format source {py.name}; "
        f"run `jupytext --set-formats ipynb,py:percent {ipynb.relative_to(NOTEBOOKS.parent)}`"
    )
    nb = nbformat.read(ipynb, as_version=4)
    formats = nb.metadata.get("jupytext", {}).get("formats", "")
    assert formats == "ipynb,py:percent", (
        f"{ipynb.name}: jupytext formats are {formats!r}, not 'ipynb,py:percent'"
    )
    want = _cells(jupytext.read(py))
    have = _cells(nb)
    for i, (w, h) in enumerate(zip(want, have)):
        assert w == h, (
            f"{ipynb.name} and {py.name} differ at cell {i} ({h[0]} in the .ipynb, {w[0]} in the .py): "
            f".ipynb starts {h[1][:60]!r}, .py starts {w[1][:60]!r}; {FIX}"
        )
    assert len(want) == len(have), f"{py.name} has {len(want)} cells, {ipynb.name} {len(have)}; {FIX}"
