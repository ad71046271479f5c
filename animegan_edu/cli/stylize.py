"""``animegan-edu stylize IMAGE... -o OUT``: photos to anime-style PNGs.

The command reads each image (:func:`animegan_edu.imageio.read_image`), runs the one
stylize pipeline (:func:`animegan_edu.inference.pipeline.run`) and writes a PNG
(:func:`animegan_edu.imageio.save_png_atomic`). :func:`add_stylize_options` (face, look,
INT8) is shared with ``animegan-edu video``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

import torch

from animegan_edu.cli.common import (
    PROG,
    CLIError,
    debug,
    error,
    first_line,
    non_negative_float,
    positive_float,
    unit_float,
)
from animegan_edu.files import FileWriteError, file_identity
from animegan_edu.imageio import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    ImageLoadError,
    read_image,
    save_png_atomic,
)
from animegan_edu.inference.grading import PRESETS
from animegan_edu.inference.pipeline import MAX_SIZE, MIN_SIZE, run
from animegan_edu.inference.styles import (
    ReferenceArt,
    choose_style,
    parse_mix,
    reference_reading,
    styled_generator,
)
from animegan_edu.int8.files import int8_generator
from animegan_edu.outputs import check_output, name_key, output_lock, replaced_input
from animegan_edu.weights.conditioned import BUNDLED_STYLES, get_conditioned
from animegan_edu.weights.files import WeightsNotAvailableError
from animegan_edu.weights.hub import get_generator

__all__ = ["add_parser", "add_stylize_options", "prepare_model", "look_options", "cmd_stylize"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stylize",
        help="turn photos into anime-style PNGs",
        description=(
            "Stylise images with an AnimeGANv2 generator. Each image is converted to RGB (transparency "
            "over white), turned upright (EXIF orientation), resized so its longest side is --size pixels "
            "(both sides rounded to a multiple of 4), passed through the generator and written as PNG. An "
            "input is never overwritten: a result whose name would be an input's gets the next free name "
            "(NAME-2.png). Bad inputs are reported one per line and skipped; the exit status is 2 if any "
            "failed."
        ),
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="input image files")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="a folder (created when the first result is written; one OUT/<name>.png per input, "
        "numbered NAME-2.png, NAME-3.png, ... when names repeat), or a file ending in .png for a single "
        "input",
    )
    p.add_argument(
        "--weights",
        default=None,
        metavar="NAME|PATH",
        help="registry name (see `animegan-edu weights list`), .pt/.safetensors file or TF checkpoint "
        "folder; default: a cached face_paint_512_v2 or paprika, else the bundled demo",
    )
    p.add_argument(
        "--size",
        type=int,
        default=512,
        metavar="N",
        help=f"longest side in pixels, {MIN_SIZE} to {MAX_SIZE} (default 512)",
    )
    p.add_argument(
        "--max-megapixels",
        type=positive_float,
        default=None,
        metavar="MP",
        help="skip input images larger than this, checked before decoding "
        f"(default {DEFAULT_MAX_PIXELS / 1e6:g}, or ${MAX_PIXELS_ENV} pixels)",
    )
    p.add_argument(
        "--upsample",
        choices=("align_corners", "half_pixel", "tf1"),
        default=None,
        help="decoder resize convention (default: the one the weights were made for)",
    )
    styles = p.add_argument_group(
        "style-conditioned weights (the bundled 'styles', or a file of animegan-edu train-styles)"
    )
    styles.add_argument(
        "--style",
        nargs="+",
        default=None,
        metavar="NAME|IMAGE",
        help="use the bundled style-conditioned generator (or --weights FILE of one): a style it knows "
        "(several: an equal mix), or reference pictures whose style its encoder reads; put the photos "
        "before this option",
    )
    styles.add_argument(
        "--mix",
        default=None,
        metavar="NAME:W,...",
        help="blend other styles in, e.g. Hedgewars:0.3 (weights sum to at most 1; the rest is --style)",
    )
    add_stylize_options(p)
    p.set_defaults(func=cmd_stylize)


def add_stylize_options(p: argparse.ArgumentParser) -> None:
    """Add the options that change how each image is processed (``stylize`` and ``video``).

    The face (``--face``), grading (``--grade``, ``--glow``, ``--strength``) and INT8
    (``--int8``) options; they are read in :func:`prepare_model` and :func:`look_options`
    (which maps them onto :func:`animegan_edu.inference.pipeline.run`).

    Example:
        >>> p = argparse.ArgumentParser(); add_stylize_options(p)
        >>> look_options(p.parse_args(["--strength", "0.5"]))["strength"]
        0.5
    """
    look = p.add_argument_group(
        "faces and look (animegan_edu.inference.face, animegan_edu.inference.grading)"
    )
    look.add_argument(
        "--face",
        action="store_true",
        help="face2paint: find faces (MTCNN), align each upright to a 512-px crop, stylise it there and "
        "blend it back; faces under 48 px are skipped and reported, and with no face the whole image is "
        "stylised",
    )
    look.add_argument(
        "--grade",
        choices=sorted(PRESETS),
        default="neutral",
        help="colour grade applied after stylisation (default neutral: none)",
    )
    look.add_argument(
        "--glow",
        type=non_negative_float,
        default=None,
        metavar="AMOUNT",
        help="highlight glow amount >= 0 (default: the grade's own, 0 for neutral)",
    )
    look.add_argument(
        "--strength",
        type=unit_float,
        default=1.0,
        metavar="S",
        help="style strength in [0, 1]: 0 keeps the photo, 1 is the full stylisation (default 1)",
    )
    fast = p.add_argument_group("fast CPU inference (animegan_edu.int8.quantize)")
    fast.add_argument(
        "--int8",
        action="store_true",
        help="always run the INT8-quantized generator (calibrated on sample photos once per weights, "
        "cached). Without it, the default already runs INT8 where it was measured faster on this CPU and "
        "the weights pass its quality check (35 dB against fp32), else the fastest float path within 1e-3 "
        "of fp32",
    )


def prepare_model(args: argparse.Namespace) -> torch.nn.Module:
    """Load the generator once for all images (extension point: ``--int8`` swaps the model here)."""
    if getattr(args, "style", None) or getattr(args, "mix", None):
        return _conditioned_model(args)
    model, label = get_generator(args.weights, fallback=None, upsample=args.upsample, download=True)
    if args.weights is None:
        print(f"{PROG}: using weights {label} (choose others with --weights)", file=sys.stderr)
    if getattr(args, "int8", False):
        model = int8_generator(model)
    return model


def _conditioned_model(args: argparse.Namespace) -> torch.nn.Module:
    """``--style``/``--mix``: the style-conditioned generator (bundled, or ``--weights FILE``), styled."""
    if getattr(args, "int8", False):
        raise CLIError("--int8 is not available for style-conditioned generators; leave it out")
    source = args.weights or BUNDLED_STYLES
    try:
        model = get_conditioned(source)
    except WeightsNotAvailableError as exc:
        raise CLIError(str(exc)) from None
    if args.weights is None:
        names = ", ".join(model.style_names)
        print(f"{PROG}: using the bundled style-conditioned weights {source!r} (styles: {names}; "
              "others with --weights FILE)", file=sys.stderr)  # fmt: skip
    names = [s for s in args.style or [] if s in model.style_names]
    pictures = [s for s in args.style or [] if s not in model.style_names]
    if pictures and names:
        raise CLIError("--style: give style names or reference pictures, not both")
    for s in pictures:
        if not Path(s).is_file():
            known = ", ".join(model.style_names)
            raise CLIError(f"--style: {s} is neither a style of {source} ({known}) nor a picture file")
    try:
        refs = ReferenceArt([read_image(Path(s)) for s in pictures])  # statistics computed once
        code = choose_style(model, names or refs, parse_mix(args.mix) if args.mix else None)
        if pictures:
            print(f"{PROG}: the reference pictures read as {reference_reading(model, refs)}", file=sys.stderr)
    except (ValueError, ImageLoadError) as exc:
        raise CLIError(str(exc)) from None
    return styled_generator(model, code)


def look_options(args: argparse.Namespace) -> dict[str, object]:
    """The :func:`animegan_edu.inference.pipeline.run` keyword options that the stylize flags describe."""
    return {
        "face": bool(getattr(args, "face", False)),
        "strength": float(getattr(args, "strength", 1.0)),
        "grade": getattr(args, "grade", "neutral"),
        "glow": getattr(args, "glow", None),
    }


def _check_folder_location(folder: Path) -> None:
    """Fail early (before loading weights) when ``folder`` could not be created or written."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise CLIError(f"-o {folder}: {probe} is a file, not a folder; choose another output location")
    if probe.is_dir() and not os.access(probe, os.W_OK | os.X_OK):
        raise CLIError(f"-o {folder}: folder {probe} is not writable; choose another output location")


