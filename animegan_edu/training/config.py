"""A training run's settings: :class:`TrainConfig`, read from YAML by :func:`load_config`, checked.

Introduced in ``notebooks/04_training.ipynb``; the recipes are ``configs/*.yaml`` (a bare
name such as ``"demo"`` is a bundled one, :func:`animegan_edu.resources.config_path`).
Every problem is a :class:`ConfigError` whose one-line message names the file and the key.

A checkpoint is bound to the settings that change what a run computes
(:meth:`TrainConfig.run_fields`: every field but :data:`BOOKKEEPING_FIELDS`, with ``data_root``
as an absolute path) and their hash (:meth:`TrainConfig.run_sha256`); :func:`run_differences`
says which of them differ from a checkpoint's record.

The loss weights (:meth:`TrainConfig.loss_weights`) come from a style preset
(:data:`animegan_edu.training.losses.STYLE_PRESETS`, ``style_preset``), and any loss field
the config sets (``content``, ``style_weight``, ``colour``, ``tv``, ``d_loss_weights``)
replaces the preset's value; a field left unset (``None``, or absent from the YAML file)
keeps it.

Reading is bounded: the file must be a regular file of at most :data:`MAX_CONFIG_BYTES`
(:func:`animegan_edu.files.read_regular`), the YAML loader is ``yaml.SafeLoader`` (no
Python objects) that also refuses anchors and aliases (``&name``, ``*name``: a config
never needs them, and nested ones expand a small file into gigabytes), and every whole
number is range-checked (:data:`INT_RANGES`) before it reaches PyTorch or the C libraries
below it. A value echoed in a message is cut to about 80 characters
(:func:`animegan_edu.checks.short_repr`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import types
import typing
from dataclasses import dataclass, fields, replace
from typing import Any

import yaml

from animegan_edu.checks import MAX_SEED, int_in_range, short_repr
from animegan_edu.files import FileReadError, read_regular
from animegan_edu.machine import max_threads
from animegan_edu.resources import config_path
from animegan_edu.samples import DEFAULT_PHOTOS
from animegan_edu.training import losses as L

__all__ = [
    "ConfigError", "TrainConfig", "load_config", "check_config", "BOOKKEEPING_FIELDS", "run_differences",
    "parse_config_yaml",
]  # fmt: skip

#: The settings that do not change what a run computes, so a checkpoint resumes under another
#: value: where it is written (``out_dir``), how fast or in what arithmetic it runs (``threads``;
#: ``precision``, which ``auto`` resolves per machine, so a run can move to a machine without
#: bf16), and what is logged (samples, checkpoint and validation intervals and sizes).
#: Every other field (name, data, seed, schedule, learning rates, crops, losses, networks) is
#: recorded in the checkpoint and must match to resume; a field added later counts unless it
#: is listed here.
BOOKKEEPING_FIELDS: tuple[str, ...] = (
    "out_dir", "threads", "precision",
    "sample_every", "checkpoint_every", "sample_images", "sample_size", "val_every", "val_size",
)  # fmt: skip


#: The largest config file read (bytes); the bundled recipes are under 3 KB.
MAX_CONFIG_BYTES = 256 * 1024
#: The most steps of any kind (and the longest interval) a config may ask for: 100 million,
#: over a thousand times the longest recipe (``configs/hayao.yaml``, about 62,000 steps).
MAX_STEPS = 100_000_000
#: ``key: (low, high)`` of the whole-number settings not checked as pixel or batch sizes;
#: ``threads`` goes up to the number of CPUs x 4 (:func:`animegan_edu.machine.max_threads`),
#: and ``threads: 0`` leaves PyTorch's default.
INT_RANGES: dict[str, tuple[int, int]] = {
    "seed": (0, MAX_SEED),
    "init_steps": (0, MAX_STEPS),
    "adv_steps": (0, MAX_STEPS),
    "final_steps": (0, MAX_STEPS),
    "warmup_steps": (0, MAX_STEPS),
    "sample_every": (0, MAX_STEPS),
    "checkpoint_every": (0, MAX_STEPS),
    "val_every": (0, MAX_STEPS),
    "d_channels": (1, 1024),
    "d_layers": (1, 16),
}


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
    # where train_photo/ is (None: data_root); a style set of prepare-styles lives elsewhere
    photo_root: str | None = None
    # fine-tuning: start from these generator weights ("demo", a registry name or a path)
    init_weights: str | None = None
    # perceptual features of the content and style losses: "auto" (the pretrained VGG16 when
    # installed, else VGG19), "vgg16" (pretrained, required) or "vgg19" (random unless a file)
    features: str = "auto"
    ema: float = 0.0  # decay of an exponential moving average of the generator (0: none)
    # the colour loss's reference: "photo" (the original), "style_tint" (the photo with the
    # style set's mean chroma offset from the photos' added: the style's average tint allowed)
    # or "style_pull" (each photo's mean chroma moved colour_pull of the way to the set's)
    colour_target: str = "photo"
    colour_pull: float = 0.5
    # L1 between each output's mean YUV chroma and its colour reference's (0: off): keeps the
    # picture's overall colour (no cast) while leaving local colours free
    colour_mean: float = 0.0
    # L1 between each output's mean luma and its photo's moved luma_pull of the way to the style
    # set's mean luma (0: off): for sets much brighter than photos (clip art on white)
    luma_mean: float = 0.0
    luma_pull: float = 0.5
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

    def crop_at(self, step: int) -> tuple[int, int]:
        """The ``(crop side, batch size)`` the schedule uses at ``step``.

        Example:
            >>> TrainConfig(crop=64, batch_size=4, crop_schedule=[(10, 128, 2)]).crop_at(12)
            (128, 2)
        """
        if self.crop_schedule:
            crop, bs = self.crop, self.batch_size
            for start, c, b in sorted(self.crop_schedule):
                if step >= start:
                    crop, bs = c, b
            return crop, bs
        if self.final_steps and step >= self.total_steps - self.final_steps:
            return self.final_crop, self.final_batch_size
        return self.crop, self.batch_size

    def run_fields(self) -> dict[str, Any]:
        """The settings that change what the run computes, as JSON values (what a checkpoint records).

        Every field but :data:`BOOKKEEPING_FIELDS`; ``data_root`` is made absolute (links
        resolved), so the same folder named two ways matches and another folder does not.

        Example:
            >>> f = TrainConfig(seed=3).run_fields()
            >>> f["seed"], "threads" in f, os.path.isabs(f["data_root"])
            (3, False, True)
        """
        return _run_fields({f.name: getattr(self, f.name) for f in fields(self)})

    def run_sha256(self) -> str:
        """SHA-256 of :meth:`run_fields` (canonical JSON: sorted keys).

        Example:
            >>> TrainConfig().run_sha256() == TrainConfig(threads=2, out_dir="elsewhere").run_sha256()
            True
            >>> TrainConfig().run_sha256() == TrainConfig(seed=1).run_sha256()
            False
        """
        return _sha256_json(self.run_fields())

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
                raise ConfigError(
                    f"style_preset {short_repr(self.style_preset)} unknown; use one of {known} or null"
                )
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


def _run_fields(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (a config as a dict) without the bookkeeping fields, as JSON values, data_root absolute."""
    out = json.loads(json.dumps({k: v for k, v in values.items() if k not in BOOKKEEPING_FIELDS}))
    for key in ("data_root", "photo_root"):  # the same folder named two ways matches
        if isinstance(out.get(key), str):
            out[key] = os.path.realpath(out[key])
    return out


