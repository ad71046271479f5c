"""Fast CPU inference, part 1: the INT8 generator and its default recipe.

Introduced in ``notebooks/07_quantized_cpu_inference.ipynb``. The topic spans these modules:

* here: :class:`QuantizedGenerator` is the generator rebuilt from quantized units that pass
  ``quint8`` tensors from one to the next, so no activation goes back to float between
  convolutions; :func:`quantize_generator` calibrates and builds it with the default recipe
  (:data:`DEFAULT_OBSERVER`, :data:`DEFAULT_FLOAT_LAYERS`, :data:`DEFAULT_CALIB_SIZE`);
  :func:`default_engine` picks the quantized engine for this CPU;
* :mod:`animegan_edu.int8.calib`: the calibration photos and :func:`~animegan_edu.int8.calib.calibrate`
  (observers of every activation), and channel equalization;
* :mod:`animegan_edu.int8.layers`: the units (:class:`~animegan_edu.int8.layers.QParams`:
  ``real = scale * (q - zero_point)``, ``QConvNormLReLU``, ``QInvertedResBlock``);
* :mod:`animegan_edu.int8.files`: ``save_int8`` / ``load_int8`` store the model as data
  (safetensors, SHA-256 recorded and checked) and ``int8_generator`` caches it;
* :mod:`animegan_edu.int8.diagnose`: where the INT8 error enters, unit by unit;
* :mod:`animegan_edu.inference.fastpaths`: fp32 channels-last, compiled and TorchScript paths,
  ONNX export and ONNX Runtime sessions (fp32 and INT8), and the default path;
* :mod:`animegan_edu.bench.run`: ``run_benchmark`` (:mod:`animegan_edu.bench.profile`: per-layer
  times; :mod:`animegan_edu.bench.report`: the tables).

Why this INT8 route (eager, hand-assembled from ``torch.ops.quantized``) and not FX
graph mode or PT2E: the cost of the generator outside its convolutions is in
element-wise passes over large activations (a 64 x 512 x 512 float tensor is 67 MB, and
each GroupNorm, LeakyReLU, pad, resize or quantize/dequantize pass reads and writes all
of it). INT8 convolutions only pay when the activations stay ``quint8`` between them:
here GroupNorm, LeakyReLU, reflection padding, bilinear resizing and the residual add all
run on ``quint8`` tensors (a quarter of the memory traffic), and only the input and the
last ``1x1`` conv + ``tanh`` touch float. Naive FX quantization with the default ``x86``
qconfig (7-bit activations, float islands) keeps those passes in float; PT2E +
``torch.compile`` fuses better but compiles once per resolution, too slow for one picture.

Tensor conventions: generator inputs and outputs are ``(N, 3, H, W)`` RGB in ``[-1, 1]``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from animegan_edu.int8.calib import calibrate, calibration_photos, equalize_channels
from animegan_edu.int8.layers import QConvNormLReLU, QInvertedResBlock, QParams, quantize_weight
from animegan_edu.machine import cpu_info
from animegan_edu.models import ConvNormLReLU, Generator, UpsampleMode, resize

__all__ = [
    "default_engine",
    "quantized_engine",
    "layer_names",
    "QuantizedGenerator",
    "DEFAULT_OBSERVER",
    "DEFAULT_FLOAT_LAYERS",
    "DEFAULT_CALIB_SIZE",
    "default_float_dtype",
    "quantize_generator",
    "INT8_RECIPE_VERSION",
    "int8_recipe",
    "weights_sha256",
]


# --------------------------------------------------------------------------------------
# The quantized engine
# --------------------------------------------------------------------------------------
def default_engine() -> str:
    """The quantized engine: ``"onednn"`` wherever this PyTorch build has it, else ``"x86"``.

    oneDNN runs the depthwise convolutions of the inverted residual blocks with its own
    kernel, where PyTorch's ``"x86"`` engine sends them to FBGEMM, and it works with the
    8-bit activations and 7-bit kernel weights used on CPUs without VNNI
    (:func:`animegan_edu.int8.layers.kernel_weight_qmax`). The engines were compared by
    ``tools/int8_variants.py`` (``benchmarks/int8_variants*.json``).

    Example:
        >>> default_engine() in torch.backends.quantized.supported_engines
        True
    """
    engines = torch.backends.quantized.supported_engines
    for e in ("onednn", "x86", "fbgemm", "qnnpack"):
        if e in engines:
            return e
    raise RuntimeError(f"no quantized engine in this PyTorch build (supported: {engines})")


@contextlib.contextmanager
def quantized_engine(name: str) -> Iterator[None]:
    """Temporarily set ``torch.backends.quantized.engine``.

    Example:
        >>> before = torch.backends.quantized.engine
        >>> with quantized_engine(default_engine()):
        ...     torch.backends.quantized.engine == default_engine()
        True
        >>> torch.backends.quantized.engine == before
        True
    """
    old = torch.backends.quantized.engine
    if old == name:
        yield
        return
    torch.backends.quantized.engine = name
    try:
        yield
    finally:
        torch.backends.quantized.engine = old


# --------------------------------------------------------------------------------------
# The quantized generator
# --------------------------------------------------------------------------------------
_QUNITS = (QConvNormLReLU, QInvertedResBlock)


def layer_names(generator: Generator | None = None) -> list[str]:
    """Names of the generator's quantizable units, ``"block_a.0"`` ... ``"block_e.2"`` (its ``units()``).

    Example:
        >>> layer_names()[:3], len(layer_names())
        (['block_a.0', 'block_a.1', 'block_a.2'], 16)
    """
    gen = generator if generator is not None else Generator()
    return [name for name, _ in gen.units()]


def _to_q(x: torch.Tensor, unit: nn.Module) -> torch.Tensor:
    if x.is_quantized:
        return x
    return QParams.from_tensor(unit.in_qp).quantize(x.float().contiguous(memory_format=torch.channels_last))


def _to_f(x: torch.Tensor) -> torch.Tensor:
    return x.dequantize() if x.is_quantized else x


def _resize_any(x: torch.Tensor, size: Sequence[int], mode: UpsampleMode) -> torch.Tensor:
    """Bilinear resize of a float or ``quint8`` tensor (quantized: same parameters out)."""
    if x.is_quantized and mode == "tf1":
        qp = QParams(x.q_scale(), x.q_zero_point())
        return qp.quantize(resize(x.dequantize(), size, mode).contiguous(memory_format=torch.channels_last))
    return resize(x, size, mode)


@torch.no_grad()
def _int8_rounded(module: nn.Module, dtype: torch.dtype = torch.float32) -> nn.Module:
    """``module`` with every conv weight rounded to per-channel ``int8`` (kept as float).

    The float units of a :class:`QuantizedGenerator` compute in float but store their
    weights as ``int8`` (:func:`animegan_edu.int8.files.save_int8`), so the file stays
    small; rounding here makes the model in memory and the one loaded back identical.
    (Per-channel ``int8`` weight rounding alone changes the picture far less than 8-bit
    activations do.) The rounding is repeated (through ``dtype``) until it changes nothing, so that
    quantizing the weights again when saving gives back exactly these values.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            w = m.weight.detach().float()
            for _ in range(8):
                q, scale = quantize_weight(w)
                new = (q.float() * scale.view(-1, 1, 1, 1)).to(dtype).float()
                if torch.equal(new, w):
                    break
                w = new
            m.weight.copy_(w)
    return module


