"""Fast CPU inference, part 1: INT8 post-training quantization of the generator.

Introduced in ``notebooks/07_quantized_cpu_inference.ipynb``. The topic spans five modules:

* here: :func:`calibrate` runs the float generator on photos and records, with
  ``torch.ao`` observers, the range of every activation the INT8 model will store;
  :class:`QuantizedGenerator` is the generator rebuilt from quantized units that pass
  ``quint8`` tensors from one to the next, so no activation goes back to float between
  convolutions; :func:`quantize_generator` builds it; :func:`default_engine` picks the
  quantized engine for this CPU;
* :mod:`animegan_edu.int8.layers`: the units (:class:`QParams`: ``real = scale * (q -
  zero_point)``, :class:`QConvNormLReLU`, :class:`QInvertedResBlock`);
* :mod:`animegan_edu.int8.files`: ``save_int8`` / ``load_int8`` store the model as data
  (safetensors, SHA-256 recorded and checked) and ``int8_generator`` caches it;
* :mod:`animegan_edu.inference.fastpaths`: fp32 channels-last, compiled and TorchScript paths, ONNX
  export and ONNX Runtime sessions (fp32 and INT8);
* :mod:`animegan_edu.bench.run`: ``run_benchmark``, per-layer profiles, the reports and the
  ``animegan-edu bench`` command.

The names of those modules that notebooks and scripts used from here before the split
(``Q.save_int8``, ``Q.run_benchmark``, ``Q.fp32_channels_last``, ``Q.psnr``...) still
resolve here (see :data:`_MOVED`), loaded on first use.

Why this INT8 route (eager, hand-assembled from ``torch.ops.quantized``) and not FX
graph mode or PT2E: the cost of the generator outside its convolutions is in
element-wise passes over large activations (a 64 x 512 x 512 float tensor is 67 MB;
each GroupNorm, LeakyReLU, pad, resize or quantize/dequantize pass over it costs tens
of milliseconds on two cores). INT8 convolutions only pay when the activations stay
``quint8`` between them: here GroupNorm, LeakyReLU, reflection padding, bilinear
resizing and the residual add all run on ``quint8`` tensors (a quarter of the memory
traffic), and only the input and the last ``1x1`` conv + ``tanh`` touch float. Naive FX
quantization with the default ``x86`` qconfig (7-bit activations, float islands) was
slower than fp32 and less accurate on the reference machine; PT2E + ``torch.compile``
fuses better but costs ~45 s of compilation per resolution, too much for one picture.

Tensor conventions: generator inputs and outputs are ``(N, 3, H, W)`` RGB in ``[-1, 1]``.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import math
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from animegan_edu.imageio import sample_photos  # noqa: F401 - part of this module's API (calibration photos)
from animegan_edu.int8.layers import (  # noqa: F401 - the private ones are taught in notebook 07 and tested
    QConvNormLReLU,
    QInvertedResBlock,
    QParams,
    _quantize_weight,
    _reflect_pad_q,
)
from animegan_edu.models import ConvNormLReLU, Generator, InvertedResBlock, UpsampleMode, resize

# Names that moved to the modules split from this one, and where they live now. (The
# benchmark's weights helper, _default_generator, moved as it was to animegan_edu.bench.run.)
_MOVED: dict[str, str] = {
    **dict.fromkeys(["INT8_FORMAT", "save_int8", "load_int8", "verify_int8", "int8_generator"], "int8_files"),
    **dict.fromkeys(
        ["ChannelsLast", "fp32_channels_last", "fp32_compiled", "fp32_torchscript", "bf16_channels_last",
         "export_onnx", "OnnxRuntimeGenerator", "quantize_onnx"],
        "fastpaths",
    ),
    **dict.fromkeys(
        ["cpu_info", "num_threads", "psnr", "profile_layers", "run_benchmark", "format_benchmark",
         "bench_table_markdown", "bench_targets", "bench_provenance", "bench_report"],
        "bench",
    ),
}  # fmt: skip

__all__ = [
    "QParams",
    "sample_photos",
    "default_engine",
    "quantized_engine",
    "calibrate",
    "QConvNormLReLU",
    "QInvertedResBlock",
    "QuantizedGenerator",
    "quantize_generator",
    "DEFAULT_OBSERVER",
    "DEFAULT_FLOAT_LAYERS",
    "DEFAULT_CALIB_SIZE",
    "default_float_dtype",
    "SampleObserver",
    "layer_names",
    "register_cli",
    *_MOVED,
]


def __getattr__(name: str) -> object:
    """``quantize.save_int8`` and the other moved names: imported from their module on first use."""
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MOVED))


# --------------------------------------------------------------------------------------
# The quantized engine
# --------------------------------------------------------------------------------------
def default_engine() -> str:
    """The quantized engine: ``"onednn"`` wherever this PyTorch build has it, else ``"x86"``.

    Measured in this project at 512 px (demo weights, 1 thread), oneDNN was the faster engine
    on both CPU classes tried, and the only one that keeps the picture without VNNI:

    * AVX-512 with VNNI (and a 2-core Xeon with AMX): PyTorch's ``"x86"`` engine sends
      depthwise convolutions to FBGEMM, whose kernel was 27x slower than oneDNN's on the
      512-channel depthwise conv of ``block_c``;
    * AVX2 only, no VNNI (an AMD EPYC, 2026-11-29, ``benchmarks/int8_variants_avx2.json``):
      the INT8 model took 0.64x fp32 eager's time on oneDNN and 1.44x on FBGEMM (``"x86"``,
      7-bit activations), with the decoder's last units in fp32 (quality without VNNI:
      :func:`animegan_edu.int8.layers.kernel_weight_qmax`).

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
# Calibration
# --------------------------------------------------------------------------------------
OBSERVERS = ("histogram", "minmax", "percentile", "mse")


