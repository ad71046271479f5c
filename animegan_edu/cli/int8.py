"""``animegan-edu quantize -o FILE [--weights W] [--calib-size N]``: the INT8 model of a generator.

Quantization is :func:`animegan_edu.int8.quantize.quantize_generator`, calibrated on
:func:`animegan_edu.int8.calib.calibration_photos`; the file is written by
:func:`animegan_edu.int8.files.save_int8` (safetensors, with its SHA-256 beside it).
"""

from __future__ import annotations

import argparse

from animegan_edu.cli.common import positive_int
from animegan_edu.files import sidecar_path
from animegan_edu.int8.calib import calibration_photos
from animegan_edu.int8.files import save_int8
from animegan_edu.int8.quantize import DEFAULT_CALIB_SIZE, quantize_generator
from animegan_edu.outputs import check_output, output_lock
from animegan_edu.weights.hub import get_generator, input_files

__all__ = ["add_quantize_parser", "cmd_quantize"]


def add_quantize_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``animegan-edu quantize``.

    Example:
        >>> p = argparse.ArgumentParser(); add_quantize_parser(p.add_subparsers())
        >>> p.parse_args(["quantize", "-o", "q.safetensors"]).calib_size
        512
    """
    q = sub.add_parser("quantize", help="write the INT8 model of a generator (safetensors)")
    q.add_argument("-o", "--output", required=True, metavar="FILE", help="output .safetensors file")
    q.add_argument(
        "--weights", default=None, metavar="NAME|PATH", help="generator weights (default: as `stylize`)"
    )
    q.add_argument(
        "--calib-size",
        type=positive_int,
        default=DEFAULT_CALIB_SIZE,
        metavar="N",
        help=f"calibration photo size (default {DEFAULT_CALIB_SIZE}, the inference size)",
    )
    q.set_defaults(func=cmd_quantize)


def cmd_quantize(args: argparse.Namespace) -> int:
    """Quantize the generator, write the INT8 file, print its size and engine.

    The output (and its ``.sha256``) must not be the weights it reads, and must end in
    ``.safetensors`` (:func:`animegan_edu.outputs.check_output`); one run at a time writes it.
    """
    inputs = input_files(args.weights)
    out = check_output(args.output, inputs, suffixes=(".safetensors",), what="input weights")
    check_output(sidecar_path(out), inputs, what="input weights", option="-o (its .sha256)")
    with output_lock(out, make_folder=True):
        gen, _ = get_generator(args.weights, fallback=None, progress=False)
        model = quantize_generator(gen, calibration_photos(args.calib_size))
        n = save_int8(model, out)
    print(f"wrote {args.output} ({n / 1e6:.2f} MB, INT8, engine {model.engine}) and its SHA-256 beside it")
    return 0
