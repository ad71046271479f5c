"""The whole toolkit on one page: a diagram of data → generator → discriminator → losses →
trainer → weights → inference paths, each box naming its module and its notebook.

The diagram is data (:data:`BOXES`, :data:`ARROWS`) drawn by :func:`overview_figure`, so a
test can check that every box names a module or subpackage that exists and a notebook that
exists, and the picture never drifts from the code: :func:`save_overview` records
:func:`diagram_text` in the PNG, and ``tests/test_overview.py`` compares the committed
``docs/overview.png`` with what would be drawn now. It is made by
``python -m animegan_edu.teaching.overview docs/overview.png``; the README, notebook 00 and the
teaching guide show it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from animegan_edu.files import atomic_write
from animegan_edu.viz import DPI, FONT_SIZE

__all__ = ["Box", "BOXES", "ARROWS", "METADATA_KEY", "diagram_text", "overview_figure", "save_overview"]

#: The PNG text chunk in which :func:`save_overview` records :func:`diagram_text`.
METADATA_KEY = "Diagram"


@dataclass(frozen=True)
class Box:
    """One stage of the system.

    ``x``, ``y`` are the box centre in a 0..10 x 0..6 canvas; ``modules`` are dotted names
    under ``animegan_edu``: a module (``"training.losses"``) or a whole subpackage
    (``"int8"``); ``notebooks`` are notebook numbers (``"01"``).
    """

    key: str
    title: str
    modules: tuple[str, ...]
    notebooks: tuple[str, ...]
    x: float
    y: float
    training: bool  # True: part of the training loop; False: inference


#: The stages. Top row: training; bottom row: inference.
BOXES: tuple[Box, ...] = (
    Box(
        "data",
        "data: photos + anime\n(cartoonize target, edge-smoothed)",
        ("data",),
        ("03",),
        1.1,
        4.6,
        True,
    ),
    Box("gen", "generator G\n(inverted residuals)", ("models",), ("01",), 3.5, 4.6, True),
    Box("disc", "discriminator D\n(patch scores, spectral norm)", ("models",), ("02",), 5.9, 4.6, True),
    Box(
        "loss",
        "losses: LSGAN, content,\nGram style, colour, guide",
        ("training.losses",),
        ("03",),
        8.5,
        4.6,
        True,
    ),
    Box(
        "train",
        "trainer: init phase, then\nadversarial phase",
        ("training.train",),
        ("04",),
        5.9,
        2.95,
        True,
    ),
    Box(
        "weights",
        "weights: hashed safetensors,\nTF conversion, registry",
        ("weights",),
        ("00", "01"),
        3.5,
        2.95,
        True,
    ),
    Box("pipe", "stylize pipeline\n(resize, strength)", ("inference.pipeline",), ("00",), 1.0, 1.15, False),
    Box("face", "face2paint\n(align, stylise, blend)", ("inference.face",), ("05",), 3.0, 1.15, False),
    Box("grade", "colour grade + glow", ("inference.grading",), ("06",), 5.0, 1.15, False),
    Box(
        "int8",
        "INT8 / ONNX Runtime\non the CPU",
        ("int8", "inference.fastpaths"),
        ("07",),
        7.0,
        1.15,
        False,
    ),
    Box("studio", "Studio widgets,\nCLI, video", ("studio", "cli", "video"), ("08", "10"), 9.0, 1.15, False),
)

#: (from, to, label) arrows between boxes.
ARROWS: tuple[tuple[str, str, str], ...] = (
    ("data", "gen", "photo batch"),
    ("gen", "disc", "fake anime"),
    ("disc", "loss", "scores"),
    ("data", "disc", "real anime"),
    ("loss", "train", "gradients"),
    ("train", "gen", "updates"),
    ("train", "weights", "export"),
    ("weights", "pipe", "get_generator"),
    ("pipe", "face", ""),
    ("face", "grade", ""),
    ("grade", "int8", ""),
    ("int8", "studio", ""),
)

_W, _H = 2.05, 1.05  # box size in canvas units (training row)
_WI = 1.75  # width of the inference boxes


def _width(b: Box) -> float:
    return _W if b.training else _WI


def _box_text(b: Box) -> str:
    mods = ", ".join(b.modules)
    nbs = ", ".join(f"nb {n}" for n in b.notebooks)
    return f"{b.title}\n[{mods}]\n{nbs}"


def diagram_text() -> str:
    """Everything the diagram says, one line per box and per arrow (what the PNG records).

    Example:
        >>> diagram_text().splitlines()[0]
        'box data: data: photos + anime / (cartoonize target, edge-smoothed) / [data] / nb 03'
    """
    lines = [f"box {b.key}: " + _box_text(b).replace("\n", " / ") for b in BOXES]
    lines += [f"arrow {a} -> {b}: {label}" for a, b, label in ARROWS]
    return "\n".join(lines)


def overview_figure(dpi: int = DPI) -> Any:
    """Draw the system diagram; returns the matplotlib figure (about 1400 x 850 px at 110 dpi).

    >>> fig = overview_figure()
    >>> w, h = fig.get_size_inches() * fig.dpi
    >>> bool(h >= 256 and w > h)
    True
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(12.8, 7.6), dpi=dpi)
    ax.set_xlim(0, 10)
    ax.set_ylim(0.2, 6.4)
    ax.axis("off")
    ax.text(0.05, 6.1, "Training (notebooks 01-04)", fontsize=FONT_SIZE + 2, weight="bold", color="#1f4e79")
    ax.text(
        2.7,
        2.0,
        "Inference on a photo (notebooks 00, 05-08, 10)",
        fontsize=FONT_SIZE + 2,
        weight="bold",
        color="#7a3b00",
    )
    ax.axhline(2.3, color="0.6", lw=1, ls="--")
    by_key = {b.key: b for b in BOXES}
    for b in BOXES:
        face = "#dbe9f6" if b.training else "#fde6cf"
        edge = "#1f4e79" if b.training else "#7a3b00"
        ax.add_patch(
            FancyBboxPatch(
                (b.x - _width(b) / 2, b.y - _H / 2),
                _width(b),
                _H,
                boxstyle="round,pad=0.04",
                fc=face,
                ec=edge,
                lw=1.6,
            )
        )
        ax.text(b.x, b.y, _box_text(b), ha="center", va="center", fontsize=FONT_SIZE - 2.5)
    for src, dst, label in ARROWS:
        a, c = by_key[src], by_key[dst]
        dx, dy = c.x - a.x, c.y - a.y
        # leave from / arrive at the box edges
        if abs(dx) * _H >= abs(dy) * _W:
            p0 = (a.x + _width(a) / 2 * (1 if dx > 0 else -1), a.y)
            p1 = (c.x - _width(c) / 2 * (1 if dx > 0 else -1), c.y)
        else:
            p0 = (a.x, a.y + _H / 2 * (1 if dy > 0 else -1))
            p1 = (c.x, c.y - _H / 2 * (1 if dy > 0 else -1))
        rad = 0.0
        if (src, dst) == ("data", "disc"):  # over the generator, not through it
            p0, p1, rad = (a.x, a.y + _H / 2), (c.x, c.y + _H / 2), -0.3
        ax.add_patch(
            FancyArrowPatch(
                p0,
                p1,
                arrowstyle="-|>",
                mutation_scale=16,
                lw=1.4,
                color="0.25",
                connectionstyle=f"arc3,rad={rad}",
            )
        )
        if label:
            mx, my = (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2
            off = 0.78 if rad else 0.12
            ax.text(mx, my + off, label, ha="center", va="bottom", fontsize=FONT_SIZE - 3, style="italic")
    ax.set_title(
        "animegan-edu: the whole system on one page (box: what it is [module] notebook)",
        fontsize=FONT_SIZE + 1,
    )
    fig.tight_layout()
    return fig


def save_overview(path: str | Path, dpi: int = DPI) -> Path:
    """Write the diagram as a PNG (atomically), with :func:`diagram_text` in its metadata; its path."""
    fig = overview_figure(dpi=dpi)
    meta = {METADATA_KEY: diagram_text()}
    try:
        return atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, metadata=meta))
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m animegan_edu.teaching.overview OUT.png``."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("docs/overview.png")
    print(save_overview(out))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
