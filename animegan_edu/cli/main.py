"""The ``animegan-edu`` command line.

Subcommands defined here:

* ``animegan-edu stylize IMAGE... -o OUT [--weights NAME|PATH] [--size N]``
* ``animegan-edu weights list | download NAME | verify FILE | convert-tf DIR -o FILE``

Other modules add their own: for each of :data:`PLUGIN_MODULES` (``train``, ``data``,
``quantize``, ``evaluate``, ``video``), if
``animegan_edu.<module>`` exists and defines ``register_cli(subparsers)``, it is called
(each subcommand sets ``func`` with ``parser.set_defaults(func=...)``; ``func(args)``
returns an exit status or ``None`` for 0).

Every error a user can cause ends as one line on stderr, ``animegan-edu: error: ...``,
and exit status 2; ``ANIMEGAN_EDU_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from animegan_edu import __version__
from animegan_edu.imageio import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    ImageLoadError,
    ImageSaveError,
    read_image,
    save_png_atomic,
)
from animegan_edu.inference.pipeline import MAX_SIZE, MIN_SIZE

PROG = "animegan-edu"
DEBUG_ENV = "ANIMEGAN_EDU_DEBUG"
PLUGIN_MODULES = ("training.train", "data.dataset", "int8.quantize", "training.evaluate", "video.stylize")


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes")


def _err(msg: str) -> None:
    print(f"{PROG}: error: {msg}", file=sys.stderr)


class CLIError(Exception):
    """A usage problem detected by a subcommand; printed as one line, exit status 2."""


# --------------------------------------------------------------------------------------
# stylize
# --------------------------------------------------------------------------------------
def _add_stylize_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stylize",
        help="turn photos into anime-style PNGs",
        description=(
            "Stylise images with an AnimeGANv2 generator. Each image is converted to RGB (transparency over "
            "white), turned upright (EXIF orientation), resized so its longest side is --size pixels (both "
            "sides rounded to a multiple of 4), passed through the generator and written as PNG. An input is "
            "never overwritten: a result whose name would be an input's gets the next free name (NAME-2.png). "
            "Bad inputs are reported one per line and skipped; the exit status is 2 if any failed."
        ),
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="input image files")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="a folder (created when the first result is written; one OUT/<name>.png per input, "
        "numbered NAME-2.png, NAME-3.png, ... when names repeat), or a file ending in .png for a single input",
    )
    p.add_argument(
        "--weights",
        default=None,
        metavar="NAME|PATH",
        help="registry name (see `animegan-edu weights list`), .pt/.safetensors file or TF checkpoint folder; "
        "default: a cached face_paint_512_v2 or paprika, else the bundled demo",
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
        type=_positive_float,
        default=None,
        metavar="MP",
        help=f"skip input images larger than this, checked before decoding (default {DEFAULT_MAX_PIXELS / 1e6:g}, "
        f"or ${MAX_PIXELS_ENV} pixels)",
    )
    p.add_argument(
        "--upsample",
        choices=("align_corners", "half_pixel", "tf1"),
        default=None,
        help="decoder resize convention (default: the one the weights were made for)",
    )
    _add_stylize_options(p)
    p.set_defaults(func=cmd_stylize)


def _add_stylize_options(p: argparse.ArgumentParser) -> None:
    """Extension point: options that change how each image is processed.

    The face (``--face``), grading (``--grade``, ``--glow``, ``--strength``) and INT8
    (``--int8``) options are added here by their modules' owners; they are read in
    :func:`_prepare_model` and :func:`_look_options` (which maps them onto
    :func:`animegan_edu.inference.pipeline.run`).
    """
    from animegan_edu.inference.grading import PRESETS

    look = p.add_argument_group(
        "faces and look (animegan_edu.inference.face, animegan_edu.inference.grading)"
    )
    look.add_argument(
        "--face",
        action="store_true",
        help="face2paint: find faces (MTCNN), align each upright to a 512-px crop, stylise it there and blend "
        "it back; faces under 48 px are skipped and reported, and with no face the whole image is stylised",
    )
    look.add_argument(
        "--grade",
        choices=sorted(PRESETS),
        default="neutral",
        help="colour grade applied after stylisation (default neutral: none)",
    )
    look.add_argument(
        "--glow",
        type=_non_negative_float,
        default=None,
        metavar="AMOUNT",
        help="highlight glow amount >= 0 (default: the grade's own, 0 for neutral)",
    )
    look.add_argument(
        "--strength",
        type=_unit_float,
        default=1.0,
        metavar="S",
        help="style strength in [0, 1]: 0 keeps the photo, 1 is the full stylisation (default 1)",
    )
    fast = p.add_argument_group("fast CPU inference (animegan_edu.int8.quantize)")
    fast.add_argument(
        "--int8",
        action="store_true",
        help="always run the INT8-quantized generator (calibrated on sample photos once per weights, cached). "
        "Without it, the default already runs INT8 where it was measured faster on this CPU and the weights "
        "pass its quality check (35 dB against fp32), else the fastest float path within 1e-3 of fp32",
    )


def _non_negative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}") from None
    if not math.isfinite(v) or not v >= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return v


def _positive_float(text: str) -> float:
    v = _non_negative_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return v


def _unit_float(text: str) -> float:
    v = _non_negative_float(text)
    if v > 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return v


def _prepare_model(args: argparse.Namespace) -> torch.nn.Module:
    """Load the generator once for all images (extension point: ``--int8`` swaps the model here)."""
    from animegan_edu.weights.hub import get_generator

    model, label = get_generator(args.weights, fallback=None, upsample=args.upsample, download=True)
    if args.weights is None:
        print(f"{PROG}: using weights {label} (choose others with --weights)", file=sys.stderr)
    if getattr(args, "int8", False):
        from animegan_edu.int8.quantize import int8_generator

        model = int8_generator(model)
    return model


def _look_options(args: argparse.Namespace) -> dict:
    """The :func:`animegan_edu.inference.pipeline.run` keyword options that the stylize flags describe."""
    return {
        "face": bool(getattr(args, "face", False)),
        "strength": float(getattr(args, "strength", 1.0)),
        "grade": getattr(args, "grade", "neutral"),
        "glow": getattr(args, "glow", None),
    }


def _file_key(path: Path) -> tuple[int, int] | None:
    """Identity of an existing file (device, inode): hard links, symlinks and case-folding file systems included."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


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


