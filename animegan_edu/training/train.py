"""The two-phase AnimeGANv2 trainer: init (reconstruction), then adversarial.

Introduced in ``notebooks/04_training.ipynb``. Command line:
``animegan-edu train --config configs/demo.yaml [--resume] [--steps N]``.
Under ``torchrun --nproc_per_node K`` the same command trains with
DistributedDataParallel (gloo on CPU, nccl on GPUs).

* Init phase: the generator learns to reproduce its input (content loss only), which
  gives the adversarial phase a generator that already keeps the content.
* Adversarial phase: LSGAN against a patch discriminator that sees real anime (real),
  generated images, greyscale anime and edge-smoothed anime (all fake), plus content,
  gram-style, colour and total-variation losses (:mod:`animegan_edu.training.losses`).

Batches are a pure function of the step (:meth:`animegan_edu.data.dataset.AnimeDataset.batch`)
and a checkpoint holds every state that changes, so resuming continues exactly as an
uninterrupted run would.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import types
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import yaml
from torch import nn

from animegan_edu.data.dataset import AnimeDataset
from animegan_edu.imageio import sample_photos, save_png_atomic
from animegan_edu.models import Discriminator, Generator
from animegan_edu.resources import config_path
from animegan_edu.training import losses as L
from animegan_edu.weights.files import atomic_write

__all__ = ["TrainConfig", "Trainer", "load_config", "train", "register_cli"]


class ConfigError(ValueError):
    """A training config cannot be used; the message names the file and the key."""


class TrainingError(ValueError):
    """Training cannot go on (a loss or weight became non-finite, out_dir not writable...)."""


def has_native_bf16(device: torch.device | None = None) -> bool:
    """Whether bf16 autocast runs on native instructions here (AMX or AVX-512 BF16, or a bf16 GPU).

    Example:
        >>> isinstance(has_native_bf16(), bool)
        True
    """
    if device is not None and device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    cpu = torch.cpu
    return bool(
        getattr(cpu, "_is_amx_tile_supported", lambda: False)()
        or getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
    )


@dataclass
class TrainConfig:
    """Everything a training run depends on (a YAML file sets any subset of these)."""

    name: str = "run"
    data_root: str = "data/demo"
    style: str = "Demo"
    out_dir: str = "runs/demo"
    seed: int = 0
    threads: int = 0  # 0: leave torch's default
    precision: str = (
        "auto"  # "auto" (bf16 autocast + channels-last where the CPU/GPU has bf16), "bf16" or "fp32"
    )
    max_side: int = 512  # images are shrunk to this on load
    remove_colour_offset: bool = True
    # init phase: reconstruction
    init_steps: int = 500
    init_lr: float = 2e-4
    init_loss: str = "vgg"  # "vgg" (original: VGG19 content loss) or "l1" (pixels + chroma)
    # adversarial phase
    adv_steps: int = 5000
    g_lr: float = 2e-5
    d_lr: float = 4e-5
    lr_decay_to: float = 1.0  # cosine decay of both lrs to this fraction over the adversarial phase
    betas: tuple[float, float] = (0.5, 0.999)
    crop: int = 256
    batch_size: int = 12
    # optional last stretch of the adversarial phase at another crop size
    final_steps: int = 0
    final_crop: int = 256
    final_batch_size: int = 4
    # optional crop schedule: [[from_step, crop, batch_size], ...] (overrides crop/final_*)
    crop_schedule: tuple[tuple[int, int, int], ...] | None = None
    warmup_steps: int = 0  # linear lr warm-up at the start of each phase
    # losses
    style_preset: str | None = "hayao"  # one of losses.STYLE_PRESETS, or None to use the fields below
    g_adv: float = 300.0
    d_adv: float = 300.0
    content: float = 1.5
    style_weight: float = 2.5
    colour: float = 15.0
    tv: float = 1.0
    guide: float = 0.0  # paired L1 to <style>/paired (demo recipe only)
    guide_colour: float = 0.0
    guide_grad: float = 0.0  # L1 on image gradients towards the paired target
    d_loss_weights: tuple[float, float, float, float] | None = None  # None: the preset's d_terms
    # discriminator
    d_channels: int = 64
    d_layers: int = 3
    spectral_norm: bool = True
    # bookkeeping
    sample_every: int = 500
    checkpoint_every: int = 500
    sample_images: tuple[str, ...] = ("astronaut", "coffee", "chelsea")
    sample_size: int = 256
    val_every: int = 0  # score the validation photos every N steps (0: never)
    val_size: int = 256

    @property
    def total_steps(self) -> int:
        return self.init_steps + self.adv_steps

    def loss_weights(self) -> L.LossWeights:
        if self.style_preset:
            key = self.style_preset.lower()
            if key not in L.STYLE_PRESETS:
                raise ConfigError(
                    f"style_preset {self.style_preset!r} unknown; use one of {sorted(L.STYLE_PRESETS)} or null"
                )
            base = L.STYLE_PRESETS[key]
            extra = {
                "g_adv": self.g_adv, "d_adv": self.d_adv, "guide": self.guide,
                "guide_colour": self.guide_colour, "guide_grad": self.guide_grad,
            }  # fmt: skip
            if self.d_loss_weights is not None:
                extra["d_terms"] = tuple(self.d_loss_weights)
            return L.LossWeights(**{**base.as_dict(), **extra})
        return L.LossWeights(
            g_adv=self.g_adv, d_adv=self.d_adv, content=self.content, style=self.style_weight,
            colour=self.colour, tv=self.tv, guide=self.guide, guide_colour=self.guide_colour, guide_grad=self.guide_grad,
            d_terms=tuple(self.d_loss_weights or (1.0, 1.0, 1.0, 1.0)),
        )  # fmt: skip


def load_config(path: str | os.PathLike, **overrides: Any) -> TrainConfig:
    """Read a YAML config; unknown keys are an error that names them."""
    path = config_path(path)  # a bare name ("demo") is a bundled recipe (resources.config_path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (see configs/ for examples)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    known = {f.name: f for f in fields(TrainConfig)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    hints = typing.get_type_hints(TrainConfig)
    checked = {key: _coerce(value, hints[key], f"{path}: {key}") for key, value in raw.items()}
    cfg = TrainConfig(**checked)
    check_config(cfg, str(path))
    return cfg


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` as the type ``hint`` names, or a :class:`ConfigError` naming file and key."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: unexpected value {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    return value


def check_config(cfg: TrainConfig, where: str = "config") -> None:
    """Refuse settings that cannot train (negative steps, lrs that are not positive, ...).

    Example:
        >>> check_config(TrainConfig(init_steps=-1))
        Traceback (most recent call last):
        ...
        animegan_edu.training.train.ConfigError: config: init_steps: must be 0 or more, got -1
    """
    for key in (
        "init_steps",
        "adv_steps",
        "final_steps",
        "warmup_steps",
        "threads",
        "sample_every",
        "checkpoint_every",
        "val_every",
    ):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"{where}: {key}: must be 0 or more, got {getattr(cfg, key)}")
    for key in ("init_lr", "g_lr", "d_lr"):
        if not getattr(cfg, key) > 0:
            raise ConfigError(f"{where}: {key}: must be a positive learning rate, got {getattr(cfg, key)}")
    for key in ("crop", "final_crop", "sample_size", "val_size", "max_side"):
        if not 8 <= getattr(cfg, key) <= 4096:
            raise ConfigError(f"{where}: {key}: must be between 8 and 4096 px, got {getattr(cfg, key)}")
    for key in ("batch_size", "final_batch_size"):
        if not 1 <= getattr(cfg, key) <= 1024:
            raise ConfigError(f"{where}: {key}: must be between 1 and 1024, got {getattr(cfg, key)}")
    for i, (start, crop, bs) in enumerate(cfg.crop_schedule or ()):
        if start < 0 or not 8 <= crop <= 4096 or not 1 <= bs <= 1024:
            raise ConfigError(
                f"{where}: crop_schedule[{i}]: expected [from_step >= 0, crop 8-4096, batch 1-1024], got {[start, crop, bs]}"
            )
    if cfg.precision not in ("auto", "bf16", "fp32"):
        raise ConfigError(f"{where}: precision: use auto, bf16 or fp32, got {cfg.precision!r}")
    if cfg.init_loss not in ("vgg", "l1"):
        raise ConfigError(f"{where}: init_loss: use vgg or l1, got {cfg.init_loss!r}")
    if cfg.total_steps == 0:
        raise ConfigError(f"{where}: init_steps + adv_steps is 0: nothing to train")


@dataclass
class History:
    """Loss history: one dict per logged step (``step``, ``phase``, and each loss)."""

    rows: list[dict[str, float]] = field(default_factory=list)

    def series(self, key: str) -> tuple[list[int], list[float]]:
        pts = [(int(r["step"]), r[key]) for r in self.rows if key in r]
        return [p[0] for p in pts], [p[1] for p in pts]


class Trainer:
    """Runs a :class:`TrainConfig`; ``callback(trainer, row)`` is called after every step.

    Attributes a notebook can use: ``generator``, ``discriminator``, ``history``,
    ``step`` (completed steps), ``samples`` (the last sample grid tensor).
    """

    def __init__(self, cfg: TrainConfig, dataset: AnimeDataset | None = None) -> None:
        self.cfg = cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.distributed = dist.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1
        if self.distributed and not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        self.device = torch.device(
            f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu"
        )
        self.weights = cfg.loss_weights()
        self.dataset = dataset or AnimeDataset(
            cfg.data_root, cfg.style, max_side=cfg.max_side, paired=cfg.guide > 0 or cfg.guide_colour > 0,
            remove_colour_offset=cfg.remove_colour_offset,
        )  # fmt: skip
        torch.manual_seed(cfg.seed)  # same initial weights on every rank
        self.bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and has_native_bf16(self.device))
        # channels-last pays off with bf16 (oneDNN); in fp32 on CPU it was slower here
        self.memory_format = torch.channels_last if self.bf16 else torch.contiguous_format
        self.generator = Generator().to(self.device, memory_format=self.memory_format)
        self.discriminator = Discriminator(3, cfg.d_channels, cfg.d_layers, cfg.spectral_norm).to(
            self.device, memory_format=self.memory_format
        )
        self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=cfg.init_lr, betas=cfg.betas)
        self.d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.d_lr, betas=cfg.betas)
        self.g_model: nn.Module = self.generator
        self.d_model: nn.Module = self.discriminator
        if self.distributed:
            from torch.nn.parallel import DistributedDataParallel as DDP

            self.g_model = DDP(self.generator)
            self.d_model = DDP(self.discriminator)
        self.step = 0
        self.history = History()
        self.samples: torch.Tensor | None = None
        self._vgg: L.VGG19Features | None = None
        self._val_cache: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}

    # ---------------------------------------------------------------- helpers
    @property
    def vgg(self) -> L.VGG19Features:
        if self._vgg is None:
            self._vgg = L.vgg19_features().to(self.device)
        return self._vgg

    def phase(self, step: int | None = None) -> str:
        return "init" if (self.step if step is None else step) < self.cfg.init_steps else "adversarial"

    def _lrs(self, step: int) -> tuple[float, float]:
        cfg = self.cfg
        if step < cfg.init_steps:
            warm = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
            return cfg.init_lr * warm, cfg.d_lr
        k = step - cfg.init_steps
        warm = min(1.0, (k + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
        t = k / max(1, cfg.adv_steps)
        scale = cfg.lr_decay_to + (1 - cfg.lr_decay_to) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
        return cfg.g_lr * scale * warm, cfg.d_lr * scale * warm

    def _crop(self, step: int) -> tuple[int, int]:
        cfg = self.cfg
        if cfg.crop_schedule:
            crop, bs = cfg.crop, cfg.batch_size
            for start, c, b in sorted(cfg.crop_schedule):
                if step >= start:
                    crop, bs = c, b
            return crop, bs
        if cfg.final_steps and step >= cfg.total_steps - cfg.final_steps:
            return cfg.final_crop, cfg.final_batch_size
        return cfg.crop, cfg.batch_size

    def _to_device(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device).contiguous(memory_format=self.memory_format)

    def _autocast(self) -> Any:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def _g(self, x: torch.Tensor) -> torch.Tensor:
        """The generator under the run's precision; the output is float32 for the losses."""
        with self._autocast():
            return self.g_model(x).float()

    def _d(self, x: torch.Tensor) -> torch.Tensor:
        with self._autocast():
            return self.d_model(x).float()

    def _check_finite(self, loss: torch.Tensor, what: str, step: int) -> None:
        if not torch.isfinite(loss):
            raise TrainingError(
                f"the {what} became {loss.item()} at step {step}: training diverged; the last good checkpoint "
                f"is in {self.cfg.out_dir} (lower the learning rate, then resume)"
            )

    # ---------------------------------------------------------------- one step
    def train_step(self) -> dict[str, float]:
        """One optimisation step (phase chosen by ``self.step``); returns the losses."""
        cfg, w = self.cfg, self.weights
        step = self.step
        g_lr, d_lr = self._lrs(step)
        for group in self.g_opt.param_groups:
            group["lr"] = g_lr
        for group in self.d_opt.param_groups:
            group["lr"] = d_lr
        crop, bs = self._crop(step)
        b = self.dataset.batch(step, bs, crop, seed=cfg.seed, rank=self.rank)
        photo = self._to_device(b.photo)
        row: dict[str, float] = {"step": step, "phase": 0.0 if self.phase(step) == "init" else 1.0}
        self.generator.train()

        if self.phase(step) == "init":
            fake = self._g(photo)
            if cfg.init_loss == "vgg":
                loss = w.content * L.content_loss(self.vgg(fake), self.vgg(photo))
            elif cfg.init_loss == "l1":
                loss = (fake - photo).abs().mean() + 2 * (
                    L.yuv(fake)[:, 1:] - L.yuv(photo)[:, 1:]
                ).abs().mean()
            else:
                raise ConfigError(f"init_loss must be 'vgg' or 'l1', got {cfg.init_loss!r}")
            self._check_finite(loss, "init loss", step)
            self.g_opt.zero_grad(set_to_none=True)
            loss.backward()
            self.g_opt.step()
            row["init"] = loss.item()
            return row

        use_adv = w.g_adv > 0 or w.d_adv > 0
        fake = self._g(photo)
        if use_adv and w.d_adv > 0:
            style, gray, smooth = (self._to_device(t) for t in (b.style, b.style_gray, b.smooth))
            d_loss = w.d_adv * L.lsgan_d_loss(
                self._d(style), self._d(fake.detach()), self._d(gray), self._d(smooth), w.d_terms
            )
            self._check_finite(d_loss, "discriminator loss", step)
            self.d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_opt.step()
            row["d"] = d_loss.item()

        g_loss = torch.zeros((), device=self.device)
        if use_adv and w.g_adv > 0:
            adv = L.lsgan_g_loss(self._d(fake))
            row["g_adv"] = adv.item()
            g_loss = g_loss + w.g_adv * adv
        if w.content > 0 or w.style > 0:
            f_fake, f_photo = self.vgg(fake), self.vgg(photo)
            if w.content > 0:
                c = L.content_loss(f_fake, f_photo)
                row["content"] = c.item()
                g_loss = g_loss + w.content * c
            if w.style > 0:
                s = L.style_loss(f_fake, self.vgg(b.style_gray.to(self.device)))
                row["style"] = s.item()
                g_loss = g_loss + w.style * s
        if w.colour > 0:
            c = L.colour_loss(fake, photo)
            row["colour"] = c.item()
            g_loss = g_loss + w.colour * c
        if w.tv > 0:
            t = L.total_variation_loss(fake)
            row["tv"] = t.item()
            g_loss = g_loss + w.tv * t
        if b.target is not None and (w.guide > 0 or w.guide_colour > 0 or w.guide_grad > 0):
            target = self._to_device(b.target)
            gl = (fake - target).abs().mean()
            gc = (L.yuv(fake)[:, 1:] - L.yuv(target)[:, 1:]).abs().mean()
            row["guide"] = gl.item()
            g_loss = g_loss + w.guide * gl + w.guide_colour * gc
            if w.guide_grad > 0:
                gg = L.gradient_loss(fake, target)
                row["guide_grad"] = gg.item()
                g_loss = g_loss + w.guide_grad * gg
        self._check_finite(g_loss, "generator loss", step)
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()
        row["g"] = g_loss.item()
        return row

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume (tensors and plain values: loads with weights_only=True)."""
        return {
            "config": json.loads(json.dumps(asdict(self.cfg))),
            "step": self.step,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "g_opt": self.g_opt.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "history": self.history.rows,
            "rng": torch.get_rng_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_opt.load_state_dict(state["d_opt"])
        self.history.rows = list(state["history"])
        torch.set_rng_state(state["rng"])

    def save_checkpoint(self, path: str | os.PathLike | None = None) -> Path:
        """Write ``checkpoint.pt`` atomically (temp file, then rename). Rank 0 only."""
        path = Path(path or Path(self.cfg.out_dir) / "checkpoint.pt")
        state = self.state_dict()
        return atomic_write(path, lambda tmp: torch.save(state, tmp))

    def save_history(self) -> Path:
        """Write ``out_dir/history.json`` (one row per step) atomically."""
        text = json.dumps(self.history.rows)
        return atomic_write(Path(self.cfg.out_dir) / "history.json", lambda tmp: tmp.write_text(text))

    def load_checkpoint(self, path: str | os.PathLike | None = None) -> bool:
        path = Path(path or Path(self.cfg.out_dir) / "checkpoint.pt")
        if not path.exists():
            return False
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
            raise ConfigError(
                f"{path}: unreadable checkpoint ({type(exc).__name__}); move it away to start over"
            ) from None
        try:
            self.load_state_dict(state)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(
                f"{path}: checkpoint does not match this config ({first[:160]}); use another out_dir or --no-resume"
            ) from None
        bad = [
            k
            for k, v in self.generator.state_dict().items()
            if v.is_floating_point() and not torch.isfinite(v).all()
        ]
        if bad:
            raise TrainingError(
                f"{path}: the generator in this checkpoint holds non-finite values ({bad[0]}); it cannot be resumed"
            )
        return True

    def export_generator(self, path: str | os.PathLike) -> Path:
        """Save the generator as a safetensors state dict (atomic)."""
        from safetensors.torch import save_file

        path = Path(path)
        sd = {k: v.detach().cpu().contiguous() for k, v in self.generator.state_dict().items()}
        bad = [k for k, v in sd.items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if bad:
            raise TrainingError(f"not exporting {path}: the generator holds non-finite values ({bad[0]})")
        meta = {
            "format": "pt",
            "arch": "animegan_edu.models.Generator",
            "steps": str(self.step),
            "config": self.cfg.name,
        }
        return atomic_write(path, lambda tmp: save_file(sd, str(tmp), metadata=meta))

    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        """Photos (top row) and the generator's outputs (bottom row), ``(3, 2S, K*S)`` in [0, 1]."""
        x = sample_photos(self.cfg.sample_size, self.cfg.sample_images).to(self.device)
        self.generator.eval()
        y = self._g(x)
        self.generator.train()
        top = torch.cat(list(x), dim=-1)
        bottom = torch.cat(list(y), dim=-1)
        return ((torch.cat([top, bottom], dim=-2) + 1) / 2).clamp(0, 1).cpu()

    @torch.no_grad()
    def validate(self, size: int | None = None) -> dict[str, float]:
        """Mean PSNR on the validation photos (never trained on) at longest side ``size``.

        ``val_recon_db``: the output against the photo itself (what the init phase learns);
        ``val_target_db``: against the paired target, where the set has one (the demo
        style's :func:`~animegan_edu.data.dataset.cartoonize`); ``val_input_db``: the unchanged photo
        against that target, the baseline to beat.
        """
        from animegan_edu.data.dataset import cartoonize
        from animegan_edu.imageio import VALIDATION_PHOTOS, validation_photo
        from animegan_edu.training.evaluate import image_metrics

        size = size or self.cfg.val_size
        if size not in self._val_cache:  # photos and their targets do not change during a run
            photos = [validation_photo(name, size)[None].to(self.device) for name in VALIDATION_PHOTOS]
            self._val_cache[size] = [(p, cartoonize(p)) for p in photos]
        self.generator.eval()
        recon, target_db, input_db = [], [], []
        for photo, target in self._val_cache[size]:
            out = ((self._g(self._to_device(photo * 2 - 1)) + 1) / 2).clamp(0, 1)
            recon.append(-10 * math.log10(max(float(((out - photo) ** 2).mean()), 1e-10)))
            if self.dataset.targets is not None:
                m = image_metrics(out, target, photo)
                target_db.append(m["psnr_db"])
                input_db.append(m["input_psnr_db"])
        self.generator.train()
        res = {"val_recon_db": sum(recon) / len(recon)}
        if target_db:
            res.update(
                val_target_db=sum(target_db) / len(target_db), val_input_db=sum(input_db) / len(input_db)
            )
        return res

    # ---------------------------------------------------------------- loop
    def fit(
        self,
        steps: int | None = None,
        callback: Callable[[Trainer, dict[str, float]], None] | None = None,
        progress: bool = True,
    ) -> History:
        """Train until ``steps`` steps are done in total (default: the config's total)."""
        from tqdm.auto import tqdm

        cfg = self.cfg
        end = min(cfg.total_steps, steps if steps is not None else cfg.total_steps)
        bar = tqdm(total=end, initial=self.step, desc=cfg.name, disable=not progress or self.rank != 0)
        out = Path(cfg.out_dir)
        while self.step < end:
            t0 = time.perf_counter()
            row = self.train_step()
            row["seconds"] = time.perf_counter() - t0
            self.step += 1
            self.history.rows.append(row)
            bar.update(1)
            bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k in ("init", "g", "d", "guide")})
            if callback:
                callback(self, row)
            if self.rank == 0 and cfg.sample_every and self.step % cfg.sample_every == 0:
                self.samples = self.sample_grid()
                _save_grid(self.samples, out / "samples" / f"step{self.step:06d}.png")
            if self.rank == 0 and cfg.val_every and self.step % cfg.val_every == 0:
                row.update(self.validate())
                bar.write(_val_line(self.step, row))
            if self.rank == 0 and cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                self.save_checkpoint()
                self.save_history()
        bar.close()
        return self.history


