"""One stylize pipeline for the command line, the Studio, the notebooks and the benchmark.

The Studio (:mod:`animegan_edu.studio.widgets`) and ``animegan-edu stylize``
(:mod:`animegan_edu.cli.main`) both call it, so a picture made in one looks the same in the
other; notebooks and benchmarks can call :func:`stylize` directly.

The steps, in order:

1. :func:`prepare` - to a float batch ``(N, 3, H, W)`` in ``[0, 1]``, resized so the
   longest side is ``size`` pixels, both sides a multiple of 4 (``size=None`` keeps the
   size; :data:`MIN_SIZE` <= ``size`` <= :data:`MAX_SIZE`);
2. :func:`generate` - the slow step: the generator (optionally INT8, see
   :func:`int8_model`), or :func:`animegan_edu.inference.face_paste.face2paint` with ``face=True``. Its
   output (``raw``) is what the Studio caches;
3. :func:`finish` - the fast steps: style ``strength`` in ``[0, 1]`` blends the photo
   and ``raw``, then the colour grade (a preset, scaled by ``grade_amount >= 0``) and its
   glow (``glow >= 0``; ``None`` keeps the preset's), see :mod:`animegan_edu.inference.grading`.

:func:`run` does all three and returns a :class:`StylizeResult`; :func:`stylize` returns
just the picture, with the rank of its input. Every parameter is checked (NaN and
infinity are refused with a ``ValueError``). Images are RGB, values in ``[0, 1]``; the
generator itself maps ``[-1, 1]`` to ``[-1, 1]``.

For a benchmark, ``stylize(batch, model, path="fp32_eager")`` (no ``size``, neutral
grade, strength 1) is exactly ``from_generator_range(model(to_generator_range(batch)))``
under ``torch.inference_mode``; the default ``path="auto"`` may run a faster path whose
output stays within 1e-3 of that, or INT8 where its quality check on these weights reached
35 dB against fp32 (:func:`default_path`).
"""

from __future__ import annotations

import dataclasses
import operator
import time
import weakref
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import torch
import torch.nn as nn
from PIL import Image

from animegan_edu.checks import finite_float
from animegan_edu.imageio import from_generator_range, pil_to_tensor01, resize_longest, to_generator_range

# fastpaths and int8_files as modules, not names: tests patch fastpaths.choose_path and
# int8_files.int8_generator where they are defined, so they are looked up at call time
from animegan_edu.inference import fastpaths
from animegan_edu.inference.face_paste import face2paint
from animegan_edu.inference.grading import GradeParams, blend_strength, color_grade, get_preset
from animegan_edu.int8 import files as int8_files
from animegan_edu.models import Generator

__all__ = [
    "MIN_SIZE",
    "MAX_SIZE",
    "Progress",
    "StylizeResult",
    "check_size",
    "check_look",
    "prepare",
    "generate",
    "grade_params",
    "finish",
    "run",
    "stylize",
    "int8_model",
    "PATHS",
    "default_path",
    "model_for_path",
]

#: Smallest and largest allowed ``size`` (longest side, pixels).
MIN_SIZE = 8
MAX_SIZE = 4096

#: ``progress(done, total, message)``; the last call has ``done == total``.
Progress = Callable[[int, int, str], None]
#: A generator: ``(N, 3, h, w)`` in ``[-1, 1]`` to the same shape in ``[-1, 1]``.
Model = Callable[[torch.Tensor], torch.Tensor]
ImageLike = Union[Image.Image, torch.Tensor]


@dataclass
class StylizeResult:
    """What :func:`run` made; every tensor is ``(N, 3, H, W)`` RGB in ``[0, 1]``.

    Attributes:
        photo: the prepared (resized) input.
        raw: the generator (or face2paint) output, before strength and grade.
        image: the finished picture.
        messages: one line per image saying what the generator step did.
        seconds: wall time of the whole run.
        path: the inference path that ran (see :func:`model_for_path`).
    """

    photo: torch.Tensor
    raw: torch.Tensor
    image: torch.Tensor
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0
    path: str = ""

    @property
    def message(self) -> str:
        """All messages in one line."""
        return "; ".join(self.messages)


# --------------------------------------------------------------------------- checks


