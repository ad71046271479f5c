"""Build hook: the wheel carries the bundled demo weights and the training configs.

Everything else about the package is declared in pyproject.toml; this file only adds one
step to ``build_py``.

Why: the repository keeps ``weights/`` and ``configs/`` at the top level (the sources you
edit, the paths the README and the configs name), outside the ``animegan_edu`` package.
``package-data`` only ships files that live inside a package, and ``data-files`` would
scatter them into ``<prefix>/`` where the library cannot find them reliably. So ``build_py``
copies the listed files into the built package as ``animegan_edu/_data/weights/`` and
``animegan_edu/_data/configs/``; ``animegan_edu.resources.data_dir`` looks there first,
then at the top-level folders of a source checkout. Nothing is duplicated in git, and an
editable install (``pip install -e .``) keeps reading the top-level folders.

The build fails, naming the file, when one of them is missing, rather than producing a
wheel whose ``animegan-edu stylize`` says "no generator weights available". MANIFEST.in
puts the same files in the sdist, so a wheel built from the sdist carries them too.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# top-level folder -> glob patterns of the files to ship (each must match at least one file)
BUNDLED = {
    # notebook 04 reads the loss log and the adversarial-term ablation from weights/ too
    "weights": [
        "demo.safetensors",
        "demo.safetensors.sha256",
        "MODEL_CARD.md",
        "demo_history.json",
        "demo_val_curve.json",
        "demo_eval.json",
        "ablation/gan_ablation.json",
        "ablation/crops.png",
        # the style weights of notebook 09 and their figures
        "wesnoth.safetensors",
        "wesnoth.safetensors.sha256",
        "wesnoth_history.json",
        "hedgewars.safetensors",
        "hedgewars.safetensors.sha256",
        "hedgewars_history.json",
        "style_eval.json",
        "style_probes.json",
        "style_grid.jpg",
        "ablation/style_ablation.json",
        "ablation/style_ablation.png",
        # the style-conditioned generator of notebook 11 and its acceptance figures
        "styles.safetensors",
        "styles.safetensors.sha256",
        "styles_eval.json",
        "styles_history.json",
    ],
    "configs": ["*.yaml"],
    # the measured path table the default inference path reads (animegan_edu.inference.fastpaths)
    "benchmarks": ["fast_paths.json"],
}
TARGET = Path("animegan_edu") / "_data"


def bundled_files() -> list[tuple[Path, Path]]:
    """(source, destination relative to the build folder) for every bundled file."""
    pairs = []
    for folder, patterns in BUNDLED.items():
        for pattern in patterns:
            found = sorted(p for p in (ROOT / folder).glob(pattern) if p.is_file())
            if not found:
                raise SystemExit(f"{folder}/{pattern}: not found; the wheel must carry it (see setup.py)")
            pairs += [(p, TARGET / folder / p.relative_to(ROOT / folder)) for p in found]
    return pairs


class BuildPyWithData(build_py):
    """``build_py`` that also copies :data:`BUNDLED` into ``animegan_edu/_data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install imports the checkout, which has the top-level folders
        for src, rel in bundled_files():
            dest = Path(self.build_lib) / rel
            self.mkpath(str(dest.parent))
            self.copy_file(str(src), str(dest))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [str(Path(self.build_lib) / rel) for _, rel in bundled_files()]


setup(cmdclass={"build_py": BuildPyWithData})
