"""Choosing a style for a style-conditioned generator: by name, by reference pictures, or a mix.

The one place that turns what a user asks for (``stylize --style NAME|IMAGE... --mix NAME:W``,
the Studio's style menu, upload and slider) into a style code for a
:class:`~animegan_edu.conditioned.StyleConditionedGenerator`, and the generator under it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cached_property

import torch

from animegan_edu.conditioned import StyleConditionedGenerator, StyleView
from animegan_edu.training.multistyle import reference_stats

__all__ = ["parse_mix", "ReferenceArt", "choose_style", "reference_reading", "styled_generator"]


def parse_mix(text: str) -> dict[str, float]:
    """``"Hedgewars:0.3,Clipart:0.2"`` -> ``{"Hedgewars": 0.3, "Clipart": 0.2}`` (weights finite, >= 0).

    Raises:
        ValueError: a part without ``NAME:WEIGHT``, a weight that is not a finite number >= 0, or
            a name given twice (one line).

    Example:
        >>> parse_mix("Hedgewars:0.3, Clipart:0.2")
        {'Hedgewars': 0.3, 'Clipart': 0.2}
    """
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        name, sep, value = part.rpartition(":")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not sep or not name.strip() or not math.isfinite(weight) or weight < 0:
            raise ValueError(
                f"--mix: expected NAME:WEIGHT with a weight >= 0, e.g. Hedgewars:0.3; got {part!r}"
            )
        if name.strip() in out:
            raise ValueError(f"--mix: {name.strip()} is named twice")
        out[name.strip()] = weight
    return out


class ReferenceArt:
    """Reference pictures ``(3, H, W)`` in ``[0, 1]`` and their encoder statistics, computed once.

    ``stats`` (:func:`~animegan_edu.training.multistyle.reference_stats`, ``(K, REF_STATS_DIM)``)
    runs the VGG16 on first use and is kept, so the code and the reading of the same pictures
    (and the Studio's re-renders while they stay chosen) share one pass.

    Example:
        >>> refs = ReferenceArt([torch.rand(3, 16, 16)] * 2)
        >>> len(refs), bool(ReferenceArt([]))
        (2, False)
    """

    def __init__(self, pictures: Sequence[torch.Tensor]) -> None:
        self.pictures = tuple(pictures)

    def __len__(self) -> int:
        return len(self.pictures)

    @cached_property
    def stats(self) -> torch.Tensor:
        with torch.no_grad():
            return reference_stats(list(self.pictures))


def choose_style(
    model: StyleConditionedGenerator,
    style: Sequence[str] | Sequence[torch.Tensor] | ReferenceArt = (),
    mix: Mapping[str, float] | None = None,
) -> torch.Tensor:
    """The style code ``(code_dim,)`` for a request.

    Args:
        model: the conditioned generator.
        style: named styles of ``model`` (several: an equal mix), or reference pictures
            ``(3, H, W)`` in ``[0, 1]`` or a :class:`ReferenceArt` of them (the encoder path);
            empty with ``mix`` alone.
        mix: other named styles and their weights, added to ``style``'s code, which keeps
            ``1 - sum(weights)`` (so the weights must sum to at most 1). Without ``style`` the
            weights alone make the code (normalised to sum 1).

    Raises:
        ValueError: unknown names, weights that do not fit, or nothing asked for (one line).

    Example:
        >>> g = StyleConditionedGenerator(["a", "b"])
        >>> torch.equal(choose_style(g, ["a"], {"b": 0.0}), g.style_code("a"))
        True
        >>> want = 0.75 * g.style_code("a") + 0.25 * g.style_code("b")
        >>> torch.allclose(choose_style(g, ["a"], {"b": 0.25}), want)
        True
    """
    mix = dict(mix or {})
    if not style and not mix:
        raise ValueError(
            f"choose a style: one of {', '.join(model.style_names)}, reference pictures, or a mix"
        )
    if not style:
        return model.mix(mix)
    if isinstance(style, ReferenceArt) or all(isinstance(s, torch.Tensor) for s in style):
        refs = style if isinstance(style, ReferenceArt) else ReferenceArt(style)  # type: ignore[arg-type]
        with torch.no_grad():
            base = model.reference_code(refs.stats)
    elif all(isinstance(s, str) for s in style):
        base = model.mix({str(s): 1.0 for s in style})
    else:
        raise ValueError("--style: give style names or reference pictures, not both")
    total = sum(mix.values())
    if total > 1 + 1e-9:
        raise ValueError(f"--mix: the weights add up to {total:g}; at most 1 (the rest is --style)")
    code = (1 - total) * base
    for name, weight in mix.items():
        code = code + weight * model.style_code(name)
    return code


@torch.no_grad()
def reference_reading(
    model: StyleConditionedGenerator, pictures: Sequence[torch.Tensor] | ReferenceArt
) -> str:
    """How the style encoder reads reference pictures (``(3, H, W)`` in ``[0, 1]``): its weights, in words.

    ``pictures`` may be a :class:`ReferenceArt` (its statistics are then not computed again).

    The named styles by falling weight, those under 1 % left out, e.g. ``"Wesnoth 93%, Hedgewars 6%"``.

    Example:
        >>> g = StyleConditionedGenerator(["a", "b"])
        >>> _ = g.encoder.net[-1].bias.data.copy_(torch.tensor([0.0, 40.0]))  # sure of "b"
        >>> _ = g.encoder.net[-1].weight.data.zero_()
        >>> reference_reading(g, [torch.rand(3, 32, 32)])
        'b 100%'
    """
    refs = pictures if isinstance(pictures, ReferenceArt) else ReferenceArt(pictures)
    weights = model.reference_weights(refs.stats)
    ranked = sorted(weights.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{n} {round(100 * w)}%" for n, w in ranked if w >= 0.01)


def styled_generator(model: StyleConditionedGenerator, code: torch.Tensor) -> StyleView:
    """``model`` under ``code`` (a detached copy), in eval mode: a plain generator for the pipeline."""
    return StyleView(model.eval(), code.detach().clone()).eval()
