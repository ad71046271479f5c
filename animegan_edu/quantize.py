"""Fast CPU inference: INT8 post-training quantization, compiled fp32 and ONNX Runtime.

Introduced in ``notebooks/07_quantized_cpu_inference.ipynb``.

What is here, top to bottom:

* calibration photos (:func:`sample_photos`) and per-tensor affine quantization
  parameters (:class:`QParams`: ``real = scale * (q - zero_point)``);
* :func:`calibrate`: run the float generator on photos and record, with
  ``torch.ao`` observers, the range of every activation the INT8 model will store;
* :class:`QuantizedGenerator`: the generator rebuilt from quantized units
  (:class:`QConvNormLReLU`, :class:`QInvertedResBlock`) that pass ``quint8`` tensors
  from one to the next, so no activation goes back to float between convolutions;
  :func:`quantize_generator` builds it, :func:`save_int8` / :func:`load_int8` store it
  as data (safetensors: ``int8`` weights, scales, zero points; no pickled code);
* fp32 paths (:func:`fp32_channels_last`, :func:`fp32_compiled`), thread control
  (:func:`num_threads`), ONNX export and ONNX Runtime sessions (fp32 and INT8);
* :func:`run_benchmark` and the ``animegan-edu bench`` command.

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
import json
import logging
import math
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .imageio import sample_photos  # noqa: F401 - part of this module's API (calibration photos)
from .models import ConvNormLReLU, Generator, InvertedResBlock, UpsampleMode, resize

__all__ = [
    "QParams",
    "sample_photos",
    "cpu_info",
    "default_engine",
    "quantized_engine",
    "num_threads",
    "calibrate",
    "QConvNormLReLU",
    "QInvertedResBlock",
    "QuantizedGenerator",
    "quantize_generator",
    "save_int8",
    "load_int8",
    "psnr",
    "layer_names",
    "int8_generator",
    "ChannelsLast",
    "fp32_channels_last",
    "fp32_compiled",
    "fp32_torchscript",
    "bf16_channels_last",
    "export_onnx",
    "OnnxRuntimeGenerator",
    "quantize_onnx",
    "profile_layers",
    "run_benchmark",
    "format_benchmark",
    "bench_table_markdown",
    "bench_targets",
    "bench_provenance",
    "bench_report",
    "register_cli",
]

INT8_FORMAT = "animegan-edu-int8/1"

# PyTorch 2.14 warns (once) that quantized tensor dtypes will be removed in a future
# release; this module relies on them, says so in its docs, and silences only that line.
warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel", category=UserWarning)
_LEAKY_SLOPE = 0.2
_GN_EPS = 1e-5


# --------------------------------------------------------------------------------------
# Quantization parameters, photos, machine
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QParams:
    """Per-tensor affine quantization to ``quint8``: ``real = scale * (q - zero_point)``.

    ``q`` is an integer in ``[0, 255]`` (``[0, 127]`` with a reduced range).
    """

    scale: float
    zero_point: int

    def as_tensor(self) -> torch.Tensor:
        return torch.tensor([self.scale, float(self.zero_point)], dtype=torch.float64)

    @staticmethod
    def from_tensor(t: torch.Tensor) -> QParams:
        return QParams(float(t[0]), int(round(float(t[1]))))

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Float tensor -> ``quint8`` tensor with these parameters."""
        return torch.quantize_per_tensor(x, self.scale, self.zero_point, torch.quint8)