def _output_paths(inputs: list[Path], output: Path) -> list[Path]:
    """One output path per input: never an input file, never the same name twice."""
    input_keys = {k for k in (_file_key(p) for p in inputs) if k is not None}
    if output.suffix.lower() == ".png" and not output.is_dir():
        if len(inputs) > 1:
            raise CLIError(f"-o {output}: with {len(inputs)} inputs, -o must be a folder, not a .png file")
        if _file_key(output) in input_keys:
            raise CLIError(
                f"-o {output}: that is the input image; refusing to overwrite it, choose another output name"
            )
        _check_folder_location(output.parent)
        return [output]
    _check_folder_location(output)
    used: set[str] = set()
    paths = []
    for src in inputs:
        stem = src.stem or "image"
        n = 1
        renamed_for_an_input = False  # then never take the name of any existing file either
        while True:
            name = f"{stem}.png" if n == 1 else f"{stem}-{n}.png"
            candidate = output / name
            key = _file_key(candidate)
            if key in input_keys:
                renamed_for_an_input = True
            elif name.casefold() not in used and not (renamed_for_an_input and key is not None):
                break
            n += 1
        used.add(name.casefold())
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
    if not MIN_SIZE <= args.size <= MAX_SIZE:
        raise CLIError(f"--size must be at least {MIN_SIZE} and at most {MAX_SIZE} pixels, got {args.size}")
    from animegan_edu.inference.pipeline import run

    max_mp = getattr(args, "max_megapixels", None)
    max_pixels = None if max_mp is None else max(1, int(max_mp * 1e6))
    inputs = [Path(p) for p in args.images]
    targets = _output_paths(inputs, Path(args.output))
    model = _prepare_model(args)
    options = _look_options(args)
    created: list[Path] = []
    written = failed = 0
    try:
        for src, dest in zip(inputs, targets):
            try:
                result = run(read_image(src, max_pixels=max_pixels), model, size=args.size, **options)
                if options["face"]:
                    print(f"face2paint: {result.message}")
                if not dest.parent.is_dir():
                    created += _make_folder(dest.parent)
                save_png_atomic(result.image[0], dest)
            except (ImageLoadError, ImageSaveError) as exc:
                failed += 1
                _err(f"{exc} (skipped)")
                continue
            except (MemoryError, RuntimeError) as exc:
                if isinstance(exc, RuntimeError) and "alloc" not in str(exc).lower():
                    if _debug():
                        raise
                    failed += 1
                    _err(f"{src}: RuntimeError: {str(exc).splitlines()[0] if str(exc) else ''} (skipped)")
                    continue
                failed += 1
                _err(f"{src}: not enough memory at --size {args.size}; try a smaller --size (skipped)")
                continue
            except Exception as exc:  # one bad image must not stop the others
                if _debug():
                    raise
                failed += 1
                _err(f"{src}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} (skipped)")
                continue
            written += 1
            print(f"{src} -> {dest}")
    finally:
        if not written:
            _remove_if_empty(created)
    if failed:
        _err(f"{failed} of {len(inputs)} images failed")
        return 2
    return 0