def check_out_dir(out_dir: str | os.PathLike) -> None:
    """Fail at the start, not at the first checkpoint, when ``out_dir`` cannot be written.

    Example:
        >>> import tempfile
        >>> check_out_dir(tempfile.mkdtemp())
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise TrainingError(
            f"{out}: cannot write there ({exc.strerror or exc}); choose another out_dir"
        ) from None


def _val_line(step: int, row: dict[str, float]) -> str:
    parts = [f"step {step}: validation reconstruction {row['val_recon_db']:.2f} dB"]
    if "val_target_db" in row:
        parts.append(f"target {row['val_target_db']:.2f} dB (unchanged input {row['val_input_db']:.2f} dB)")
    return ", ".join(parts)


def _save_grid(grid: torch.Tensor, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png_atomic(grid, path)


def train(
    cfg: TrainConfig, resume: bool = True, steps: int | None = None, export: str | None = None
) -> Trainer:
    """Build a :class:`Trainer`, resume from ``out_dir/checkpoint.pt`` if asked, train, save."""
    if steps is not None and steps < 0:
        raise ConfigError(f"--steps {steps}: must be 0 or more")
    check_out_dir(cfg.out_dir)
    trainer = Trainer(cfg)
    if resume and trainer.load_checkpoint():
        print(f"resumed {cfg.out_dir}/checkpoint.pt at step {trainer.step}")
    t0 = time.perf_counter()
    trainer.fit(steps)
    if trainer.rank == 0:
        trainer.save_checkpoint()
        out = Path(cfg.out_dir)
        trainer.save_history()
        path = trainer.export_generator(export or out / "generator.safetensors")
        print(f"wrote {path} after {trainer.step} steps ({time.perf_counter() - t0:.0f} s this session)")
    if trainer.distributed:
        dist.barrier()
    return trainer


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``animegan-edu train`` to the command line."""
    p = subparsers.add_parser(
        "train", help="train a generator from a YAML config (init then adversarial phase)"
    )
    p.add_argument("--config", required=True, help="YAML file, e.g. configs/demo.yaml")
    p.add_argument(
        "--steps", type=int, default=None, help="stop after this many steps in total (default: the config's)"
    )
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint in out_dir")
    p.add_argument("--out-dir", default=None, help="override the config's out_dir")
    p.add_argument("--export", default=None, help="where to write the final generator (.safetensors)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="override the config's CPU threads (e.g. 1 to leave a core free; results differ only by rounding)",
    )
    p.set_defaults(func=_cli_train)


def _cli_train(args: argparse.Namespace) -> int:
    cfg = load_config(args.config, out_dir=args.out_dir, threads=args.threads)
    train(cfg, resume=not args.no_resume, steps=args.steps, export=args.export)
    return 0
