"""animegan-edu: learn GAN style transfer by rebuilding AnimeGANv2 (photos to anime).

Subpackages by topic, top layer first; a module imports only from its own layer and those
below it (``.importlinter``; the layers and one paragraph per subpackage: ``docs/architecture.md``):

* :mod:`animegan_edu.cli` - the ``animegan-edu`` command, every subcommand's parser
* :mod:`animegan_edu.teaching` (exercise checkers, the overview diagram) |
  :mod:`animegan_edu.studio` (the JupyterLab Studio and its widgets) |
  :mod:`animegan_edu.bench` (the CPU inference benchmark, end-to-end figures)
* :mod:`animegan_edu.video` - ``animegan-edu video``, video files, flicker
* :mod:`animegan_edu.inference` - the one stylize pipeline, face2paint, grading and glow, fast paths
* :mod:`animegan_edu.int8` (INT8 quantization) | :mod:`animegan_edu.training` (losses, trainer, evaluation)
* :mod:`animegan_edu.data` (datasets, the demo set) |
  :mod:`animegan_edu.weights` (registry, safe weight files, ``get_generator``, TF checkpoints)
* :mod:`animegan_edu.viz` - figure helpers readable on a projector
* :mod:`animegan_edu.samples` - the sample and validation photos, one loader
* :mod:`animegan_edu.imageio` (all image reading and writing) | :mod:`animegan_edu.metrics`
  (PSNR, SSIM, detail kept) | :mod:`animegan_edu.models` (generator, discriminators)
* :mod:`animegan_edu.files` (atomic writes, hashes) | :mod:`animegan_edu.machine` (CPU facts,
  threads) | :mod:`animegan_edu.resources` (bundled data) | :mod:`animegan_edu.checks` (number checks)

Subpackage ``__init__`` files are empty: import each name from the module that defines it.
Tensor conventions: NCHW; generator tensors are RGB in ``[-1, 1]``; images handed to or
from a user are RGB in ``[0, 1]`` (or ``uint8`` PIL images).
"""

__version__ = "0.1.0"
