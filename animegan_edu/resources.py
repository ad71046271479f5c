"""Where the toolkit's bundled data lives: the demo weights and the training configs.

The repository keeps them at the top level (``weights/``, ``configs/``): that is what you
edit and what git tracks. A wheel cannot install top-level folders next to the package, so
the build (``setup.py``, ``build_py``) copies the files the library needs into the package,
as ``animegan_edu/_data/weights/`` and ``animegan_edu/_data/configs/``. :func:`data_dir`
finds whichever exists: the packaged copy in an installed package, else the top-level
folder of a source checkout (including an editable install, which imports the checkout).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_KINDS", "data_dir", "config_path"]

DATA_KINDS = ("weights", "configs", "benchmarks")
_PACKAGE = Path(__file__).resolve().parent


def data_dir(kind: str) -> Path:
    """The folder holding the bundled ``kind`` files (``"weights"``, ``"configs"`` or ``"benchmarks"``).

    Returns ``animegan_edu/_data/<kind>`` when the package was installed from a wheel or
    sdist, else ``<checkout>/<kind>``. The folder may be missing (a source tree without the
    demo weights); callers say so in their own words.

    Example:
        >>> data_dir("configs").joinpath("demo.yaml").is_file()
        True
        >>> data_dir("weights").name
        'weights'
        >>> data_dir("photos")
        Traceback (most recent call last):
        ...
        ValueError: data kind 'photos' unknown; use one of weights, configs, benchmarks
    """
    if kind not in DATA_KINDS:
        raise ValueError(f"data kind {kind!r} unknown; use one of {', '.join(DATA_KINDS)}")
    packaged = _PACKAGE / "_data" / kind
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / kind


def config_path(name: str | os.PathLike) -> Path:
    """The YAML file ``--config name`` means.

    An existing file, or anything that looks like a path (a folder separator or a suffix),
    is taken as it is. A bare name such as ``"demo"`` names a bundled recipe,
    ``data_dir("configs") / "demo.yaml"``, when no file of that name exists in the working
    directory.

    Example:
        >>> config_path("demo").name
        'demo.yaml'
        >>> config_path("demo").parent == data_dir("configs")
        True
        >>> str(config_path("my/run.yaml"))
        'my/run.yaml'
    """
    path = Path(name)
    if path.exists() or path.suffix or len(path.parts) != 1:
        return path
    bundled = data_dir("configs") / f"{path.name}.yaml"
    return bundled if bundled.is_file() else path
