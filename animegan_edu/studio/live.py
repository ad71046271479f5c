"""Widgets that reopen cleanly: a live view with a static stand-in, and notebooks saved without widget views.

A widget output in a notebook is only a pointer (``application/vnd.jupyter.widget-view+json``,
a model id) to state that lives in the kernel. Saved as it is, the pointer outlives the kernel:
reopened later, JupyterLab shows "Error displaying widget: model not found"; before the
notebook is run, or while it is untrusted, it shows ipywidgets' raw text instead
(``interactive(children=(IntSlider(…``).

animegan-edu keeps widget views **out of saved notebooks** and leaves a static stand-in
behind:

* :class:`LiveView` / :func:`show_live` display a widget in one output that also carries a
  static picture (JPEG) and/or one readable line of text. A live kernel shows the widget; any
  reader that cannot (an untrusted or saved notebook, GitHub, ``nbconvert``) shows the stand-in.
* :func:`strip_widget_views` removes the widget views (and the notebook's widget state) from a
  notebook: the stand-ins stay, ipywidgets' raw text goes. JupyterLab runs it on every save
  through a server extension (:func:`install_jupyter_config`, done by ``make install``), so a
  student who saves, closes and reopens sees the static stand-ins, never an error.
  ``jupyter nbconvert --to notebook`` does it too (:mod:`animegan_edu.studio.nbconvert`, same
  config), and ``python -m animegan_edu.studio.live strip notebooks/NN.ipynb`` does it to a file.
* :func:`widget_output_problems` lists what would not reopen cleanly (the tests run it over the
  committed notebooks).

Notebooks are handled as plain ``nbformat`` JSON dictionaries.
"""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from animegan_edu.files import MAX_RECORD_BYTES, read_regular

__all__ = [
    "WIDGET_VIEW",
    "WIDGET_STATE",
    "STANDIN_KEY",
    "LiveView",
    "show_live",
    "strip_widget_views",
    "widget_output_problems",
    "pre_save_hook",
    "install_jupyter_config",
    "main",
]

#: The mime type of a widget output (a pointer to a model that lives in the kernel).
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: The notebook-metadata key (and mime type) of saved widget state.
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: Output-metadata key marking an output whose non-widget data is a deliberate stand-in.
STANDIN_KEY = "animegan_edu/standin"
#: The stand-in text when none is given.
DEFAULT_TEXT = "[interactive controls: run this cell in JupyterLab to use them]"

# ipywidgets' plain-text repr: a class name and an opening parenthesis, e.g. "interactive(children=(…"
_RAW_WIDGET_TEXT = re.compile(r"^[A-Z]?[A-Za-z]*\(")


def _jpeg_b64(picture: Any, quality: int = 85) -> str:
    """A matplotlib figure, PIL image or encoded image bytes as base64 JPEG text."""
    from PIL import Image

    if isinstance(picture, (bytes, bytearray, memoryview)):
        picture = Image.open(io.BytesIO(bytes(picture)))
    if hasattr(picture, "savefig"):  # a matplotlib figure, at its own dpi
        buf = io.BytesIO()
        picture.savefig(buf, format="png", bbox_inches="tight", dpi=picture.dpi)
        picture = Image.open(io.BytesIO(buf.getvalue()))
    if not isinstance(picture, Image.Image):
        raise TypeError(
            "a stand-in picture must be a matplotlib figure, a PIL image or image bytes, "
            f"got {type(picture).__name__}"
        )
    out = io.BytesIO()
    dpi = tuple(int(round(d)) for d in picture.info.get("dpi", (100, 100)))  # recorded, as matplotlib does
    picture.convert("RGB").save(out, format="JPEG", quality=quality, dpi=dpi)
    return base64.b64encode(out.getvalue()).decode("ascii")


