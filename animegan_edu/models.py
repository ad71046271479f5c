"""The AnimeGANv2 networks: generator, discriminators, and the article's ResNet generator.

Introduced in ``notebooks/01_generator.ipynb`` (generator) and
``notebooks/02_discriminators.ipynb`` (discriminators).

Conventions used everywhere in :mod:`animegan_edu`:

* generator inputs and outputs are RGB tensors of shape ``(N, 3, H, W)`` with values in
  ``[-1, 1]`` (``x = 2 * image - 1`` for an image in ``[0, 1]``);
* any ``H, W >= 8`` works, odd sizes included (smaller inputs leave feature maps too
  small for the reflection padding): the decoder resizes back to the exact
  sizes of the encoder's feature maps.

The file reads top to bottom: building blocks, the generator, the article's ResNet
generator, the discriminators, then small analysis helpers (MAC count, receptive field).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ConvNormLReLU",
    "InvertedResBlock",
    "Generator",
    "UpsampleMode",
    "resize",
    "ResidualBlock",
    "ResnetGenerator",
    "Discriminator",
    "MultiScaleDiscriminator",
    "count_parameters",
    "count_macs",
    "layer_macs",
    "macs_by_unit",
    "receptive_field",
]

UpsampleMode = Literal["align_corners", "half_pixel", "tf1"]


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------
class ConvNormLReLU(nn.Sequential):
    """Pad, convolve, normalise, activate: the unit the whole generator is made of.

    Children (their indices are part of the state-dict names of the public weights):
    ``0`` reflection pad, ``1`` convolution, ``2`` ``GroupNorm(1, C)`` (layer norm over
    C, H, W with a per-channel affine), ``3`` ``LeakyReLU(0.2)``.

    Args:
        in_ch: input channels.
        out_ch: output channels.
        kernel_size: square kernel size.
        stride: 1, or 2 to halve the resolution.
        padding: an int (same on every side) or ``(left, right, top, bottom)``; the two
            stride-2 convolutions of AnimeGANv2 use ``(0, 1, 0, 1)``.
        groups: ``groups`` of the convolution (``in_ch`` for a depthwise one).
        bias: whether the convolution has a bias (only the depthwise ones do).
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | tuple[int, int, int, int] = 1,
        groups: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__(
            nn.ReflectionPad2d(padding),
            nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, groups=groups, bias=bias),
            nn.GroupNorm(1, out_ch, affine=True),
            nn.LeakyReLU(0.2, inplace=True),
        )


class InvertedResBlock(nn.Module):
    """MobileNetV2-style inverted residual block used in the middle of the generator.

    ``1x1`` expand (by ``expansion_ratio``) -> ``3x3`` depthwise -> ``1x1`` project ->
    ``GroupNorm``; the input is added back when ``in_ch == out_ch``.

    Shapes: ``(N, in_ch, H, W) -> (N, out_ch, H, W)``.
    """

    def __init__(self, in_ch: int, out_ch: int, expansion_ratio: int = 2) -> None:
        super().__init__()
        self.use_residual = in_ch == out_ch
        mid = round(in_ch * expansion_ratio)
        layers: list[nn.Module] = []
        if expansion_ratio != 1:
            layers.append(ConvNormLReLU(in_ch, mid, kernel_size=1, padding=0))
        layers += [
            ConvNormLReLU(mid, mid, groups=mid, bias=True),
            nn.Conv2d(mid, out_ch, kernel_size=1, bias=False),
            nn.GroupNorm(1, out_ch, affine=True),
        ]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.use_residual else out