def cpu_info() -> dict[str, object]:
    """What the CPU offers for INT8 and bf16: model name, AVX2, AVX-512, VNNI, AMX."""
    name = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    flag = lambda f: bool(getattr(torch.cpu, f, lambda: False)())  # noqa: E731
    return {
        "model": name,
        "logical_cpus": os.cpu_count(),
        "avx2": flag("_is_avx2_supported"),
        "avx512": flag("_is_avx512_supported"),
        "vnni": flag("_is_vnni_supported"),
        "amx": flag("_is_amx_tile_supported"),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def default_engine() -> str:
    """The quantized engine for this CPU: ``"onednn"`` where it has VNNI, else ``"x86"``.

    oneDNN runs INT8 convolutions (depthwise ones included) on VNNI / AMX instructions;
    PyTorch's ``"x86"`` engine sends depthwise convolutions to FBGEMM, whose kernel was
    27x slower than oneDNN's on the 512-channel depthwise conv of ``block_c`` (measured
    on a 2-core Xeon with AMX). Without VNNI, ``"x86"`` (FBGEMM) is PyTorch's default.
    """
    engines = torch.backends.quantized.supported_engines
    prefs = ("onednn", "x86", "fbgemm", "qnnpack") if torch.cpu._is_vnni_supported() else ("x86", "fbgemm", "onednn", "qnnpack")
    for e in prefs:
        if e in engines:
            return e
    raise RuntimeError(f"no quantized engine in this PyTorch build (supported: {engines})")


@contextlib.contextmanager
def quantized_engine(name: str) -> Iterator[None]:
    """Temporarily set ``torch.backends.quantized.engine``."""
    old = torch.backends.quantized.engine
    if old == name:
        yield
        return
    torch.backends.quantized.engine = name
    try:
        yield
    finally:
        torch.backends.quantized.engine = old


@contextlib.contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """Temporarily use ``n`` intra-op threads (``None``: leave as is)."""
    old = torch.get_num_threads()
    if n is not None:
        if n < 1:
            raise ValueError(f"threads must be >= 1, got {n}")
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB between two tensors of the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"psnr needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    mse = (a.double() - b.double()).pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * math.log10(data_range**2 / mse)


# --------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------
def _make_observer(kind: str, reduce_range: bool) -> nn.Module:
    from torch.ao.quantization.observer import HistogramObserver, MinMaxObserver

    cls = {"minmax": MinMaxObserver, "histogram": HistogramObserver}.get(kind)
    if cls is None:
        raise ValueError(f"observer must be 'minmax' or 'histogram', got {kind!r}")
    return cls(dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=reduce_range)


def _activation_points(gen: Generator) -> list[tuple[str, nn.Module, str]]:
    """(name, module, when) for every activation the INT8 model stores.

    ``when`` is ``"in"`` (the module's input) or ``"out"`` (its output).
    """
    pts: list[tuple[str, nn.Module, str]] = []
    for name, mod in gen.named_modules():
        if isinstance(mod, ConvNormLReLU):
            pts += [(f"{name}.in", mod, "in"), (f"{name}.conv", mod[1], "out"), (f"{name}.norm", mod[2], "out"), (f"{name}.act", mod[3], "out")]
        elif isinstance(mod, InvertedResBlock):
            pts += [(f"{name}.proj", mod.layers[-2], "out"), (f"{name}.norm", mod.layers[-1], "out"), (f"{name}.out", mod, "out")]
    pts.append(("out_layer.in", gen.out_layer, "in"))
    return pts


@torch.no_grad()
def calibrate(
    generator: Generator,
    photos: torch.Tensor,
    observer: str = "histogram",
    reduce_range: bool | None = None,
) -> dict[str, QParams]:
    """Run ``generator`` on ``photos`` and return ``quint8`` parameters per activation.

    Args:
        generator: a float :class:`~animegan_edu.models.Generator` (not modified).
        photos: ``(N, 3, H, W)`` in ``[-1, 1]``; run one at a time.
        observer: ``"histogram"`` (minimises the quantization error, clips rare
            outliers) or ``"minmax"`` (covers the whole observed range).
        reduce_range: use 7-bit activations (``[0, 127]``). Needed by FBGEMM on CPUs
            without VNNI, whose ``u8 x s8`` multiply-adds saturate at 16 bits;
            ``None`` picks it from the CPU.

    Returns:
        ``{"block_a.0.conv": QParams(...), ...}`` keyed by activation name, plus
        ``"reduce_range"``: the bool that was used.
    """
    if photos.ndim != 4 or photos.shape[1] != 3:
        raise ValueError(f"photos must be (N, 3, H, W) in [-1, 1], got shape {tuple(photos.shape)}")
    if reduce_range is None:
        reduce_range = not torch.cpu._is_vnni_supported()
    gen = copy.deepcopy(generator).float().eval()
    # inplace LeakyReLU would overwrite the GroupNorm output the observer must see first
    for m in gen.modules():
        if isinstance(m, nn.LeakyReLU):
            m.inplace = False
    obs: dict[str, nn.Module] = {}
    handles = []
    for name, mod, when in _activation_points(gen):
        o = obs[name] = _make_observer(observer, reduce_range)
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
# Quantized building blocks
# --------------------------------------------------------------------------------------
def _quantize_weight(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-output-channel symmetric ``int8`` weights: returns ``(int8 weights, scales)``."""
    amax = w.detach().abs().flatten(1).amax(1).clamp_min(1e-8)
    scale = (amax / 127.0).float()
    q = torch.round(w.detach() / scale.view(-1, *([1] * (w.ndim - 1)))).clamp(-127, 127).to(torch.int8)
    return q, scale


def _u8_view(q: torch.Tensor) -> torch.Tensor:
    """Zero-copy ``uint8`` view of a ``quint8`` tensor's memory (same sizes and strides)."""
    return torch.empty(0, dtype=torch.uint8).set_(q.untyped_storage(), q.storage_offset(), q.size(), q.stride())


def _reflect_pad_q(q: torch.Tensor, pad: tuple[int, int, int, int]) -> torch.Tensor:
    """Reflection padding ``(left, right, top, bottom)`` of a ``quint8`` ``(N, C, H, W)`` tensor.

    ``F.pad(..., mode="reflect")`` on quantized tensors runs a slow generic kernel, and
    copies between quantized tensors go element by element; here the bytes are copied
    through ``uint8`` views of channels-last memory, as fast as ``memcpy``.
    Returns a channels-last ``quint8`` tensor with the same scale and zero point.
    """
    left, right, top, bottom = pad
    if not any(pad):
        return q
    n, c, h, w = q.shape
    if max(left, right) >= w or max(top, bottom) >= h:
        raise ValueError(f"reflection padding {pad} needs a feature map larger than {h}x{w}")
    q = q.contiguous(memory_format=torch.channels_last)
    out = torch._empty_affine_quantized(
        (n, c, h + top + bottom, w + left + right),
        scale=q.q_scale(),
        zero_point=q.q_zero_point(),
        dtype=q.dtype,
        memory_format=torch.channels_last,
    )
    src = _u8_view(q).permute(0, 2, 3, 1)  # N, H, W, C: contiguous
    dst = _u8_view(out).permute(0, 2, 3, 1)
    dst[:, top : top + h, left : left + w] = src
    for i in range(1, top + 1):
        dst[:, top - i, left : left + w] = src[:, i]
    for i in range(1, bottom + 1):
        dst[:, top + h - 1 + i, left : left + w] = src[:, h - 1 - i]
    for j in range(1, left + 1):
        dst[:, :, left - j] = dst[:, :, left + j]
    for j in range(1, right + 1):
        dst[:, :, left + w - 1 + j] = dst[:, :, left + w - 1 - j]
    return out


class _PackedConv(nn.Module):
    """An ``int8`` convolution: weights and per-channel scales as buffers, packed lazily.

    Input ``quint8`` ``(N, C_in, H, W)``; output ``quint8`` with ``out_qp``.
    """

    def __init__(self, in_ch: int, out_ch: int, k: int, stride: int, groups: int, bias: bool) -> None:
        super().__init__()
        self.stride, self.groups = stride, groups
        self.register_buffer("weight_int8", torch.zeros(out_ch, in_ch // groups, k, k, dtype=torch.int8))
        self.register_buffer("weight_scale", torch.ones(out_ch))
        self.register_buffer("bias", torch.zeros(out_ch) if bias else torch.zeros(0))
        self.register_buffer("out_qp", torch.tensor([1.0, 0.0], dtype=torch.float64))
        self._packed: tuple[str, object] | None = None

    def set_float(self, conv: nn.Conv2d) -> None:
        q, s = _quantize_weight(conv.weight)
        self.weight_int8.copy_(q)
        self.weight_scale.copy_(s)
        if conv.bias is not None:
            self.bias.copy_(conv.bias.detach())
        self._packed = None

    def _load_from_state_dict(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self._packed = None
        super()._load_from_state_dict(*args, **kwargs)

    def dequantized_weight(self) -> torch.Tensor:
        return self.weight_int8.float() * self.weight_scale.view(-1, 1, 1, 1)

    def packed(self) -> object:
        engine = torch.backends.quantized.engine
        if self._packed is None or self._packed[0] != engine:
            qw = torch._make_per_channel_quantized_tensor(
                self.weight_int8, self.weight_scale.double(), torch.zeros_like(self.weight_scale, dtype=torch.long), 0
            )
            b = self.bias if self.bias.numel() else None
            p = torch.ops.quantized.conv2d_prepack(qw, b, [self.stride] * 2, [0, 0], [1, 1], self.groups)
            self._packed = (engine, p)
        return self._packed[1]

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        qp = QParams.from_tensor(self.out_qp)
        return torch.ops.quantized.conv2d(q, self.packed(), qp.scale, qp.zero_point)


def _q_group_norm(q: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, qp: QParams) -> torch.Tensor:
    return torch.ops.quantized.group_norm(q, 1, weight, bias, _GN_EPS, qp.scale, qp.zero_point)


class QConvNormLReLU(nn.Module):
    """INT8 version of :class:`~animegan_edu.models.ConvNormLReLU`, ``quint8`` in and out.

    Reflection pad (memory copies) -> ``int8`` conv (``quint8`` output) -> quantized
    ``GroupNorm(1, C)`` -> quantized ``LeakyReLU(0.2)``. Buffers ``in_qp``, ``conv.out_qp``,
    ``norm_qp``, ``act_qp`` hold ``(scale, zero_point)`` of each stored activation.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int, padding: tuple[int, int, int, int], groups: int, bias: bool) -> None:
        super().__init__()
        self.padding = padding
        self.conv = _PackedConv(in_ch, out_ch, kernel_size, stride, groups, bias)
        self.register_buffer("gn_weight", torch.ones(out_ch))
        self.register_buffer("gn_bias", torch.zeros(out_ch))
        for n in ("in_qp", "norm_qp", "act_qp"):
            self.register_buffer(n, torch.tensor([1.0, 0.0], dtype=torch.float64))

    @staticmethod
    def spec(unit: ConvNormLReLU) -> dict[str, object]:
        pad, conv = unit[0], unit[1]
        return {
            "in_ch": conv.in_channels,
            "out_ch": conv.out_channels,
            "kernel_size": conv.kernel_size[0],
            "stride": conv.stride[0],
            "padding": tuple(int(p) for p in pad.padding),
            "groups": conv.groups,
            "bias": conv.bias is not None,
        }

    def set_float(self, unit: ConvNormLReLU, qparams: dict[str, QParams], name: str) -> None:
        self.conv.set_float(unit[1])
        self.gn_weight.copy_(unit[2].weight.detach())
        self.gn_bias.copy_(unit[2].bias.detach())
        self.in_qp.copy_(qparams[f"{name}.in"].as_tensor())
        self.conv.out_qp.copy_(qparams[f"{name}.conv"].as_tensor())
        self.norm_qp.copy_(qparams[f"{name}.norm"].as_tensor())
        self.act_qp.copy_(qparams[f"{name}.act"].as_tensor())

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        q = _reflect_pad_q(q, self.padding)
        q = self.conv(q)
        q = _q_group_norm(q, self.gn_weight, self.gn_bias, QParams.from_tensor(self.norm_qp))
        act = QParams.from_tensor(self.act_qp)
        return torch.ops.quantized.leaky_relu(q, _LEAKY_SLOPE, False, act.scale, act.zero_point)


class QInvertedResBlock(nn.Module):
    """INT8 version of :class:`~animegan_edu.models.InvertedResBlock` (``quint8`` in and out)."""

    def __init__(self, in_ch: int, out_ch: int, mid: int, expand: bool) -> None:
        super().__init__()
        self.use_residual = in_ch == out_ch
        units: list[nn.Module] = []
        if expand:
            units.append(QConvNormLReLU(in_ch, mid, 1, 1, (0, 0, 0, 0), 1, False))
        units.append(QConvNormLReLU(mid, mid, 3, 1, (1, 1, 1, 1), mid, True))
        self.units = nn.Sequential(*units)
        self.proj = _PackedConv(mid, out_ch, 1, 1, 1, False)
        self.register_buffer("gn_weight", torch.ones(out_ch))
        self.register_buffer("gn_bias", torch.zeros(out_ch))
        self.register_buffer("norm_qp", torch.tensor([1.0, 0.0], dtype=torch.float64))
        self.register_buffer("out_qp", torch.tensor([1.0, 0.0], dtype=torch.float64))
        self.register_buffer("in_qp", torch.tensor([1.0, 0.0], dtype=torch.float64))

    @staticmethod
    def spec(block: InvertedResBlock) -> dict[str, object]:
        proj = block.layers[-2]
        first = block.layers[0][1]
        expand = len(block.layers) == 4
        return {"in_ch": first.in_channels, "out_ch": proj.out_channels, "mid": proj.in_channels, "expand": expand}

    def set_float(self, block: InvertedResBlock, qparams: dict[str, QParams], name: str) -> None:
        for i, unit in enumerate(block.layers[:-2]):
            self.units[i].set_float(unit, qparams, f"{name}.layers.{i}")
        self.in_qp.copy_(self.units[0].in_qp)
        self.proj.set_float(block.layers[-2])
        self.proj.out_qp.copy_(qparams[f"{name}.proj"].as_tensor())
        self.gn_weight.copy_(block.layers[-1].weight.detach())
        self.gn_bias.copy_(block.layers[-1].bias.detach())
        self.norm_qp.copy_(qparams[f"{name}.norm"].as_tensor())
        self.out_qp.copy_(qparams[f"{name}.out"].as_tensor())

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        out = self.proj(self.units(q))
        out = _q_group_norm(out, self.gn_weight, self.gn_bias, QParams.from_tensor(self.norm_qp))
        if self.use_residual:
            qp = QParams.from_tensor(self.out_qp)
            out = torch.ops.quantized.add(q, out, qp.scale, qp.zero_point)
        return out


# --------------------------------------------------------------------------------------
# The quantized generator
# --------------------------------------------------------------------------------------
_BLOCKS = ("block_a", "block_b", "block_c", "block_d", "block_e")
_QUNITS = (QConvNormLReLU, QInvertedResBlock)


def layer_names(generator: Generator | None = None) -> list[str]:
    """Names of the generator's quantizable layers (``"block_a.0"`` ... ``"block_e.2"``)."""
    gen = generator if generator is not None else Generator()
    return [f"{b}.{i}" for b in _BLOCKS for i in range(len(getattr(gen, b)))]


def _to_q(x: torch.Tensor, unit: nn.Module) -> torch.Tensor:
    if x.is_quantized:
        return x
    return QParams.from_tensor(unit.in_qp).quantize(x.contiguous(memory_format=torch.channels_last))


def _to_f(x: torch.Tensor) -> torch.Tensor:
    return x.dequantize() if x.is_quantized else x


def _resize_any(x: torch.Tensor, size: Sequence[int], mode: UpsampleMode) -> torch.Tensor:
    """Bilinear resize of a float or ``quint8`` tensor (quantized: same parameters out)."""
    if x.is_quantized and mode == "tf1":
        qp = QParams(x.q_scale(), x.q_zero_point())
        return qp.quantize(resize(x.dequantize(), size, mode).contiguous(memory_format=torch.channels_last))
    return resize(x, size, mode)


class QuantizedGenerator(nn.Module):
    """The AnimeGANv2 generator with ``int8`` weights and ``quint8`` activations.

    Every ``ConvNormLReLU`` unit and inverted residual block of ``template`` becomes an
    INT8 unit unless its name (``"block_e.2"``, see :func:`layer_names`) is in
    ``float_layers``; those stay float (channels-last) and the tensor is dequantized on
    the way in and quantized again on the way out. The ``1x1`` output conv and ``tanh``
    always run in float: they are cheap and sit right before the picture.

    Build it with :func:`quantize_generator`, store it with :func:`save_int8`.

    Shapes:
        input ``(N, 3, H, W)`` float RGB in ``[-1, 1]``; output the same, float.
    """

    def __init__(self, template: Generator, float_layers: Sequence[str] = (), engine: str | None = None) -> None:
        super().__init__()
        unknown = set(float_layers) - set(layer_names(template))
        if unknown:
            raise ValueError(f"unknown layer names {sorted(unknown)}; valid: {layer_names(template)}")
        self.upsample: UpsampleMode = template.upsample
        self.float_layers = tuple(sorted(float_layers))
        self.engine = engine or default_engine()
        for b in _BLOCKS:
            units = []
            for i, unit in enumerate(getattr(template, b)):
                if f"{b}.{i}" in self.float_layers:
                    units.append(copy.deepcopy(unit).to(memory_format=torch.channels_last))
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

    def _run(self, seq: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
        for unit in seq:
            x = unit(_to_q(x, unit)) if isinstance(unit, _QUNITS) else unit(_to_f(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"QuantizedGenerator expects (N, 3, H, W) RGB in [-1, 1], got shape {tuple(x.shape)}")
        with quantized_engine(self.engine), torch.no_grad():
            full = x.shape[-2:]
            out = self._run(self.block_a, x.float().contiguous(memory_format=torch.channels_last))
            half = out.shape[-2:]
            out = self._run(self.block_c, self._run(self.block_b, out))
            out = self._run(self.block_d, _resize_any(out, half, self.upsample))
            out = self._run(self.block_e, _resize_any(out, full, self.upsample))
            return self.out_layer(_to_f(out)).contiguous()


DEFAULT_FLOAT_LAYERS: tuple[str, ...] = ()


def quantize_generator(
    generator: Generator,
    photos: torch.Tensor | None = None,
    float_layers: Sequence[str] = DEFAULT_FLOAT_LAYERS,
    observer: str = "histogram",
    reduce_range: bool | None = None,
    engine: str | None = None,
) -> QuantizedGenerator:
    """Post-training static INT8 quantization of a float generator.

    Args:
        generator: float :class:`~animegan_edu.models.Generator` (left unchanged).
        photos: calibration photos ``(N, 3, H, W)`` in ``[-1, 1]``; default
            :func:`sample_photos` at 256 px.
        float_layers: layer names kept in float (see :func:`layer_names`).
        observer, reduce_range: see :func:`calibrate`.
        engine: quantized engine (default :func:`default_engine`).

    Returns:
        a :class:`QuantizedGenerator` in eval mode.
    """
    if not isinstance(generator, Generator):
        raise TypeError(f"quantize_generator needs an animegan_edu.models.Generator, got {type(generator).__name__}")
    if photos is None:
        photos = sample_photos(256)
    qparams = calibrate(generator, photos, observer=observer, reduce_range=reduce_range)
    qgen = QuantizedGenerator(generator, float_layers, engine)
    qgen.set_float(generator, qparams)
    return qgen


# --------------------------------------------------------------------------------------
# Saving and loading the INT8 model (data only: safetensors)
# --------------------------------------------------------------------------------------
def save_int8(model: QuantizedGenerator, path: str | Path) -> int:
    """Write ``model`` to ``path`` as safetensors; returns the file size in bytes.

    The file holds only tensors (``int8`` weights, per-channel weight scales, GroupNorm
    affines, activation ``(scale, zero_point)`` pairs, float weights of the layers kept
    in float) and a JSON header (format, upsample mode, float layers). It is written to
    a temporary file first and renamed, so a failed write leaves nothing behind.
    """
    from safetensors.torch import save_file

    if not isinstance(model, QuantizedGenerator):
        raise TypeError(f"save_int8 needs a QuantizedGenerator, got {type(model).__name__}")
    path = Path(path)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    meta = {
        "format": INT8_FORMAT,
        "upsample": model.upsample,
        "float_layers": json.dumps(list(model.float_layers)),
    }
    tmp = path.with_name(path.name + ".partial")
    try:
        save_file(tensors, str(tmp), metadata=meta)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.stat().st_size


def load_int8(path: str | Path, engine: str | None = None) -> QuantizedGenerator:
    """Read a file written by :func:`save_int8` (safetensors; no code is unpickled).

    The structure is rebuilt from the header, then every tensor is loaded strictly.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not an animegan-edu INT8 generator.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such INT8 model file; create one with `animegan-edu quantize` or save_int8()")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        tensors = load_file(str(path))
    except Exception as e:  # safetensors raises its own error types on bad headers
        raise ValueError(f"{path}: not a safetensors file ({e}); re-create it with save_int8()") from None
    if meta.get("format") != INT8_FORMAT:
        raise ValueError(f"{path}: not an animegan-edu INT8 generator (format {meta.get('format')!r}, expected {INT8_FORMAT!r})")
    template = Generator(upsample=meta.get("upsample", "align_corners"))
    model = QuantizedGenerator(template, json.loads(meta.get("float_layers", "[]")), engine)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else str(e)
        raise ValueError(f"{path}: tensors do not match the INT8 generator ({first})") from None
    return model.eval()


def _state_dict_key(generator: nn.Module) -> str:
    import hashlib

    h = hashlib.sha256()
    for k, v in sorted(generator.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().float().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def int8_generator(generator: Generator, cache: bool = True, calib_size: int = 256) -> QuantizedGenerator:
    """The INT8 model of ``generator``, calibrated on :func:`sample_photos`, cached on disk.

    The cache file is ``<weights cache>/int8/<sha256 of the weights>.safetensors``
    (see :func:`animegan_edu.weights.cache_dir`), so the calibration (a few seconds)
    runs once per set of weights. Used by ``animegan-edu stylize --int8``.
    """
    if not cache:
        return quantize_generator(generator, sample_photos(calib_size))
    from .weights import cache_dir

    path = cache_dir() / "int8" / f"{_state_dict_key(generator)}-{generator.upsample}-{calib_size}.safetensors"
    if path.is_file():
        with contextlib.suppress(ValueError):
            return load_int8(path)
    model = quantize_generator(generator, sample_photos(calib_size))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_int8(model, path)
    return model


# --------------------------------------------------------------------------------------
# fp32 paths
# --------------------------------------------------------------------------------------
class ChannelsLast(nn.Module):
    """Run a float model with channels-last (NHWC) memory: weights and input converted.

    oneDNN's convolutions are fastest on NHWC; output is returned NCHW-contiguous.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).eval().to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.contiguous(memory_format=torch.channels_last)).contiguous()


def fp32_channels_last(generator: nn.Module) -> nn.Module:
    """The eager fp32 generator in channels-last memory format (no compilation)."""
    return ChannelsLast(generator).eval()


def fp32_compiled(generator: nn.Module) -> nn.Module:
    """``torch.compile`` (Inductor) of the channels-last fp32 generator.

    Compiles on the first call for each input size (about 45 s at 512 px on two cores).
    """
    return torch.compile(ChannelsLast(generator).eval(), dynamic=False)


def fp32_torchscript(generator: nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """Traced, frozen and ``optimize_for_inference`` TorchScript of the channels-last model.

    Tracing fixes the input size to ``example``'s (the decoder's resize sizes become
    constants). Seconds to build, no compiler needed.
    """
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(ChannelsLast(generator).eval(), example, check_trace=False)
        return torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))


def bf16_channels_last(generator: nn.Module) -> nn.Module:
    """Channels-last generator under bfloat16 autocast (fast only on CPUs with AVX-512 BF16 or AMX)."""

    class _Bf16(ChannelsLast):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return super().forward(x).float()

    return _Bf16(generator).eval()


# --------------------------------------------------------------------------------------
# ONNX and ONNX Runtime
# --------------------------------------------------------------------------------------
class _OnnxGenerator(nn.Module):
    """The generator's forward written with traced sizes, so the ONNX graph takes any H, W."""

    def __init__(self, generator: Generator) -> None:
        super().__init__()
        if generator.upsample not in ("align_corners", "half_pixel"):
            raise ValueError(f"ONNX export supports upsample 'align_corners' or 'half_pixel', not {generator.upsample!r}")
        self.g = generator
        self.align = generator.upsample == "align_corners"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.g
        full = x.shape[-2:]
        out = g.block_a(x)
        half = out.shape[-2:]
        out = g.block_c(g.block_b(out))
        out = g.block_d(F.interpolate(out, size=half, mode="bilinear", align_corners=self.align))
        out = g.block_e(F.interpolate(out, size=full, mode="bilinear", align_corners=self.align))
        return g.out_layer(out)


def export_onnx(generator: Generator, path: str | Path, opset: int = 17) -> Path:
    """Export ``generator`` to ONNX with dynamic batch, height and width.

    Input ``"image"`` and output ``"anime"``, both ``(N, 3, H, W)`` float32 in ``[-1, 1]``.
    Uses the TorchScript-based exporter (about a second); written via a temporary file.
    """
    path = Path(path)
    model = _OnnxGenerator(copy.deepcopy(generator).float().eval()).eval()
    tmp = path.with_name(path.name + ".partial")
    axes = {0: "n", 2: "h", 3: "w"}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (torch.zeros(1, 3, 64, 64),),
                str(tmp),
                input_names=["image"],
                output_names=["anime"],
                dynamic_axes={"image": axes, "anime": axes},
                opset_version=opset,
                dynamo=False,
            )
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


class OnnxRuntimeGenerator:
    """An ONNX Runtime CPU session used like the generator: tensor in, tensor out.

    Args:
        path: an ``.onnx`` file from :func:`export_onnx` or :func:`quantize_onnx`.
        threads: intra-op threads (default: ``torch.get_num_threads()``).

    Call with ``(N, 3, H, W)`` float in ``[-1, 1]``; returns a float tensor, same shape.
    """

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such ONNX file; create it with export_onnx()")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expects (N, 3, H, W) RGB in [-1, 1], got shape {tuple(x.shape)}")
        y = self.session.run(None, {self.input_name: x.detach().float().contiguous().numpy()})[0]
        return torch.from_numpy(y)


def quantize_onnx(
    fp32_path: str | Path,
    int8_path: str | Path,
    photos: torch.Tensor,
    per_channel: bool = True,
    reduce_range: bool | None = None,
) -> Path:
    """ONNX Runtime's own static INT8 quantization (QDQ format), calibrated on ``photos``.

    ``uint8`` activations (min/max calibration), per-channel symmetric ``int8`` weights;
    ``reduce_range`` (7-bit weights, for CPUs without VNNI) defaults from the CPU.
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if reduce_range is None:
        reduce_range = not torch.cpu._is_vnni_supported()
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter([{"image": photos[i : i + 1].float().numpy()} for i in range(photos.shape[0])])

        def get_next(self):  # type: ignore[no-untyped-def]
            return next(self._it, None)

    pre = int8_path.with_name(int8_path.name + ".pre.onnx")
    tmp = int8_path.with_name(int8_path.name + ".partial")
    try:
        root = logging.getLogger()
        level = root.level
        # ORT's per-channel pass logs one warning per GroupNorm constant it leaves alone
        root.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
            quantize_static(
                str(pre),
                str(tmp),
                _Reader(),
                quant_format=QuantFormat.QDQ,
                per_channel=per_channel,
                reduce_range=reduce_range,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
            )
        tmp.replace(int8_path)
    finally:
        root.setLevel(level)
        pre.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return int8_path


# --------------------------------------------------------------------------------------
# Per-layer profile
# --------------------------------------------------------------------------------------
def profile_layers(model: nn.Module, x: torch.Tensor, repeat: int = 3) -> dict[str, float]:
    """Median milliseconds per top-level unit (``"block_a.0"`` ... ``"out_layer"``).

    Works for :class:`~animegan_edu.models.Generator`, :class:`QuantizedGenerator` and
    a :class:`ChannelsLast` wrapper. ``"other"`` is the rest of the forward pass
    (decoder resizes, the quantization of the input, layout changes).
    """
    import time

    inner = model.model if isinstance(model, ChannelsLast) else model
    units = [(f"{b}.{i}", m) for b in _BLOCKS for i, m in enumerate(getattr(inner, b))] + [("out_layer", inner.out_layer)]
    runs: dict[str, list[float]] = {n: [] for n, _ in units}
    runs["other"] = []
    starts: dict[str, float] = {}
    handles = []
    for name, mod in units:
        handles.append(mod.register_forward_pre_hook(lambda m, a, n=name: starts.__setitem__(n, time.perf_counter())))
        handles.append(mod.register_forward_hook(lambda m, a, y, n=name: runs[n].append(time.perf_counter() - starts[n])))
    try:
        with torch.no_grad():
            model(x)  # warm-up (weight packing, allocator)
            for r in runs.values():
                r.clear()
            for _ in range(repeat):
                t0 = time.perf_counter()
                model(x)
                total = time.perf_counter() - t0
                runs["other"].append(total - sum(runs[n][-1] for n, _ in units))
    finally:
        for h in handles:
            h.remove()
    return {n: 1000 * sorted(v)[len(v) // 2] for n, v in runs.items()}


# --------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------
def _median(v: Sequence[float]) -> float:
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def _default_generator(weights: str | None) -> tuple[Generator, str]:
    """``(generator, label)``: the named weights, else the default ones, else seeded random."""
    from .weights import WeightsNotAvailableError, load_generator, resolve_default

    if weights is not None:
        return load_generator(weights, download=False, progress=False), str(weights)
    try:
        name = resolve_default()
    except WeightsNotAvailableError:
        torch.manual_seed(0)
        return Generator().eval(), "random (seed 0: no weights available; quality figures are not representative)"
    return load_generator(name, download=False, progress=False), name


def run_benchmark(
    sizes: Sequence[int] = (512,),
    repeat: int = 5,
    threads: int | None = None,
    generator: Generator | None = None,
    weights_label: str = "given",
    compile: bool = True,
    calib_size: int = 256,
    bf16: bool = True,
    log: object = None,
) -> dict[str, object]:
    """Time every CPU inference path on one image and compare INT8 with fp32.

    All paths run in one process, interleaved (each repeat runs every path once, in a
    rotating order), so their ratios hold on a noisy machine; each figure is the median
    of ``repeat`` runs of one ``(1, 3, size, size)`` image, after one warm-up run.

    Paths: ``fp32_eager`` (the plain generator), ``fp32_best`` (fastest of channels-last,
    TorchScript-frozen and, with ``compile``, ``torch.compile``), ``int8``
    (:class:`QuantizedGenerator`, saved and loaded back), ``onnxruntime_fp32``,
    ``onnxruntime_int8``; plus ``bf16`` (autocast) where the CPU has native bf16.

    Returns a JSON-ready dict: the figures of the first size at the top level, every
    size under ``"by_size"``, and the machine, versions, load averages and weights used.
    """
    import datetime
    import platform
    import tempfile
    import time

    import onnxruntime

    def say(msg: str) -> None:
        if callable(log):
            log(msg)

    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    if not sizes or min(sizes) < 8:
        raise ValueError(f"sizes must be >= 8 pixels, got {list(sizes)}")
    if generator is None:
        generator, weights_label = _default_generator(None)
    generator = generator.float().eval()
    info = cpu_info()
    n_threads = threads or torch.get_num_threads()
    load_before = os.getloadavg()
    result: dict[str, object] = {}
    with num_threads(n_threads), tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in generator.state_dict().items()}, str(tmp / "fp32.safetensors"))
        fp32_size = (tmp / "fp32.safetensors").stat().st_size
        say(f"calibrating INT8 on {calib_size}-px sample photos")
        calib = sample_photos(calib_size)
        t0 = time.perf_counter()
        qgen = quantize_generator(generator, calib)
        calib_s = time.perf_counter() - t0
        int8_size = save_int8(qgen, tmp / "int8.safetensors")
        qgen = load_int8(tmp / "int8.safetensors")
        say("exporting ONNX, quantizing it with ONNX Runtime")
        export_onnx(generator, tmp / "fp32.onnx")
        quantize_onnx(tmp / "fp32.onnx", tmp / "int8.onnx", calib)
        ort32 = OnnxRuntimeGenerator(tmp / "fp32.onnx", n_threads)
        ort8 = OnnxRuntimeGenerator(tmp / "int8.onnx", n_threads)
        cl = fp32_channels_last(generator)
        use_bf16 = bf16 and bool(info["amx"] or getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)())
        by_size: dict[str, dict[str, object]] = {}
        for size in sizes:
            photos = sample_photos(size)
            x = photos[:1]
            paths: dict[str, object] = {
                "fp32_eager": generator,
                "fp32_channels_last": cl,
                "int8": qgen,
                "onnxruntime_fp32": ort32,
                "onnxruntime_int8": ort8,
            }
            warm: dict[str, float] = {}
            t0 = time.perf_counter()
            paths["fp32_torchscript"] = fp32_torchscript(generator, x)
            warm["fp32_torchscript_build"] = time.perf_counter() - t0
            if compile:
                paths["fp32_compile"] = fp32_compiled(generator)
            if use_bf16:
                paths["bf16_channels_last"] = bf16_channels_last(generator)
            times: dict[str, list[float]] = {k: [] for k in paths}
            with torch.inference_mode():
                for name, f in paths.items():
                    say(f"{size} px: warm-up {name}")
                    t0 = time.perf_counter()
                    f(x)
                    warm[name] = time.perf_counter() - t0
                names = list(paths)
                for r in range(repeat):
                    order = names[r % len(names) :] + names[: r % len(names)]
                    for name in order:
                        t0 = time.perf_counter()
                        paths[name](x)
                        times[name].append(time.perf_counter() - t0)
                    say(f"{size} px: repeat {r + 1}/{repeat}")
                med = {k: _median(v) for k, v in times.items()}
                fp32_methods = {k: med[k] for k in ("fp32_channels_last", "fp32_torchscript", "fp32_compile") if k in med}
                best = min(fp32_methods, key=fp32_methods.__getitem__)
                ref = generator(photos)
                q = qgen(photos)
                o8 = ort8(photos)
                o32 = ort32(photos)
            to01 = lambda t: (t.clamp(-1, 1) + 1) / 2  # noqa: E731
            entry: dict[str, object] = {
                "size": size,
                "fp32_eager": med["fp32_eager"],
                "fp32_best": med[best],
                "fp32_best_method": best.removeprefix("fp32_"),
                "int8": med["int8"],
                "onnxruntime_fp32": med["onnxruntime_fp32"],
                "onnxruntime_int8": med["onnxruntime_int8"],
                "int8_psnr_db": psnr(to01(q), to01(ref)),
                "int8_psnr_db_per_photo": [psnr(to01(a), to01(b)) for a, b in zip(q, ref)],
                "onnxruntime_int8_psnr_db": psnr(to01(o8), to01(ref)),
                "onnxruntime_fp32_max_abs_diff": float((o32 - ref).abs().max()),
                "int8_vs_onnxruntime_fp32": med["int8"] / med["onnxruntime_fp32"],
                "fp32_candidates": fp32_methods,
                "first_call_seconds": warm,
                "all_runs": times,
            }
            if "bf16_channels_last" in med:
                entry["bf16_channels_last"] = med["bf16_channels_last"]
            by_size[str(size)] = entry
        first = by_size[str(sizes[0])]
        result.update({k: v for k, v in first.items() if k not in ("all_runs", "first_call_seconds", "fp32_candidates")})
        result.update(
            {
                "int8_size_bytes": int8_size,
                "fp32_size_bytes": fp32_size,
                "threads": n_threads,
                "torch_version": torch.__version__,
                "onnxruntime_version": onnxruntime.__version__,
                "int8_engine": qgen.engine,
                "int8_float_layers": list(qgen.float_layers),
                "int8_calibration_seconds": calib_s,
                "calibration": f"{calib.shape[0]} skimage.data photos at {calib_size} px",
                "weights": weights_label,
                "repeat": repeat,
                "sizes": list(sizes),
                "machine": {**info, "platform": platform.platform()},
                "load_average_before": list(load_before),
                "load_average_after": list(os.getloadavg()),
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "by_size": by_size,
            }
        )
    return result


def format_benchmark(result: dict[str, object]) -> str:
    """A plain-text table of :func:`run_benchmark`'s result (seconds per image)."""
    cols = ["fp32_eager", "fp32_best", "int8", "onnxruntime_fp32", "onnxruntime_int8"]
    lines = [f"{'size':>6} " + " ".join(f"{c:>17}" for c in cols) + f" {'int8 PSNR dB':>13}"]
    for size, e in result["by_size"].items():  # type: ignore[union-attr]
        lines.append(f"{size:>6} " + " ".join(f"{e[c]:>16.3f}s" for c in cols) + f" {e['int8_psnr_db']:>13.1f}")
    m = result["machine"]  # type: ignore[index]
    lines.append(
        f"fp32_best = {result['fp32_best_method']}; INT8 file {result['int8_size_bytes'] / 1e6:.2f} MB vs fp32 "
        f"{result['fp32_size_bytes'] / 1e6:.2f} MB; {result['threads']} threads; {m['model']}; torch {result['torch_version']}; "
        f"weights: {result['weights']}; load average before/after {result['load_average_before'][0]:.1f}/{result['load_average_after'][0]:.1f}"
    )
    return "\n".join(lines)


_TABLE_PATHS = [
    ("fp32_eager", "fp32 eager"),
    ("fp32_best", "fp32 best"),
    ("int8", "INT8 (ours)"),
    ("onnxruntime_fp32", "ORT fp32"),
    ("onnxruntime_int8", "ORT INT8"),
]


def _fmt_s(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.2f}"


def bench_table_markdown(res: dict) -> str:
    """Markdown table (one row per size) of :func:`run_benchmark`'s result: median seconds, ratios, PSNR."""
    by_size = res.get("by_size") or {str(res["size"]): res}
    has_bf16 = any("bf16_channels_last" in e for e in by_size.values())
    head = ["size (px)"] + [label for _, label in _TABLE_PATHS] + (["bf16 autocast"] if has_bf16 else [])
    head += ["fp32 best is", "INT8 / ORT fp32", "INT8 PSNR (dB)", "ORT INT8 PSNR (dB)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size, e in sorted(by_size.items(), key=lambda kv: int(kv[0])):
        row = [size] + [_fmt_s(e[k]) for k, _ in _TABLE_PATHS]
        if has_bf16:
            row.append(_fmt_s(e["bf16_channels_last"]) if "bf16_channels_last" in e else "-")
        row += [
            e["fp32_best_method"],
            f"{e['int8'] / e['onnxruntime_fp32']:.2f}x",
            f"{e['int8_psnr_db']:.1f}",
            f"{e['onnxruntime_int8_psnr_db']:.1f}",
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def bench_targets(res: dict) -> str:
    """The issue's four targets at 512 px, each marked met or missed (from :func:`run_benchmark`'s result)."""
    e = (res.get("by_size") or {}).get("512")
    if e is None:
        return "Targets (512 px): not measured in this run."
    checks = [
        (f"INT8 at most 1.0 s: {e['int8']:.3f} s", e["int8"] <= 1.0),
        (f"INT8 at most 0.7x ORT fp32: {e['int8'] / e['onnxruntime_fp32']:.2f}x", e["int8"] <= 0.7 * e["onnxruntime_fp32"]),
        (f"INT8 PSNR at least 35 dB: {e['int8_psnr_db']:.1f} dB", e["int8_psnr_db"] >= 35),
        (f"INT8 file at most 2.5 MB: {res['int8_size_bytes'] / 1e6:.2f} MB", res["int8_size_bytes"] <= 2.5e6),
    ]
    return "Targets at 512 px: " + "; ".join(f"{text} ({'met' if ok else 'missed'})" for text, ok in checks) + "."


def bench_provenance(res: dict) -> str:
    """One line: when, on what machine and load, with which versions and weights the figures were taken."""
    m = res["machine"]
    loaded = res["load_average_before"][0] > 0.5 * (m.get("logical_cpus") or 1)
    isa = ", ".join(k.upper() for k in ("avx2", "avx512", "vnni", "amx") if m.get(k)) or "no AVX2"
    lb, la = res["load_average_before"][0], res["load_average_after"][0]
    return ("MEASURED UNDER LOAD (other jobs were running): timings are not representative. " if loaded else "") + (
        f"Measured {res['date']} on {m['model']} ({m['logical_cpus']} logical CPUs; {isa}), {res['threads']} threads, "
        f"torch {res['torch_version']}, onnxruntime {res['onnxruntime_version']}; median of {res['repeat']} interleaved runs "
        f"of one image; INT8 engine {res['int8_engine']}, calibrated on {res['calibration']}; weights: {res['weights']}; "
        f"1-minute load average {lb:.1f} before, {la:.1f} after. Files: INT8 {res['int8_size_bytes'] / 1e6:.2f} MB, "
        f"fp32 {res['fp32_size_bytes'] / 1e6:.2f} MB ({res['fp32_size_bytes'] / res['int8_size_bytes']:.1f}x smaller)."
    )


def bench_report(res: dict) -> str:
    """Table, targets and provenance of a benchmark result, as markdown."""
    return "Median seconds per image:\n\n" + bench_table_markdown(res) + "\n\n" + bench_targets(res) + "\n\n" + bench_provenance(res)


# --------------------------------------------------------------------------------------
# Command line: `animegan-edu bench` and `animegan-edu quantize`
# --------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    import argparse

    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _cmd_bench(args) -> int:  # type: ignore[no-untyped-def]
    import sys

    sizes = args.size or [512]
    if min(sizes) < 8:
        raise ValueError(f"--size must be at least 8 pixels, got {min(sizes)}")
    gen, label = _default_generator(args.weights)
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    result = run_benchmark(
        sizes, args.repeat, args.threads, gen, label, compile=not args.no_compile, calib_size=args.calib_size, log=log
    )
    print(json.dumps(result, indent=2) if args.json else format_benchmark(result))
    return 0


def _cmd_quantize(args) -> int:  # type: ignore[no-untyped-def]
    from .weights import load_generator

    gen = load_generator(args.weights, download=False, progress=False)
    model = quantize_generator(gen, sample_photos(args.calib_size))
    n = save_int8(model, args.output)
    print(f"wrote {args.output} ({n / 1e6:.2f} MB, INT8, engine {model.engine})")
    return 0


def register_cli(subparsers) -> None:  # type: ignore[no-untyped-def]
    """Add ``bench`` and ``quantize`` to the ``animegan-edu`` command (see :mod:`animegan_edu.cli`)."""
    p = subparsers.add_parser(
        "bench",
        help="time fp32, INT8 and ONNX Runtime CPU inference side by side",
        description="Median seconds per image for each CPU path (interleaved in one process), INT8 PSNR against fp32, file sizes.",
    )
    p.add_argument("--size", type=_positive_int, action="append", metavar="N", help="image side in pixels; repeat for several (default 512)")
    p.add_argument("--repeat", type=_positive_int, default=5, metavar="R", help="timed runs per path (default 5)")
    p.add_argument("--threads", type=_positive_int, default=None, metavar="T", help="intra-op threads (default: PyTorch's)")
    p.add_argument("--weights", default=None, metavar="NAME|PATH", help="generator weights (default: as `stylize`, else seeded random)")
    p.add_argument("--calib-size", type=_positive_int, default=256, metavar="N", help="calibration photo size (default 256)")
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile (saves ~45 s of compilation per size)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=_cmd_bench)

    q = subparsers.add_parser("quantize", help="write the INT8 model of a generator (safetensors)")
    q.add_argument("-o", "--output", required=True, metavar="FILE", help="output .safetensors file")
    q.add_argument("--weights", default=None, metavar="NAME|PATH", help="generator weights (default: as `stylize`)")
    q.add_argument("--calib-size", type=_positive_int, default=256, metavar="N", help="calibration photo size (default 256)")
    q.set_defaults(func=_cmd_quantize)
