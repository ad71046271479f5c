"""INT8 building blocks of the quantized generator: ``quint8`` in, ``quint8`` out.

Part of the INT8 route of :mod:`animegan_edu.int8.quantize` (introduced in
``notebooks/07_quantized_cpu_inference.ipynb``):

* :class:`QParams`: per-tensor affine quantization, ``real = scale * (q - zero_point)``;
* per-output-channel symmetric ``int8`` weights (:func:`quantize_weight`) and the packed
  ``int8`` convolution that uses them (:func:`kernel_weight_qmax`: the weight range the kernels
  get on this CPU);
* reflection padding done as byte copies on ``quint8`` memory (:func:`reflect_pad_q`);
* :class:`QConvNormLReLU` and :class:`QInvertedResBlock`, the INT8 twins of
  :class:`~animegan_edu.models.ConvNormLReLU` and :class:`~animegan_edu.models.InvertedResBlock`;
* :func:`kernel_settings`: the kernel choices an experiment may force (weight range, GroupNorm
  kernel), as a context manager (``tools/int8_variants.py`` compares them).

Every unit keeps its weights and the ``(scale, zero_point)`` of each activation it stores
as buffers, so a state dict of plain tensors describes it (see :mod:`animegan_edu.int8.files`).
Tensors are NCHW; quantized activations are channels-last ``quint8``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from animegan_edu.models import ConvNormLReLU, InvertedResBlock

__all__ = [
    "QParams", "quantize_weight", "kernel_weight_qmax", "kernel_settings", "reflect_pad_q",
    "q_group_norm", "q_group_norm_torch", "QConvNormLReLU", "QInvertedResBlock",
]  # fmt: skip

# PyTorch 2.14 warns (once) that quantized tensor dtypes will be removed in a future
# release; this module relies on them, says so in its docs, and silences only that line.
warnings.filterwarnings(
    "ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel", category=UserWarning
)
_LEAKY_SLOPE = 0.2
_GN_EPS = 1e-5


@dataclass(frozen=True)
class QParams:
    """Per-tensor affine quantization to ``quint8``: ``real = scale * (q - zero_point)``.

    ``q`` is an integer in ``[0, 255]`` (``[0, 127]`` with a reduced range).

    Example:
        >>> qp = QParams(scale=0.5, zero_point=10)
        >>> q = qp.quantize(torch.tensor([0.0, 1.0, -5.0]))
        >>> q.int_repr().tolist(), q.dequantize().tolist()
        ([10, 12, 0], [0.0, 1.0, -5.0])
        >>> QParams.from_tensor(qp.as_tensor()) == qp
        True
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


