"""Every notebook has one source of truth: its jupytext percent-format ``.py`` twin.

``notebooks/NN_name.py`` is what you edit; ``notebooks/NN_name.ipynb`` is the same cells plus
the outputs stored by the last execution. These tests fail when a pair disagrees (someone
edited one side only). Fix it with::

    jupytext --sync notebooks/*.ipynb

(the newer file of each pair wins), then re-execute the notebook you changed (see README,
"Editing a notebook").
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
FIX = "run `jupytext --sync notebooks/*.ipynb` (then re-execute the notebook you changed)"


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def test_notebooks_found():
    assert IPYNBS, f"no notebooks in {NOTEBOOKS}"


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
