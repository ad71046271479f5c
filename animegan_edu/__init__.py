"""animegan-edu: learn GAN style transfer by rebuilding AnimeGANv2 (photos to anime).

Modules, each named after a concept of the article and the paper:

* :mod:`animegan_edu.models` - generator, discriminators, the article's ResNet generator
* :mod:`animegan_edu.weights.hub` - the one way to get a generator (``get_generator``) and the weights
  registry (:mod:`~animegan_edu.weights.registry`), safe files and downloads (:mod:`~animegan_edu.weights.files`)
* :mod:`animegan_edu.training.losses` - adversarial, content, style, colour and total-variation losses
* :mod:`animegan_edu.data.dataset` - edge-smoothed style data, the cartoon target, datasets
* :mod:`animegan_edu.data.demoset` - the demo training set, from package registries with a licence per file
* :mod:`animegan_edu.training.train` - the two-phase trainer (init, then adversarial)
* :mod:`animegan_edu.training.evaluate` - scores a generator on the held-out validation photos
* :mod:`animegan_edu.inference.face` - face2paint: detect and align faces (stylise and paste back: :mod:`~animegan_edu.inference.face_paste`)
* :mod:`animegan_edu.inference.grading` - Shinkai colour grading and glow
* :mod:`animegan_edu.int8.quantize` - INT8 post-training quantization: calibration, the INT8 generator
  (units in :mod:`~animegan_edu.int8.layers`, files and cache in :mod:`~animegan_edu.int8.files`)
* :mod:`animegan_edu.inference.fastpaths` - compiled fp32, bf16, ONNX export and ONNX Runtime CPU inference
* :mod:`animegan_edu.bench.run` - per-layer profiles and the CPU inference benchmark
* :mod:`animegan_edu.weights.tf.checkpoint` - read original TensorFlow checkpoints without TensorFlow
  (the streaming bundle reader is :mod:`~animegan_edu.weights.tf.bundle`)
* :mod:`animegan_edu.imageio` - all image reading and writing, sample and validation photos
* :mod:`animegan_edu.inference.pipeline` - the one stylize pipeline (resize, face, strength, grade, glow, INT8)
* :mod:`animegan_edu.viz` - figure helpers readable on a projector
* :mod:`animegan_edu.teaching.overview` - the whole system on one page (a diagram)
* :mod:`animegan_edu.teaching.exercises` - checkers for the notebooks' exercises (video ones in :mod:`~animegan_edu.teaching.exercises_video`)
* :mod:`animegan_edu.studio.widgets` - the JupyterLab studio (:mod:`~animegan_edu.studio.live`: widgets that reopen cleanly;
  :mod:`~animegan_edu.studio.progress`: progress inside a generator pass)
* :mod:`animegan_edu.video.stylize` - ``animegan-edu video`` (files in :mod:`~animegan_edu.video.media`); :mod:`animegan_edu.video.temporal` -
  flicker: the temporal warping error and flow-guided blending
* :mod:`animegan_edu.cli.main` - the ``animegan-edu`` command
* :mod:`animegan_edu.resources` - where the bundled demo weights and configs are (checkout or wheel)

Tensor conventions: NCHW; generator tensors are RGB in ``[-1, 1]``; images handed to or
from a user are RGB in ``[0, 1]`` (or ``uint8`` PIL images).
"""

__version__ = "0.1.0"