def quantize_weight(w: torch.Tensor, qmax: float = 127.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-output-channel symmetric ``int8`` weights in ``[-qmax, qmax]``: returns ``(int8 weights, scales)``.

    ``w``: a float weight ``(C_out, ...)``; ``scales``: ``(C_out,)`` float32, ``w ~ q * scale``.

    Example:
        >>> q, s = quantize_weight(torch.tensor([[0.5, -1.0], [0.02, -0.005]]))
        >>> q.tolist(), [round(v, 6) for v in s.tolist()]
        ([[64, -127], [127, -32]], [0.007874, 0.000157])
    """
    amax = w.detach().abs().flatten(1).amax(1).clamp_min(1e-8)
    scale = (amax / qmax).float()
    q = torch.round(w.detach() / scale.view(-1, *([1] * (w.ndim - 1)))).clamp(-qmax, qmax).to(torch.int8)
    return q, scale


def kernel_weight_qmax() -> int:
    """Largest weight magnitude handed to the INT8 convolution kernels on this CPU: 127, or 63 without VNNI.

    Without VNNI, x86 INT8 kernels (oneDNN's and FBGEMM's alike) multiply ``u8`` activations
    by ``s8`` weights in pairs and add them into 16 bits (``vpmaddubsw``), which saturates:
    ``2 x 255 x 127`` is over 32,767. 7-bit weights keep every pair sum in range
    (``2 x 255 x 63 = 32,130``) and keep 8-bit activations, where FBGEMM's usual fix narrows
    the activations to 7 bits instead; the two are compared in
    ``benchmarks/int8_variants_avx2.json`` (``tools/int8_variants.py``). Files keep 8-bit
    weights; they are narrowed when packed for the kernel, so a file works on every CPU.

    :func:`kernel_settings` overrides it (experiments only).

    Example:
        >>> kernel_weight_qmax() in (63, 127)
        True
        >>> with kernel_settings(weight_qmax=127):
        ...     kernel_weight_qmax()
        127
    """
    forced = _SETTINGS["weight_qmax"]
    if forced is not None:
        return int(forced)
    return 127 if torch.cpu._is_vnni_supported() else 63


#: What :func:`kernel_settings` may force: ``weight_qmax`` (``None``: by the CPU) and ``group_norm``.
_SETTINGS: dict[str, object] = {"weight_qmax": None, "group_norm": "exact"}
GROUP_NORMS = ("exact", "torch")


@contextlib.contextmanager
def kernel_settings(weight_qmax: int | None = None, group_norm: str = "exact") -> Iterator[None]:
    """Force, while inside, the INT8 kernels' weight range and GroupNorm kernel (for experiments).

    Args:
        weight_qmax: 63 or 127 instead of :func:`kernel_weight_qmax`'s choice by the CPU
            (``None``: by the CPU). Weights are packed for the kernel on a unit's first call
            on an engine, so it applies to the units first called inside.
        group_norm: ``"exact"`` (the default, :func:`q_group_norm`) or ``"torch"``
            (PyTorch's quantized GroupNorm, :func:`q_group_norm_torch`).

    Example:
        >>> with kernel_settings(group_norm="torch"):
        ...     _SETTINGS["group_norm"]
        'torch'
        >>> _SETTINGS["group_norm"]
        'exact'
    """
    if weight_qmax not in (None, 63, 127):
        raise ValueError(f"weight_qmax must be None, 63 or 127, got {weight_qmax!r}")
    if group_norm not in GROUP_NORMS:
        raise ValueError(f"group_norm must be one of {GROUP_NORMS}, got {group_norm!r}")
    old = dict(_SETTINGS)
    _SETTINGS.update(weight_qmax=weight_qmax, group_norm=group_norm)
    try:
        yield
    finally:
        _SETTINGS.update(old)


def _u8_view(q: torch.Tensor) -> torch.Tensor:
    """Zero-copy ``uint8`` view of a ``quint8`` tensor's memory (same sizes and strides)."""
    return torch.empty(0, dtype=torch.uint8).set_(
        q.untyped_storage(), q.storage_offset(), q.size(), q.stride()
    )


def reflect_pad_q(q: torch.Tensor, pad: tuple[int, int, int, int]) -> torch.Tensor:
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
        q, s = quantize_weight(conv.weight)
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
            w8, scale = self.weight_int8, self.weight_scale
            qmax = kernel_weight_qmax()
            if qmax < 127 and int(w8.abs().max()) > qmax:  # no VNNI: 7-bit weights in the kernel
                w8, scale = quantize_weight(self.dequantized_weight(), float(qmax))
            qw = torch._make_per_channel_quantized_tensor(
                w8, scale.double(), torch.zeros_like(scale, dtype=torch.long), 0
            )
            b = self.bias if self.bias.numel() else None
            p = torch.ops.quantized.conv2d_prepack(qw, b, [self.stride] * 2, [0, 0], [1, 1], self.groups)
            self._packed = (engine, p)
        return self._packed[1]

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        qp = QParams.from_tensor(self.out_qp)
        return torch.ops.quantized.conv2d(q, self.packed(), qp.scale, qp.zero_point)


def q_group_norm_torch(
    q: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, qp: QParams
) -> torch.Tensor:
    """PyTorch's quantized ``GroupNorm(1, C)``: fast, but wrong on large tensors.

    See :func:`q_group_norm`, which replaces it.
    """
    return torch.ops.quantized.group_norm(q, 1, weight, bias, _GN_EPS, qp.scale, qp.zero_point)


def _group_stats_q(q: torch.Tensor) -> tuple[float, float]:
    """Exact mean and variance (real units) of a one-image ``quint8`` tensor, from its 256-bin histogram."""
    u = _u8_view(q.contiguous(memory_format=torch.channels_last)).permute(0, 2, 3, 1).reshape(-1)
    hist = torch.bincount(u, minlength=256).double()
    levels = torch.arange(256, dtype=torch.float64)
    n = float(hist.sum())
    mean_q = float((hist * levels).sum()) / n
    var_q = float((hist * (levels - mean_q).pow(2)).sum()) / n
    scale = q.q_scale()
    return (mean_q - q.q_zero_point()) * scale, var_q * scale * scale


def q_group_norm(q: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, qp: QParams) -> torch.Tensor:
    """``GroupNorm(1, C)`` with affine ``weight, bias`` of ``quint8`` ``(N, C, H, W)``, ``quint8`` out.

    ``torch.ops.quantized.group_norm`` (PyTorch 2.14) computes the variance as
    ``E[q^2] - E[q]^2`` in float32 over the integers ``q``: when the tensor is large
    and its spread small next to its zero point (a 64 x 512 x 512 activation with a
    standard deviation of 3.5 levels around level 173) the two terms cancel and the
    variance comes out several times too large or too small, so the whole picture
    shifts. Here the mean and variance come
    exactly from the tensor's 256-bin histogram (``bincount``, one fast pass over the
    bytes), and the normalization runs as the per-channel affine it then is,
    ``torch.ops.quantized.batch_norm2d`` with those statistics, one image at a time.

    Example:
        >>> x = (torch.randn(1, 64, 256, 256) * 4.2).contiguous(memory_format=torch.channels_last)
        >>> q = QParams(1.19, 173).quantize(x)
        >>> ones, zeros, out = torch.ones(64), torch.zeros(64), QParams(0.05, 128)
        >>> ref = torch.nn.functional.group_norm(q.dequantize(), 1, ones, zeros, 1e-5)
        >>> err = lambda y: float((y.dequantize() - ref.clamp(-6.4, 6.35)).abs().max())
        >>> err(q_group_norm(q, ones, zeros, out)) <= 0.05, err(q_group_norm_torch(q, ones, zeros, out)) > 0.3
        (True, True)
    """
    outs = []
    for i in range(q.shape[0]):
        qi = q[i : i + 1] if q.shape[0] > 1 else q
        mean, var = _group_stats_q(qi)
        c = weight.numel()
        outs.append(
            torch.ops.quantized.batch_norm2d(
                qi,
                weight,
                bias,
                torch.full((c,), mean),
                torch.full((c,), var),
                _GN_EPS,
                qp.scale,
                qp.zero_point,
            )
        )
    return outs[0] if len(outs) == 1 else torch.cat(outs)


def _group_norm(q: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, qp: QParams) -> torch.Tensor:
    """The GroupNorm kernel in use: :func:`q_group_norm`, or the one :func:`kernel_settings` forces."""
    kernel = q_group_norm_torch if _SETTINGS["group_norm"] == "torch" else q_group_norm
    return kernel(q, weight, bias, qp)


class QConvNormLReLU(nn.Module):
    """INT8 version of :class:`~animegan_edu.models.ConvNormLReLU`, ``quint8`` in and out.

    Reflection pad (memory copies) -> ``int8`` conv (``quint8`` output) -> quantized
    ``GroupNorm(1, C)`` -> quantized ``LeakyReLU(0.2)``. Buffers ``in_qp``, ``conv.out_qp``,
    ``norm_qp``, ``act_qp`` hold ``(scale, zero_point)`` of each stored activation.

    Example:
        >>> unit = QConvNormLReLU(3, 8, 3, 1, (1, 1, 1, 1), 1, False)  # buffers not filled yet
        >>> y = unit(QParams(1 / 64, 128).quantize(torch.zeros(1, 3, 8, 8)))
        >>> y.shape, y.dtype
        (torch.Size([1, 8, 8, 8]), torch.quint8)
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int,
        stride: int,
        padding: tuple[int, int, int, int],
        groups: int,
        bias: bool,
    ) -> None:
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
        q = reflect_pad_q(q, self.padding)
        q = self.conv(q)
        q = _group_norm(q, self.gn_weight, self.gn_bias, QParams.from_tensor(self.norm_qp))
        act = QParams.from_tensor(self.act_qp)
        return torch.ops.quantized.leaky_relu(q, _LEAKY_SLOPE, False, act.scale, act.zero_point)


class QInvertedResBlock(nn.Module):
    """INT8 version of :class:`~animegan_edu.models.InvertedResBlock` (``quint8`` in and out).

    Example:
        >>> block = QInvertedResBlock(8, 8, 16, expand=True)  # in = out: with the residual add
        >>> block(QParams(1 / 64, 128).quantize(torch.zeros(1, 8, 6, 6))).shape
        torch.Size([1, 8, 6, 6])
    """

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
        return {
            "in_ch": first.in_channels,
            "out_ch": proj.out_channels,
            "mid": proj.in_channels,
            "expand": expand,
        }

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
        out = _group_norm(out, self.gn_weight, self.gn_bias, QParams.from_tensor(self.norm_qp))
        if self.use_residual:
            qp = QParams.from_tensor(self.out_qp)
            out = torch.ops.quantized.add(q, out, qp.scale, qp.zero_point)
        return out