def check_size(size: int) -> int:
    """Check a longest-side ``size``: an integer in ``[MIN_SIZE, MAX_SIZE]`` (8 to 4096).

    Raises:
        ValueError: one line saying the allowed range.

    Example:
        >>> check_size(512)
        512
    """
    try:
        if isinstance(size, bool):
            raise TypeError
        n = operator.index(size)
    except TypeError:
        raise ValueError(f"size must be a whole number of pixels, got {size!r}") from None
    if not MIN_SIZE <= n <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {n}")
    return n


def check_look(strength: float = 1.0, glow: Optional[float] = None, grade_amount: float = 1.0) -> None:
    """Check the look parameters: ``strength`` in ``[0, 1]``, ``glow`` and ``grade_amount`` finite ``>= 0``.

    Raises:
        ValueError: a value out of range, NaN or infinite (one line).

    Example:
        >>> check_look(0.5, glow=0.3)
    """
    s = finite_float("strength", strength)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength!r}")
    if glow is not None and finite_float("glow", glow) < 0:
        raise ValueError(f"glow must be >= 0, got {glow!r}")
    if finite_float("grade_amount", grade_amount) < 0:
        raise ValueError(f"grade_amount must be >= 0, got {grade_amount!r}")


# --------------------------------------------------------------------------- steps


def prepare(image: ImageLike, size: Optional[int] = None, multiple: int = 4) -> torch.Tensor:
    """The pipeline's input: a float batch ``(N, 3, H, W)`` in ``[0, 1]``, resized.

    Args:
        image: a PIL image, or a float tensor ``(3, H, W)`` / ``(N, 3, H, W)`` in ``[0, 1]``
            (values outside are clipped; NaN or infinity is refused).
        size: longest side in pixels (:func:`check_size`), both sides rounded to a multiple of
            ``multiple`` (antialiased bicubic, up or down); ``None`` keeps the size.
        multiple: see :func:`animegan_edu.imageio.resize_longest`.

    Returns:
        a new ``(N, 3, H, W)`` float tensor (the input is not changed).

    Raises:
        TypeError, ValueError: not an image, wrong shape, non-finite values, bad ``size``.

    Example:
        >>> tuple(prepare(torch.rand(3, 30, 40), 32).shape)
        (1, 3, 24, 32)
    """
    if isinstance(image, Image.Image):
        x = pil_to_tensor01(image).unsqueeze(0)
    elif isinstance(image, torch.Tensor):
        if image.ndim not in (3, 4) or image.shape[-3] != 3:
            raise ValueError(
                f"image must be (3, H, W) or (N, 3, H, W) RGB in [0, 1], got shape {tuple(image.shape)}"
            )
        if not image.is_floating_point():
            raise TypeError(f"image must be a float tensor with values in [0, 1], got dtype {image.dtype}")
        if not bool(torch.isfinite(image).all()):
            raise ValueError("image has NaN or infinite values; expected RGB values in [0, 1]")
        x = (image if image.ndim == 4 else image.unsqueeze(0)).detach().clamp(0.0, 1.0)
    else:
        raise TypeError(
            f"image must be a PIL image or a (3, H, W) tensor in [0, 1], got {type(image).__name__}"
        )
    if size is not None:
        x = resize_longest(x, check_size(size), multiple)  # type: ignore[assignment]
    return x


def _model_device(model: Model) -> Optional[torch.device]:
    if isinstance(model, nn.Module):
        for p in model.parameters():
            return p.device
    return None


def _one_image_progress(progress: Progress, i: int, n: int) -> Progress:
    """``progress`` for image ``i`` of ``n``: its messages start ``image i/n:`` when ``n > 1``."""

    def report(done: int, total: int, message: str) -> None:
        progress(done, total, message if n == 1 else f"image {i + 1}/{n}: {message}")

    return report


