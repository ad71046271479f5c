"""The package works when installed from its wheel, not only from the checkout.

One module-scoped fixture builds the wheel from a clean copy of the sources and installs it
(no ``-e``) into a fresh virtual environment that borrows the project venv's dependencies
(torch and the rest) through a ``.pth`` line, so nothing is downloaded. The checkout and its
editable install are not importable there: the tests check that ``animegan_edu`` comes from
the fresh environment. Then, from an unrelated working directory, with an empty
``$ANIMEGAN_EDU_HOME`` and the network forbidden, the installed command line must

* stylise a PNG with the bundled demo weights (the wheel carries them, hash-checked), and
* read ``--config demo`` from the wheel and train one step.

About 30-60 s on a busy 2-core machine (two interpreter starts that import torch, one step).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
BUILD_FILES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md"]
TIMEOUT = 240


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Build the wheel from a clean copy, install it into a fresh venv; return paths and env."""
    tmp = tmp_path_factory.mktemp("install")
    # 1. a clean copy of what the build reads (no build/ left over from earlier builds)
    src = tmp / "src"
    src.mkdir()
    for name in BUILD_FILES:
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_data")
    for folder in ("animegan_edu", "configs", "weights", "benchmarks"):
        shutil.copytree(REPO / folder, src / folder, ignore=ignore)
    dist = tmp / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(dist),
            str(src),
        ],
        cwd=tmp,
    )
    (wheel,) = dist.glob("animegan_edu-*.whl")

    # 2. a fresh venv without pip; the project venv's site-packages supply the dependencies
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    python = venv / "bin" / "python"
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp
        ).stdout.strip()
    )
    deps = Path(sysconfig.get_paths()["purelib"])
    # A path line in a .pth adds that folder only: the .pth files inside it (among them the
    # editable install's finder for the checkout) are not run, so the checkout stays hidden.
    (purelib / "_animegan_edu_test_deps.pth").write_text(f"{deps}\n")

    # 3. install the wheel, no -e, no dependencies, no index
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        cwd=tmp,
    )

    work = tmp / "work"
    home = tmp / "home"
    work.mkdir()
    home.mkdir()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ANIMEGAN_EDU_", "VIRTUAL_ENV"))
    }
    env.update(
        ANIMEGAN_EDU_HOME=str(home),  # empty: no cached weights
        ANIMEGAN_EDU_OFFLINE="1",
        TORCH_HOME=str(home / "torch"),
        http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        OMP_NUM_THREADS="1", MPLBACKEND="Agg",
    )  # fmt: skip
    return {
        "venv": venv,
        "python": python,
        "purelib": purelib,
        "work": work,
        "home": home,
        "env": env,
        "wheel": wheel,
    }


