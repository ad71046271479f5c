"""The Studio's style controls: one style-conditioned generator, its style menu, a mixing slider
and reference art (notebook 11 explains the model; notebook 08 is the Studio).

When the weights menu says ``styles`` (the bundled
:class:`~animegan_edu.conditioned.StyleConditionedGenerator`), three controls choose its code:

* **Style**: one of its named styles, or "reference art": the style its encoder reads from
  pictures uploaded with the **Reference art** button;
* **Mix with** and **Mix**: a second named style and its share in ``[0, 1]`` (0 keeps the
  first style, 1 is the second): the codes are blended, not the pictures.

Every change re-runs the generator. The request becomes a code through
:func:`animegan_edu.inference.styles.choose_style`, as for ``animegan-edu stylize --style``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from animegan_edu.conditioned import StyleConditionedGenerator
from animegan_edu.inference.styles import ReferenceArt, choose_style, reference_reading, styled_generator
from animegan_edu.weights.conditioned import BUNDLED_STYLES, bundled_styles_path, get_conditioned
from animegan_edu.weights.files import WeightsError

__all__ = ["STYLES", "REFERENCE", "NO_MIX", "styles_available", "style_names", "styles_choice",
           "conditioned_model", "styled_model", "StylePanel"]  # fmt: skip

#: The weights menu's value for the bundled style-conditioned generator.
STYLES = BUNDLED_STYLES
#: The style menu's value for "the style of the uploaded reference art".
REFERENCE = "reference"
#: The "Mix with" menu's value for no second style.
NO_MIX = "none"

_MODELS: dict[str, StyleConditionedGenerator] = {}


def styles_available() -> bool:
    """Whether the bundled style-conditioned generator is there (the Studio offers it only then).

    Example:
        >>> isinstance(styles_available(), bool)
        True
    """
    return bundled_styles_path().is_file()


def style_names() -> tuple[str, ...]:
    """The bundled style-conditioned generator's styles; ``()`` when it is missing or unreadable.

    Example:
        >>> not styles_available() or len(style_names()) >= 3
        True
    """
    if not styles_available():
        return ()
    try:
        return conditioned_model().style_names
    except WeightsError:
        return ()


def styles_choice() -> tuple[str, str] | None:
    """The weights menu's ``(label, value)`` for the bundled style-conditioned generator; ``None`` without it.

    An unreadable file is still offered (labelled so), so that choosing it says why in the
    status line instead of the option silently missing.

    Example:
        >>> not styles_available() or styles_choice()[1] == STYLES
        True
    """
    names = style_names()
    if names:
        return f"styles (one model: {', '.join(names)})", STYLES
    return ("styles (unreadable: choose it to see why)", STYLES) if styles_available() else None


def conditioned_model(source: str = STYLES) -> StyleConditionedGenerator:
    """:func:`animegan_edu.weights.conditioned.get_conditioned`, loaded once per source.

    Example:
        >>> not styles_available() or conditioned_model() is conditioned_model()
        True
    """
    if source not in _MODELS:
        _MODELS[source] = get_conditioned(source)
    return _MODELS[source]


def styled_model(
    model: StyleConditionedGenerator,
    style: str,
    mix_with: str = NO_MIX,
    mix: float = 0.0,
    references: Sequence[torch.Tensor] | ReferenceArt = (),
) -> tuple[torch.nn.Module, str]:
    """``model`` under the Studio's style request, and a one-line label.

    Args:
        style: a style name of ``model``, or :data:`REFERENCE` (the code of ``references``,
            pictures ``(3, H, W)`` in ``[0, 1]``, read by the style encoder).
        mix_with: a second style name, or :data:`NO_MIX`.
        mix: the second style's share, in ``[0, 1]``.

    Returns:
        ``(generator, label)``: the generator maps RGB ``(N, 3, H, W)`` in ``[-1, 1]`` to the same.

    Raises:
        ValueError: reference art asked for but none uploaded, or a bad name or share (one line).

    Example:
        >>> g = StyleConditionedGenerator(["a", "b"]).eval()
        >>> view, label = styled_model(g, "a", "b", 0.25)
        >>> label
        'weights: styles, a with 25% b'
        >>> torch.allclose(view.style, 0.75 * g.style_code("a") + 0.25 * g.style_code("b"))
        True
    """
    if style == REFERENCE:
        if not references:
            raise ValueError("choose reference art first (the Reference art button), or pick a named style")
        request: Any = references if isinstance(references, ReferenceArt) else ReferenceArt(references)
        count = f"{len(references)} reference picture{'s' * (len(references) > 1)}"
        what = f"the style of {count} (read as {reference_reading(model, request)})"
    else:
        request, what = [style], style
    share = float(mix) if mix_with not in (NO_MIX, "", None) else 0.0
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"mix must be in [0, 1], got {mix}")
    code = choose_style(model, request, {mix_with: share} if share > 0 else None)
    label = f"weights: styles, {what}" + (f" with {round(100 * share)}% {mix_with}" if share > 0 else "")
    return styled_generator(model, code), label


class StylePanel:
    """The style controls, built by :meth:`_build_style_controls` as attributes of ``self``.

    After building: ``style`` (menu), ``mix_with`` (menu), ``mix`` (slider, reported on release),
    ``reference`` (upload, several files), ``style_box`` (the four, shown under the weights) and
    ``references`` (the uploaded pictures, a :class:`~animegan_edu.inference.styles.ReferenceArt`
    whose statistics are computed once; empty at first).
    They are enabled only while the weights menu says :data:`STYLES`.
    """

    def _build_style_controls(self, W: Any, names: Sequence[str], width: str, style: dict) -> None:
        lay = W.Layout(width=width)
        options = [(n, n) for n in names] + [("reference art (uploaded)", REFERENCE)]
        first = names[0] if names else REFERENCE
        self.style = W.Dropdown(options=options, value=first, description="Style", layout=lay, style=style)
        self.mix_with = W.Dropdown(
            options=[("none", NO_MIX)] + [(n, n) for n in names], value=NO_MIX, description="Mix with",
            layout=lay, style=style,
        )  # fmt: skip
        self.mix = W.FloatSlider(
            value=0.0, min=0.0, max=1.0, step=0.05, description="Mix", layout=lay, style=style,
            continuous_update=False,
        )  # fmt: skip
        self.reference = W.FileUpload(
            accept="image/*", multiple=True, description="Reference art", layout=lay
        )
        self.references = ReferenceArt([])  # the uploaded reference art and its statistics, once
        heading = W.HTML("<b>Style</b> <i>(weights: styles)</i>")
        self.style_box = W.VBox([heading, self.style, self.mix_with, self.mix, self.reference])

    def _enable_style_controls(self, on: bool) -> None:
        for w in (self.style, self.mix_with, self.mix, self.reference):
            w.disabled = not on