def _sha256_json(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def run_differences(recorded: dict[str, Any], cfg: TrainConfig, limit: int = 8) -> list[str]:
    """``"key: old -> new"`` for each run setting of ``cfg`` that differs from a checkpoint's record.

    ``recorded``: a checkpoint's ``run_config`` (or, from an older checkpoint, its whole
    ``config``; its bookkeeping fields are ignored). A field the record lacks (added to
    :class:`TrainConfig` after the checkpoint was written) is compared with its default.
    Values are cut to about 80 characters; past ``limit`` keys the rest are counted.

    Example:
        >>> old = TrainConfig(name="demo", seed=0).run_fields()
        >>> run_differences(old, TrainConfig(name="mine", seed=7, threads=2))
        ["name: 'demo' -> 'mine'", 'seed: 0 -> 7']
    """
    defaults = TrainConfig().run_fields()
    old = _run_fields(recorded)
    new = cfg.run_fields()
    keys = [k for k in new if old.get(k, defaults.get(k)) != new[k]]
    lines = [f"{k}: {short_repr(old.get(k, defaults.get(k)))} -> {short_repr(new[k])}" for k in keys]
    return lines[:limit] + ([f"and {len(lines) - limit} more"] if len(lines) > limit else [])


class _AliasRefused(yaml.YAMLError):
    pass


class _ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors and aliases before composing anything from them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasRefused(f"line {event.start_mark.line + 1}")
        return super().compose_node(parent, index)


def parse_config_yaml(path: os.PathLike) -> Any:
    """The YAML document of a config file: bounded read, no anchors or aliases, one-line errors.

    Raises:
        ConfigError: unreadable, too large, not YAML, or using anchors or aliases (one line).

    Example:
        >>> import tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "c.yaml")
        >>> _ = open(p, "w").write("steps: 3\\n")
        >>> parse_config_yaml(p)
        {'steps': 3}
    """
    try:
        text = read_regular(path, MAX_CONFIG_BYTES, "training config").decode("utf-8")
        loader = _ConfigLoader(text)  # a SafeLoader: plain data only, never Python objects
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except FileReadError as exc:
        raise ConfigError(str(exc)) from None
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (see configs/ for examples)") from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read ({exc.strerror}); check the path and its permissions"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (UTF-8 expected)") from None
    except _AliasRefused as exc:
        raise ConfigError(
            f"{path}: {exc}: YAML anchors and aliases (&name, *name) are not allowed in a config; "
            "write the values out"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({short_repr(str(exc).splitlines()[0], 160)})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ConfigError(f"{path}: a value cannot be read ({short_repr(str(exc), 160)})") from None


def load_config(path: str | os.PathLike, **overrides: Any) -> TrainConfig:
    """Read a YAML config; unknown keys are an error that names them (the module docstring says the bounds).

    Example:
        >>> import tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "c.yaml")
        >>> _ = open(p, "w").write("name: &n x\\nstyle: *n\\n")
        >>> try:
        ...     load_config(p)
        ... except ConfigError as exc:
        ...     print(str(exc).split(": ", 1)[1])
        line 1: YAML anchors and aliases (&name, *name) are not allowed in a config; write the values out
    """
    path = config_path(path)  # a bare name ("demo") is a bundled recipe (resources.config_path)
    raw = parse_config_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    known = {f.name: f for f in fields(TrainConfig)}
    unknown = sorted(map(str, set(raw) - set(known)))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {short_repr(', '.join(unknown))[1:-1]}")
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
        raise ConfigError(errors[0] if errors else f"{where}: unexpected value {short_repr(value)}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {short_repr(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected a list of {len(args)} values, got {short_repr(value)}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {short_repr(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {short_repr(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}: expected a finite number, got {short_repr(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {short_repr(value)}")
        return value
    return value


def check_config(cfg: TrainConfig, where: str = "config") -> None:
    """Refuse settings that cannot train (negative steps, lrs that are not positive, ...).

    Example:
        >>> check_config(TrainConfig(init_steps=-1))
        Traceback (most recent call last):
        ...
        animegan_edu.training.config.ConfigError: config: init_steps: must be a whole number from 0 to \
100000000, got -1
    """
    for key, (low, high) in {**INT_RANGES, "threads": (0, max_threads())}.items():
        try:
            int_in_range(f"{key}:", getattr(cfg, key), low, high)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if cfg.features not in ("auto", "vgg16", "vgg19"):
        raise ConfigError(f"{where}: features: use auto, vgg16 or vgg19, got {short_repr(cfg.features)}")
    if cfg.colour_target not in ("photo", "style_tint", "style_pull"):
        got = short_repr(cfg.colour_target)
        raise ConfigError(f"{where}: colour_target: use photo, style_tint or style_pull, got {got}")
    for key in ("colour_pull", "luma_pull"):
        if not 0.0 <= getattr(cfg, key) <= 1.0:
            raise ConfigError(f"{where}: {key}: a fraction from 0 to 1, got {getattr(cfg, key)}")
    if not 0.0 <= cfg.ema < 1.0:
        raise ConfigError(f"{where}: ema: a decay from 0 (off) to below 1, got {cfg.ema}")
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
        if not 0 <= start <= MAX_STEPS or not 8 <= crop <= 4096 or not 1 <= bs <= 1024:
            raise ConfigError(
                f"{where}: crop_schedule[{i}]: expected [from_step >= 0, crop 8-4096, batch 1-1024], "
                f"got {short_repr([start, crop, bs])}"
            )
    if cfg.precision not in ("auto", "bf16", "fp32"):
        raise ConfigError(f"{where}: precision: use auto, bf16 or fp32, got {short_repr(cfg.precision)}")
    if cfg.init_loss not in ("vgg", "l1"):
        raise ConfigError(f"{where}: init_loss: use vgg or l1, got {short_repr(cfg.init_loss)}")
    if cfg.total_steps == 0:
        raise ConfigError(f"{where}: init_steps + adv_steps is 0: nothing to train")
