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
from animegan_edu.resources import data_dir
from animegan_edu.weights.files import (
    ArchitectureError,
    IntegrityError,
    WeightsNotAvailableError,
    read_safetensors,
    require_sidecar,
)

__all__ = ["save_conditioned", "load_conditioned", "get_conditioned", "BUNDLED_STYLES", "bundled_styles_path"]

FORMAT = "animegan-edu style-conditioned generator"
#: the name of the bundled style-conditioned generator (``weights/styles.safetensors``; notebook 11)
BUNDLED_STYLES = "styles"


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


def bundled_styles_path() -> Path:
    """Where the bundled style-conditioned generator lives (packaged copy, else ``<checkout>/weights``).

    Example:
        >>> bundled_styles_path().name
        'styles.safetensors'
    """
    return Path(data_dir("weights")) / f"{BUNDLED_STYLES}.safetensors"


def get_conditioned(name_or_path: str | os.PathLike = BUNDLED_STYLES) -> StyleConditionedGenerator:
    """The front door for style-conditioned generators: the bundled one by name, or a file.

    Args:
        name_or_path: ``"styles"`` (the bundled generator of ``configs/multistyle.yaml``) or the
            path of a :func:`save_conditioned` file (``animegan-edu train-styles`` writes one).

    Raises:
        WeightsNotAvailableError: neither a known name nor an existing file (one line).
        IntegrityError, ArchitectureError: as :func:`load_conditioned`.

    Example:
        >>> g = get_conditioned()
        >>> "Hedgewars" in g.style_names
        True
    """
    if str(name_or_path).lower() == BUNDLED_STYLES:
        path = bundled_styles_path()
        if not path.is_file():
            raise WeightsNotAvailableError(
                f"{path}: the bundled style-conditioned generator is missing; reinstall the package, "
                "or train one with animegan-edu train-styles and pass its file"
            )
        return load_conditioned(path)
    path = Path(name_or_path)
    if not path.is_file():
        raise WeightsNotAvailableError(
            f"{path}: no such file; use {BUNDLED_STYLES!r} (bundled) or a style-conditioned "
            ".safetensors file (animegan-edu train-styles writes runs/multistyle/multistyle.safetensors)"
        )
    return load_conditioned(path)