def _resize_tf1(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """TF1 ``resize_images(..., BILINEAR)``: source = destination * (in / out), no offsets.

    Neither of PyTorch's ``align_corners`` settings computes this (``False`` adds the
    half-pixel offsets, ``True`` uses ``(in - 1) / (out - 1)``), so it is written out.
    """
    in_h, in_w = x.shape[-2:]
    out_h, out_w = int(size[0]), int(size[1])

    def coords(n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        src = torch.arange(n_out, device=x.device, dtype=x.dtype) * (n_in / n_out)
        lo = src.floor().clamp(max=n_in - 1)
        frac = (src - lo).clamp(0, 1)
        lo = lo.long()
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, frac

    y0, y1, fy = coords(in_h, out_h)
    x0, x1, fx = coords(in_w, out_w)
    top = x[..., y0, :] * (1 - fy)[:, None] + x[..., y1, :] * fy[:, None]
    return top[..., x0] * (1 - fx) + top[..., x1] * fx


def resize(x: torch.Tensor, size: Sequence[int], mode: UpsampleMode = "align_corners") -> torch.Tensor:
    """Bilinear resize of ``(N, C, H, W)`` to ``size = (H', W')`` in one of three conventions.

    * ``"align_corners"``: PyTorch ``align_corners=True``, what the public PyTorch port
      uses (and so what its weights expect): the default.
    * ``"half_pixel"``: PyTorch ``align_corners=False`` (pixel centres at ``i + 0.5``).
    * ``"tf1"``: TensorFlow 1 ``resize_images`` (no corner alignment, no half-pixel
      centres), what the original TensorFlow AnimeGANv2 computes.
    """
    size = (int(size[0]), int(size[1]))
    if mode == "align_corners":
        return F.interpolate(x, size=size, mode="bilinear", align_corners=True)
    if mode == "half_pixel":
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    if mode == "tf1":
        return _resize_tf1(x, size)
    raise ValueError(f"upsample mode must be 'align_corners', 'half_pixel' or 'tf1', got {mode!r}")


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------
class Generator(nn.Module):
    """The AnimeGANv2 generator, laid out so the public PyTorch weight files load strictly.

    Encoder ``block_a`` (full, then 1/2 resolution) and ``block_b`` (1/4), a middle
    ``block_c`` of inverted residual blocks, a decoder that resizes back (``block_d`` at
    1/2, ``block_e`` at full resolution) and a ``1x1`` conv + ``tanh`` output layer.
    2,143,552 parameters.

    Args:
        upsample: how the decoder resizes (see :func:`resize`). ``"align_corners"`` (the
            default) reproduces the public PyTorch port; ``"tf1"`` the original TensorFlow
            model; ``"half_pixel"`` is PyTorch's other convention. All three take the same
            weights; only the pictures differ slightly.

    Shapes:
        input ``(N, 3, H, W)`` RGB in ``[-1, 1]``; output ``(N, 3, H, W)`` in ``[-1, 1]``.

    Example:
        >>> g = Generator()
        >>> g(torch.zeros(1, 3, 70, 98)).shape
        torch.Size([1, 3, 70, 98])
    """

    #: The sequential blocks, in the order the forward pass runs them.
    BLOCKS: tuple[str, ...] = ("block_a", "block_b", "block_c", "block_d", "block_e")

    def __init__(self, upsample: UpsampleMode = "align_corners") -> None:
        super().__init__()
        if upsample not in ("align_corners", "half_pixel", "tf1"):
            raise ValueError(f"upsample must be 'align_corners', 'half_pixel' or 'tf1', got {upsample!r}")
        self.upsample = upsample
        down = (0, 1, 0, 1)  # the stride-2 convs pad only right and bottom
        self.block_a = nn.Sequential(
            ConvNormLReLU(3, 32, kernel_size=7, padding=3),
            ConvNormLReLU(32, 64, stride=2, padding=down),
            ConvNormLReLU(64, 64),
        )
        self.block_b = nn.Sequential(
            ConvNormLReLU(64, 128, stride=2, padding=down),
            ConvNormLReLU(128, 128),
        )
        self.block_c = nn.Sequential(
            ConvNormLReLU(128, 128),
            InvertedResBlock(128, 256, 2),
            InvertedResBlock(256, 256, 2),
            InvertedResBlock(256, 256, 2),
            InvertedResBlock(256, 256, 2),
            ConvNormLReLU(256, 128),
        )
        self.block_d = nn.Sequential(ConvNormLReLU(128, 128), ConvNormLReLU(128, 128))
        self.block_e = nn.Sequential(
            ConvNormLReLU(128, 64),
            ConvNormLReLU(64, 64),
            ConvNormLReLU(64, 32, kernel_size=7, padding=3),
        )
        self.out_layer = nn.Sequential(nn.Conv2d(32, 3, kernel_size=1, bias=False), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"Generator expects (N, 3, H, W) RGB in [-1, 1], got shape {tuple(x.shape)}")
        if min(x.shape[-2:]) < 8:
            raise ValueError(
                f"Generator needs H, W >= 8 (reflection padding at 1/4 resolution), got {tuple(x.shape[-2:])}"
            )
        full = x.shape[-2:]
        out = self.block_a(x)
        half = out.shape[-2:]
        out = self.block_c(self.block_b(out))
        out = self.block_d(resize(out, half, self.upsample))
        out = self.block_e(resize(out, full, self.upsample))
        return self.out_layer(out)

    def units(self, out_layer: bool = False) -> list[tuple[str, nn.Module]]:
        """The generator's units, in the order the forward pass runs them: ``(name, module)`` pairs.

        The 16 units of the blocks, ``"block_a.0"`` ... ``"block_e.2"`` (each a
        :class:`ConvNormLReLU` or an :class:`InvertedResBlock`): what INT8 quantizes unit by
        unit, what a per-layer profile times and what a progress bar counts. With
        ``out_layer``, ``("out_layer", 1x1 conv + tanh)`` comes last.

        Example:
            >>> names = [n for n, _ in Generator().units(out_layer=True)]
            >>> len(names), names[:2], names[-2:]
            (17, ['block_a.0', 'block_a.1'], ['block_e.2', 'out_layer'])
        """
        found = [(f"{b}.{i}", m) for b in self.BLOCKS for i, m in enumerate(getattr(self, b))]
        return found + [("out_layer", self.out_layer)] if out_layer else found


# --------------------------------------------------------------------------------------
# The article's simplified generator (a CycleGAN-style ResNet), for comparison
# --------------------------------------------------------------------------------------
class ResidualBlock(nn.Module):
    """Two reflect-padded ``3x3`` convs with instance norm and a skip connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """The "simplified generator" printed in the article (section 2.2).

    It is not the AnimeGANv2 generator: it is the CycleGAN/Johnson ResNet generator
    (7x7 stem, two stride-2 convs to 256 channels, ``num_residuals`` residual blocks, two
    transposed convs, 7x7 head, ``tanh``). Kept for comparison of size, cost and
    receptive field. Input/output ``(N, 3, H, W)`` in ``[-1, 1]``; ``H, W`` divisible by 4.
    """

    def __init__(self, input_channels: int = 3, num_residuals: int = 9) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_channels, 64, 7),
            nn.InstanceNorm2d(64),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 128, 3, stride=2, padding=1),
            nn.InstanceNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 256, 3, stride=2, padding=1),
            nn.InstanceNorm2d(256),
            nn.ReLU(inplace=True),
        ]
        layers += [ResidualBlock(256) for _ in range(num_residuals)]
        layers += [
            nn.ConvTranspose2d(256, 128, 3, stride=2, padding=1, output_padding=1),
            nn.InstanceNorm2d(128),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(128, 64, 3, stride=2, padding=1, output_padding=1),
            nn.InstanceNorm2d(64),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(3),
            nn.Conv2d(64, 3, 7),
            nn.Tanh(),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


# --------------------------------------------------------------------------------------
# Discriminators
# --------------------------------------------------------------------------------------
def _sn(module: nn.Module, spectral_norm: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(module) if spectral_norm else module


class Discriminator(nn.Module):
    """The AnimeGANv2 PatchGAN discriminator (base 64 channels, 3 layers, spectral norm).

    ``3x3`` conv (ch/2) + LReLU, then ``n_layers`` times [stride-2 ``3x3`` conv (ch),
    LReLU, ``3x3`` conv (2 ch), layer norm, LReLU] with ``ch`` doubling, then a ``3x3``
    conv (2 ch), layer norm, LReLU, and a ``3x3`` conv to one logit per patch. Every conv
    carries spectral normalisation when ``spectral_norm`` is true (the original recipe).

    Shapes:
        input ``(N, 3, H, W)`` in ``[-1, 1]``; output ``(N, 1, H / 2**n_layers, W / 2**n_layers)``
        of unbounded scores (LSGAN: real -> 1, fake -> 0).
    """

    def __init__(self, in_ch: int = 3, ch: int = 64, n_layers: int = 3, spectral_norm: bool = True) -> None:
        super().__init__()
        half = ch // 2
        layers: list[nn.Module] = [
            _sn(nn.Conv2d(in_ch, half, 3, 1, 1), spectral_norm),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        prev = half
        for _ in range(n_layers):
            layers += [
                _sn(nn.Conv2d(prev, ch, 3, 2, 1), spectral_norm),
                nn.LeakyReLU(0.2, inplace=True),
                _sn(nn.Conv2d(ch, ch * 2, 3, 1, 1), spectral_norm),
                nn.GroupNorm(1, ch * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            prev = ch * 2
            ch *= 2
        layers += [
            _sn(nn.Conv2d(prev, prev, 3, 1, 1), spectral_norm),
            nn.GroupNorm(1, prev),
            nn.LeakyReLU(0.2, inplace=True),
            _sn(nn.Conv2d(prev, 1, 3, 1, 1), spectral_norm),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MultiScaleDiscriminator(nn.Module):
    """The article's multi-scale variant: a global discriminator plus local ones on downscaled copies.

    ``scales`` discriminators; discriminator ``k`` sees the input average-pooled ``k``
    times by 2. The first is the full AnimeGANv2 :class:`Discriminator`; the others are
    smaller (``local_ch`` channels, ``local_layers`` layers) and focus on local texture.

    Returns a list of ``scales`` score maps, finest first.
    """

    def __init__(
        self,
        scales: int = 3,
        ch: int = 64,
        n_layers: int = 3,
        local_ch: int = 32,
        local_layers: int = 2,
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        nets = [Discriminator(3, ch, n_layers, spectral_norm)]
        nets += [Discriminator(3, local_ch, local_layers, spectral_norm) for _ in range(scales - 1)]
        self.discriminators = nn.ModuleList(nets)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for i, d in enumerate(self.discriminators):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outs.append(d(x))
        return outs


# --------------------------------------------------------------------------------------
# Analysis helpers used by the notebooks
# --------------------------------------------------------------------------------------
def count_parameters(model: nn.Module) -> int:
    """Number of parameters (the generator has 2,143,552)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, size: int | tuple[int, int], in_ch: int = 3) -> int:
    """Multiply-accumulates of the convolutions and linear layers for one ``size`` image.

    Counted with forward hooks on a zero input (norms, activations and resizes are
    ignored: they are a few percent). FLOPs are about ``2 * MACs``.

    Example:
        >>> count_macs(nn.Conv2d(3, 8, 3, padding=1), 4)  # 8 x 4 x 4 outputs, 3 x 3 x 3 MACs each
        3456
    """
    return macs_by_unit(model, [("all", model)], size, in_ch)["all"]


def layer_macs(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> int:
    """Multiply-accumulates of one call of a conv, transposed conv or linear layer (0 for anything else).

    Takes what a forward hook receives. Example:
        >>> conv = nn.Conv2d(4, 6, 3, groups=2)
        >>> x = torch.zeros(1, 4, 5, 5)
        >>> layer_macs(conv, (x,), conv(x))  # 6 x 3 x 3 outputs, (4 / 2) x 3 x 3 MACs each
        972
    """
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0] * module.kernel_size[1] * (module.in_channels // module.groups)
        return output.numel() * k
    if isinstance(module, nn.ConvTranspose2d):
        k = module.kernel_size[0] * module.kernel_size[1] * (module.out_channels // module.groups)
        return inputs[0].numel() * k
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return 0


def macs_by_unit(
    model: nn.Module, units: Sequence[tuple[str, nn.Module]], size: int | tuple[int, int], in_ch: int = 3
) -> dict[str, int]:
    """Multiply-accumulates of each unit's layers (:func:`layer_macs`) for one ``size`` image of ``model``.

    ``units``: ``(name, submodule of model)`` pairs, e.g. :meth:`Generator.units`. One forward pass
    of a zero ``(1, in_ch, H, W)`` input on the model's device, in eval mode (restored after).

    Example:
        >>> g = Generator()
        >>> per = macs_by_unit(g, g.units(out_layer=True), 256)
        >>> sum(per.values()) == count_macs(g, 256), max(per, key=per.get)
        (True, 'block_e.2')
    """
    h, w = (size, size) if isinstance(size, int) else size
    totals = {name: 0 for name, _ in units}

    def hook_for(name: str) -> Callable[..., None]:
        def hook(mod: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            totals[name] += layer_macs(mod, inp, out)

        return hook

    handles = [
        m.register_forward_hook(hook_for(name))
        for name, unit in units
        for m in unit.modules()
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))
    ]
    p = next(model.parameters(), None)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, in_ch, h, w, device=p.device if p is not None else "cpu"))
    finally:
        model.train(was_training)
        for hd in handles:
            hd.remove()
    return totals


