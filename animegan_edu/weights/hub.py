"""Pretrained AnimeGANv2 generator weights: the registry and the one way to get a generator.

Introduced in ``notebooks/01_generator.ipynb`` (section "Loading weights").

**Getting a generator.** :func:`get_generator` is the front door; every notebook, widget
and command uses it. Its policy:

* ``name_or_path`` is resolved *registry first*: a bare name (``"paprika"``, any case) is
  always the registry entry, even if a file or folder of that name sits in the working
  directory; a path must look like a path (contain ``/`` or end in ``.pt``, ``.pth``,
  ``.bin``, ``.safetensors``, ``.index``; write ``./paprika`` for a local ``paprika``).
  ``None`` means the best cached entry (:func:`resolve_default`); ``"random"`` asks for an
  untrained generator on purpose.
* Only "not available offline" (:class:`WeightsNotAvailableError`: not cached and no
  download allowed or possible) may fall back: ``fallback="demo"`` (the default) loads the
  bundled, hash-checked demo weights and the label says so (``"demo (bundled):
  face_paint_512_v2 is not available offline; ..."``); ``fallback="random"`` returns an
  untrained generator (for callers that explicitly accept one); ``fallback=None`` raises.
* An integrity, format or architecture problem (:class:`IntegrityError`,
  :class:`CorruptFileError`, :class:`UnsafeFileError`, :class:`ArchitectureError`) is
  never turned into a fallback: it raises with a one-line message.

:func:`load_generator` is the strict inner loader (no fallback); nothing outside this
module builds a generator from weights another way.

**The registry** :class:`AnimeGANv2Weights` follows torchvision's pattern: one enum entry
per weight file with its download address(es) and a ``meta`` dict (what it is for,
licence, training data, parameter count, file size, integrity hash, a doc line).

* ``FACE_PAINT_512_V2``, ``FACE_PAINT_512_V1``, ``CELEBA_DISTILL``, ``PAPRIKA``: the
  public PyTorch state dicts (``bryandlee/animegan2-pytorch``), checked against their
  git-blob SHA-1 (``sha1(b"blob <size>\\0" + data)``, the hash GitHub shows) while they
  download and on every load.
* ``SHINKAI``, ``HAYAO``, ``PAPRIKA_TF``: the original TensorFlow checkpoints
  (``TachibanaYoshino/AnimeGANv2``), two files each. **Limits, stated honestly:** their
  upstream hashes are not known to this project, so the download cannot be checked
  against a trusted hash. What is checked: the size cap; the bundle's own CRC-32C
  checksums, which catch truncation and corruption but *not* deliberate tampering (anyone
  can recompute a CRC); the SHA-256 of both bundle files is recorded in the cache when
  they are first converted (trust on first use) and checked before they are converted
  again. The converted ``weights/<name>.safetensors`` gets a ``.sha256`` sidecar written
  at conversion and *required* on every later load: a missing, empty or unreadable
  sidecar is a refusal.
* ``DEMO``: the toolkit's own small demo generator, bundled in the repository at
  ``weights/demo.safetensors``, checked against the SHA-256 in
  ``weights/demo.safetensors.sha256`` (required).

Files are cached in ``$ANIMEGAN_EDU_HOME`` (default ``~/.cache/animegan-edu``), under
``weights/`` (and ``tf/`` for the TF originals). Downloads (:func:`animegan_edu.weights.files.fetch`)
stream into ``<file>.partial`` with a size cap (the entry's known size plus a margin, never
more than 200 MB), are hashed on the way, and are renamed into place only when complete
and matching. ``$ANIMEGAN_EDU_WEIGHTS_URL`` (or ``base_url=``) points every download at a
mirror folder holding the files under their upstream names (the tests use a server on
127.0.0.1); ``ANIMEGAN_EDU_OFFLINE=1`` forbids the network.

Loading never runs pickled code (see :mod:`animegan_edu.weights.files`). Every problem is a
:class:`animegan_edu.weights.files.WeightsError` subclass with a one-line message naming the
file and what to do.

Where the names live (import each from there): the registry, cache paths and downloads in
:mod:`animegan_edu.weights.registry`; the errors, file formats and downloads' plumbing in
:mod:`animegan_edu.weights.files`; getting, loading and verifying a generator here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import torch

from animegan_edu.checks import MAX_SEED, int_in_range
from animegan_edu.files import read_sidecar, sha256_file, sidecar_path
from animegan_edu.models import Generator, UpsampleMode
from animegan_edu.weights import registry as _registry
from animegan_edu.weights.files import (
    CorruptFileError,
    IntegrityError,
    WeightsError,
    WeightsNotAvailableError,
    check_generator_state_dict,
    git_blob_sha1,
    load_state_dict,
    require_sidecar,
    safetensors_metadata,
    sniff,
)
from animegan_edu.weights.registry import (
    AnimeGANv2Weights,
    cached_path,
    check_recorded_hash,
    get_weights,
    how_to_get,
    is_cached,
    recorded_hash,
    target_path,
)
from animegan_edu.weights.tf.bundle import TFCheckpointError
from animegan_edu.weights.tf.checkpoint import convert_checkpoint

__all__ = [
    "RANDOM",
    "verify_file",
    "get_generator",
    "load_generator",
    "resolve_default",
    "looks_like_path",
    "input_files",
]

#: The name :func:`get_generator` accepts for an untrained generator, on purpose.
RANDOM = "random"
_PATH_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".index")


# --------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------
def _entry_owning(path: Path) -> AnimeGANv2Weights | None:
    """The registry entry whose loadable file is ``path``, if any."""
    try:
        real = path.resolve()
        return next((e for e in AnimeGANv2Weights if target_path(e).resolve() == real), None)
    except OSError:
        return None


def verify_file(path: str | os.PathLike) -> dict[str, Any]:
    """Check a weights file: hashes, which registry entry it is (if any), format, architecture.

    A registry file in the cache (or the bundled demo) must match its recorded hash; for a
    file with a recorded SHA-256 (a ``.sha256`` sidecar), a missing, empty or unreadable
    sidecar is a refusal, never a pass. Any other file is checked for format and
    architecture and reported with its hashes.

    Returns:
        a report: ``path``, ``size``, ``sha256``, ``git_sha1``, ``format``, ``matches``
        (the registry name whose recorded hash it has, or ``None``), ``num_params``.

    Raises:
        WeightsError: the file cannot be loaded, fails its hash, or is not a generator.

    Example:
        >>> verify_file(_registry.REPO_WEIGHTS_DIR / "demo.safetensors")["matches"]
        'demo'
    """
    p = Path(path)
    owner = _entry_owning(p)
    if owner is not None and p.is_file():
        check_recorded_hash(owner, p)
    elif p.is_file():
        _check_file_hash(p)
    state = load_state_dict(p)
    check_generator_state_dict(state, str(p))
    report: dict[str, Any] = {
        "path": str(p),
        "size": p.stat().st_size,
        "sha256": sha256_file(p),
        "git_sha1": git_blob_sha1(p),
        "format": sniff(p),
        "num_params": sum(v.numel() for v in state.values()),
        "matches": None,
    }
    for entry in AnimeGANv2Weights:
        recorded = recorded_hash(entry)
        if recorded and report["git_sha1" if recorded[0] == "git-sha1" else "sha256"] == recorded[1]:
            report["matches"] = entry.key
            break
    return report


def _check_file_hash(p: Path) -> None:
    """Check a local file against its ``.sha256`` sidecar when it has one, or must have one.

    Converted files (safetensors metadata ``source: TF checkpoint ...`` or ``registry_name``)
    get their sidecar at conversion, so for them a missing/empty/unreadable one is a refusal.
    Other files (your own training output) are checked when a sidecar exists.
    """
    meta = _file_metadata(p)
    converted = "registry_name" in meta or meta.get("source", "").startswith("TF checkpoint")
    if not converted and not p.with_name(p.name + ".sha256").exists():
        return
    fix = (
        "re-run the conversion (`animegan-edu weights convert-tf DIR -o FILE`) to re-create it and its hash"
        if converted
        else f"re-create it with `sha256sum {p.name} > {p.name}.sha256` once you trust the file"
    )
    want = require_sidecar(p, fix)
    got = sha256_file(p)
    if got != want:
        raise IntegrityError(
            f"{p}: sha256 {got} does not match the recorded {want} in {p.name}.sha256 (tampered or corrupted)"
        )


# --------------------------------------------------------------------------------------
# Loading a generator
# --------------------------------------------------------------------------------------
def resolve_default() -> str:
    """The name :func:`get_generator` and :func:`load_generator` use when given ``None``.

    A cached public weight if there is one (``face_paint_512_v2``, then ``paprika``),
    else the bundled ``demo`` if ``weights/demo.safetensors`` exists.

    Raises:
        WeightsNotAvailableError: none of these is available (says how to get one).

    Example:
        >>> resolve_default() in ("face_paint_512_v2", "paprika", "demo")
        True
    """
    for entry in (AnimeGANv2Weights.FACE_PAINT_512_V2, AnimeGANv2Weights.PAPRIKA):
        if is_cached(entry):
            return entry.key
    if is_cached(AnimeGANv2Weights.DEMO):
        return AnimeGANv2Weights.DEMO.key
    raise WeightsNotAvailableError(
        "no generator weights available: run `animegan-edu weights download face_paint_512_v2` "
        "(needs the internet), "
        f"or restore the bundled {target_path(AnimeGANv2Weights.DEMO)}"
    )


def looks_like_path(s: str) -> bool:
    """Whether ``s`` names a file, not a registry entry: a ``/``, a leading ``~`` or ``.``, a weights suffix.

    Example:
        >>> looks_like_path("paprika"), looks_like_path("./paprika"), looks_like_path("g.safetensors")
        (False, True, True)
    """
    return "/" in s or os.sep in s or s.startswith(("~", ".")) or s.lower().endswith(_PATH_SUFFIXES)


def input_files(name_or_path: str | os.PathLike | AnimeGANv2Weights | None = None) -> list[Path]:
    """The files that loading ``name_or_path`` reads: what a command's output must never replace.

    A registry name (or ``None``: :func:`resolve_default`) gives its file in the cache (or the
    bundled demo) and its ``.sha256``; a path gives itself and its ``.sha256``, and a TF
    checkpoint folder the files in it. ``"random"``, unknown names and unavailable weights
    give ``[]`` (loading them reports the problem).

    Example:
        >>> [p.name for p in input_files("demo")]
        ['demo.safetensors', 'demo.safetensors.sha256']
        >>> [p.name for p in input_files("./mine.safetensors")]
        ['mine.safetensors', 'mine.safetensors.sha256']
    """
    if isinstance(name_or_path, str) and name_or_path.strip().lower() == RANDOM:
        return []
    try:
        target = _resolve(resolve_default() if name_or_path is None else name_or_path)
    except (WeightsError, ValueError):
        return []
    path = target_path(target) if isinstance(target, AnimeGANv2Weights) else target
    if path.is_dir():
        return [path] + sorted(p for p in path.iterdir() if p.is_file())
    return [path, sidecar_path(path)]


def _resolve(name_or_path: str | os.PathLike | AnimeGANv2Weights) -> AnimeGANv2Weights | Path:
    """Registry first: a bare name is a registry entry (or unknown); only path-like strings are paths."""
    if isinstance(name_or_path, AnimeGANv2Weights):
        return name_or_path
    if isinstance(name_or_path, os.PathLike):
        return Path(name_or_path)
    text = str(name_or_path)
    if "\0" in text:
        raise CorruptFileError(f"{text!r}: not a valid file name (it holds a NUL byte); check the path")
    if looks_like_path(text):
        return Path(text).expanduser()
    return get_weights(text)


def load_generator(
    name_or_path: str | os.PathLike | AnimeGANv2Weights | None = None,
    *,
    upsample: UpsampleMode | None = None,
    device: str | torch.device = "cpu",
    download: bool = True,
    progress: bool = True,
) -> Generator:
    """The strict loader behind :func:`get_generator`: pretrained weights or an exception, no fallback.

    Args:
        name_or_path: a registry name (case-insensitive, e.g. ``"paprika"``, ``"shinkai"``,
            ``"demo"``; resolved before any file of that name), a path to a ``.pt`` state
            dict, a ``.safetensors`` file, a TF checkpoint (folder or ``.index``), or
            ``None`` for :func:`resolve_default`.
        upsample: the decoder's resize (see :func:`animegan_edu.models.resize`); ``None``
            uses the mode the weights were made for (``meta["upsample"]``: ``"tf1"`` for
            the TF originals, ``"align_corners"`` for everything else; for a file, the
            ``upsample`` entry of its safetensors metadata, else ``"align_corners"``).
        device: where to put the model.
        download: fetch registry weights that are not cached (else raise).
        progress: show a download progress bar.

    Returns:
        the generator, ``eval()``-mode, float32, on ``device``: ``(N, 3, H, W)`` RGB in
        ``[-1, 1]`` in and out.

    Raises:
        WeightsError: one of its subclasses, with a one-line message (unknown name, not
            available offline, tampered/truncated/non-finite file, unsafe pickle, wrong
            architecture).

    Example:
        >>> load_generator("demo").upsample
        'align_corners'
    """
    target = _resolve(resolve_default() if name_or_path is None else name_or_path)
    if isinstance(target, AnimeGANv2Weights):
        entry = target
        path = cached_path(entry)
        if path is None:
            if entry.value.kind == "bundled" or not download:
                raise WeightsNotAvailableError(f"{entry.key} is not cached: {how_to_get(entry)}")
            path = _registry.download(entry, progress=progress)
        else:
            check_recorded_hash(entry, path)
        state = load_state_dict(path)
        where = f"{path} ({entry.key})"
        mode = upsample or entry.meta.get("upsample", "align_corners")
    else:
        p = target
        if not p.exists():
            raise CorruptFileError(f"{p}: no such file (and not a registry name); check the path")
        if p.is_dir() or p.suffix == ".index":
            try:
                state = convert_checkpoint(p)
            except TFCheckpointError as exc:
                raise CorruptFileError(str(exc)) from None
            mode = upsample or "tf1"
        else:
            _check_file_hash(p)
            state = load_state_dict(p)
            mode = upsample or _file_upsample(p) or "align_corners"
        where = str(p)
    check_generator_state_dict(state, where)
    model = Generator(upsample=mode)
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return model.eval().to(device)


def _file_metadata(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file (``{}`` for other or unreadable files)."""
    try:
        if sniff(path) != "safetensors":
            return {}
        return safetensors_metadata(path)
    except (WeightsError, OSError):  # unreadable: load_state_dict reports the damage with the file name
        return {}


