"""The grading operations as ``nn.Module`` layers (kornia style), for ``nn.Sequential`` pipelines.

Introduced in ``notebooks/06_color_grading_and_glow.ipynb`` (section "Differentiable").

Each module holds the parameters of one function of :mod:`animegan_edu.inference.grading`
and calls it in ``forward``: images are ``(N, 3, H, W)`` (or ``(3, H, W)``) RGB in
``[0, 1]``, outputs stay in ``[0, 1]``. :class:`ChannelGains` can make its gains a
learnable ``nn.Parameter``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn

from animegan_edu.inference.grading import (
    GradeParams,
    adjust_saturation_luma,
    blend_strength,
    channel_gains,
    clahe_luma,
    color_grade,
    get_preset,
    glow,
    sigmoid_contrast,
)

__all__ = [
    "ChannelGains",
    "SigmoidContrast",
    "SaturationLuma",
    "ClaheLuma",
    "Glow",
    "ColorGrade",
    "BlendStrength",
]


class ChannelGains(nn.Module):
    """Module form of :func:`channel_gains`; ``learnable=True`` makes the gains a parameter."""

    def __init__(self, gains: tuple[float, float, float] = (1.0, 1.0, 1.0), learnable: bool = False) -> None:
        super().__init__()
        g = torch.tensor(gains, dtype=torch.float32)
        if learnable:
            self.gains = nn.Parameter(g)
        else:
            self.register_buffer("gains", g)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return channel_gains(image, self.gains)


class SigmoidContrast(nn.Module):
    """Module form of :func:`sigmoid_contrast`."""

    def __init__(self, contrast: float = 3.0, pivot: float = 0.5) -> None:
        super().__init__()
        self.contrast, self.pivot = contrast, pivot

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return sigmoid_contrast(image, self.contrast, self.pivot)


class SaturationLuma(nn.Module):
    """Module form of :func:`adjust_saturation_luma`."""

    def __init__(self, saturation: float = 1.2) -> None:
        super().__init__()
        self.saturation = saturation

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return adjust_saturation_luma(image, self.saturation)


class ClaheLuma(nn.Module):
    """Module form of :func:`clahe_luma`."""

    def __init__(
        self, amount: float = 1.0, clip_limit: float = 2.0, grid_size: tuple[int, int] = (8, 8)
    ) -> None:
        super().__init__()
        self.amount, self.clip_limit, self.grid_size = amount, clip_limit, grid_size

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return clahe_luma(image, self.amount, self.clip_limit, self.grid_size)


class Glow(nn.Module):
    """Module form of :func:`glow`."""

    def __init__(
        self,
        amount: float = 0.3,
        threshold: float = 0.7,
        radius: float = 0.02,
        mode: Literal["screen", "add"] = "screen",
    ) -> None:
        super().__init__()
        self.amount, self.threshold, self.radius, self.mode = amount, threshold, radius, mode

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return glow(image, self.amount, self.threshold, self.radius, self.mode)


class ColorGrade(nn.Module):
    """Module form of :func:`color_grade`; holds a :class:`GradeParams` (or a preset name).

    Example:
        >>> ColorGrade("shinkai")(torch.rand(1, 3, 32, 32)).shape
        torch.Size([1, 3, 32, 32])
    """

    def __init__(self, params: GradeParams | str = "shinkai") -> None:
        super().__init__()
        self.params = get_preset(params) if isinstance(params, str) else params

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return color_grade(image, self.params)

    def extra_repr(self) -> str:
        return repr(self.params)


class BlendStrength(nn.Module):
    """Module form of :func:`blend_strength`: ``forward(photo, stylised)``."""

    def __init__(self, strength: float = 1.0) -> None:
        super().__init__()
        self.strength = strength

    def forward(self, photo: torch.Tensor, stylised: torch.Tensor) -> torch.Tensor:
        return blend_strength(photo, stylised, self.strength)