def generate(
    photo: torch.Tensor, model: Model, *, face: bool = False, progress: Optional[Progress] = None
) -> tuple[torch.Tensor, list[str]]:
    """The slow step: the generator on ``photo`` ``(N, 3, H, W)`` in ``[0, 1]``, or face2paint.

    Without ``face`` the whole batch goes through ``model`` at once (under
    ``torch.inference_mode``, on the model's device). With ``face`` each image goes through
    :func:`animegan_edu.inference.face_paste.face2paint` in turn.

    Returns:
        ``(raw, messages)``: ``raw`` is ``(N, 3, H, W)`` in ``[0, 1]`` on ``photo``'s device,
        ``messages`` one line per image (or one for the batch).

    Raises:
        ValueError: the model's output has another shape.

    Example:
        >>> raw, msgs = generate(torch.zeros(1, 3, 8, 8), lambda t: -t)
        >>> float(raw.mean()), msgs
        (1.0, ['stylised the whole image'])
    """
    if face:
        outs, msgs = [], []
        n = photo.shape[0]
        for i in range(n):
            sub = None if progress is None else _one_image_progress(progress, i, n)
            res = face2paint(photo[i : i + 1], model, progress=sub)
            outs.append(res.image.to(photo.device))
            msgs.append(res.report.message)
        return torch.cat(outs), msgs
    if progress is not None:
        # The generator pass is one long blocking call (17-30 s at 1024 px on a CPU): report a
        # non-zero step *before* it, so a progress bar shows work in progress, not an empty bar.
        progress(1, 2, "generating (one pass over the whole image)")
    device = _model_device(model)
    x = photo if device is None else photo.to(device)
    with torch.inference_mode():
        out = model(to_generator_range(x))
        if out.shape != x.shape:
            raise ValueError(
                f"the generator returned shape {tuple(out.shape)} for input {tuple(x.shape)}; "
                "expected the same"
            )
        out = from_generator_range(out)
    if progress is not None:
        progress(2, 2, "stylised")
    return out.to(photo.device).clone(), ["stylised the whole image"]


def grade_params(
    grade: Union[str, GradeParams] = "neutral", glow: Optional[float] = None, grade_amount: float = 1.0
) -> GradeParams:
    """The grade :func:`finish` applies: preset ``grade`` scaled by ``grade_amount``.

    ``glow`` replaces the preset's glow unless it is ``None``.

    Example:
        >>> grade_params("shinkai", glow=0.0, grade_amount=0.0).is_identity()
        True
    """
    check_look(1.0, glow, grade_amount)
    p = get_preset(grade) if isinstance(grade, str) else grade
    if grade_amount != 1.0:
        p = p.scaled(grade_amount)
    return p if glow is None else p.replace(glow=float(glow))


def finish(
    photo: torch.Tensor,
    raw: torch.Tensor,
    *,
    strength: float = 1.0,
    grade: Union[str, GradeParams] = "neutral",
    glow: Optional[float] = None,
    grade_amount: float = 1.0,
) -> torch.Tensor:
    """The fast steps: blend by ``strength``, then grade (with its glow). ``(N, 3, H, W)`` in ``[0, 1]``.

    Args:
        photo, raw: the prepared photo and the :func:`generate` output, same shape, in ``[0, 1]``.
        strength: in ``[0, 1]``; 0 keeps the photo, 1 the stylised image.
        grade: a preset name (``"neutral"`` is the identity) or
            :class:`~animegan_edu.inference.grading.GradeParams`.
        glow: glow amount ``>= 0``; ``None`` keeps the grade's own.
        grade_amount: ``>= 0``; how much of the grade (0 neutral, 1 as defined).

    Example:
        >>> p, r = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
        >>> float(finish(p, r, strength=0.25).mean())
        0.25
    """
    check_look(strength, glow, grade_amount)
    return color_grade(blend_strength(photo, raw, float(strength)), grade_params(grade, glow, grade_amount))


_INT8: "weakref.WeakKeyDictionary[nn.Module, tuple[tuple[int, ...], nn.Module]]" = weakref.WeakKeyDictionary()
_FAST: "weakref.WeakKeyDictionary[nn.Module, tuple[tuple[int, ...], str, nn.Module]]" = (
    weakref.WeakKeyDictionary()
)

#: The paths :func:`model_for_path` knows (see :mod:`animegan_edu.inference.fastpaths`).
PATHS = ("auto", "fp32_eager", "fp32_channels_last", "bf16_channels_last", "int8")


