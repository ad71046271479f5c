"""The ``animegan-edu`` command line: the parser of every subcommand, and the entry point.

Subcommands, each in the :mod:`animegan_edu.cli` module named after its topic:

* ``animegan-edu stylize IMAGE... -o OUT`` (:mod:`animegan_edu.cli.stylize`);
* ``animegan-edu weights list | download NAME | verify FILE | convert-tf DIR -o FILE``
  (:mod:`animegan_edu.cli.weights`);
* ``animegan-edu train``, ``data prepare-demo``, ``evaluate`` (:mod:`animegan_edu.cli.training`);
* ``animegan-edu bench`` (:mod:`animegan_edu.cli.bench`), ``quantize`` (:mod:`animegan_edu.cli.int8`);
* ``animegan-edu video IN -o OUT`` (:mod:`animegan_edu.cli.video`).

Each subcommand sets ``func`` with ``parser.set_defaults(func=...)``; ``func(args)`` calls
the plain functions of the toolkit's modules and returns an exit status (``None``: 0).

Every error a user can cause ends as one line on stderr, ``animegan-edu: error: ...``,
and exit status 2; ``ANIMEGAN_EDU_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from animegan_edu import __version__
from animegan_edu.cli import bench, int8, stylize, training, video, weights
from animegan_edu.cli.common import DEBUG_ENV, PROG, CLIError, debug, error, first_line
from animegan_edu.files import FileWriteError
from animegan_edu.imageio import ImageLoadError
from animegan_edu.weights.files import WeightsError
from animegan_edu.weights.tf.bundle import TFCheckpointError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The full ``animegan-edu`` parser with every subcommand.

    Example:
        >>> build_parser().parse_args(["stylize", "a.png", "-o", "out"]).size
        512
    """
    parser = argparse.ArgumentParser(prog=PROG, description="AnimeGANv2 teaching toolkit: photos to anime.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    stylize.add_parser(sub)
    weights.add_parser(sub)
    training.add_train_parser(sub)
    training.add_train_styles_parser(sub)
    training.add_data_parser(sub)
    bench.add_bench_parser(sub)
    int8.add_quantize_parser(sub)
    training.add_evaluate_parser(sub)
    video.add_video_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 error, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except (
        CLIError,
        WeightsError,
        TFCheckpointError,
        ImageLoadError,
        FileWriteError,
        OSError,
        ValueError,
    ) as exc:
        if debug():
            raise
        error(first_line(exc) or type(exc).__name__)
        return 2
    except Exception as exc:
        if debug():
            raise
        error(f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 to see the traceback)")
        return 2
    return 0 if status is None else int(status)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
