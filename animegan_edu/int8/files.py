"""INT8 generator files: saved as data, verified on load, cached per set of weights.

Introduced in ``notebooks/07_quantized_cpu_inference.ipynb`` (section "Size on disk").

* :func:`save_int8` writes a :class:`~animegan_edu.int8.quantize.QuantizedGenerator` as
  safetensors (``int8`` weights, scales, zero points; no pickled code) and records the
  file's SHA-256 beside it, in ``<file>.sha256`` (the format of
  ``weights/demo.safetensors.sha256``);
* :func:`load_int8` refuses, with one line naming the file, a file whose SHA-256 is not
  recorded or differs from the recorded one, and any quantization parameter that cannot be
  right (a non-finite or non-positive scale, a zero point outside ``[0, 255]``), before
  it builds the model;
* every file records what it was made from, in its header: the SHA-256 of the float weights
  (:func:`animegan_edu.int8.quantize.weights_sha256`: over the state dict's names, dtypes,
  shapes and bytes, so a generator that never was a file has one too) and the recipe
  (:func:`animegan_edu.int8.quantize.int8_recipe`, with its version); ``load_int8(path,
  weights=...)`` refuses a file made from other weights or with another recipe;
* :func:`int8_generator` keeps one calibrated INT8 model per set of weights in
  ``$ANIMEGAN_EDU_HOME/int8/`` (used by ``animegan-edu stylize --int8``); a cache file that
  fails those checks, or that was made from other weights or another recipe than the ones in
  use (its name is never trusted), is reported in one line on stderr and rebuilt;
* :func:`quality_check` measures, once per set of weights, how close the INT8 model's
  output is to fp32 (PSNR on photos the calibration never saw); the record is kept in the
  cache file, and the default inference path uses INT8 only when it reaches
  :data:`INT8_TARGET_DB` (:func:`animegan_edu.inference.pipeline.default_path`).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch
from torch import nn

from animegan_edu.checks import short_repr
from animegan_edu.files import atomic_write, read_sidecar, sha256_file, sidecar_path, write_sidecar
from animegan_edu.imageio import from_generator_range
from animegan_edu.int8.calib import CALIBRATION_PHOTOS, calibration_photos
from animegan_edu.int8.diagnose import one_at_a_time
from animegan_edu.int8.layers import quantize_weight
from animegan_edu.int8.quantize import (
    DEFAULT_CALIB_SIZE,
    DEFAULT_FLOAT_LAYERS,
    DEFAULT_OBSERVER,
    INT8_RECIPE_VERSION,
    QuantizedGenerator,
    default_float_dtype,
    int8_recipe,
    quantize_generator,
    weights_sha256,
)
from animegan_edu.metrics import psnr
from animegan_edu.models import Generator
from animegan_edu.samples import DEFAULT_PHOTOS, sample_photos
from animegan_edu.weights.files import WeightsError, read_safetensors
from animegan_edu.weights.registry import cache_dir

__all__ = [
    "INT8_FORMAT", "INT8_TARGET_DB", "CHECK_SIZE", "CHECK_PHOTOS", "Int8SourceError",
    "save_int8", "load_int8", "verify_int8", "quality_check", "int8_generator",
]  # fmt: skip

INT8_FORMAT = "animegan-edu-int8/1"

#: INT8 runs by default only when its output is at least this close to fp32's (PSNR in dB,
#: pictures in ``[0, 1]``) on the check photos.
INT8_TARGET_DB = 35.0
#: Side of the (square) check photos in px. Of 256, 512 and 1024 px, 256 px gave the
#: lowest PSNR in the bench, and it is the smallest image INT8 runs on by default.
CHECK_SIZE = 256
#: The check photos: :data:`animegan_edu.samples.DEFAULT_PHOTOS`, none of which is a
#: calibration photo (:data:`animegan_edu.int8.calib.CALIBRATION_PHOTOS`).
CHECK_PHOTOS: tuple[str, ...] = DEFAULT_PHOTOS
_QUALITY_KEYS = ("psnr_db", "min_photo_psnr_db", "size")


class Int8SourceError(ValueError):
    """An INT8 file was made from other float weights, or with another recipe, than the ones in use.

    ``str(err)`` is one line: the file, ``reason``, and what to do.
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(
            f"{path}: {reason}; re-create it from the weights in use (`animegan-edu quantize`, save_int8())"
        )


