"""The Studio's controls: its ipywidgets and their layout, without the behaviour.

Introduced in ``notebooks/08_studio.ipynb``.

:class:`StudioControls` builds every widget of :class:`animegan_edu.studio.widgets.Studio`,
which subclasses it and wires them to the work:

* the photo: an upload button and the example gallery (a thumbnail and a button per photo);
* the model: the weights dropdown, the size slider and the face toggle;
* the style (with the style-conditioned weights ``styles``): style menu, mix, reference art
  (:class:`animegan_edu.studio.styles.StylePanel`);
* the look: style strength, grade preset and amount, glow;
* the run button, the progress bar and a status line;
* the before/after view, the slider that moves its divider, and the download link.

Sliders that re-run the generator (size) report only when released; the cheap ones (strength,
grade amount, glow, split) follow the slider while it moves. Every part carries a CSS class
``animegan-studio-<part>`` (:data:`CSS_PARTS`), so the page and the browser test can find it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, Optional

from PIL import Image

from animegan_edu.inference.grading import PRESETS
from animegan_edu.studio.styles import StylePanel
from animegan_edu.viz import png_bytes

__all__ = ["CSS_PARTS", "StudioControls"]

#: The controls that carry the CSS class ``animegan-studio-<part>`` (``_`` written as ``-``).
CSS_PARTS = (
    "upload",
    "weights",
    "size",
    "strength",
    "grade",
    "grade_amount",
    "glow",
    "face",
    "style",
    "mix_with",
    "mix",
    "reference",
    "progress",
    "status",
    "view",
    "split",
    "download",
    "gallery",
)

_COLUMN = "330px"  # the width of one control in the left column
_STYLE = {"description_width": "95px"}


class StudioControls(StylePanel):
    """The widgets of the Studio, built by :meth:`_build_controls` as attributes of ``self``.

    After building: ``upload``, ``gallery``, ``weights``, ``size``, ``face``, ``strength``,
    ``grade``, ``grade_amount``, ``glow``, ``style``, ``mix_with``, ``mix``, ``reference``,
    ``run_button``, ``progress``, ``status``, ``view``,
    ``split``, ``download``, and ``ui`` (the whole interface: the control column and the view).
    Nothing is observed here; the subclass connects the widgets to what they do.
    """

    #: Pixels per character of a gallery button's label (JupyterLab's 13 px UI font, with margin).
    GALLERY_CHAR_PX: int = 8
    #: Steps of the progress bar (its ``max``): fine enough for the unit-by-unit pass progress.
    PROGRESS_STEPS: int = 1000

    def _build_controls(
        self,
        *,
        weight_options: Optional[list[tuple[str, str]]],
        size: int,
        face: bool,
        strength: float,
        grade: str,
        grade_amount: float,
        glow: float,
        samples: dict[str, Image.Image],
        on_sample: Callable[[str], None],
        style_names: Sequence[str] = (),
    ) -> None:
        """Build every control with these starting values, then the layout (``self.ui``).

        Args:
            weight_options: the weights dropdown's ``(label, value)`` options; ``None``: a
                disabled dropdown saying "given model".
            samples: the gallery's photos by name; ``on_sample(name)`` runs when one is picked.
            style_names: the styles of the style-conditioned generator (:mod:`animegan_edu.studio.styles`).
        """
        import ipywidgets as W

        self.upload = W.FileUpload(
            accept="image/*", multiple=False, description="Upload photo", layout=W.Layout(width=_COLUMN)
        )
        self.gallery = self._build_gallery(W, samples, on_sample)
        self._build_model_controls(W, weight_options, size, face)
        self._build_style_controls(W, style_names, _COLUMN, _STYLE)
        self._build_look_controls(W, strength, grade, grade_amount, glow)
        self.run_button = W.Button(
            description="Stylise", button_style="danger", icon="magic", layout=W.Layout(width=_COLUMN)
        )
        self.progress = W.IntProgress(
            value=0, min=0, max=self.PROGRESS_STEPS, description="", layout=W.Layout(width=_COLUMN)
        )
        self.status = W.HTML(value="")
        self.view = W.Image(format="png", layout=W.Layout(max_width="640px"))
        self.split = W.FloatSlider(
            value=0.5,
            min=0,
            max=1,
            step=0.01,
            description="before | after",
            readout=False,
            continuous_update=True,
            layout=W.Layout(width="640px"),
            style={"description_width": "90px"},
        )
        self.download = W.HTML(value="")
        self.ui = self._lay_out(W)

    def _build_model_controls(
        self, W: Any, weight_options: Optional[list[tuple[str, str]]], size: int, face: bool
    ) -> None:
        """The weights dropdown, the size slider and the face toggle: what re-runs the generator."""
        lay = W.Layout(width=_COLUMN)
        if weight_options is not None:
            self.weights = W.Dropdown(
                options=weight_options,
                value=weight_options[0][1],
                description="Weights",
                layout=lay,
                style=_STYLE,
            )
        else:
            self.weights = W.Dropdown(
                options=[("given model", "given")],
                value="given",
                description="Weights",
                layout=lay,
                style=_STYLE,
                disabled=True,
            )
        # re-runs the generator: report on release only (and debounced by the Studio)
        self.size = W.IntSlider(
            value=size,
            min=128,
            max=1024,
            step=64,
            description="Size (px)",
            layout=lay,
            style=_STYLE,
            continuous_update=False,
        )
        self.face = W.Checkbox(value=face, description="Align faces (face2paint)", indent=False)

    def _build_look_controls(
        self, W: Any, strength: float, grade: str, grade_amount: float, glow: float
    ) -> None:
        """Style strength, grade preset and amount, glow: cheap, they re-finish the cached picture."""
        lay = W.Layout(width=_COLUMN)

        def live_slider(value: float, high: float, step: float, description: str) -> Any:
            return W.FloatSlider(
                value=value,
                min=0,
                max=high,
                step=step,
                description=description,
                layout=lay,
                style=_STYLE,
                continuous_update=True,
            )

        self.strength = live_slider(strength, 1, 0.05, "Style strength")
        self.grade = W.Dropdown(
            options=sorted(PRESETS), value=grade, description="Grade", layout=lay, style=_STYLE
        )
        self.grade_amount = live_slider(grade_amount, 1.5, 0.05, "Grade amount")
        self.glow = live_slider(glow, 1.5, 0.05, "Glow")

    def _build_gallery(
        self, W: Any, samples: dict[str, Image.Image], on_sample: Callable[[str], None]
    ) -> Any:
        """A wrapping row with a 72 px thumbnail and a button per photo."""
        # Buttons clip their label with an ellipsis: make every button wide enough for the
        # longest name (at least 17 characters, e.g. "stereo_motorcycle"), and let the row wrap.
        longest = max([17] + [len(n) for n in samples])
        width = f"{max(76, self.GALLERY_CHAR_PX * longest + 24)}px"
        items = []
        for name, img in samples.items():
            thumb = img.copy()
            thumb.thumbnail((72, 72))
            button = W.Button(
                description=name, tooltip=name, layout=W.Layout(width=width, overflow="visible")
            )
            button.on_click(lambda _b, n=name: on_sample(n))
            thumb_view = W.Image(value=png_bytes(thumb), format="png", layout=W.Layout(width="72px"))
            items.append(
                W.VBox(
                    [thumb_view, button],
                    layout=W.Layout(width=width, align_items="center", margin="0 4px 4px 0"),
                )
            )
        return W.HBox(items, layout=W.Layout(flex_flow="row wrap", width="100%"))

    def _lay_out(self, W: Any) -> Any:
        """The control column beside the view, with the CSS classes the page is searched by."""
        controls = W.VBox(
            [
                W.HTML("<b>Photo</b>"),
                self.upload,
                self.gallery,
                W.HTML("<b>Model</b>"),
                self.weights,
                self.size,
                self.face,
                self.style_box,
                W.HTML("<b>Look</b>"),
                self.strength,
                self.grade,
                self.grade_amount,
                self.glow,
                self.run_button,
                self.progress,
                self.status,
            ],
            layout=W.Layout(width="350px"),
        )
        ui = W.HBox([controls, W.VBox([self.view, self.split, self.download])])
        ui.add_class("animegan-studio")
        for part in CSS_PARTS:
            getattr(self, part).add_class(f"animegan-studio-{part.replace('_', '-')}")
        return ui
