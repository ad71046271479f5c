"""Before INT8 calibration: equalize channel ranges, and the photos to calibrate on.

Part of the fast-CPU-inference topic (``notebooks/07_quantized_cpu_inference.ipynb``, with
:mod:`animegan_edu.int8.quantize`, :mod:`animegan_edu.int8.diagnose` and :mod:`animegan_edu.bench.run`).

**Why equalize.** The INT8 generator stores each activation with one ``(scale,
zero_point)`` per tensor. After a ``GroupNorm(1, C)`` the per-channel affine
(``gamma_c, beta_c``) gives some channels ranges 10-100x wider than others; one scale
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
``norm_input_observer`` in :func:`animegan_edu.int8.quantize.calibrate`.

Tensor conventions: generator inputs and outputs are ``(N, 3, H, W)`` RGB in ``[-1, 1]``.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from animegan_edu.imageio import VALIDATION_PHOTOS, sample_photos
from animegan_edu.models import ConvNormLReLU, Generator, InvertedResBlock

__all__ = ["CALIBRATION_PHOTOS", "calibration_photos", "equalize_pairs", "equalize_channels"]

_BLOCKS = ("block_a", "block_b", "block_c", "block_d", "block_e")

#: Calibration photos: the validation photos *not* among :func:`sample_photos`' four
#: default ones (astronaut, coffee, chelsea, rocket), so the PSNR reported on those four
#: is measured on pictures the calibration never saw.
CALIBRATION_PHOTOS: tuple[str, ...] = tuple(
    n for n in VALIDATION_PHOTOS if n not in ("astronaut", "coffee", "chelsea", "rocket")
)


def calibration_photos(size: int = 512, names: tuple[str, ...] = CALIBRATION_PHOTOS) -> torch.Tensor:
    """The calibration set: :data:`CALIBRATION_PHOTOS`, square, ``(N, 3, size, size)`` in ``[-1, 1]``.

    Offline (``skimage.data`` images shipped with the package).

    Example:
        >>> calibration_photos(32).shape
        torch.Size([4, 3, 32, 32])
    """
    return sample_photos(size, names)


def equalize_pairs(gen: Generator) -> list[tuple[ConvNormLReLU, nn.Conv2d]]:
    """``(unit, next conv)`` pairs where the unit's output feeds only that convolution.

    Excluded: a unit whose output is also a residual input (an
    :class:`~animegan_edu.models.InvertedResBlock` with ``in == out`` after it).

    Example:
        >>> len(equalize_pairs(Generator()))
        20
    """
    seq: list[nn.Module] = [u for b in _BLOCKS for u in getattr(gen, b)]
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
    gen = copy.deepcopy(generator).float().eval()
    for m in gen.modules():
        if isinstance(m, nn.LeakyReLU):
            m.inplace = False
    pairs = equalize_pairs(gen)
    ranges: dict[int, torch.Tensor] = {}
    handles = []
    for unit, _ in pairs:
        key = id(unit)

        def hook(m: nn.Module, a: tuple, y: torch.Tensor, key: int = key) -> None:
            r = y.detach().abs().amax(dim=(0, 2, 3))
            ranges[key] = r if key not in ranges else torch.maximum(ranges[key], r)

        handles.append(unit[3].register_forward_hook(hook))
    try:
        for i in range(photos.shape[0]):
            gen(photos[i : i + 1].float())
    finally:
        for h in handles:
            h.remove()
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
