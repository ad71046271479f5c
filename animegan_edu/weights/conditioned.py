"""Files of style-conditioned generators (:class:`~animegan_edu.conditioned.StyleConditionedGenerator`).

A safetensors state dict whose metadata names the styles (``styles``, a JSON list) and the
code size (``code_dim``), with its SHA-256 in ``<file>.sha256`` beside it. Reading checks the
hash first; a missing hash is a refusal, as for every weights file of the toolkit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from animegan_edu.conditioned import StyleConditionedGenerator
from animegan_edu.files import atomic_write, sha256_file, write_sidecar
from animegan_edu.weights.files import ArchitectureError, IntegrityError, read_safetensors, require_sidecar

__all__ = ["save_conditioned", "load_conditioned"]

FORMAT = "animegan-edu style-conditioned generator"


def save_conditioned(model: StyleConditionedGenerator, path: str | os.PathLike) -> Path:
    """Write ``model`` as safetensors (style names and code size in the metadata) and its SHA-256 sidecar.

    Example:
        >>> import tempfile
        >>> p = save_conditioned(StyleConditionedGenerator(["a"]), Path(tempfile.mkdtemp()) / "m.safetensors")
        >>> Path(str(p) + ".sha256").exists()
        True
    """
    from safetensors.torch import save_file

    meta = {"format": FORMAT,
            "styles": json.dumps(list(model.style_names)), "code_dim": str(model.code_dim)}  # fmt: skip
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    path = atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata=meta), make_folder=True)
    write_sidecar(path)
    return path


def load_conditioned(path: str | os.PathLike) -> StyleConditionedGenerator:
    """Read a :func:`save_conditioned` file, checked against its SHA-256 sidecar (missing: refused).

    Raises:
        IntegrityError: no recorded hash, a different hash, or not a style-conditioned file.
        ArchitectureError: tensors of another shape, or non-finite values.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> p = save_conditioned(StyleConditionedGenerator(["a", "b"]), folder / "m.safetensors")
        >>> load_conditioned(p).style_names
        ('a', 'b')
    """
    p = Path(path)
    want = require_sidecar(p, "write it again with save_conditioned, or take it from the package")
    if sha256_file(p) != want:
        raise IntegrityError(
            f"{p}: SHA-256 differs from the one recorded beside it; the file was changed, refused"
        )
    state, meta = read_safetensors(p)
    try:
        names, code_dim = json.loads(meta["styles"]), int(meta["code_dim"])
    except (KeyError, ValueError) as exc:
        raise IntegrityError(f"{p}: not a style-conditioned generator (its metadata lacks {exc})") from None
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(v.isfinite().all())]
    if bad:
        raise ArchitectureError(f"{p}: tensor {bad[0]} holds NaN or infinity; the file is broken, refused")
    model = StyleConditionedGenerator(names, code_dim)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
        raise ArchitectureError(f"{p}: not this network's tensors ({first})") from None
    return model.eval()