def _weights_version(model: nn.Module) -> tuple[int, ...]:
    """Changes whenever a parameter or buffer is modified in place (e.g. ``load_state_dict``)."""
    return tuple(t._version for t in (*model.parameters(), *model.buffers())) + tuple(
        id(t) for t in model.parameters()
    )


def int8_model(model: nn.Module) -> nn.Module:
    """The INT8 model of ``model`` (:func:`animegan_edu.int8.files.int8_generator`), once per weights."""
    key = _weights_version(model)
    hit = _INT8.get(model)
    if hit is None or hit[0] != key:
        hit = (key, int8_files.int8_generator(model))  # type: ignore[arg-type]
        _INT8[model] = hit
    return hit[1]


def default_path(model: nn.Module, pixels: Optional[int] = None) -> fastpaths.PathChoice:
    """The path ``"auto"`` runs for the float generator ``model`` on this CPU, and why.

    1. :func:`animegan_edu.inference.fastpaths.choose_path`: the fastest path measured on this CPU
       class whose output stays within 1e-3 of fp32 eager;
    2. INT8 instead, when it was measured faster on this class, the image has at least
       :data:`~animegan_edu.inference.fastpaths.MIN_INT8_PIXELS` pixels, and the INT8 model of *these
       weights* passed its quality check (:func:`animegan_edu.int8.files.quality_check`: at
       least 35 dB PSNR against fp32 on four photos the calibration never saw). The first
       call per set of weights calibrates and checks (seconds; cached on disk, so later
       processes only read the record).

    Args:
        model: a float :class:`~animegan_edu.models.Generator` (``[-1, 1]`` RGB NCHW).
        pixels: ``H * W`` of the images about to run (``None``: large).

    Example:
        >>> from animegan_edu.models import Generator
        >>> default_path(Generator(), pixels=128 * 128).path != "int8"
        True
    """
    choice = fastpaths.choose_path()
    if not fastpaths.int8_is_faster(choice) or (pixels is not None and pixels < fastpaths.MIN_INT8_PIXELS):
        return choice
    quality = getattr(int8_model(model), "quality", None)
    if not isinstance(quality, dict):
        return dataclasses.replace(
            choice, reason=choice.reason + "; INT8: no quality record for these weights"
        )
    measured = f"INT8 {quality['psnr_db']:.1f} dB against fp32 at {quality['size']} px for these weights"
    if not quality.get("passed"):
        return dataclasses.replace(
            choice, reason=f"{choice.reason}; {measured}, below {quality['target_db']:g} dB"
        )
    best = fastpaths.choose_path(int8_ok=True)
    return dataclasses.replace(best, reason=f"{best.reason}; {measured} (target {quality['target_db']:g} dB)")


def model_for_path(
    model: Model, path: Optional[str] = "auto", pixels: Optional[int] = None
) -> tuple[Model, str]:
    """The callable to run for ``model`` on inference path ``path``, and the path's name.

    Only a float :class:`~animegan_edu.models.Generator` on the CPU is switched; any other
    callable (a quantized model, a face2paint wrapper, a test double, a model on a GPU)
    runs as given (``"as given"``).

    Args:
        model: the generator, ``(N, 3, h, w)`` in ``[-1, 1]`` to the same.
        path: ``"auto"`` (or ``None``): :func:`default_path` (INT8 only where its quality
            check on these weights passed), used only for images of at least
            :data:`~animegan_edu.inference.fastpaths.MIN_FAST_PIXELS` pixels (``pixels``); or one of
            :data:`PATHS` by name.
        pixels: ``H * W`` of the images about to run (``None``: large).

    Returns:
        ``(callable, path name)``. Converted models are made once per model object and
        remade when its weights change.

    Example:
        >>> from animegan_edu.models import Generator
        >>> g = Generator()
        >>> model_for_path(g, "fp32_eager")[1], model_for_path(g, "auto", pixels=64 * 64)[1]
        ('fp32_eager', 'fp32_eager')
        >>> model_for_path(lambda t: t, "auto")[1]
        'as given'
    """
    path = path or "auto"
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, got {path!r}")
    dev = _model_device(model)
    if not isinstance(model, Generator) or (dev is not None and dev.type != "cpu"):
        return model, "as given"
    if path == "auto":
        if pixels is not None and pixels < fastpaths.MIN_FAST_PIXELS:
            return model, "fp32_eager"
        path = default_path(model, pixels).path
    if path == "fp32_eager":
        return model, path
    if path == "int8":
        return int8_model(model), path
    key = _weights_version(model)
    hit = _FAST.get(model)
    if hit is None or hit[0] != key or hit[1] != path:
        hit = (key, path, getattr(fastpaths, path)(model))
        _FAST[model] = hit
    return hit[2], path