class LiveView:
    """Display ``widget`` live, in one output that also carries a static stand-in.

    The output's mime bundle holds the widget view, ``text/plain`` (``text``) and, with
    ``picture``, an ``image/jpeg``. JupyterLab with a live kernel draws the widget; anything
    that cannot draw it shows the picture (or the text), never ipywidgets' raw repr.

    Args:
        widget: an ipywidgets widget.
        picture: the stand-in: a matplotlib figure, a PIL image, or encoded image bytes.
        text: one line for readers that show text only.

    Example:
        >>> import ipywidgets as W
        >>> data, meta = LiveView(W.IntSlider(), text="a slider")._repr_mimebundle_()
        >>> sorted(data), data["text/plain"], meta[STANDIN_KEY]
        (['application/vnd.jupyter.widget-view+json', 'text/plain'], 'a slider', True)
    """

    def __init__(self, widget: Any, picture: Any = None, text: str = DEFAULT_TEXT) -> None:
        self.widget = widget
        self.text = text
        self._jpeg = None if picture is None else _jpeg_b64(picture)

    def __repr__(self) -> str:
        return self.text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        data: dict[str, Any] = {"text/plain": self.text}
        if self._jpeg is not None:
            data["image/jpeg"] = self._jpeg
        view = self.widget._repr_mimebundle_().get(WIDGET_VIEW)
        if view is not None:
            data[WIDGET_VIEW] = view
        return data, {STANDIN_KEY: True}


def show_live(widget: Any, picture: Any = None, text: str = DEFAULT_TEXT) -> None:
    """Display ``widget`` with a static stand-in: ``display(LiveView(widget, picture, text))``.

    Example:
        >>> import ipywidgets as W
        >>> show_live(W.IntSlider(), text="a slider")  # outside IPython: the text
        a slider
    """
    from IPython.display import display

    display(LiveView(widget, picture, text))


def _outputs(nb: dict) -> list[tuple[int, list[dict]]]:
    return [
        (i, c.setdefault("outputs", []))
        for i, c in enumerate(nb.get("cells", []))
        if c.get("cell_type") == "code"
    ]


def strip_widget_views(nb: dict) -> int:
    """Remove widget views and saved widget state from notebook JSON ``nb``, in place.

    From each output the widget-view data goes. What is left stays when it is a stand-in
    (:class:`LiveView`) or anything besides plain text; an output left with ipywidgets' raw
    text only (``interactive(children=(…``) is dropped. The notebook's ``widgets`` metadata
    (saved widget state) is removed.

    Returns:
        the number of outputs changed or dropped.

    Example:
        >>> view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
        >>> nb = {"metadata": {"widgets": {}}, "cells": [{"cell_type": "code", "outputs": [
        ...     {"output_type": "display_data", "metadata": {},
        ...      "data": {WIDGET_VIEW: view, "text/plain": "IntSlider(value=0)"}},
        ...     {"output_type": "display_data", "metadata": {STANDIN_KEY: True},
        ...      "data": {WIDGET_VIEW: view, "text/plain": "the studio", "image/jpeg": "..."}}]}]}
        >>> n = strip_widget_views(nb)
        >>> n, [sorted(o["data"]) for o in nb["cells"][0]["outputs"]], "widgets" in nb["metadata"]
        (2, [['image/jpeg', 'text/plain']], False)
    """
    changed = 0
    for _, outs in _outputs(nb):
        keep = []
        for out in outs:
            data = out.get("data")
            if not isinstance(data, dict) or WIDGET_VIEW not in data:
                keep.append(out)
                continue
            changed += 1
            rest = {k: v for k, v in data.items() if k != WIDGET_VIEW}
            standin = bool((out.get("metadata") or {}).get(STANDIN_KEY))
            if not rest or (not standin and set(rest) == {"text/plain"}):
                continue  # nothing but ipywidgets' raw text: drop the output
            out["data"] = rest
            keep.append(out)
        outs[:] = keep
    if "widgets" in nb.get("metadata", {}):
        del nb["metadata"]["widgets"]
    return changed


def widget_output_problems(nb: dict) -> list[str]:
    """What would not reopen cleanly in notebook JSON ``nb``: one line per problem.

    A widget view whose model is not in the notebook's saved widget state ("model not
    found" on reopening), and an output that is ipywidgets' raw text alone.

    Example:
        >>> view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
        >>> nb = {"metadata": {}, "cells": [{"cell_type": "code", "outputs": [
        ...     {"output_type": "display_data", "metadata": {},
        ...      "data": {WIDGET_VIEW: view, "text/plain": "x"}}]}]}
        >>> widget_output_problems(nb)
        ['cell 0: widget view of model abc with no saved state (model not found on reopening)']
    """
    state = (nb.get("metadata", {}).get("widgets") or {}).get(WIDGET_STATE, {}).get("state", {})
    problems = []
    for i, outs in _outputs(nb):
        for out in outs:
            data = out.get("data") or {}
            view = data.get(WIDGET_VIEW)
            if view is not None and view.get("model_id") and view["model_id"] not in state:
                problems.append(
                    f"cell {i}: widget view of model {view['model_id']} with no saved state "
                    "(model not found on reopening)"
                )
            text = data.get("text/plain", "")
            text = text if isinstance(text, str) else "".join(text)
            only_text = set(data) - {WIDGET_VIEW} == {"text/plain"}
            if (
                only_text
                and not (out.get("metadata") or {}).get(STANDIN_KEY)
                and _RAW_WIDGET_TEXT.match(text)
                and (
                    view is not None
                    or re.match(
                        r"^(interactive|[A-Z]\w*(Box|Slider|Dropdown|Output|Upload|Button|Image|HTML|Progress))\(",
                        text,
                    )
                )
            ):
                problems.append(f"cell {i}: raw widget text {text[:40]!r}")
    return problems


