"""The JupyterLab studio: upload or pick a photo, tune the look, compare, download.

Introduced in ``notebooks/08_studio.ipynb``.

The article's web UI (photo upload, a progress bar, a before/after slider, an example
gallery) rebuilt with ipywidgets, so it runs inside JupyterLab with no server and no custom
extension. The upload button opens the browser's file chooser; ipywidgets' ``FileUpload``
does not accept files dropped onto it, so the studio has no drag-and-drop:

* :class:`Studio` - the interface (its widgets and layout: :mod:`animegan_edu.studio.controls`);
* :func:`render` - the work behind it, usable without any widget (and tested that way):
  the shared :mod:`animegan_edu.inference.pipeline` (resize, stylise, optionally with
  :func:`animegan_edu.inference.face_paste.face2paint`, blend by style strength, grade and glow), split
  into :func:`stylise_raw` (slow, cached) and :func:`finish` (instant);
* :func:`compare_image` / :func:`before_after_figure` - the split view, as an array for the
  live widget and as a static matplotlib figure. They live in :mod:`animegan_edu.viz`. The
  figure is the studio's static stand-in (:mod:`animegan_edu.studio.live`): shown only where
  the live widget cannot be (a saved or untrusted notebook, a static page), never under it.

Uploads are decoded by :func:`animegan_edu.imageio.load_image`, exactly like the CLI's
inputs (transparency over white, 16-bit scaled, size limit).

Images are RGB float tensors ``(1, 3, H, W)`` in ``[0, 1]`` or PIL images; the generator
maps ``[-1, 1]`` to ``[-1, 1]``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import torch
import torch.nn as nn
from PIL import Image

from animegan_edu.checks import require_finite
from animegan_edu.imageio import load_image, pil_to_tensor01, snapped_size
from animegan_edu.inference import pipeline
from animegan_edu.inference.grading import PRESETS, GradeParams, get_preset
from animegan_edu.inference.styles import ReferenceArt
from animegan_edu.samples import DEFAULT_PHOTOS, sample_photo_array
from animegan_edu.studio.controls import StudioControls
from animegan_edu.studio.live import show_live
from animegan_edu.studio.progress import pass_progress
from animegan_edu.studio.styles import (
    REFERENCE,
    STYLES,
    conditioned_model,
    style_names,
    styled_model,
    styles_choice,
)
from animegan_edu.viz import before_after_figure, compare_image, png_bytes

# modules, not names: tests patch hub.resolve_default and registry.is_cached where they are defined
from animegan_edu.weights import hub, registry
from animegan_edu.weights.files import WeightsError

__all__ = [
    "RANDOM",
    "DEFAULT",
    "StudioSettings",
    "RenderResult",
    "sample_images",
    "load_model",
    "weight_choices",
    "grade_params",
    "stylise_raw",
    "finish",
    "render",
    "download_link_html",
    "Studio",
]

#: Name of the fixed-seed, untrained generator used when no weights are available.
RANDOM = "random"
#: The weights dropdown's value for "the default weights" (``load_model(None)``). Not ``None``:
#: an ipywidgets ``Dropdown`` whose value is ``None`` shows nothing selected.
DEFAULT = "default"

ImageLike = Union[Image.Image, torch.Tensor]
Progress = Callable[[int, int, str], None]


# --------------------------------------------------------------------------- models and samples


def sample_images(names: tuple[str, ...] = DEFAULT_PHOTOS) -> dict[str, Image.Image]:
    """The example gallery as PIL images: :func:`animegan_edu.samples.sample_photo_array` by name.

    Example:
        >>> sample_images(("coffee",))["coffee"].size
        (600, 400)
    """
    return {n: Image.fromarray(sample_photo_array(n), "RGB") for n in names}


_MODELS: dict[tuple[Optional[str], int], tuple[nn.Module, str]] = {}


def load_model(name: Optional[str] = None, seed: int = 0) -> tuple[nn.Module, str]:
    """:func:`animegan_edu.weights.hub.get_generator` (offline), cached: ``(generator, one-line label)``.

    ``name=None`` (or :data:`DEFAULT`, the dropdown's value for it) is the default weights (a
    cached public weight, else the bundled demo), an UNTRAINED generator (``seed``, and the
    label says so) only when none exists; ``name="random"`` asks for the untrained one. A
    named weight is never replaced.

    Raises:
        animegan_edu.weights.files.WeightsError: a named weight that cannot be loaded, or any bad file.

    Example:
        >>> load_model(RANDOM)[1].lower().count("untrained")
        1
    """
    if name == DEFAULT:
        name = None
    if (name, seed) not in _MODELS:
        _MODELS[(name, seed)] = hub.get_generator(
            name, fallback="random" if name is None else None, seed=seed, progress=False
        )
    return _MODELS[(name, seed)]


def weight_choices() -> list[tuple[str, str]]:
    """Dropdown options ``(label, value)``: the default, every registry entry usable offline, random.

    The default's value is :data:`DEFAULT` (never ``None``, which a dropdown shows as blank);
    :func:`load_model` maps it to the default weights.

    Example:
        >>> weight_choices()[-1]
        ('random (untrained, seed 0)', 'random')
    """
    options: list[tuple[str, str]] = []
    try:
        options.append((f"default ({hub.resolve_default()})", DEFAULT))
    except WeightsError:
        pass
    for entry in registry.AnimeGANv2Weights:
        try:
            if registry.is_cached(entry):
                options.append((entry.key, entry.key))
        except WeightsError:
            continue
    choice = styles_choice()
    options += [choice] if choice else []
    options.append(("random (untrained, seed 0)", RANDOM))
    return options


# --------------------------------------------------------------------------- the pipeline


@dataclass(frozen=True)
class StudioSettings:
    """Everything the studio's controls set.

    Attributes:
        size: longest side of the working image in pixels (rounded to a multiple of 4).
        face: use face2paint (align and stylise faces separately).
        strength: style strength in [0, 1].
        grade: preset name (see :data:`animegan_edu.inference.grading.PRESETS`).
        grade_amount: how much of the preset, 0 (neutral) to 1 (full).
        glow: glow amount; ``None`` keeps the preset's (scaled by ``grade_amount``).
    """

    size: int = 512
    face: bool = False
    strength: float = 1.0
    grade: str = "shinkai"
    grade_amount: float = 1.0
    glow: Optional[float] = None

    def __post_init__(self) -> None:
        if not 16 <= self.size <= pipeline.MAX_SIZE:
            raise ValueError(f"size must be between 16 and {pipeline.MAX_SIZE} pixels, got {self.size}")
        if self.grade not in PRESETS:
            raise ValueError(f"unknown grade {self.grade!r}; choose one of {sorted(PRESETS)}")
        for name in ("strength", "grade_amount", "glow"):
            v = getattr(self, name)
            if v is not None:
                require_finite(name, v)
        pipeline.check_look(self.strength, self.glow, self.grade_amount)


@dataclass
class RenderResult:
    """``photo`` and ``result``: ``(1, 3, H, W)`` in [0, 1]; ``raw``: the stylised image before the look."""

    photo: torch.Tensor
    raw: torch.Tensor
    result: torch.Tensor
    message: str
    seconds: float
    notes: list[str] = field(default_factory=list)


def grade_params(settings: StudioSettings) -> GradeParams:
    """The :class:`~animegan_edu.inference.grading.GradeParams` that ``settings`` describe.

    Example:
        >>> grade_params(StudioSettings(grade="neutral")).is_identity()
        True
    """
    return pipeline.grade_params(settings.grade, settings.glow, settings.grade_amount)


def stylise_raw(
    photo: torch.Tensor,
    model: Callable[[torch.Tensor], torch.Tensor],
    face: bool = False,
    progress: Optional[Progress] = None,
) -> tuple[torch.Tensor, str]:
    """The slow part: the generator (or face2paint) on ``photo`` ``(1, 3, H, W)`` in [0, 1].

    :func:`animegan_edu.inference.pipeline.generate`; the Studio caches its output.

    Returns:
        ``(stylised (1, 3, H, W) in [0, 1], message)``.

    Example:
        >>> raw, msg = stylise_raw(torch.zeros(1, 3, 8, 8), lambda t: -t)
        >>> float(raw.mean()), msg
        (1.0, 'stylised the whole image')
    """
    raw, messages = pipeline.generate(photo, model, face=face, progress=progress)
    return raw, "; ".join(messages)


def finish(photo: torch.Tensor, raw: torch.Tensor, settings: StudioSettings) -> torch.Tensor:
    """The fast part: style strength, then grade and glow. ``(1, 3, H, W)`` in [0, 1].

    The work is :func:`animegan_edu.inference.pipeline.finish` with the settings' look.

    Example:
        >>> s = StudioSettings(strength=0.5, grade="neutral")
        >>> float(finish(torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4), s).mean())
        0.5
    """
    return pipeline.finish(
        photo,
        raw,
        strength=settings.strength,
        grade=settings.grade,
        glow=settings.glow,
        grade_amount=settings.grade_amount,
    )


def render(
    image: ImageLike,
    model: Callable[[torch.Tensor], torch.Tensor],
    settings: StudioSettings = StudioSettings(),
    progress: Optional[Progress] = None,
) -> RenderResult:
    """Photo in, finished picture out: :func:`animegan_edu.inference.pipeline.run` with the studio's settings.

    Args:
        image: a PIL image or a ``(3, H, W)`` / ``(1, 3, H, W)`` tensor in [0, 1].
        model: generator, ``(N, 3, h, w)`` in [-1, 1] to the same.
        settings: the studio's controls.
        progress: called as ``progress(done, total, message)``.

    Returns:
        a :class:`RenderResult`.

    Example:
        >>> s = StudioSettings(size=32, grade="neutral")
        >>> r = render(Image.new("RGB", (40, 30), "gray"), lambda t: -t, s)
        >>> tuple(r.result.shape), round(float(r.result.mean()), 3)
        ((1, 3, 24, 32), 0.498)
    """
    r = pipeline.run(
        image,
        model,
        size=settings.size,
        face=settings.face,
        strength=settings.strength,
        grade=settings.grade,
        glow=settings.glow,
        grade_amount=settings.grade_amount,
        progress=progress,
    )
    return RenderResult(r.photo, r.raw, r.image, r.message, r.seconds)


# --------------------------------------------------------------------------- views


def download_link_html(image: ImageLike, filename: str = "animegan.png") -> str:
    """An HTML anchor that downloads ``image`` as a PNG (a ``data:`` URI: no server needed).

    Example:
        >>> download_link_html(torch.zeros(3, 2, 2), "a b.png")[:22]
        '<a download="ab.png" h'
    """
    b64 = base64.b64encode(png_bytes(image)).decode("ascii")
    safe = "".join(c for c in filename if c.isalnum() or c in "._-") or "animegan.png"
    return (
        f'<a download="{safe}" href="data:image/png;base64,{b64}" '
        f'style="padding:4px 10px;border:1px solid #c77;border-radius:4px;background:#fde8ee;color:#733;'
        f'text-decoration:none">Download {safe}</a>'
    )


# --------------------------------------------------------------------------- the studio


class Studio(StudioControls):
    """The interactive studio (ipywidgets). Display it as the last line of a cell: ``Studio()``.

    Controls: upload (click the button and choose a file; dropping a file on it does not
    work in ipywidgets 8), an example gallery, weights, size, style strength, grade preset
    and amount, glow, face toggle; a progress bar; a before/after view whose divider follows
    a slider; a download link. They are built and laid out by
    :class:`animegan_edu.studio.controls.StudioControls`; this class wires them to the work.

    The generator runs only when the photo, weights, size or face toggle change. The size
    slider reports only when released (``continuous_update=False``), and in a running kernel
    its changes are debounced by :attr:`debounce_s` seconds, so several arrow-key steps make
    one generator pass. Strength, grade, glow and the split are cheap (applied to the cached
    stylised image) and follow the slider while it moves.

    While the generator runs the progress bar (blue, "generating… N%") follows the pass unit
    by unit (:func:`animegan_edu.studio.progress.pass_progress`), so even a 1024 px pass
    moves it; it is full and green when the picture is ready.

    With ``snapshot=True`` (the default) the studio's output also carries a static
    before/after figure of its first result (:class:`animegan_edu.studio.live.LiveView`):
    shown instead of the widget where it cannot be drawn (headless, untrusted, or a saved
    notebook reopened), never under the live studio.

    Args:
        model: a generator to use instead of the weights dropdown's choice.
        settings: initial :class:`StudioSettings`.
        samples: gallery images (default :func:`sample_images`).
        start: name of the gallery image to render first (``None``: the first one).
        snapshot: carry the static figure as the stand-in when displayed.

    Example:
        >>> st = Studio(model=lambda t: -t, settings=StudioSettings(size=128, grade="neutral"),
        ...             samples={"grey": Image.new("RGB", (64, 48), "gray")}, snapshot=False)
        >>> tuple(st.last.result.shape), st.weights.label, st.progress.bar_style
        ((1, 3, 96, 128), 'given model', 'success')
    """

    #: Seconds to wait after a size change before re-running the generator, when an event
    #: loop is running (in a kernel); 0, or no running loop (headless), runs it at once.
    debounce_s: float = 0.5

    def __init__(
        self,
        model: Optional[nn.Module] = None,
        settings: StudioSettings = StudioSettings(size=384),
        samples: Optional[dict[str, Image.Image]] = None,
        start: Optional[str] = None,
        snapshot: bool = True,
    ) -> None:
        self._fixed_model = model
        self.samples = sample_images() if samples is None else dict(samples)
        self.snapshot = snapshot
        self.photo_name = start or next(iter(self.samples))
        self.photo: Image.Image = self.samples[self.photo_name]
        self.last: Optional[RenderResult] = None
        self._raw_key: Optional[tuple] = None
        self._busy = False
        self._pending = None  # the debounced update's timer handle
        self._stage = (0, 1)  # the pipeline's last (done, total): the pass in progress follows `done`
        self._build_controls(
            weight_options=weight_choices() if model is None else None,
            size=settings.size,
            face=settings.face,
            strength=settings.strength,
            grade=settings.grade,
            grade_amount=settings.grade_amount,
            glow=grade_params(settings).glow if settings.glow is None else settings.glow,
            samples=self.samples,
            on_sample=self.choose_sample,
            style_names=style_names() if model is None else (),
        )
        self._enable_style_controls(self.weights.value == STYLES)
        self._connect()
        self.update()

    def _connect(self) -> None:
        """Observe the controls: what re-runs the generator, what only re-finishes, what redraws the view."""
        self.upload.observe(self._on_upload, names="value")
        self.run_button.on_click(lambda _b: self.update(force=True))
        self.weights.observe(lambda c: self._enable_style_controls(c["new"] == STYLES), names="value")
        for wdg in (self.weights, self.face, self.style, self.mix_with, self.mix):
            wdg.observe(lambda _c: self.update(), names="value")
        self.reference.observe(self._on_reference, names="value")
        self.size.observe(self._on_size, names="value")
        for wdg in (self.strength, self.grade_amount, self.glow):
            wdg.observe(lambda _c: self.refresh_finish(), names="value")
        self.grade.observe(self._on_grade, names="value")
        self.split.observe(lambda _c: self._show_view(), names="value")

    def settings(self) -> StudioSettings:
        """The :class:`StudioSettings` the controls show now."""
        return StudioSettings(
            size=int(self.size.value),
            face=bool(self.face.value),
            strength=float(self.strength.value),
            grade=str(self.grade.value),
            grade_amount=float(self.grade_amount.value),
            glow=float(self.glow.value),
        )

    def model(self) -> tuple[nn.Module, str]:
        """The generator the controls select, and its one-line label (:data:`DEFAULT`: the default)."""
        if self._fixed_model is not None:
            return self._fixed_model, "weights: the model given to Studio()"
        value = self.weights.value
        if value == STYLES:
            return styled_model(conditioned_model(), self.style.value, self.mix_with.value,
                                self.mix.value, self.references)  # fmt: skip
        return load_model(None if value == DEFAULT else value)

    # -- events -------------------------------------------------------------------------------
    def choose_sample(self, name: str) -> None:
        """Pick a gallery photo and render it."""
        self.photo_name, self.photo = name, self.samples[name]
        self.update()

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0]
        try:
            self.photo = load_image(bytes(f["content"]), name=f["name"])
        except ValueError as exc:
            self.status.value = f"<span style='color:#b00'>{exc}</span>"
            return
        self.photo_name = f["name"]
        self.update()

    def _on_reference(self, change) -> None:
        """Reference art uploaded: read every picture, then render in its style (one line on a bad file)."""
        try:
            files = change["new"]
            pictures = [pil_to_tensor01(load_image(bytes(f["content"]), name=f["name"])) for f in files]
        except ValueError as exc:
            self.status.value = f"<span style='color:#b00'>{exc}</span>"
            return
        if pictures:
            self.references = ReferenceArt(pictures)  # read by the encoder once, at the first render
            if self.style.value == REFERENCE:
                self.update()
            self.style.value = REFERENCE  # observed: re-renders when it changes

    def _on_size(self, _change) -> None:
        """Size changed: re-render now (headless), or once the slider has rested ``debounce_s`` (kernel)."""
        import asyncio

        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.debounce_s <= 0:
            self.update()
            return
        self.status.value = f"size {int(self.size.value)} px: re-rendering ..."
        self._pending = loop.call_later(self.debounce_s, self._run_pending)

    def _run_pending(self) -> None:
        self._pending = None
        self.update()

    def _on_grade(self, _change) -> None:
        self.glow.value = float(get_preset(self.grade.value).scaled(self.grade_amount.value).glow)
        self.refresh_finish()

    def _bar(self, fraction: float, description: str) -> None:
        """Blue bar at ``fraction`` of the way (never moving back within one render)."""
        value = int(round(self.PROGRESS_STEPS * min(1.0, max(0.0, fraction))))
        self.progress.max = self.PROGRESS_STEPS
        self.progress.value = max(self.progress.value, value)
        self.progress.bar_style, self.progress.description = "info", description

    def _progress(self, done: int, total: int, msg: str) -> None:
        """The pipeline's stage callback: ``done`` of ``total`` stages, ``msg`` says which."""
        total = max(1, total)
        done = min(done, total)
        self._stage = (done, total)
        if done < total:
            self._bar(done / total, "generating…" if msg.startswith("generating") else "working…")
        self.status.value = f"{msg} ..."

    def _pass_fraction(self, fraction: float) -> None:
        """Progress inside the generator pass after stage ``done`` (:func:`pass_progress`)."""
        done, total = self._stage
        if done < total:
            self._bar((done + fraction) / total, f"generating… {int(100 * fraction)}%")

    # -- work -----------------------------------------------------------------------------------
    def update(self, force: bool = False) -> Optional[RenderResult]:
        """Re-run the generator if the photo/weights/size/face changed (or ``force``), then finish."""
        if self._busy:
            return self.last
        s = self.settings()
        key = (id(self.photo), self.weights.value, s.size, s.face)
        if self.weights.value == STYLES:
            key += (self.style.value, self.mix_with.value, float(self.mix.value), id(self.references))
        if not force and key == self._raw_key and self.last is not None:
            return self.refresh_finish()
        self._busy = True
        self.run_button.disabled = True
        try:
            self.progress.bar_style, self.progress.description = "info", "loading…"
            self.progress.max, self.progress.value = self.PROGRESS_STEPS, 0
            self._stage = (0, 1)
            model, note = self.model()
            # the pass may run another module than `model` (its INT8 model): the bar follows that one
            runs = None
            if isinstance(model, nn.Module):
                w, h = snapped_size(*self.photo.size, s.size)  # what pipeline.prepare will make
                runs = pipeline.model_for_path(model, "auto", pixels=w * h)[0]
            with pass_progress(model, self._pass_fraction, runs=runs):
                self.last = render(self.photo, model, s, self._progress)
            self.last.notes.append(note)
            self._raw_key = key
        except Exception as exc:  # keep the studio alive; say what went wrong in one line
            self.progress.bar_style, self.progress.description = "danger", "failed"
            first = str(exc).splitlines()[0] if str(exc) else ""
            self.status.value = f"<span style='color:#b00'>{type(exc).__name__}: {first}</span>"
            return None
        finally:
            self._busy = False
            self.run_button.disabled = False
        self._after_render()
        return self.last

    def refresh_finish(self) -> Optional[RenderResult]:
        """Apply strength, grade and glow to the cached stylised image (instant)."""
        if self.last is None or self._busy:
            return self.last
        self.last.result = finish(self.last.photo, self.last.raw, self.settings())
        self._after_render()
        return self.last

    def _after_render(self) -> None:
        r = self.last
        assert r is not None
        self.progress.value = self.progress.max
        self.progress.bar_style, self.progress.description = "success", ""
        h, w = r.photo.shape[-2:]
        self.status.value = (
            f"<b>{self.photo_name}</b>, {w}x{h} px, {r.seconds:.1f} s<br>{r.message}<br>"
            f"<i>{'; '.join(r.notes)}</i>"
        )
        self._show_view()
        self.download.value = download_link_html(r.result, f"{self.photo_name.rsplit('.', 1)[0]}-anime.png")

    def _show_view(self) -> None:
        if self.last is not None:
            self.view.value = png_bytes(
                Image.fromarray(compare_image(self.last.photo, self.last.result, float(self.split.value)))
            )

    # -- display ----------------------------------------------------------------------------------
    def figure(self, extra: str = ""):
        """The static before/after figure of the current result (matplotlib); ``extra``: a last title line."""
        if self.last is None:
            raise RuntimeError("nothing rendered yet")
        title = f"{self.photo_name}: {self.last.message}\n{'; '.join(self.last.notes)}" + (
            f"\n{extra}" if extra else ""
        )
        return before_after_figure(self.last.photo, self.last.result, title, float(self.split.value))

    def show(self) -> None:
        """Display the interface; with ``snapshot`` its output carries the static figure as stand-in."""
        picture = None
        if self.snapshot and self.last is not None:
            import matplotlib.pyplot as plt

            fig = self.figure("static picture of the first render: run the cell for the live studio")
            picture = fig
            plt.close(fig)
        show_live(self.ui, picture, "[the studio: run this cell in JupyterLab to use its controls]")

    def _ipython_display_(self) -> None:
        self.show()
