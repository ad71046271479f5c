"""``jupyter nbconvert --to notebook`` writes notebooks without widget views, like JupyterLab's save.

:func:`animegan_edu.studio.live.install_jupyter_config` (run by ``make install``) registers
:class:`StripWidgetViews` for ``NotebookExporter`` in the environment's nbconvert config, so
``jupyter nbconvert --to notebook --execute --inplace notebooks/NN.ipynb`` stores the static
stand-ins and no widget view (which would read "model not found" when reopened). It runs after
the execution. This module needs nbconvert (installed with JupyterLab).
"""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor

from animegan_edu.studio.live import strip_widget_views

__all__ = ["StripWidgetViews"]


class StripWidgetViews(Preprocessor):
    """An nbconvert preprocessor: :func:`animegan_edu.studio.live.strip_widget_views`.

    Example:
        >>> import nbformat
        >>> nb = nbformat.v4.new_notebook(metadata={"widgets": {}})
        >>> StripWidgetViews().preprocess(nb, {})[0].metadata
        {}
    """

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        strip_widget_views(nb)
        return nb, resources