def test_wheel_carries_the_bundled_data(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for name in (
        "weights/demo.safetensors",
        "weights/demo.safetensors.sha256",
        "configs/demo.yaml",
        "weights/ablation/gan_ablation.json",
        "weights/demo_history.json",
        "weights/demo_val_curve.json",
        "weights/demo_eval.json",
        "benchmarks/fast_paths.json",
        "weights/wesnoth.safetensors",
        "weights/wesnoth.safetensors.sha256",
        "weights/hedgewars.safetensors",
        "weights/hedgewars.safetensors.sha256",
        "configs/style_hedgewars.yaml",
        "weights/style_eval.json",
        "weights/ablation/style_ablation.png",
        "configs/style_wesnoth.yaml",
        "weights/styles.safetensors",
        "weights/styles.safetensors.sha256",
        "weights/styles_eval.json",
        "configs/multistyle.yaml",
    ):
        assert f"animegan_edu/_data/{name}" in names, f"the wheel lacks {name}"
    # notebook 09 trains offline on the course set inside the package
    assert "animegan_edu/assets/course_styles/MANIFEST.json" in names
    assert sum(n.startswith("animegan_edu/assets/course_styles/Hedgewars/smooth/") for n in names) == 24


def test_installed_package_is_the_wheel_not_the_checkout(installed):
    code = (
        "import animegan_edu, animegan_edu.resources as r; "
        "print(animegan_edu.__file__); print(r.data_dir('weights')); print(r.data_dir('configs'))"
    )
    out = _run(
        [str(installed["python"]), "-c", code], cwd=installed["work"], env=installed["env"]
    ).stdout.split()
    package = installed["purelib"] / "animegan_edu"
    assert Path(out[0]).parent == package, f"animegan_edu imported from {out[0]}, not the installed wheel"
    assert Path(out[1]) == package / "_data" / "weights"
    assert Path(out[2]) == package / "_data" / "configs"
    assert not any(installed["home"].iterdir())


def test_installed_stylize_uses_the_bundled_demo_weights(installed, tmp_path):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:64]
    photo = np.stack([xx * 4, yy * 5, 255 - xx * 3], -1) + rng.integers(0, 20, (48, 64, 3))
    src = installed["work"] / "photo.png"
    Image.fromarray(photo.clip(0, 255).astype(np.uint8)).save(src)
    out = installed["work"] / "out.png"
    proc = _run(
        ["animegan-edu", "stylize", str(src), "-o", str(out), "--size", "64"],
        cwd=installed["work"],
        env=installed["env"],
    )
    assert re.search(r"\bdemo\b", proc.stderr), proc.stderr  # "using weights demo ..."
    got = np.asarray(Image.open(out).convert("RGB"), dtype=np.float32)

    # the same photo through the checkout's demo weights, in this process: same picture
    from animegan_edu.weights import hub as W

    model = W.load_generator("demo").eval()
    # 64 px wide, sides multiples of 4: stylize --size 64 feeds the photo unresized
    x = torch.from_numpy(np.asarray(Image.open(src), dtype=np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        y = model(x * 2 - 1).clamp(-1, 1).add(1).div(2)
    want = y[0].permute(1, 2, 0).numpy() * 255
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.abs(got - want).mean() < 2.0, "the installed stylize did not use the bundled demo weights"
    # a learned output, not the input passed through
    assert np.abs(got - np.asarray(Image.open(src).convert("RGB"), dtype=np.float32)).mean() > 5.0


def test_installed_stylize_styles_uses_the_bundled_style_conditioned_weights(installed):
    src = installed["work"] / "photo_s.png"
    Image.fromarray((np.random.default_rng(1).random((40, 56, 3)) * 255).astype(np.uint8)).save(src)
    outs = []
    for style in ("Wesnoth", "Hedgewars"):
        out = installed["work"] / f"out_{style}.png"
        proc = _run(
            ["animegan-edu", "stylize", str(src), "-o", str(out), "--size", "56", "--style", style],
            cwd=installed["work"],
            env=installed["env"],
        )
        assert "bundled style-conditioned weights 'styles'" in proc.stderr, proc.stderr
        outs.append(np.asarray(Image.open(out).convert("RGB"), dtype=np.float32))
    assert np.abs(outs[0] - outs[1]).mean() > 1.0  # two styles of one model, not one picture


def _tiny_demo_data(root: Path, size: int = 48) -> None:
    """The layout :class:`animegan_edu.data.dataset.AnimeDataset` reads, from made-up PNGs:
    ``train_photo/``, ``Demo/style/``, ``Demo/smooth/`` (as many as style) and ``Demo/paired/``
    (the photos' names)."""
    rng = np.random.default_rng(0)
    for sub in ("train_photo", "Demo/style", "Demo/smooth", "Demo/paired"):
        (root / sub).mkdir(parents=True)
    yy, xx = np.mgrid[0:size, 0 : size + 8] / size
    for i in range(3):
        photo = np.stack([np.sin(6 * xx + i) * yy, xx, 1 - yy], -1) * 0.5 + 0.5
        photo = (photo * 255 * rng.uniform(0.6, 1.0, 3)).astype(np.uint8)
        Image.fromarray(photo).save(root / "train_photo" / f"p{i}.png")
        Image.fromarray(photo // 64 * 64).save(
            root / "Demo" / "paired" / f"p{i}.png"
        )  # a posterised "cartoon"
    for j in range(2):
        style = np.where((xx > 0.3 + 0.2 * j)[..., None], rng.integers(0, 256, 3), 40).astype(np.uint8)
        Image.fromarray(style).save(root / "Demo" / "style" / f"s{j}.png")
        Image.fromarray(style).save(root / "Demo" / "smooth" / f"s{j}.png")


def test_installed_train_reads_the_bundled_demo_config(installed, tmp_path):
    work = installed["work"] / "train"
    _tiny_demo_data(work / "data" / "demo")  # configs/demo.yaml: data_root data/demo, style Demo
    proc = _run(
        ["animegan-edu", "train", "--config", "demo", "--steps", "1", "--no-resume", "--out-dir", "runs/one"],
        cwd=work, env=installed["env"],
    )  # fmt: skip
    assert (work / "runs" / "one" / "generator.safetensors").is_file(), proc.stdout + proc.stderr
    assert "after 1 steps" in proc.stdout, proc.stdout
