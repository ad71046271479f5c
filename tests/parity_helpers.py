"""Parity checks shared by the tests (and reusable on other fixtures).

``assert_parity(sd_path, in_path, out_path)`` loads a state dict into the library's
generator and checks its output against a stored one; ``assert_tf_converts_to`` checks
that a TF checkpoint converts to exactly a stored state dict. Both take any paths, so
the same checks run on fixtures the tests have never seen:

    ANIMEGAN_EDU_SHARED=/elsewhere pytest tests/test_models.py tests/test_tf_checkpoint.py
"""

from __future__ import annotations

from pathlib import Path

import torch

from animegan_edu.models import Generator

TOLERANCE = 1e-5


def assert_parity(
    sd_path: Path, in_path: Path, out_path: Path, upsample: str = "align_corners", atol: float = TOLERANCE
) -> float:
    """Load ``sd_path`` strictly into ``Generator(upsample)``; its output on ``in_path`` must match
    ``out_path``.

    Returns the maximum absolute difference (asserted ``<= atol``).
    """
    state = torch.load(sd_path, map_location="cpu", weights_only=True)
    x = torch.load(in_path, map_location="cpu", weights_only=True)
    expected = torch.load(out_path, map_location="cpu", weights_only=True)
    return assert_state_dict_parity(state, x, expected, upsample, atol)


def assert_state_dict_parity(
    state, x: torch.Tensor, expected: torch.Tensor, upsample: str = "align_corners", atol: float = TOLERANCE
) -> float:
    g = Generator(upsample=upsample)
    g.load_state_dict(state, strict=True)
    g.eval()
    with torch.no_grad():
        y = g(x.float())
    assert y.shape == expected.shape, f"output shape {tuple(y.shape)} != stored {tuple(expected.shape)}"
    err = (y - expected).abs().max().item()
    assert err <= atol, f"max abs difference {err:.3g} > {atol}"
    return err


def parity_cases(parity_dir: Path) -> list[tuple[list[Path], Path, Path]]:
    """Every ``(candidate state dicts, input, output)`` case of a parity folder.

    Inputs and outputs pair by their suffix (``input_<tag>.pt`` / ``output_<tag>.pt`` or
    ``output_<name>_<tag>.pt``). With one ``generator_*.pt`` it is the only candidate; with
    several, those whose name contains ``<name>``, else all of them (one must match).
    """
    gens = sorted(parity_dir.glob("generator_*.pt"))
    cases = []
    for inp in sorted(parity_dir.glob("input_*.pt")):
        tag = inp.name[len("input_") :]
        for out in sorted(parity_dir.glob(f"output_*{tag}")):
            middle = out.name[len("output_") : -len(tag)].strip("_")
            named = [g for g in gens if middle and middle in g.stem]
            cands = named or gens
            if cands:
                cases.append((cands, inp, out))
    return cases


def assert_parity_any(
    candidates: list[Path], in_path: Path, out_path: Path, upsample: str = "align_corners"
) -> float:
    """:func:`assert_parity` for the first candidate state dict that fits; fails if none does."""
    errors = []
    for sd in candidates:
        try:
            return assert_parity(sd, in_path, out_path, upsample)
        except AssertionError as exc:
            errors.append(f"{sd.name}: {exc}")
    raise AssertionError(f"no state dict reproduces {out_path.name}: " + "; ".join(errors))