def run(
    image: ImageLike,
    model: Model,
    *,
    size: Optional[int] = None,
    face: bool = False,
    strength: float = 1.0,
    grade: Union[str, GradeParams] = "neutral",
    glow: Optional[float] = None,
    grade_amount: float = 1.0,
    int8: bool = False,
    path: Optional[str] = "auto",
    progress: Optional[Progress] = None,
) -> StylizeResult:
    """The whole pipeline (:func:`prepare`, :func:`generate`, :func:`finish`), with its intermediates.

    Args:
        image: a PIL image or ``(3, H, W)`` / ``(N, 3, H, W)`` float tensor in ``[0, 1]``.
        model: the generator, ``[-1, 1]`` to ``[-1, 1]``.
        size: longest side in pixels, 8 to 4096 (multiple of 4 per side); ``None`` keeps it.
        face: align and stylise faces separately (face2paint).
        strength, grade, glow, grade_amount: see :func:`finish`.
        int8: run :func:`int8_model` of ``model`` instead (an ``nn.Module`` generator);
            the same as ``path="int8"``.
        path: the inference path (:func:`model_for_path`): ``"auto"`` picks the fastest
            path measured on this CPU whose output stays within 1e-3 of fp32 eager, or INT8
            where its quality check on these weights passed (:func:`default_path`);
            ``"fp32_eager"`` runs ``model`` exactly as given.
        progress: ``progress(done, total, message)``: ``0`` first, a non-zero step just before
            the generator pass, and ``done == total`` last.

    Returns:
        a :class:`StylizeResult` (tensors ``(N, 3, H, W)``).

    Raises:
        ValueError: a parameter out of range, NaN or infinite (checked before any work).

    Example:
        >>> r = run(torch.full((3, 30, 40), 0.25), lambda t: -t, size=32, strength=0.5)
        >>> tuple(r.image.shape), round(float(r.image.mean()), 3), r.message
        ((1, 3, 24, 32), 0.5, 'stylised the whole image')
    """
    t0 = time.perf_counter()
    check_look(strength, glow, grade_amount)
    if size is not None:
        check_size(size)
    params = grade_params(grade, glow, grade_amount)
    if progress is not None:
        progress(0, 1, "preparing")
    photo = prepare(image, size)
    if int8:
        if not isinstance(model, nn.Module):
            raise TypeError("int8=True needs an nn.Module generator")
        model, used = int8_model(model), "int8"
    else:
        model, used = model_for_path(model, path, pixels=int(photo.shape[-2] * photo.shape[-1]))
    raw, messages = generate(photo, model, face=face, progress=progress)
    out = color_grade(blend_strength(photo, raw, float(strength)), params)
    if progress is not None:
        progress(1, 1, "done")
    return StylizeResult(photo, raw, out, messages, time.perf_counter() - t0, used)


def stylize(image: ImageLike, model: Model, **options: object) -> torch.Tensor:
    """Photo in, finished picture out: :func:`run` without the intermediates.

    Takes the same keyword options as :func:`run` (``size``, ``face``, ``strength``,
    ``grade``, ``glow``, ``grade_amount``, ``int8``, ``path``, ``progress``).

    Returns:
        ``(3, H, W)`` for a ``(3, H, W)`` tensor or a PIL image, ``(N, 3, H, W)`` for a
        batch; RGB in ``[0, 1]``.

    Example:
        >>> tuple(stylize(torch.rand(2, 3, 16, 16), lambda t: t, grade="shinkai").shape)
        (2, 3, 16, 16)
    """
    out = run(image, model, **options).image  # type: ignore[arg-type]
    return out if isinstance(image, torch.Tensor) and image.ndim == 4 else out[0]
