"""``animegan-edu weights list | download NAME | verify FILE | convert-tf DIR -o FILE``.

The registry and its cache are :mod:`animegan_edu.weights.registry`, loading and checking
a file :mod:`animegan_edu.weights.hub`, the TF converter :mod:`animegan_edu.weights.tf.checkpoint`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from animegan_edu.files import sha256_file, sidecar_path
from animegan_edu.outputs import check_output, output_lock
from animegan_edu.weights.files import WeightsNotAvailableError, check_generator_state_dict
from animegan_edu.weights.hub import looks_like_path, verify_file
from animegan_edu.weights.registry import (
    AnimeGANv2Weights,
    cached_path,
    check_recorded_hash,
    describe,
    download,
    get_weights,
    how_to_get,
)
from animegan_edu.weights.tf.checkpoint import convert_checkpoint, save_state_dict_safetensors

__all__ = [
    "add_parser",
    "cmd_weights_list",
    "cmd_weights_download",
    "cmd_weights_verify",
    "cmd_weights_convert_tf",
]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``animegan-edu weights list | download | verify | convert-tf``."""
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
    """Print the registry: name, kind, whether cached, what it is (``-v``: everything known)."""
    if args.verbose:
        print("\n\n".join(describe(w) for w in AnimeGANv2Weights))
        return 0
    print(f"{'name':<18} {'kind':<9} {'cached':<7} what")
    for w in AnimeGANv2Weights:
        print(f"{w.key:<18} {w.value.kind:<9} {'yes' if cached_path(w) else 'no':<7} {w.meta['doc']}")
    return 0


def cmd_weights_download(args: argparse.Namespace) -> int:
    """Download (and for TF entries convert) one entry into the cache; print its path."""
    path = download(args.name, progress=not args.no_progress, force=args.force, base_url=args.base_url)
    print(path)
    return 0


def cmd_weights_verify(args: argparse.Namespace) -> int:
    """Check a weights file, or the cached copy of a registry entry, and print its hashes."""
    target = Path(args.file)
    # registry names first: a local file named "paprika" never shadows the entry
    if not looks_like_path(args.file):
        entry = get_weights(args.file)
        path = cached_path(entry)
        if path is None:
            raise WeightsNotAvailableError(f"{entry.key} is not cached: {how_to_get(entry)}")
        check_recorded_hash(entry, path)
        target = path
    report = verify_file(target)
    print(
        f"{report['path']}: OK, an AnimeGANv2 generator ({report['format']}, "
        f"{report['num_params']:,} parameters, {report['size']:,} bytes)"
    )
    print(f"  sha256   {report['sha256']}")
    print(f"  git-sha1 {report['git_sha1']}")
    if report["matches"]:
        print(f"  matches the recorded hash of registry entry '{report['matches']}'")
    else:
        print("  matches no recorded registry hash (your own or a modified file)")
    return 0


def cmd_weights_convert_tf(args: argparse.Namespace) -> int:
    """Convert an original TF generator checkpoint to a safetensors file (with its recorded hash)."""
    inputs = _checkpoint_files(Path(args.dir))
    out = check_output(args.output, inputs, suffixes=(".safetensors",), what="checkpoint file")
    check_output(sidecar_path(out), inputs, what="checkpoint file", option="-o (its .sha256)")
    with output_lock(out):
        state = convert_checkpoint(args.dir)
        check_generator_state_dict(state, str(args.dir))
        save_state_dict_safetensors(
            state, out, metadata={"source": f"TF checkpoint {Path(args.dir).name}", "upsample": "tf1"}
        )
    print(f"{out}: {len(state)} tensors, sha256 {sha256_file(out)}")
    return 0


def _checkpoint_files(given: Path) -> list[Path]:
    """The files a TF checkpoint (folder, prefix or ``.index``) is read from: what ``-o`` must never be."""
    if given.is_dir():
        return [given] + sorted(p for p in given.iterdir() if p.is_file())
    prefix = given.name[: -len(".index")] if given.name.endswith(".index") else given.name
    try:
        near = [p for p in given.parent.iterdir() if p.name.startswith(prefix + ".") and p.is_file()]
    except OSError:
        near = []
    return [given] + sorted(near)