def save_int8(model: QuantizedGenerator, path: str | Path) -> int:
    """Write ``model`` to ``path`` as safetensors, its SHA-256 to ``<path>.sha256``; return the size in bytes.

    The file holds only tensors (``int8`` weights, per-channel weight scales, GroupNorm
    affines, activation ``(scale, zero_point)`` pairs; the layers kept in float store their
    conv weights as per-channel ``int8`` too, ``<name>.weight_int8`` + ``<name>.weight_scale``,
    and compute in float) and a JSON header (format, upsample mode, float layers and their
    dtype, the :func:`quality_check` record when the model carries one in ``model.quality``,
    and what it was made from: ``weights_sha256`` and ``recipe``, set by
    :func:`~animegan_edu.int8.quantize.quantize_generator`). Both files are
    written atomically (:func:`animegan_edu.files.atomic_write`), the sidecar after the file:
    a failed write leaves no partial file, and a file without its sidecar is refused.

    Example:
        >>> import tempfile
        >>> from animegan_edu.int8.quantize import QuantizedGenerator
        >>> d = Path(tempfile.mkdtemp())
        >>> save_int8(QuantizedGenerator(Generator()), d / "g.safetensors") > 500_000
        True
        >>> sorted(p.name for p in d.iterdir())
        ['g.safetensors', 'g.safetensors.sha256']
    """
    from safetensors.torch import save_file

    if not isinstance(model, QuantizedGenerator):
        raise TypeError(f"save_int8 needs a QuantizedGenerator, got {type(model).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    for key in _float_conv_weights(tensors, model.float_layers):  # stored as int8 + per-channel scale
        q, scale = quantize_weight(tensors.pop(key).float())
        tensors[key + "_int8"], tensors[key + "_scale"] = q.contiguous(), scale.contiguous()
    meta = {
        "format": INT8_FORMAT,
        "upsample": model.upsample,
        "float_layers": json.dumps(list(model.float_layers)),
        "float_dtype": model.float_dtype,
    }
    quality = getattr(model, "quality", None)
    if quality is not None:
        meta["quality"] = json.dumps(quality)
    for key in ("weights_sha256", "recipe"):  # what it was made from (load_int8 compares them)
        if getattr(model, key, None):
            meta[key] = str(getattr(model, key))
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))
    write_sidecar(path)
    return path.stat().st_size


def _in_layers(key: str, layers: object) -> bool:
    return any(key.startswith(f"{name}.") for name in layers)  # type: ignore[attr-defined]


def _float_conv_weights(tensors: dict[str, torch.Tensor], float_layers: tuple[str, ...]) -> list[str]:
    """Keys of the 4-D conv weights of the units kept in float."""
    return [
        k for k, v in tensors.items() if k.endswith(".weight") and v.ndim == 4 and _in_layers(k, float_layers)
    ]


