"""A training run's settings: :class:`TrainConfig`, read from YAML by :func:`load_config`, checked.

Introduced in ``notebooks/04_training.ipynb``; the recipes are ``configs/*.yaml`` (a bare
name such as ``"demo"`` is a bundled one, :func:`animegan_edu.resources.config_path`).
Every problem is a :class:`ConfigError` whose one-line message names the file and the key.

The loss weights (:meth:`TrainConfig.loss_weights`) come from a style preset
(:data:`animegan_edu.training.losses.STYLE_PRESETS`, ``style_preset``), and any loss field
the config sets (``content``, ``style_weight``, ``colour``, ``tv``, ``d_loss_weights``)
replaces the preset's value; a field left unset (``None``, or absent from the YAML file)
keeps it.
"""

from __future__ import annotations

import math
import os
import types
import typing
from dataclasses import dataclass, fields, replace
from typing import Any

import yaml

from animegan_edu.resources import config_path
from animegan_edu.samples import DEFAULT_PHOTOS
from animegan_edu.training import losses as L

__all__ = ["ConfigError", "TrainConfig", "load_config", "check_config"]


class ConfigError(ValueError):
    """A training config cannot be used; the message names the file and the key."""


@dataclass
class TrainConfig:
    """Everything a training run depends on (a YAML file sets any subset of these).

    Example:
        >>> TrainConfig(content=99.0).loss_weights().content  # set: used, even with the default preset
        99.0
        >>> TrainConfig().loss_weights().content  # unset: the preset's (hayao)
        1.5
    """

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
    # losses: content, style_weight, colour, tv and d_loss_weights left None come from the
    # preset (without one, from losses.LossWeights); a value set here is always used
    style_preset: str | None = "hayao"  # one of losses.STYLE_PRESETS, or None
    g_adv: float = 300.0
    d_adv: float = 300.0
    content: float | None = None
    style_weight: float | None = None
    colour: float | None = None
    tv: float | None = None
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
    sample_images: tuple[str, ...] = DEFAULT_PHOTOS  # the trainer's sample grid
    sample_size: int = 256
    val_every: int = 0  # score the validation photos every N steps (0: never)
    val_size: int = 256

    @property
    def total_steps(self) -> int:
        return self.init_steps + self.adv_steps

    def loss_weights(self) -> L.LossWeights:
        """The loss weights of this run: the preset's, with every loss field set here taken as set.

        A field left ``None`` (``content``, ``style_weight``, ``colour``, ``tv``,
        ``d_loss_weights``) comes from :data:`~animegan_edu.training.losses.STYLE_PRESETS`
        ``[style_preset]``; without a preset, from :class:`~animegan_edu.training.losses.LossWeights`
        (``d_loss_weights``: ``(1, 1, 1, 1)``).

        Example:
            >>> w = TrainConfig(style_preset="paprika", content=99.0).loss_weights()
            >>> w.content, w.colour
            (99.0, 50.0)
        """
        if self.style_preset:
            key = self.style_preset.lower()
            if key not in L.STYLE_PRESETS:
                known = sorted(L.STYLE_PRESETS)
                raise ConfigError(f"style_preset {self.style_preset!r} unknown; use one of {known} or null")
            base = L.STYLE_PRESETS[key]
        else:
            base = L.LossWeights(d_terms=(1.0, 1.0, 1.0, 1.0))
        chosen = {
            "content": self.content, "style": self.style_weight, "colour": self.colour, "tv": self.tv,
            "d_terms": None if self.d_loss_weights is None else tuple(self.d_loss_weights),
        }  # fmt: skip
        return replace(
            base,
            g_adv=self.g_adv,
            d_adv=self.d_adv,
            guide=self.guide,
            guide_colour=self.guide_colour,
            guide_grad=self.guide_grad,
            **{k: v for k, v in chosen.items() if v is not None},
        )


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
        animegan_edu.training.config.ConfigError: config: init_steps: must be 0 or more, got -1
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
                f"{where}: crop_schedule[{i}]: expected [from_step >= 0, crop 8-4096, batch 1-1024], "
                f"got {[start, crop, bs]}"
            )
    if cfg.precision not in ("auto", "bf16", "fp32"):
        raise ConfigError(f"{where}: precision: use auto, bf16 or fp32, got {cfg.precision!r}")
    if cfg.init_loss not in ("vgg", "l1"):
        raise ConfigError(f"{where}: init_loss: use vgg or l1, got {cfg.init_loss!r}")
    if cfg.total_steps == 0:
        raise ConfigError(f"{where}: init_steps + adv_steps is 0: nothing to train")
