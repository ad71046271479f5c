"""Tiny helper to write a notebook from a list of ("md"|"code", source) cells.

Used by the builders in tools/ to (re)create notebooks; execute them afterwards with
``jupyter nbconvert --to notebook --execute --inplace``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def build(path: str | Path, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        src = src.strip("\n")
        nb.cells.append(nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src))
    nbformat.write(nb, str(path))
    print(f"wrote {path}", file=sys.stderr)