def verify_int8(path: str | Path, tensors: dict[str, torch.Tensor] | None = None) -> str:
    """Check an INT8 file against its recorded SHA-256 and, given its tensors, their values.

    Returns the file's SHA-256. Raises :class:`ValueError`, one line naming the file, when
    ``<path>.sha256`` is missing or differs, when a floating tensor holds NaN or infinity,
    when an activation scale (``*_qp[0]``) or a weight scale is not positive, or when a
    zero point (``*_qp[1]``) is not a whole number in ``[0, 255]``.

    Example:
        >>> import tempfile
        >>> from animegan_edu.int8.quantize import QuantizedGenerator
        >>> p = Path(tempfile.mkdtemp()) / "g.safetensors"
        >>> _ = save_int8(QuantizedGenerator(Generator()), p)
        >>> len(verify_int8(p))
        64
        >>> verify_int8(p, {"block_a.0.in_qp": torch.tensor([float("nan"), 0.0])})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: .../g.safetensors: block_a.0.in_qp holds NaN or infinity; refusing the file, ...
    """
    path = Path(path)
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        raise ValueError(
            f"{path}: no SHA-256 recorded ({sidecar.name} is missing); refusing an unverified file, "
            "re-create it with save_int8()"
        ) from None
    recorded = read_sidecar(path) or ""
    actual = sha256_file(path)
    if recorded != actual:
        raise ValueError(
            f"{path}: SHA-256 {actual[:16]}... differs from the one recorded in {sidecar.name} "
            f"({recorded[:16] or 'empty or unreadable'}...); the file changed after it was written, "
            "re-create it with save_int8()"
        )
    for key, t in (tensors or {}).items():
        bad = _bad_value(key, t)
        if bad:
            raise ValueError(f"{path}: {key} {bad}; refusing the file, re-create it with save_int8()")
    return actual


def _bad_value(key: str, t: torch.Tensor) -> str | None:
    """What is wrong with tensor ``key`` of an INT8 file, or ``None``."""
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        return "holds NaN or infinity"
    if key.endswith("_qp"):
        scale, zero_point = float(t[0]), float(t[1])
        if not scale > 0:
            return f"has scale {scale}, not a positive number"
        if zero_point != math.floor(zero_point) or not 0 <= zero_point <= 255:
            return f"has zero point {zero_point}, not a whole number in [0, 255]"
    elif key.endswith("weight_scale") and t.numel() and not bool((t > 0).all()):
        return f"has a weight scale of {float(t.min())}, not a positive number"
    return None


