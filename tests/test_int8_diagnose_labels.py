"""The recorded INT8 runs are shown in words: every name in them has a plain label.

``benchmarks/int8_variants*.json`` (written by ``tools/int8_variants.py``) name their sets of
weights and quantizer recipes by the script's keys; notebook 07 section 9 shows them through
:func:`animegan_edu.int8.diagnose.variants_table`, which prints
:data:`~animegan_edu.int8.diagnose.WEIGHT_SET_LABELS` and
:data:`~animegan_edu.int8.diagnose.RECIPE_LABELS` instead.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from animegan_edu.int8.diagnose import RECIPE_LABELS, WEIGHT_SET_LABELS, plain_label, variants_table

ROOT = Path(__file__).resolve().parents[1]
RUNS = sorted((ROOT / "benchmarks").glob("int8_variants*.json"))


def _names(res: dict) -> tuple[set[str], set[str]]:
    """(weight-set keys, recipe names) of one recorded run."""
    sets = set(res["quality"])
    recipes = set(res["variants"])
    for w in res["quality"].values():
        recipes |= set(w["variants"])
    recipes |= {k.split(":", 1)[1] for k in res.get("speed", {}).get("vs_onnxruntime_fp32", {}) if ":" in k}
    return sets, recipes


def test_recorded_runs_found() -> None:
    assert len(RUNS) >= 3, RUNS


@pytest.mark.parametrize("path", RUNS, ids=lambda p: p.name)
def test_every_name_in_a_recorded_run_has_a_label(path: Path) -> None:
    sets, recipes = _names(json.loads(path.read_text(encoding="utf-8")))
    assert sets <= set(WEIGHT_SET_LABELS), sorted(sets - set(WEIGHT_SET_LABELS))
    assert recipes <= set(RECIPE_LABELS), sorted(recipes - set(RECIPE_LABELS))


@pytest.mark.parametrize("path", RUNS, ids=lambda p: p.name)
def test_table_of_a_recorded_run_shows_no_script_name(path: Path) -> None:
    res = json.loads(path.read_text(encoding="utf-8"))
    table = variants_table(res)
    sets, recipes = _names(res)
    cells = {c.strip() for line in table.splitlines() for c in line.strip("|").split("|")}
    header = table.splitlines()[0]
    for name in (sets | recipes) - {"demo"}:  # "demo" is a word; its label reads "demo weights"
        assert name not in cells and f"| {name} PSNR" not in header, name


def test_every_recipe_of_the_script_has_a_label() -> None:
    """A recipe added to tools/int8_variants.py gets its label before its first run is shipped."""
    tree = ast.parse((ROOT / "tools" / "int8_variants.py").read_text(encoding="utf-8"))
    table = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "VARIANTS"
    )
    assert isinstance(table, ast.Dict)
    names = {ast.literal_eval(k) for k in table.keys}
    assert names and names <= set(RECIPE_LABELS), sorted(names - set(RECIPE_LABELS))


def test_labels_are_distinct_words() -> None:
    labels = list(WEIGHT_SET_LABELS.values()) + list(RECIPE_LABELS.values())
    assert len(set(labels)) == len(labels)
    assert all("_" not in label and "|" not in label for label in labels)


def test_unknown_name_falls_back_to_itself() -> None:
    assert plain_label("a_recipe_not_yet_labelled") == "a_recipe_not_yet_labelled"
    assert plain_label("parity_fixture") == "parity-test weights"
