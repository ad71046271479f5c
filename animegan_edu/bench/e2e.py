"""What a user waits for: the whole ``animegan-edu stylize`` command, and the face path.

Part of ``animegan-edu bench`` (:mod:`animegan_edu.bench.run`), introduced in
``notebooks/07_quantized_cpu_inference.ipynb``:

* :func:`cli_seconds`: from process start to PNG written, for one image, the command a
  user types (Python start-up, imports, weights, the default inference path, saving);
* :func:`face_seconds`: ``stylize --face`` (detection, the whole image and each face crop
  through the generator, blending) against one plain pass over the same image, both
  through :func:`animegan_edu.inference.pipeline.run` with the same inference path.

Images: RGB ``[0, 1]``; sizes are the longest side in pixels.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from animegan_edu.imageio import save_png_atomic
from animegan_edu.inference.face import detect_faces
from animegan_edu.inference.pipeline import run
from animegan_edu.models import Generator
from animegan_edu.samples import sample_photo01

__all__ = ["cli_seconds", "face_seconds"]


def cli_seconds(
    generator: Generator, size: int = 512, repeat: int = 3, threads: int | None = None
) -> dict[str, object]:
    """Median wall time of ``animegan-edu stylize photo.png -o out.png --size SIZE`` in a fresh process.

    The photo is the astronaut sample at ``size`` px; the weights are ``generator``'s,
    written to a temporary safetensors file (``--weights FILE``), so no download or
    cache is involved; ``$ANIMEGAN_EDU_HOME`` points at an empty temporary folder.
    ``threads`` sets ``OMP_NUM_THREADS`` for the child (default: inherited).

    Returns:
        ``{"median_seconds", "runs", "first_run_note", "size", "command"}``; each run is
        timed from just before the process starts until it has exited with the PNG written.
        The runs share one ``$ANIMEGAN_EDU_HOME``, so only the first pays for a one-time
        INT8 calibration (``runs[0]``).

    Example (not run by the test suite: two Python start-ups; ``tests/test_bench_e2e.py`` runs it):
        >>> cli_seconds(Generator(), size=32, repeat=1)["median_seconds"] > 0  # doctest: +SKIP
        True
    """
    from safetensors.torch import save_file

    runs: list[float] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        save_file({k: v.contiguous() for k, v in generator.state_dict().items()}, str(tmp / "w.safetensors"))
        save_png_atomic(sample_photo01("astronaut", size, square=True), tmp / "photo.png")
        env = {**os.environ, "ANIMEGAN_EDU_HOME": str(tmp / "home")}
        if threads is not None:
            env["OMP_NUM_THREADS"] = str(threads)
        cmd = [sys.executable, "-m", "animegan_edu.cli.main", "stylize", str(tmp / "photo.png"),
               "-o", str(tmp / "out.png"), "--size", str(size),
               "--weights", str(tmp / "w.safetensors")]  # fmt: skip
        for _ in range(repeat):
            (tmp / "out.png").unlink(missing_ok=True)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            dt = time.perf_counter() - t0
            if proc.returncode != 0 or not (tmp / "out.png").is_file():
                raise RuntimeError(
                    f"stylize failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}"
                )
            runs.append(dt)
    return {
        "median_seconds": statistics.median(runs),
        "runs": runs,
        "first_run_note": "the first run also calibrates and checks INT8 for these weights when the default "
        "path is INT8 (once per set of weights; later runs read the cached file)",
        "size": size,
        "command": "animegan-edu stylize photo.png -o out.png --size N --weights FILE "
        "(fresh process, default path)",
    }


def face_seconds(
    generator: Generator, size: int = 512, repeat: int = 3, path: str = "auto"
) -> dict[str, object]:
    """Median time of the face path (``face=True``) against one plain pass, same image and inference path.

    The image is the astronaut sample (one face) at ``size`` px; both go through
    :func:`animegan_edu.inference.pipeline.run` with ``path``, interleaved, after one warm-up each
    (the detector's weights load on the first call). Detection alone is timed too.

    Returns:
        ``{"face_seconds", "plain_seconds", "face_vs_plain", "detect_seconds", "path",
        "faces", "size"}``.

    Example (not run by the test suite: loads MTCNN):
        >>> face_seconds(Generator(), size=64, repeat=1)["face_vs_plain"] > 1  # doctest: +SKIP
        True
    """
    photo = sample_photo01("astronaut", size, square=True)
    plain = run(photo, generator, path=path)
    face = run(photo, generator, path=path, face=True)
    detect_faces(photo)
    t_face: list[float] = []
    t_plain: list[float] = []
    t_det: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run(photo, generator, path=path)
        t_plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        face = run(photo, generator, path=path, face=True)
        t_face.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        detect_faces(photo)
        t_det.append(time.perf_counter() - t0)
    f, p = statistics.median(t_face), statistics.median(t_plain)
    return {
        "face_seconds": f,
        "plain_seconds": p,
        "face_vs_plain": f / p,
        "detect_seconds": statistics.median(t_det),
        "path": plain.path,
        "faces": face.message,
        "size": size,
    }