def load_int8(
    path: str | Path,
    engine: str | None = None,
    weights: nn.Module | str | None = None,
    recipe: str | None = None,
) -> QuantizedGenerator:
    """Read a file written by :func:`save_int8` (safetensors; no code is unpickled).

    The header is read, the file is checked (:func:`verify_int8`: recorded SHA-256, finite
    and valid quantization parameters), the structure is rebuilt from the header, then
    every tensor is loaded strictly. The model's ``weights_sha256`` and ``recipe`` are the
    file's record of what it was made from (``None`` in a file without one).

    Args:
        weights: the float generator (or its :func:`~animegan_edu.int8.quantize.weights_sha256`)
            the file must have been made from; ``None``: not checked. The file's name is never
            taken as proof.
        recipe: the :func:`~animegan_edu.int8.quantize.int8_recipe` it must have been made with.

    Raises:
        FileNotFoundError: no such file.
        Int8SourceError: ``weights`` or ``recipe`` given, and the file records others, or none.
        ValueError: the file is not an animegan-edu INT8 generator, or fails the checks.

    Example:
        >>> import tempfile
        >>> from animegan_edu.int8.quantize import QuantizedGenerator
        >>> p = Path(tempfile.mkdtemp()) / "g.safetensors"
        >>> _ = save_int8(QuantizedGenerator(Generator(), float_layers=["block_e.2"]), p)
        >>> load_int8(p).float_layers
        ('block_e.2',)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such INT8 model file; create one with `animegan-edu quantize` or save_int8()"
        )
    try:  # a regular file of at most HARD_DOWNLOAD_CAP bytes, read once in bounded chunks
        tensors, meta = read_safetensors(path, "INT8 model file")
    except WeightsError as e:
        raise ValueError(str(e)) from None
    if meta.get("format") != INT8_FORMAT:
        raise ValueError(
            f"{path}: not an animegan-edu INT8 generator "
            f"(format {meta.get('format')!r}, expected {INT8_FORMAT!r})"
        )
    verify_int8(path, tensors)
    _check_source(path, meta, weights, recipe)
    template = Generator(upsample=meta.get("upsample", "align_corners"))
    float_layers = json.loads(meta.get("float_layers", "[]"))
    model = QuantizedGenerator(template, float_layers, engine, meta.get("float_dtype", "float32"))
    for key in [
        k[: -len("_int8")] for k in tensors if k.endswith(".weight_int8") and _in_layers(k, float_layers)
    ]:
        if key + "_scale" in tensors:
            q, scale = tensors.pop(key + "_int8"), tensors.pop(key + "_scale")
            tensors[key] = q.float() * scale.view(-1, *([1] * (q.ndim - 1)))
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else str(e)
        raise ValueError(f"{path}: tensors do not match the INT8 generator ({first})") from None
    model.quality = _read_quality(path, meta.get("quality"))
    model.weights_sha256, model.recipe = meta.get("weights_sha256"), meta.get("recipe")
    return model.eval()


def _check_source(
    path: Path, meta: dict[str, str], weights: nn.Module | str | None, recipe: str | None
) -> None:
    """Refuse (:class:`Int8SourceError`) a file whose header records other weights or recipe, or none."""
    if weights is not None:
        expected = weights if isinstance(weights, str) else weights_sha256(weights)
        recorded = meta.get("weights_sha256")
        if not recorded:
            raise Int8SourceError(
                path, "it records no SHA-256 of the float weights it was made from (older file)"
            )
        if recorded != expected:
            raise Int8SourceError(
                path,
                f"it was made from other float weights (SHA-256 {recorded[:16]}..., "
                f"the weights in use: {expected[:16]}...)",
            )
        upsample = getattr(weights, "upsample", None)
        if upsample is not None and meta.get("upsample") != upsample:
            made = short_repr(meta.get("upsample"))
            raise Int8SourceError(path, f"it was made for upsample {made}, the weights in use: {upsample!r}")
    if recipe is not None and meta.get("recipe") != recipe:
        made = short_repr(meta["recipe"]) if meta.get("recipe") else "an unrecorded recipe (older file)"
        raise Int8SourceError(path, f"it was made with {made}, not {short_repr(recipe)}")


def _read_quality(path: Path, text: str | None) -> dict[str, object] | None:
    """The :func:`quality_check` record of a file's header; ``passed`` is recomputed, not trusted."""
    if text is None:
        return None
    try:
        q = json.loads(text)
        values = [float(q[k]) for k in _QUALITY_KEYS]
    except (ValueError, TypeError, KeyError):
        raise ValueError(
            f"{path}: its INT8 quality record is malformed; re-create the file with save_int8()"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(
            f"{path}: its INT8 quality record holds NaN or infinity; re-create the file with save_int8()"
        )
    q["passed"] = values[0] >= INT8_TARGET_DB
    return q


@torch.no_grad()
def quality_check(
    generator: nn.Module, int8: nn.Module, size: int = CHECK_SIZE, names: tuple[str, ...] = CHECK_PHOTOS
) -> dict[str, object]:
    """How close ``int8``'s output is to ``generator``'s (fp32), on photos the calibration never saw.

    Both models map ``(N, 3, H, W)`` RGB in ``[-1, 1]`` to the same; the outputs are compared
    as ``[0, 1]`` pictures, each photo run on its own.

    Returns:
        ``psnr_db`` (all photos together, the bench's ``int8_psnr_db``), ``min_photo_psnr_db``,
        ``per_photo_db``, ``size``, ``photos``, ``target_db`` (:data:`INT8_TARGET_DB`) and
        ``passed`` (``psnr_db >= target_db``).

    Example:
        >>> g = Generator().eval()
        >>> q = quality_check(g, g, size=32, names=("coffee",))
        >>> q["psnr_db"], q["passed"]
        (inf, True)
    """
    x = sample_photos(size, names)
    ref = from_generator_range(one_at_a_time(generator, x).float())
    out = from_generator_range(one_at_a_time(int8, x).float())
    per = {n: psnr(out[i : i + 1], ref[i : i + 1]) for i, n in enumerate(names)}
    overall = psnr(out, ref)
    return {
        "psnr_db": overall,
        "min_photo_psnr_db": min(per.values()),
        "per_photo_db": per,
        "size": size,
        "photos": list(names),
        "target_db": INT8_TARGET_DB,
        "passed": overall >= INT8_TARGET_DB,
    }


def _build(
    generator: Generator,
    calib_size: int,
    check: bool,
    progress: bool,
    calibrated: QuantizedGenerator | None = None,
) -> QuantizedGenerator:
    """Calibrate (unless ``calibrated`` is given) and check, with a progress bar (the slow step)."""
    from tqdm.auto import tqdm

    todo = ([] if calibrated is not None else ["calibrating"]) + (["quality check"] if check else [])
    model = calibrated
    with tqdm(
        total=len(todo), desc="INT8 for these weights (once, then cached)", disable=not progress, leave=False
    ) as bar:
        for stage in todo:
            bar.set_postfix_str(stage)
            if stage == "calibrating":
                model = quantize_generator(generator, calibration_photos(calib_size))
            else:
                assert model is not None
                model.quality = quality_check(generator, model)
            bar.update()
    assert model is not None
    return model


def int8_generator(
    generator: Generator,
    cache: bool = True,
    calib_size: int = DEFAULT_CALIB_SIZE,
    check: bool = True,
    progress: bool = True,
) -> QuantizedGenerator:
    """The INT8 model of ``generator`` (the default recipe of :func:`quantize_generator`), cached on disk.

    Calibrated on :func:`animegan_edu.int8.calib.calibration_photos` at ``calib_size``.
    The cache file is
    ``<weights cache>/int8/<sha256 of the weights>-<upsample>-<size>-<recipe>.safetensors``
    (see :func:`animegan_edu.weights.registry.cache_dir`; the recipe names the observer, the float
    units, the activation bits and :data:`~animegan_edu.int8.quantize.INT8_RECIPE_VERSION`) with
    its ``.sha256`` sidecar, so the calibration runs once per set of weights. The name only
    finds the file: it is used when :func:`load_int8` finds, inside it, the SHA-256 of
    *these* weights (:func:`~animegan_edu.int8.quantize.weights_sha256`), their upsample mode
    and this recipe. A cache file that :func:`load_int8` refuses (changed, unverified, bad
    values, made from other weights or another recipe, or from before the record) is
    reported in one line on stderr and rebuilt. Used by ``animegan-edu stylize --int8`` and
    by the default path.

    With ``check``, the model carries ``model.quality``, the :func:`quality_check` record
    (measured once per set of weights and kept in the cache file); without,
    ``model.quality`` is what the cache file holds, or ``None``. Building (the one slow step,
    seconds) shows a progress bar unless ``progress=False``.

    Input and output of the model: ``(N, 3, H, W)`` RGB in ``[-1, 1]``.

    Example:
        >>> m = int8_generator(Generator(), cache=False, calib_size=32, check=False, progress=False)
        >>> m(torch.zeros(1, 3, 32, 32)).shape, m.quality
        (torch.Size([1, 3, 32, 32]), None)
    """
    if not cache:
        return _build(generator, calib_size, check, progress)
    source = weights_sha256(generator)
    recipe = int8_recipe((len(CALIBRATION_PHOTOS), 3, calib_size, calib_size))
    short = f"{DEFAULT_OBSERVER}-f{len(DEFAULT_FLOAT_LAYERS)}{default_float_dtype()[:4]}-a8"
    short += f"-r{INT8_RECIPE_VERSION}"
    path = cache_dir() / "int8" / f"{source[:16]}-{generator.upsample}-{calib_size}-{short}.safetensors"
    if path.is_file():
        try:
            model = load_int8(path, weights=generator, recipe=recipe)
        except Int8SourceError as exc:
            print(f"animegan-edu: INT8 cache {path}: {exc.reason}; rebuilding it", file=sys.stderr)
        except ValueError as exc:
            print(f"animegan-edu: INT8 cache {exc}; rebuilding it", file=sys.stderr)
        else:
            if check and model.quality is None:  # a file from before quality records
                model = _build(generator, calib_size, check, progress, calibrated=model)
                save_int8(model, path)
            return model
    model = _build(generator, calib_size, check, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_int8(model, path)
    return model
