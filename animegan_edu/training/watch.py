"""Watching a style being learnt: a trainer callback that records what notebook 09 plots.

Every ``every`` steps, :class:`StyleWatch` records, without changing the run:

* ``frames``: the output generator's picture of one fixed photo (``(3, H, W)`` in ``[0, 1]``),
  for a strip of the same photo as training goes;
* ``scores``: the discriminator's mean score on a fixed batch of real art, of edge-smoothed
  art and of the generator's outputs (LSGAN: it is trained towards 1 on real art and 0 on
  the rest), and the losses of the step.

:func:`course_root` is the small style set shipped in the package (made by
``tools/make_course_styles.py``), which notebook 09 trains on offline; :func:`short_runs`
says whether notebooks should run their shortened version (``ANIMEGAN_EDU_SHORT_RUNS=1``,
set by ``make test``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from animegan_edu.samples import sample_photo01
from animegan_edu.training.train import LOSS_KEYS, Trainer

__all__ = ["COURSE_DIR", "course_root", "short_runs", "StyleWatch"]

#: The course set inside the package: ``train_photo/``, ``<Set>/style``, ``<Set>/smooth``.
COURSE_DIR = Path(__file__).resolve().parents[1] / "assets" / "course_styles"
#: Environment variable: ``1`` runs notebooks' long cells in their short version.
SHORT_RUNS_ENV = "ANIMEGAN_EDU_SHORT_RUNS"


def course_root() -> Path:
    """The course set's folder (a ``data_root`` and ``photo_root`` for the trainer).

    Example:
        >>> sorted(p.name for p in course_root().iterdir() if p.is_dir())
        ['Clipart', 'Hedgewars', 'Wesnoth', 'train_photo']
    """
    if not (COURSE_DIR / "MANIFEST.json").is_file():
        raise FileNotFoundError(f"{COURSE_DIR}: the course set is missing; reinstall animegan-edu")
    return COURSE_DIR


def short_runs() -> bool:
    """Whether ``ANIMEGAN_EDU_SHORT_RUNS`` asks for short runs (``make test`` sets it).

    Example:
        >>> isinstance(short_runs(), bool)
        True
    """
    return os.environ.get(SHORT_RUNS_ENV, "").strip() not in ("", "0")


@dataclass
class StyleWatch:
    """A ``Trainer.fit`` callback recording frames of one photo and the discriminator's scores.

    Args:
        trainer: the run to watch (its dataset gives the fixed art batch).
        every: record every this many steps (and at the start, :meth:`record`).
        photo: a sample photo name (:func:`animegan_edu.samples.sample_photo01`).
        size: the photo's longest side in px.
        n_art: pictures in the fixed batches of real and smooth art.
        crop: their crop side in px.

    Example:
        >>> from animegan_edu.training.config import load_config
        >>> import tempfile
        >>> cfg = load_config("finetune", data_root=str(course_root()), photo_root=str(course_root()),
        ...                   out_dir=tempfile.mkdtemp(), crop=32, batch_size=1, adv_steps=2,
        ...                   checkpoint_every=0, sample_every=0, features="vgg19", precision="fp32")
        >>> t = Trainer(cfg); w = StyleWatch(t, every=1, size=32, n_art=1, crop=32)
        >>> _ = t.fit(callback=w, progress=False)
        >>> [r["step"] for r in w.scores], len(w.frames), sorted(w.scores[0])[:3]
        ([0, 1, 2], 3, ['d_fake', 'd_real', 'd_smooth'])
    """

    trainer: Trainer
    every: int = 10
    photo: str = "chelsea"
    size: int = 256
    n_art: int = 4
    crop: int = 128
    frames: list[torch.Tensor] = field(default_factory=list)
    scores: list[dict[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        t = self.trainer
        self.x = (sample_photo01(self.photo, self.size)[None] * 2 - 1).to(t.device)
        fixed = t.dataset.batch(10**9, self.n_art, self.crop, seed=12345)  # never a training batch
        self.real, self.smooth = fixed.style.to(t.device), fixed.smooth.to(t.device)
        photos = t.dataset.batch(10**9 + 1, self.n_art, self.crop, seed=12345).photo
        self.photos = photos.to(t.device)
        if not self.scores:
            self.record({})

    @torch.no_grad()
    def record(self, row: dict[str, float]) -> None:
        """Record a frame and the scores now (``row``: the step's losses, kept beside them)."""
        t = self.trainer
        self.frames.append(((t.generate(self.x)[0] + 1) / 2).clamp(0, 1).cpu())
        d = t.discriminator
        was_training = d.training
        d.eval()
        fake = t.generate(self.photos)
        pairs = (("d_real", self.real), ("d_smooth", self.smooth), ("d_fake", fake))
        scores = {k: float(d(v).float().mean()) for k, v in pairs}  # float32: comparable across steps
        d.train(was_training)
        keep = {k: float(v) for k, v in row.items() if k in LOSS_KEYS}
        self.scores.append({"step": t.step, **scores, **keep})

    def __call__(self, trainer: Trainer, row: dict[str, float]) -> None:
        if trainer.step % self.every == 0:
            self.record(row)