#: Suffixes of picture files: an ``-o`` ending in one of them names a file, which must be a .png.
_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".avif")


def _single_file(output: Path) -> bool:
    """Whether ``-o`` names one output file (a picture name that is not an existing folder)."""
    return output.suffix.lower() in _PICTURE_SUFFIXES and not output.is_dir()


def _output_paths(inputs: list[Path], output: Path) -> list[Path]:
    """One output path per input: never an input file (:mod:`animegan_edu.outputs`), never one name twice."""
    if _single_file(output):
        check_output(output, inputs, suffixes=(".png",), what="input image")
        if len(inputs) > 1:
            raise CLIError(f"-o {output}: with {len(inputs)} inputs, -o must be a folder, not a .png file")
        _check_folder_location(output.parent)
        return [output]
    _check_folder_location(output)
    input_keys = {k for k in (file_identity(p) for p in inputs) if k is not None}
    input_names = {name_key(p.name) for p in inputs}
    used: set[str] = set()
    paths = []
    for src in inputs:
        stem = src.stem or "image"
        n = 1
        renamed_for_an_input = False  # then never take the name of any existing file either
        while True:
            name = f"{stem}.png" if n == 1 else f"{stem}-{n}.png"
            candidate = output / name
            key = file_identity(candidate)
            if key in input_keys or (
                name_key(name) in input_names and replaced_input(candidate, inputs) is not None
            ):
                renamed_for_an_input = True
            elif name_key(name) not in used and not (renamed_for_an_input and key is not None):
                break
            n += 1
        used.add(name_key(name))
        paths.append(candidate)
    return paths


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those this call created (deepest first)."""
    missing = []
    probe = folder
    while not probe.exists() and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(
            f"-o {folder}: cannot create the folder ({exc.strerror or exc}); choose another output location"
        ) from None
    return missing


def _remove_if_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; only folders this command created
        try:
            folder.rmdir()
        except OSError:
            return


def cmd_stylize(args: argparse.Namespace) -> int:
    """Run ``animegan-edu stylize``; 2 if any image failed (each failure is one stderr line)."""
    if not MIN_SIZE <= args.size <= MAX_SIZE:
        raise CLIError(f"--size must be at least {MIN_SIZE} and at most {MAX_SIZE} pixels, got {args.size}")
    max_mp = getattr(args, "max_megapixels", None)
    max_pixels = None if max_mp is None else max(1, int(max_mp * 1e6))
    inputs = [Path(p) for p in args.images]
    targets = _output_paths(inputs, Path(args.output))
    created: list[Path] = []
    written = failed = 0
    try:
        with contextlib.ExitStack() as held:
            if _single_file(Path(args.output)):  # one run at a time writes it (animegan_edu.outputs)
                if not targets[0].parent.is_dir():
                    created += _make_folder(targets[0].parent)
                held.enter_context(output_lock(targets[0]))
            written, failed = _stylize_all(args, inputs, targets, max_pixels, created)
    finally:
        if not written:
            _remove_if_empty(created)
    if failed:
        error(f"{failed} of {len(inputs)} images failed")
        return 2
    return 0


def _stylize_all(
    args: argparse.Namespace,
    inputs: list[Path],
    targets: list[Path],
    max_pixels: int | None,
    created: list[Path],
) -> tuple[int, int]:
    """Stylise each input into its target; ``(written, failed)`` (each failure is one stderr line)."""
    model = prepare_model(args)
    options = look_options(args)
    written = failed = 0
    for src, dest in zip(inputs, targets):
        try:
            result = run(read_image(src, max_pixels=max_pixels), model, size=args.size, **options)
            if options["face"]:
                print(f"face2paint: {result.message}")
            if not dest.parent.is_dir():
                created += _make_folder(dest.parent)
            save_png_atomic(result.image[0], dest)
        except (ImageLoadError, FileWriteError) as exc:
            failed += 1
            error(f"{exc} (skipped)")
            continue
        except (MemoryError, RuntimeError) as exc:
            if isinstance(exc, RuntimeError) and "alloc" not in str(exc).lower():
                if debug():
                    raise
                failed += 1
                error(f"{src}: RuntimeError: {first_line(exc)} (skipped)")
                continue
            failed += 1
            error(f"{src}: not enough memory at --size {args.size}; try a smaller --size (skipped)")
            continue
        except Exception as exc:  # one bad image must not stop the others
            if debug():
                raise
            failed += 1
            error(f"{src}: {type(exc).__name__}: {first_line(exc)} (skipped)")
            continue
        written += 1
        print(f"{src} -> {dest}")
    return written, failed
