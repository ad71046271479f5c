"""docs/security.md names the test behind each promise: every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _defined_tests() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        found.update(re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M))
    return found


def test_every_test_named_by_the_security_promises_exists():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b(test_\w+)\b", text)) - {p.stem for p in (ROOT / "tests").glob("test_*.py")}
    assert len(named) >= 20, f"the promises table names only {len(named)} tests"
    missing = sorted(named - _defined_tests())
    assert not missing, f"docs/security.md names tests that do not exist: {', '.join(missing)}"