class SampleObserver(nn.Module):
    """Activation observer that keeps a random sample of the values it sees, plus the exact extremes.

    ``kind="percentile"``: the range is the ``[100 - p, p]`` percentiles of the sample
    (``p = percentile``); ``kind="mse"``: the range, among the tails ``0, 1e-5 ... 1e-2``
    of the sample, whose ``quint8`` rounding and clipping error (mean square, over the
    sample) is smallest. ``calculate_qparams()`` returns ``(scale, zero_point)`` tensors,
    as ``torch.ao`` observers do; the range always includes 0.

    Example:
        >>> o = SampleObserver("percentile", percentile=99.0)
        >>> _ = o(torch.cat([torch.linspace(-1, 1, 10_000), torch.tensor([50.0])]))
        >>> s, z = o.calculate_qparams()
        >>> round(float(s) * 255, 1), int(z)  # the outlier at 50 is clipped
        (2.0, 127)
    """

    def __init__(
        self, kind: str = "mse", percentile: float = 99.99, samples: int = 1 << 16, qmax: int = 255
    ) -> None:
        super().__init__()
        if kind not in ("percentile", "mse"):
            raise ValueError(f"kind must be 'percentile' or 'mse', got {kind!r}")
        self.kind, self.percentile, self.samples, self.qmax = kind, percentile, samples, qmax
        self._parts: list[torch.Tensor] = []
        self._lo, self._hi = math.inf, -math.inf
        self._rng = torch.Generator().manual_seed(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.detach().float().reshape(-1)
        self._lo, self._hi = min(self._lo, float(flat.min())), max(self._hi, float(flat.max()))
        if flat.numel() > self.samples:
            flat = flat[torch.randint(flat.numel(), (self.samples,), generator=self._rng)]
        self._parts.append(flat.clone())
        return x

    def _qparams(self, lo: float, hi: float) -> tuple[float, int]:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        scale = max((hi - lo) / self.qmax, 1e-8)
        return scale, int(min(max(round(-lo / scale), 0), self.qmax))

    def calculate_qparams(self) -> tuple[torch.Tensor, torch.Tensor]:
        if not self._parts:
            raise RuntimeError("SampleObserver saw no values")
        v = torch.cat(self._parts)
        if self.kind == "percentile":
            p = self.percentile / 100
            lo, hi = torch.quantile(v, torch.tensor([1 - p, p])).tolist()
        else:
            best = None
            for tail in (0.0, 1e-5, 1e-4, 1e-3, 1e-2):
                lo, hi = (
                    (self._lo, self._hi)
                    if tail == 0
                    else torch.quantile(v, torch.tensor([tail, 1 - tail])).tolist()
                )
                s, z = self._qparams(lo, hi)
                err = float((torch.fake_quantize_per_tensor_affine(v, s, z, 0, self.qmax) - v).pow(2).mean())
                if best is None or err < best[0]:
                    best = (err, lo, hi)
            lo, hi = best[1], best[2]
        s, z = self._qparams(lo, hi)
        return torch.tensor([s]), torch.tensor([z])


def _make_observer(kind: str, reduce_range: bool) -> nn.Module:
    from torch.ao.quantization.observer import HistogramObserver, MinMaxObserver

    if kind in ("percentile", "mse"):
        return SampleObserver(kind, qmax=127 if reduce_range else 255)
    cls = {"minmax": MinMaxObserver, "histogram": HistogramObserver}.get(kind)
    if cls is None:
        raise ValueError(f"observer must be one of {OBSERVERS}, got {kind!r}")
    return cls(dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=reduce_range)


def _activation_points(gen: Generator) -> list[tuple[str, nn.Module, str]]:
    """(name, module, when) for every activation the INT8 model stores.

    ``when`` is ``"in"`` (the module's input) or ``"out"`` (its output).
    """
    pts: list[tuple[str, nn.Module, str]] = []
    for name, mod in gen.named_modules():
        if isinstance(mod, ConvNormLReLU):
            pts += [
                (f"{name}.in", mod, "in"),
                (f"{name}.conv", mod[1], "out"),
                (f"{name}.norm", mod[2], "out"),
                (f"{name}.act", mod[3], "out"),
            ]
        elif isinstance(mod, InvertedResBlock):
            pts += [
                (f"{name}.proj", mod.layers[-2], "out"),
                (f"{name}.norm", mod.layers[-1], "out"),
                (f"{name}.out", mod, "out"),
            ]
    pts.append(("out_layer.in", gen.out_layer, "in"))
    return pts


@torch.no_grad()
def calibrate(
    generator: Generator,
    photos: torch.Tensor,
    observer: str = "histogram",
    reduce_range: bool | None = None,
    norm_input_observer: str | None = None,
) -> dict[str, QParams]:
    """Run ``generator`` on ``photos`` and return ``quint8`` parameters per activation.

    Args:
        generator: a float :class:`~animegan_edu.models.Generator` (not modified).
        photos: ``(N, 3, H, W)`` in ``[-1, 1]``; run one at a time.
        observer: ``"histogram"`` (``torch.ao``'s: minimises the quantization error of
            a merged histogram, clips rare outliers), ``"minmax"`` (covers the whole
            observed range), ``"percentile"`` or ``"mse"`` (:class:`SampleObserver`).
        norm_input_observer: another observer for the activations a ``GroupNorm``
            reads (the ``.conv`` / ``.proj`` outputs; ``None``: ``observer``). GroupNorm
            computes one mean and variance over every channel and pixel, so clipping
            its input's outliers shifts the statistics, and with them the whole picture.
        reduce_range: use 7-bit activations (``[0, 127]``), FBGEMM's usual answer to the
            16-bit saturation of ``u8 x s8`` multiply-adds on CPUs without VNNI. ``None``
            (default): 8-bit, because the kernels get 7-bit weights there instead
            (:func:`animegan_edu.int8.layers.kernel_weight_qmax`), which was measured to
            keep far more of the picture.

    Returns:
        ``{"block_a.0.conv": QParams(...), ...}`` keyed by activation name, plus
        ``"reduce_range"``: the bool that was used.

    Example:
        >>> qp = calibrate(Generator(), torch.rand(1, 3, 32, 32) * 2 - 1, observer="minmax")
        >>> qp["block_a.0.conv"].scale > 0, 0 <= qp["block_a.0.conv"].zero_point <= 255
        (True, True)
    """
    if photos.ndim != 4 or photos.shape[1] != 3:
        raise ValueError(f"photos must be (N, 3, H, W) in [-1, 1], got shape {tuple(photos.shape)}")
    if reduce_range is None:
        reduce_range = False  # 8-bit activations everywhere; see int8_layers.kernel_weight_qmax
    gen = copy.deepcopy(generator).float().eval()
    # inplace LeakyReLU would overwrite the GroupNorm output the observer must see first
    for m in gen.modules():
        if isinstance(m, nn.LeakyReLU):
            m.inplace = False
    obs: dict[str, nn.Module] = {}
    handles = []
    for name, mod, when in _activation_points(gen):
        feeds_norm = name.endswith((".conv", ".proj"))
        kind = norm_input_observer if feeds_norm and norm_input_observer else observer
        o = obs[name] = _make_observer(kind, reduce_range)
        if when == "in":
            handles.append(mod.register_forward_pre_hook(lambda m, a, o=o: o(a[0].detach())))
        else:
            handles.append(mod.register_forward_hook(lambda m, a, y, o=o: o(y.detach())))
    try:
        for i in range(photos.shape[0]):
            gen(photos[i : i + 1].float())
    finally:
        for h in handles:
            h.remove()
    out = {}
    for name, o in obs.items():
        s, z = o.calculate_qparams()
        out[name] = QParams(float(s), int(z))
    out["reduce_range"] = reduce_range  # type: ignore[assignment]
    return out


# --------------------------------------------------------------------------------------
# The quantized generator
# --------------------------------------------------------------------------------------
_BLOCKS = ("block_a", "block_b", "block_c", "block_d", "block_e")
_QUNITS = (QConvNormLReLU, QInvertedResBlock)


def layer_names(generator: Generator | None = None) -> list[str]:
    """Names of the generator's quantizable layers (``"block_a.0"`` ... ``"block_e.2"``).

    Example:
        >>> layer_names()[:3], len(layer_names())
        (['block_a.0', 'block_a.1', 'block_a.2'], 16)
    """
    gen = generator if generator is not None else Generator()
    return [f"{b}.{i}" for b in _BLOCKS for i in range(len(getattr(gen, b)))]


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
    Weight rounding alone costs about 62 dB PSNR (measured, demo weights, 256 px): nothing.
    The rounding is repeated (through ``dtype``) until it changes nothing, so that
    quantizing the weights again when saving gives back exactly these values.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            w = m.weight.detach().float()
            for _ in range(8):
                q, scale = _quantize_weight(w)
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

    Build it with :func:`quantize_generator`, store it with :func:`save_int8`.

    Shapes:
        input ``(N, 3, H, W)`` float RGB in ``[-1, 1]``; output the same, float.

    Example:
        >>> q = QuantizedGenerator(Generator(), float_layers=["block_e.2"])  # not calibrated yet
        >>> type(q.block_a[0]).__name__, type(q.block_e[2]).__name__
        ('QConvNormLReLU', 'ConvNormLReLU')
    """

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
        float_to = torch.bfloat16 if float_dtype == "bfloat16" else torch.float32
        self.engine = engine or default_engine()
        for b in _BLOCKS:
            units = []
            for i, unit in enumerate(getattr(template, b)):
                if f"{b}.{i}" in self.float_layers:
                    # pure bf16 ran e.0-e.2 28% faster than bf16 autocast (no fp32 GroupNorm round trips)
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
        for b in _BLOCKS:
            for i, unit in enumerate(getattr(template, b)):
                mine = getattr(self, b)[i]
                if isinstance(mine, _QUNITS):
                    mine.set_float(unit, qparams, f"{b}.{i}")

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


# The default recipe, chosen by measurement: benchmarks/int8_variants.json (made by
# tools/int8_variants.py), summarised in README "Fast CPU inference".
#: Observer of every activation: min/max. Histogram and MSE clipping do better on photos
#: like the calibration ones but lose 5-8 dB on a photo whose activations reach further
#: (the rocket sample); min/max keeps every photo within a few dB of the others.
DEFAULT_OBSERVER = "minmax"
#: Units kept in float: the decoder's last four (1/2 and full resolution), where one
#: 8-bit scale per activation costs most (see :func:`animegan_edu.int8.diagnose.unit_contributions`).
DEFAULT_FLOAT_LAYERS: tuple[str, ...] = ("block_d.1", "block_e.0", "block_e.1", "block_e.2")
#: Calibration at the inference size (512 px) on photos other than the evaluation ones.
DEFAULT_CALIB_SIZE = 512


def default_float_dtype(info: dict | None = None) -> str:
    """``"bfloat16"`` for the float units on CPUs with native bf16 (AVX-512 BF16 or AMX), else ``"float32"``.

    bf16 was measured on AVX-512 BF16 (the project's machine); ``"float32"`` elsewhere is
    the safe choice, its speed there was not measured.

    Example:
        >>> default_float_dtype({"avx512_bf16": False, "amx": False})
        'float32'
    """
    if info is None:
        info = {"avx512_bf16": bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()),
                "amx": bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())}  # fmt: skip
    return "bfloat16" if info.get("avx512_bf16") or info.get("amx") else "float32"


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
        observer, reduce_range, norm_input_observer: see :func:`calibrate`.
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
        from animegan_edu.int8.calib import calibration_photos

        photos = calibration_photos(DEFAULT_CALIB_SIZE)
    float_dtype = float_dtype or default_float_dtype()
    if equalize is not None:
        from animegan_edu.int8.calib import equalize_channels

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
    return qgen


# --------------------------------------------------------------------------------------
# Command line: `animegan-edu quantize` (and `animegan-edu bench`, from animegan_edu.bench.run)
# --------------------------------------------------------------------------------------
def _cmd_quantize(args) -> int:  # type: ignore[no-untyped-def]
    from animegan_edu.int8.files import save_int8
    from animegan_edu.weights.hub import get_generator

    gen, _ = get_generator(args.weights, fallback=None, progress=False)
    from animegan_edu.int8.calib import calibration_photos

    model = quantize_generator(gen, calibration_photos(args.calib_size))
    n = save_int8(model, args.output)
    print(f"wrote {args.output} ({n / 1e6:.2f} MB, INT8, engine {model.engine}) and its SHA-256 beside it")
    return 0


def register_cli(subparsers) -> None:  # type: ignore[no-untyped-def]
    """Add ``quantize`` and ``bench`` to the ``animegan-edu`` command (see :mod:`animegan_edu.cli.main`).

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="animegan-edu").add_subparsers()
        >>> register_cli(sub)
        >>> sorted(sub.choices)
        ['bench', 'quantize']
    """
    from animegan_edu.bench import run as bench
    from animegan_edu.bench.run import _positive_int

    bench.register_cli(subparsers)
    q = subparsers.add_parser("quantize", help="write the INT8 model of a generator (safetensors)")
    q.add_argument("-o", "--output", required=True, metavar="FILE", help="output .safetensors file")
    q.add_argument(
        "--weights", default=None, metavar="NAME|PATH", help="generator weights (default: as `stylize`)"
    )
    q.add_argument(
        "--calib-size",
        type=_positive_int,
        default=DEFAULT_CALIB_SIZE,
        metavar="N",
        help=f"calibration photo size (default {DEFAULT_CALIB_SIZE}, the inference size)",
    )
    q.set_defaults(func=_cmd_quantize)
