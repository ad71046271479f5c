"""pytest settings for ``notebooks/``.

nbval collects the ``.ipynb`` files. Their jupytext twins ``NN_name.py`` are notebook
*sources*, not modules: never import them (``--doctest-modules`` would, and so run the
whole notebook at collection time).
"""

collect_ignore_glob = ["[0-9][0-9]_*.py"]