def _file_upsample(path: Path) -> str | None:
    """The ``upsample`` mode recorded in a safetensors file's metadata (converted TF weights say ``tf1``)."""
    mode = _file_metadata(path).get("upsample")
    return mode if mode in ("align_corners", "half_pixel", "tf1") else None


def _untrained(seed: int, upsample: UpsampleMode | None, device: str | torch.device) -> Generator:
    int_in_range("seed", seed, 0, MAX_SEED)  # one line naming it, not torch's "Overflow when unpacking"
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(seed)
        model = Generator(upsample=upsample or "align_corners")
    return model.eval().to(device)


def _label(target: AnimeGANv2Weights | Path) -> str:
    if isinstance(target, Path):
        checked = "SHA-256 verified" if target.is_file() and read_sidecar(target) else "no recorded hash"
        return f"{target} (local file, {checked})"
    if target.value.kind == "bundled":
        return f"{target.key} (bundled)"
    return f"{target.key} (pretrained)"


def get_generator(
    name_or_path: str | os.PathLike | AnimeGANv2Weights | None = None,
    *,
    fallback: Literal["demo", "random"] | None = "demo",
    seed: int = 0,
    upsample: UpsampleMode | None = None,
    device: str | torch.device = "cpu",
    download: bool = False,
    progress: bool = True,
) -> tuple[Generator, str]:
    """The one way to get a generator: ``(model, label)``, with an explicit fallback policy.

    Policy (see the module docstring):

    * ``name_or_path``: a registry name (always the registry entry, even if a file of that
      name exists), a path that looks like a path (``./x``, ``x.pt``, ``x.safetensors``,
      a TF ``.index`` or ``dir/``), ``None`` (the best cached entry, else the bundled demo),
      or ``"random"`` (an untrained generator, on purpose).
    * Only :class:`WeightsNotAvailableError` (not cached, and not downloaded because
      ``download=False``, offline or unreachable) falls back: ``fallback="demo"`` loads the
      bundled, hash-checked demo weights, labelled ``"demo (bundled): <name> is not
      available offline; <how to get it>"``; ``fallback="random"`` returns an untrained
      generator (``seed``), labelled ``"random (UNTRAINED generator, seed N): ..."``;
      ``fallback=None`` raises.
    * :class:`IntegrityError`, :class:`CorruptFileError`, :class:`UnsafeFileError`,
      :class:`ArchitectureError`, :class:`UnknownWeightsError` always raise (one line naming
      the file and what to do); a tampered file is never replaced by a fallback.

    Args:
        name_or_path: what to load (above).
        fallback: ``"demo"``, ``"random"`` or ``None`` (above).
        seed: the seed of an untrained generator, 0 to ``2**32 - 1`` (the caller's random
            state is untouched); another value is a one-line ``ValueError``.
        upsample: the decoder's resize; ``None`` uses the one the weights were made for.
        device: where to put the model.
        download: allow downloading registry weights that are not cached.
        progress: show a download progress bar.

    Returns:
        ``(generator, label)``: the generator in ``eval()`` mode, float32, on ``device``,
        mapping ``(N, 3, H, W)`` RGB in ``[-1, 1]`` to ``(N, 3, H, W)`` RGB in ``[-1, 1]``
        (``H``, ``W`` at least 8); the label is one line saying which weights it carries.

    Raises:
        WeightsError: a subclass, as above; ``ValueError`` for an unknown ``fallback``.

    Example:
        >>> g, label = get_generator("random", seed=0)
        >>> label
        'random (UNTRAINED generator, seed 0): pictures show the pipeline, not a style'
        >>> y = g(torch.zeros(1, 3, 16, 16))
        >>> tuple(y.shape), bool(y.abs().max() <= 1)
        ((1, 3, 16, 16), True)
    """
    if fallback not in ("demo", "random", None):
        raise ValueError(f"fallback must be 'demo', 'random' or None, got {fallback!r}")
    if isinstance(name_or_path, str) and name_or_path.strip().lower() == RANDOM:
        return _untrained(
            seed, upsample, device
        ), f"random (UNTRAINED generator, seed {seed}): pictures show the pipeline, not a style"
    try:
        target = _resolve(resolve_default() if name_or_path is None else name_or_path)
        model = load_generator(target, upsample=upsample, device=device, download=download, progress=progress)
        return model, _label(target)
    except WeightsNotAvailableError as exc:
        if fallback is None:
            raise
        missing = exc
    wanted = (
        "no pretrained weights" if name_or_path is None else str(getattr(name_or_path, "key", name_or_path))
    )
    why = (
        f"{wanted} is not available offline"
        if name_or_path is not None
        else "no pretrained weights are available offline"
    )
    if fallback == "random":
        return _untrained(
            seed, upsample, device
        ), f"random (UNTRAINED generator, seed {seed}): {why}; {missing}"
    demo = AnimeGANv2Weights.DEMO
    if (
        name_or_path is not None
        and not isinstance(name_or_path, os.PathLike)
        and _resolve(name_or_path) is demo
    ):
        raise missing
    if not is_cached(demo):
        raise WeightsNotAvailableError(
            f"{missing}; and the fallback demo weights are missing too: {how_to_get(demo)}"
        )
    model = load_generator(demo, upsample=upsample, device=device, download=False)
    target = _resolve(name_or_path) if name_or_path is not None else None
    how = how_to_get(target) if isinstance(target, AnimeGANv2Weights) else str(missing)
    return model, f"demo (bundled): {why}; {how}"