def pre_save_hook(model: dict, **kwargs: Any) -> None:
    """A Jupyter contents-manager pre-save hook: :func:`strip_widget_views` on every notebook saved.

    Example:
        >>> m = {"type": "notebook", "content": {"metadata": {"widgets": {}}, "cells": []}}
        >>> pre_save_hook(m, path="a.ipynb"); m["content"]["metadata"]
        {}
    """
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        strip_widget_views(model["content"])


# --------------------------------------------------------------------------- Jupyter server extension


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "animegan_edu.studio.live"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    # Extensions load in name order, and jupytext's (later) replaces the contents manager with a
    # new instance made from the server's config: hook the current instance and the config.
    serverapp.config.ContentsManager.pre_save_hook = "animegan_edu.studio.live.pre_save_hook"
    serverapp.contents_manager.register_pre_save_hook(pre_save_hook)
    serverapp.log.info(
        "animegan-edu: widget views are stripped from notebooks on save (static stand-ins stay)"
    )


NBCONVERT_PREPROCESSOR = "animegan_edu.studio.nbconvert.StripWidgetViews"


def install_jupyter_config(config_dir: Optional[Union[str, Path]] = None) -> Path:
    """Enable the save hook for every JupyterLab (and nbconvert) started with ``config_dir``'s configuration.

    Writes ``jupyter_server_config.d/animegan-edu.json`` (enabling this module as a server
    extension) and adds :data:`NBCONVERT_PREPROCESSOR` to ``NotebookExporter.preprocessors``
    in ``jupyter_nbconvert_config.json``, under ``config_dir``, by default
    ``<sys.prefix>/etc/jupyter`` (the virtual environment's; ``make install`` does this).

    Returns:
        the file written.

    Example:
        >>> import tempfile, json
        >>> p = install_jupyter_config(tempfile.mkdtemp())
        >>> p.name, json.loads(p.read_text())["ServerApp"]["jpserver_extensions"]
        ('animegan-edu.json', {'animegan_edu.studio.live': True})
    """
    root = Path(config_dir) if config_dir is not None else Path(sys.prefix) / "etc" / "jupyter"
    path = root / "jupyter_server_config.d" / "animegan-edu.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"animegan_edu.studio.live": True}}}, indent=2)
        + "\n"
    )
    # `jupyter nbconvert --to notebook` too (after --execute): animegan_edu.studio.nbconvert
    nbconvert = root / "jupyter_nbconvert_config.json"
    conf = (
        json.loads(read_regular(nbconvert, MAX_RECORD_BYTES, "Jupyter config").decode())
        if nbconvert.is_file()
        else {}
    )
    pre = conf.setdefault("NotebookExporter", {}).setdefault("preprocessors", [])
    if NBCONVERT_PREPROCESSOR not in pre:
        pre.append(NBCONVERT_PREPROCESSOR)
    nbconvert.write_text(json.dumps(conf, indent=2) + "\n")
    return path


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m animegan_edu.studio.live strip FILE.ipynb ...`` or ``install-config [DIR]``.

    Returns:
        the exit status: 0, or 2 (with the usage on stderr) for anything else.

    Example:
        >>> main(["help"])
        2
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["install-config"]:
        print(install_jupyter_config(args[1] if len(args) > 1 else None))
        return 0
    if args[:1] == ["strip"] and len(args) > 1:
        import nbformat

        for name in args[1:]:
            nb = nbformat.read(name, as_version=4)
            n = strip_widget_views(nb)
            nbformat.write(nb, name)
            print(f"{name}: {n} widget output(s) stripped")
        return 0
    print(
        "usage: python -m animegan_edu.studio.live strip FILE.ipynb ... | install-config [CONFIG_DIR]",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
