"""INT8 calibration: the photos, the observers of every activation, and channel equalization.

Part of the fast-CPU-inference topic (``notebooks/07_quantized_cpu_inference.ipynb``, with
:mod:`animegan_edu.int8.quantize`, :mod:`animegan_edu.int8.diagnose` and :mod:`animegan_edu.bench.run`).

* :func:`calibration_photos`: the photos to calibrate on (none of them an evaluation photo);
* :func:`calibrate` runs the float generator on photos and records, with ``torch.ao``
  observers or :class:`SampleObserver`, the range of every activation the INT8 model will
  store (:func:`run_observed` is the hook loop, on a :func:`float_twin` of the generator);
* :func:`equalize_channels`: see below.

**Why equalize.** The INT8 generator stores each activation with one ``(scale,
zero_point)`` per tensor. After a ``GroupNorm(1, C)`` the per-channel affine
(``gamma_c, beta_c``) gives some channels ranges many times wider than others; one scale
for all of them leaves the narrow channels a handful of levels. :func:`equalize_channels`
moves that spread into the next convolution's weights, which are quantized per output
channel: channel ``c`` of the unit's ``GroupNorm`` affine is divided by ``s_c > 0`` and
input channel ``c`` of the next convolution's weights multiplied by it. ``LeakyReLU``,
reflection padding and bilinear resizing commute with a positive per-channel factor, so
the float generator computes the same picture (to float rounding); only the ranges the
quantizer sees change. This is cross-layer equalization (Nagel et al., 2019, "Data-Free
Quantization Through Weight Equalization and Bias Correction"), with the factor taken
from calibrated activation ranges as SmoothQuant does (Xiao et al., 2023):
``s_c = r_act_c ** alpha / r_w_c ** (1 - alpha)``.

The convolution outputs *before* each ``GroupNorm`` cannot be equalized that way (the
norm's one mean and variance over all channels would change); see
``norm_input_observer`` in :func:`calibrate`.

Tensor conventions: generator inputs and outputs are ``(N, 3, H, W)`` RGB in ``[-1, 1]``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from animegan_edu.int8.layers import QParams
from animegan_edu.models import ConvNormLReLU, Generator, InvertedResBlock
from animegan_edu.samples import DEFAULT_PHOTOS, VALIDATION_PHOTOS, sample_photos

__all__ = [
    "CALIBRATION_PHOTOS", "calibration_photos", "float_twin", "run_observed",
    "OBSERVERS", "SampleObserver", "calibrate", "equalize_pairs", "equalize_channels",
]  # fmt: skip

#: Calibration photos: the validation photos *not* among :func:`sample_photos`' default ones
#: (:data:`animegan_edu.samples.DEFAULT_PHOTOS`), so the PSNR reported on those is measured on
#: pictures the calibration never saw.
CALIBRATION_PHOTOS: tuple[str, ...] = tuple(n for n in VALIDATION_PHOTOS if n not in DEFAULT_PHOTOS)


def calibration_photos(size: int = 512, names: tuple[str, ...] = CALIBRATION_PHOTOS) -> torch.Tensor:
    """The calibration set: :data:`CALIBRATION_PHOTOS`, square, ``(N, 3, size, size)`` in ``[-1, 1]``.

    Offline (``skimage.data`` images shipped with the package).

    Example:
        >>> calibration_photos(32).shape
        torch.Size([4, 3, 32, 32])
    """
    return sample_photos(size, names)


# --------------------------------------------------------------------------------------
# Running the float generator with observers on its activations
# --------------------------------------------------------------------------------------
def float_twin(generator: Generator) -> Generator:
    """A float32, eval-mode copy of ``generator`` whose ``LeakyReLU``s do not work in place.

    An in-place ``LeakyReLU`` would overwrite the ``GroupNorm`` output an observer must see
    first. The copy computes the same function.

    Example:
        >>> g = Generator()
        >>> t = float_twin(g)
        >>> t is not g and not t.training, any(m.inplace for m in t.modules() if isinstance(m, nn.LeakyReLU))
        (True, False)
    """
    gen = copy.deepcopy(generator).float().eval()
    for m in gen.modules():
        if isinstance(m, nn.LeakyReLU):
            m.inplace = False
    return gen


@torch.no_grad()
def run_observed(
    gen: nn.Module,
    photos: torch.Tensor,
    points: Sequence[tuple[nn.Module, str, Callable[[torch.Tensor], object]]],
) -> None:
    """Run ``gen`` on each photo in turn with ``observe(tensor)`` called at every point.

    ``points``: ``(module, when, observe)``; ``when`` is ``"in"`` (the module's input) or
    ``"out"`` (its output); ``observe`` gets the tensor detached. ``photos``: ``(N, 3, H, W)``
    in ``[-1, 1]``, one forward pass each. The hooks are removed afterwards, even on an error.

    Example:
        >>> g, seen = float_twin(Generator()), []
        >>> run_observed(g, torch.zeros(2, 3, 16, 16), [(g.out_layer, "out", lambda y: seen.append(y.shape))])
        >>> seen
        [torch.Size([1, 3, 16, 16]), torch.Size([1, 3, 16, 16])]
    """
    handles = []
    for mod, when, observe in points:
        if when == "in":
            handles.append(mod.register_forward_pre_hook(lambda m, a, f=observe: f(a[0].detach())))
        elif when == "out":
            handles.append(mod.register_forward_hook(lambda m, a, y, f=observe: f(y.detach())))
        else:
            raise ValueError(f"when must be 'in' or 'out', got {when!r}")
    try:
        for i in range(photos.shape[0]):
            gen(photos[i : i + 1].float())
    finally:
        for h in handles:
            h.remove()


# --------------------------------------------------------------------------------------
# Calibration: observers of every activation the INT8 model stores
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
            keep more of the picture (``benchmarks/int8_variants_avx2.json``).

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
        reduce_range = False  # 8-bit activations everywhere; see int8.layers.kernel_weight_qmax
    gen = float_twin(generator)
    obs: dict[str, nn.Module] = {}
    points = []
    for name, mod, when in _activation_points(gen):
        feeds_norm = name.endswith((".conv", ".proj"))
        kind = norm_input_observer if feeds_norm and norm_input_observer else observer
        obs[name] = _make_observer(kind, reduce_range)
        points.append((mod, when, obs[name]))
    run_observed(gen, photos, points)
    out = {}
    for name, o in obs.items():
        s, z = o.calculate_qparams()
        out[name] = QParams(float(s), int(z))
    out["reduce_range"] = reduce_range  # type: ignore[assignment]
    return out



# --------------------------------------------------------------------------------------
# Channel equalization
# --------------------------------------------------------------------------------------
def equalize_pairs(gen: Generator) -> list[tuple[ConvNormLReLU, nn.Conv2d]]:
    """``(unit, next conv)`` pairs where the unit's output feeds only that convolution.

    Excluded: a unit whose output is also a residual input (an
    :class:`~animegan_edu.models.InvertedResBlock` with ``in == out`` after it).

    Example:
        >>> len(equalize_pairs(Generator()))
        20
    """
    seq: list[nn.Module] = [u for _, u in gen.units()]
    pairs: list[tuple[ConvNormLReLU, nn.Conv2d]] = []
    for i, unit in enumerate(seq):
        nxt = seq[i + 1] if i + 1 < len(seq) else None
        if isinstance(unit, InvertedResBlock):
            cnls = [m for m in unit.layers if isinstance(m, ConvNormLReLU)]
            pairs += [(a, b[1]) for a, b in zip(cnls, cnls[1:])]
            pairs.append((cnls[-1], unit.layers[-2]))
        elif nxt is None:
            pairs.append((unit, gen.out_layer[0]))
        elif isinstance(nxt, ConvNormLReLU):
            pairs.append((unit, nxt[1]))
        elif isinstance(nxt, InvertedResBlock) and not nxt.use_residual:
            pairs.append((unit, nxt.layers[0][1]))
    return pairs


@torch.no_grad()
def equalize_channels(
    generator: Generator, photos: torch.Tensor, alpha: float = 0.5, max_factor: float = 64.0
) -> Generator:
    """A copy of ``generator`` with per-channel activation ranges moved into the next weights.

    Args:
        generator: float generator (not modified).
        photos: ``(N, 3, H, W)`` in ``[-1, 1]``: where the activation ranges are measured.
        alpha: how much of the spread moves: ``s_c = r_act_c ** alpha / r_w_c ** (1 - alpha)``
            (``r_act_c``: largest ``|activation|`` of channel ``c``; ``r_w_c``: largest
            ``|weight|`` of the next conv's input channel ``c``), then divided by its
            geometric mean; 0.5 balances the two.
        max_factor: ``s_c`` is clipped to ``[1 / max_factor, max_factor]``.

    Returns:
        a new :class:`~animegan_edu.models.Generator` computing the same function.

    Example:
        >>> torch.manual_seed(0)
        <torch._C.Generator object at ...>
        >>> g, x = Generator().eval(), torch.rand(1, 3, 32, 32) * 2 - 1
        >>> e = equalize_channels(g, x)
        >>> bool(torch.allclose(e(x), g(x), atol=1e-4))
        True
    """
    gen = float_twin(generator)
    pairs = equalize_pairs(gen)
    ranges: dict[int, torch.Tensor] = {}

    def widen(y: torch.Tensor, key: int) -> None:
        r = y.abs().amax(dim=(0, 2, 3))
        ranges[key] = r if key not in ranges else torch.maximum(ranges[key], r)

    run_observed(gen, photos, [(unit[3], "out", lambda y, key=id(unit): widen(y, key)) for unit, _ in pairs])
    for unit, conv in pairs:
        r_act = ranges[id(unit)].clamp_min(1e-6)
        w = conv.weight
        if conv.groups == 1:
            r_w = w.abs().amax(dim=(0, 2, 3))
        else:  # depthwise: input channel c is output channel c
            r_w = w.abs().flatten(1).amax(1)
        s = r_act.pow(alpha) / r_w.clamp_min(1e-8).pow(1 - alpha)
        s = (s / s.log().mean().exp()).clamp(1 / max_factor, max_factor)
        norm = unit[2]
        norm.weight.div_(s)
        norm.bias.div_(s)
        shape = (1, -1, 1, 1) if conv.groups == 1 else (-1, 1, 1, 1)
        w.mul_(s.view(shape))
    for m in gen.modules():
        if isinstance(m, nn.LeakyReLU):
            m.inplace = True
    return gen