class QuantizedGenerator(nn.Module):
    """The AnimeGANv2 generator with ``int8`` weights and ``quint8`` activations.

    Every ``ConvNormLReLU`` unit and inverted residual block of ``template`` becomes an
    INT8 unit unless its name (``"block_e.2"``, see :func:`layer_names`) is in
    ``float_layers``; those stay float (channels-last; ``float_dtype="bfloat16"`` keeps them
    in bfloat16, fast on CPUs with AVX-512 BF16 or AMX) and the tensor is dequantized on
    the way in and quantized again on the way out. The ``1x1`` output conv and ``tanh``
    always run in float: they are cheap and sit right before the picture.

    Build it with :func:`quantize_generator`, store it with :func:`animegan_edu.int8.files.save_int8`.
    :meth:`units` lists its units as :meth:`Generator.units` does (same names, same order).

    Shapes:
        input ``(N, 3, H, W)`` float RGB in ``[-1, 1]``; output the same, float.

    Example:
        >>> q = QuantizedGenerator(Generator(), float_layers=["block_e.2"])  # not calibrated yet
        >>> type(q.block_a[0]).__name__, type(q.block_e[2]).__name__
        ('QConvNormLReLU', 'ConvNormLReLU')
    """

    #: The float generator's layout: its blocks, and its units by the same names in the same order.
    BLOCKS = Generator.BLOCKS
    units = Generator.units

    def __init__(
        self,
        template: Generator,
        float_layers: Sequence[str] = (),
        engine: str | None = None,
        float_dtype: str = "float32",
    ) -> None:
        super().__init__()
        unknown = set(float_layers) - set(layer_names(template))
        if unknown:
            raise ValueError(f"unknown layer names {sorted(unknown)}; valid: {layer_names(template)}")
        if float_dtype not in ("float32", "bfloat16"):
            raise ValueError(f"float_dtype must be 'float32' or 'bfloat16', got {float_dtype!r}")
        self.upsample: UpsampleMode = template.upsample
        self.float_layers = tuple(sorted(float_layers))
        self.float_dtype = float_dtype
        #: the :func:`animegan_edu.int8.files.quality_check` record, when one was measured
        self.quality: dict[str, object] | None = None
        #: what the model was made from (set by :func:`quantize_generator`, kept in the file by
        #: ``save_int8``): :func:`weights_sha256` of the float weights, and :func:`int8_recipe`
        self.weights_sha256: str | None = None
        self.recipe: str | None = None
        float_to = torch.bfloat16 if float_dtype == "bfloat16" else torch.float32
        self.engine = engine or default_engine()
        for b in self.BLOCKS:
            units = []
            for i, unit in enumerate(getattr(template, b)):
                if f"{b}.{i}" in self.float_layers:
                    # pure bf16, not autocast: no fp32 GroupNorm round trips between the float units
                    units.append(
                        _int8_rounded(copy.deepcopy(unit), float_to)
                        .to(float_to)
                        .to(memory_format=torch.channels_last)
                    )
                elif isinstance(unit, ConvNormLReLU):
                    units.append(QConvNormLReLU(**QConvNormLReLU.spec(unit)))
                else:
                    units.append(QInvertedResBlock(**QInvertedResBlock.spec(unit)))
            setattr(self, b, nn.Sequential(*units))
        self.out_layer = copy.deepcopy(template.out_layer).to(memory_format=torch.channels_last)
        self.eval()

    def set_float(self, template: Generator, qparams: dict[str, QParams]) -> None:
        """Fill the INT8 units from ``template``'s weights and calibrated ``qparams``."""
        mine = dict(self.units())
        for name, unit in template.units():
            if isinstance(mine[name], _QUNITS):
                mine[name].set_float(unit, qparams, name)

    def _float_unit(self, unit: nn.Module, x: torch.Tensor) -> torch.Tensor:
        # bf16 units take and give bf16: the tensor stays bf16 into the next float unit or resize
        return unit(x.to(torch.bfloat16 if self.float_dtype == "bfloat16" else torch.float32))

    def _run(self, seq: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
        for unit in seq:
            x = unit(_to_q(x, unit)) if isinstance(unit, _QUNITS) else self._float_unit(unit, _to_f(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(
                f"QuantizedGenerator expects (N, 3, H, W) RGB in [-1, 1], got shape {tuple(x.shape)}"
            )
        with quantized_engine(self.engine), torch.no_grad():
            full = x.shape[-2:]
            out = self._run(self.block_a, x.float().contiguous(memory_format=torch.channels_last))
            half = out.shape[-2:]
            out = self._run(self.block_c, self._run(self.block_b, out))
            out = self._run(self.block_d, _resize_any(out, half, self.upsample))
            out = self._run(self.block_e, _resize_any(out, full, self.upsample))
            return self.out_layer(_to_f(out).float()).contiguous()


# The default recipe, chosen by measurement: benchmarks/int8_variants*.json (made by
# tools/int8_variants.py, one row per recipe tried), summarised in docs/performance.md.
#: Observer of every activation: min/max. Histogram and MSE clipping fit photos like the
#: calibration ones better but clip a photo whose activations reach further (the rocket
#: sample); min/max covers every observed value.
DEFAULT_OBSERVER = "minmax"
#: Units kept in float: the decoder's last four (1/2 and full resolution), where one
#: 8-bit scale per activation costs most (see :func:`animegan_edu.int8.diagnose.unit_contributions`).
DEFAULT_FLOAT_LAYERS: tuple[str, ...] = ("block_d.1", "block_e.0", "block_e.1", "block_e.2")
#: Calibration at the inference size (512 px) on photos other than the evaluation ones.
DEFAULT_CALIB_SIZE = 512


def default_float_dtype(info: dict | None = None) -> str:
    """``"bfloat16"`` for the float units on CPUs with native bf16 (AVX-512 BF16 or AMX), else ``"float32"``.

    Without native bf16 instructions bf16 is emulated (slow), so ``"float32"`` is the choice there.
    ``info``: a :func:`animegan_edu.machine.cpu_info` dict (default: this machine's).

    Example:
        >>> default_float_dtype({"avx512_bf16": False, "amx": False})
        'float32'
    """
    if info is None:
        info = cpu_info()
    return "bfloat16" if info.get("avx512_bf16") or info.get("amx") else "float32"


#: Version of the quantization code's output, recorded in every INT8 file (:func:`int8_recipe`).
#: Raise it when calibration or quantization changes the numbers a recipe gives, so that files
#: and caches made by the older code are rebuilt.
INT8_RECIPE_VERSION = "1"


def int8_recipe(
    calib_shape: Sequence[int],
    float_layers: Sequence[str] = DEFAULT_FLOAT_LAYERS,
    observer: str = DEFAULT_OBSERVER,
    float_dtype: str | None = None,
    reduce_range: bool | None = None,
    norm_input_observer: str | None = None,
    equalize: float | None = None,
) -> str:
    """The recipe an INT8 model is made with, as one line of text (recorded in its file).

    :data:`INT8_RECIPE_VERSION`, then every choice of :func:`quantize_generator` that changes the
    model (the calibration photos by their shape ``(N, 3, H, W)``); options left at their
    default are not written.

    Example:
        >>> int8_recipe((4, 3, 512, 512), float_dtype="float32")
        'int8-recipe/1 minmax float=block_d.1,block_e.0,block_e.1,block_e.2:float32 calib=4x3x512x512'
        >>> int8_recipe((4, 3, 64, 64), (), float_dtype="float32", equalize=0.5)
        'int8-recipe/1 minmax float=:float32 calib=4x3x64x64 equalize=0.5'
    """
    parts = [
        f"int8-recipe/{INT8_RECIPE_VERSION}",
        observer,
        f"float={','.join(sorted(float_layers))}:{float_dtype or default_float_dtype()}",
        "calib=" + "x".join(str(int(n)) for n in calib_shape),
    ]
    extra = {"reduce_range": reduce_range, "norm_input": norm_input_observer, "equalize": equalize}
    parts += [f"{k}={v}" for k, v in extra.items() if v is not None]
    return " ".join(parts)


def weights_sha256(generator: nn.Module) -> str:
    """SHA-256 of a network's weights: what an INT8 file records of the float weights it was made from.

    Over every state-dict entry in name order: its name, dtype, shape and raw bytes (as stored,
    on the CPU). It depends on the weights only, not on a file, so a generator built or trained
    in memory has one too; the same weights give the same hash whichever file they came from.

    Example:
        >>> a, b = Generator(), Generator()
        >>> len(weights_sha256(a)), weights_sha256(a) == weights_sha256(b)
        (64, False)
        >>> _ = b.load_state_dict(a.state_dict())
        >>> weights_sha256(a) == weights_sha256(b)
        True
    """
    h = hashlib.sha256()
    state = generator.state_dict()
    for name in sorted(state):
        t = state[name].detach()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        flat = t.to("cpu").contiguous().reshape(-1)
        h.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
        h.update(b"\n")
    return h.hexdigest()


def quantize_generator(
    generator: Generator,
    photos: torch.Tensor | None = None,
    float_layers: Sequence[str] = DEFAULT_FLOAT_LAYERS,
    observer: str = DEFAULT_OBSERVER,
    reduce_range: bool | None = None,
    engine: str | None = None,
    norm_input_observer: str | None = None,
    equalize: float | None = None,
    float_dtype: str | None = None,
) -> QuantizedGenerator:
    """Post-training static INT8 quantization of a float generator.

    Args:
        generator: float :class:`~animegan_edu.models.Generator` (left unchanged).
        photos: calibration photos ``(N, 3, H, W)`` in ``[-1, 1]``; default
            :func:`animegan_edu.int8.calib.calibration_photos` at :data:`DEFAULT_CALIB_SIZE`.
        float_layers: layer names kept in float (see :func:`layer_names`); default
            :data:`DEFAULT_FLOAT_LAYERS`, ``()`` for an all-INT8 model.
        observer, reduce_range, norm_input_observer: see :func:`animegan_edu.int8.calib.calibrate`.
        engine: quantized engine (default :func:`default_engine`).
        equalize: ``alpha`` of :func:`animegan_edu.int8.calib.equalize_channels`, run on
            ``photos`` before calibration (``None``: no equalization).
        float_dtype: ``"float32"`` or ``"bfloat16"`` for the ``float_layers``; default
            :func:`default_float_dtype`.

    Returns:
        a :class:`QuantizedGenerator` in eval mode.

    Example:
        >>> q = quantize_generator(Generator(), torch.rand(1, 3, 32, 32) * 2 - 1)
        >>> q(torch.zeros(1, 3, 36, 28)).shape
        torch.Size([1, 3, 36, 28])
    """
    if not isinstance(generator, Generator):
        raise TypeError(
            f"quantize_generator needs an animegan_edu.models.Generator, got {type(generator).__name__}"
        )
    if photos is None:
        photos = calibration_photos(DEFAULT_CALIB_SIZE)
    float_dtype = float_dtype or default_float_dtype()
    source = weights_sha256(generator)  # of the weights as given, before any equalization
    if equalize is not None:
        generator = equalize_channels(generator, photos, alpha=equalize)
    qparams = calibrate(
        generator,
        photos,
        observer=observer,
        reduce_range=reduce_range,
        norm_input_observer=norm_input_observer,
    )
    qgen = QuantizedGenerator(generator, float_layers, engine, float_dtype)
    qgen.set_float(generator, qparams)
    qgen.weights_sha256 = source
    qgen.recipe = int8_recipe(
        tuple(photos.shape), float_layers, observer, float_dtype, reduce_range, norm_input_observer, equalize
    )
    return qgen