def _single_channel_twin(conv: nn.Module, in_ch: int) -> nn.Module:
    """A one-output-channel copy of ``conv`` (same kernel, stride, padding) with uniform positive weights."""
    cin = in_ch if conv.in_channels == in_ch else 1
    k = conv.kernel_size[0] * conv.kernel_size[1]
    if isinstance(conv, nn.ConvTranspose2d):
        twin: nn.Module = nn.ConvTranspose2d(
            cin,
            1,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            output_padding=conv.output_padding,
            dilation=conv.dilation,
            bias=False,
        )
    else:
        twin = nn.Conv2d(
            cin,
            1,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            padding_mode=conv.padding_mode,
            bias=False,
        )
    with torch.no_grad():
        twin.weight.fill_(1.0 / (k * cin))
    return twin.double()


def receptive_field(model: nn.Module, size: int = 256, in_ch: int = 3) -> torch.Tensor:
    """Where the centre output pixel looks: ``|d out[centre] / d input|`` summed over channels.

    Returns an ``(H, W)`` map (``size x size``) normalised to a maximum of 1; its
    non-zero extent is the theoretical receptive field of the convolutions. Channels do
    not change *where* a pixel looks, so it is computed cheaply, in float64, on a
    single-channel twin of the model: every convolution keeps its kernel size, stride and
    padding but gets one output channel and uniform positive weights (contributions cannot
    cancel); normalisation layers (whose statistics would tie every output to every input)
    and output ``tanh``/``sigmoid`` (saturation) are removed. The input is a constant 0.5.
    The map is therefore the receptive field of a uniform-weight network: its support is
    exact, its shading shows how many paths reach each input pixel.
    """
    import copy

    m = copy.deepcopy(model).eval()
    for parent in list(m.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, (nn.GroupNorm, nn.InstanceNorm2d, nn.BatchNorm2d, nn.Tanh, nn.Sigmoid)):
                setattr(parent, name, nn.Identity())
            elif isinstance(child, (nn.Conv2d, nn.ConvTranspose2d)):
                setattr(parent, name, _single_channel_twin(child, in_ch))
    m = m.double()
    x = torch.full((1, in_ch, size, size), 0.5, dtype=torch.float64, requires_grad=True)
    out = m(x)
    if isinstance(out, (list, tuple)):
        out = out[0]
    oh, ow = out.shape[-2:]
    out[0, :, oh // 2, ow // 2].sum().backward()
    g = x.grad[0].abs().sum(0)
    return (g / g.max()).float()