# --------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------
def _add_weights_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weights", help="list, download, verify and convert generator weights")
    wsub = p.add_subparsers(dest="weights_command", metavar="{list,download,verify,convert-tf}")
    wsub.required = True

    pl = wsub.add_parser("list", help="registry entries, where they come from, whether they are cached")
    pl.add_argument(
        "-v", "--verbose", action="store_true", help="licence, training data, hash, source of each"
    )
    pl.set_defaults(func=cmd_weights_list)

    pd = wsub.add_parser("download", help="download (and for TF entries convert) weights into the cache")
    pd.add_argument("name", metavar="NAME")
    pd.add_argument("--force", action="store_true", help="download again even if a good copy is cached")
    pd.add_argument("--no-progress", action="store_true", help="no progress bar")
    pd.add_argument(
        "--base-url", default=None, help="a mirror folder URL holding the files under their upstream names"
    )
    pd.set_defaults(func=cmd_weights_download)

    pv = wsub.add_parser("verify", help="check a weights file: hashes, registry match, loadable generator")
    pv.add_argument(
        "file", metavar="FILE", help="a .pt/.safetensors file, or a registry name (checks the cached copy)"
    )
    pv.set_defaults(func=cmd_weights_verify)

    pc = wsub.add_parser(
        "convert-tf", help="convert an original TF AnimeGANv2 generator checkpoint to safetensors"
    )
    pc.add_argument("dir", metavar="DIR", help="checkpoint folder, prefix or .index file")
    pc.add_argument("-o", "--output", required=True, metavar="FILE", help="output .safetensors file")
    pc.set_defaults(func=cmd_weights_convert_tf)


def cmd_weights_list(args: argparse.Namespace) -> int:
    from animegan_edu.weights.hub import AnimeGANv2Weights, cached_path, describe

    if args.verbose:
        print("\n\n".join(describe(w) for w in AnimeGANv2Weights))
        return 0
    print(f"{'name':<18} {'kind':<9} {'cached':<7} what")
    for w in AnimeGANv2Weights:
        print(f"{w.key:<18} {w.value.kind:<9} {'yes' if cached_path(w) else 'no':<7} {w.meta['doc']}")
    return 0


def cmd_weights_download(args: argparse.Namespace) -> int:
    from animegan_edu.weights.hub import download

    path = download(args.name, progress=not args.no_progress, force=args.force, base_url=args.base_url)
    print(path)
    return 0


def cmd_weights_verify(args: argparse.Namespace) -> int:
    from animegan_edu.weights import hub as W

    target = Path(args.file)
    if not W._looks_like_path(
        args.file
    ):  # registry names first: a local file named "paprika" never shadows the entry
        entry = W.get_weights(args.file)
        path = W.cached_path(entry)
        if path is None:
            raise W.WeightsNotAvailableError(f"{entry.key} is not cached: {W._how_to_get(entry)}")
        W._check_recorded_hash(entry, path)
        target = path
    report = W.verify_file(target)
    print(
        f"{report['path']}: OK, an AnimeGANv2 generator ({report['format']}, {report['num_params']:,} parameters, {report['size']:,} bytes)"
    )
    print(f"  sha256   {report['sha256']}")
    print(f"  git-sha1 {report['git_sha1']}")
    if report["matches"]:
        print(f"  matches the recorded hash of registry entry '{report['matches']}'")
    else:
        print("  matches no recorded registry hash (your own or a modified file)")
    return 0


def cmd_weights_convert_tf(args: argparse.Namespace) -> int:
    from animegan_edu.weights.hub import check_generator_state_dict, sha256_file
    from animegan_edu.weights.tf.checkpoint import convert_checkpoint, save_state_dict_safetensors

    out = Path(args.output)
    if out.suffix != ".safetensors":
        raise CLIError(f"-o {out}: the output must end in .safetensors")
    state = convert_checkpoint(args.dir)
    check_generator_state_dict(state, str(args.dir))
    save_state_dict_safetensors(
        state, out, metadata={"source": f"TF checkpoint {Path(args.dir).name}", "upsample": "tf1"}
    )
    print(f"{out}: {len(state)} tensors, sha256 {sha256_file(out)}")
    return 0


# --------------------------------------------------------------------------------------
# Parser and entry point
# --------------------------------------------------------------------------------------
def _register_plugins(sub: argparse._SubParsersAction) -> None:
    for name in PLUGIN_MODULES:
        full = f"animegan_edu.{name}"
        if importlib.util.find_spec(full) is None:
            continue  # the module does not exist (yet): nothing to register
        try:
            module = importlib.import_module(full)
        except Exception as exc:  # a broken module must not break `stylize`
            if _debug():
                raise
            print(
                f"{PROG}: warning: subcommands of {full} unavailable ({type(exc).__name__}: {exc})",
                file=sys.stderr,
            )
            continue
        register = getattr(module, "register_cli", None)
        if callable(register):
            register(sub)


def build_parser() -> argparse.ArgumentParser:
    """The full ``animegan-edu`` parser, with the subcommands of other modules registered."""
    parser = argparse.ArgumentParser(prog=PROG, description="AnimeGANv2 teaching toolkit: photos to anime.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_stylize_parser(sub)
    _add_weights_parser(sub)
    _register_plugins(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 error, 130 interrupted)."""
    from animegan_edu.weights.hub import WeightsError
    from animegan_edu.weights.tf.checkpoint import TFCheckpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except (
        CLIError,
        WeightsError,
        TFCheckpointError,
        ImageLoadError,
        ImageSaveError,
        OSError,
        ValueError,
    ) as exc:
        if _debug():
            raise
        _err(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return 2
    except Exception as exc:
        if _debug():
            raise
        _err(f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 to see the traceback)")
        return 2
    return 0 if status is None else int(status)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
