"""The animegan-edu command line: stylize (good and bad inputs), weights subcommands."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from http_helpers import serve_folder
from PIL import Image

from animegan_edu.cli import main as cli
from animegan_edu.files import sha256_file
from animegan_edu.imageio import load_image, read_image, resize_longest
from animegan_edu.models import Generator
from animegan_edu.weights import hub as W
from animegan_edu.weights import registry
from animegan_edu.weights.files import ENV_OFFLINE
from animegan_edu.weights.tf import bundle as tf_bundle
from animegan_edu.weights.tf import checkpoint as tf_checkpoint


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.ENV_HOME, str(tmp_path / "home"))
    monkeypatch.setenv(ENV_OFFLINE, "1")  # no test reaches the network
    monkeypatch.delenv(registry.ENV_MIRROR, raising=False)


@pytest.fixture
def weights_file(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "g.pt"
    torch.save(Generator().state_dict(), path)
    return path


def _photo(path, size=(40, 24), color=(200, 80, 30)):
    rng = np.random.default_rng(0)
    arr = (rng.random((size[1], size[0], 3)) * 60 + np.array(color) * 0.7).clip(0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return path


def _exif_rotated_jpeg(path):
    """A 40x24 landscape JPEG whose EXIF says: rotate 90 degrees (orientation 6) -> upright 24x40."""
    img = Image.new("RGB", (40, 24), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 24))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(path, exif=exif.tobytes())
    return path


def _run(args, capsys):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_stylize_single_file_to_png(tmp_path, weights_file, capsys):
    src = _photo(tmp_path / "in.jpg", (60, 30))
    out = tmp_path / "result.png"
    code, stdout, err = _run(["stylize", src, "-o", out, "--weights", weights_file, "--size", 32], capsys)
    assert code == 0, err
    img = Image.open(out)
    assert img.format == "PNG" and img.mode == "RGB"
    assert img.size == (32, 16)  # longest side 32, aspect 2:1 kept
    assert "result.png" in stdout


def test_stylize_matches_library_call(tmp_path, weights_file, capsys):
    """The CLI output equals generator(2x-1) on the resized image, rounded to uint8."""
    src = _photo(tmp_path / "in.png", (48, 32))
    out = tmp_path / "o.png"
    assert _run(["stylize", src, "-o", out, "--weights", weights_file, "--size", 24], capsys)[0] == 0
    g = W.load_generator(weights_file)
    x = resize_longest(read_image(src)[None], 24) * 2 - 1
    with torch.no_grad():
        y = ((g(x)[0] + 1) / 2).clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(np.asarray(Image.open(out)), y)


def test_stylize_honours_exif_orientation(tmp_path, weights_file, capsys):
    src = _exif_rotated_jpeg(tmp_path / "rot.jpg")
    assert Image.open(src).size == (40, 24)  # stored sideways
    upright = load_image(src)
    assert upright.size == (24, 40)
    # orientation 6: the stored left (red) half ends up on top
    top, bottom = np.asarray(upright)[5, 12], np.asarray(upright)[35, 12]
    assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60
    code, _, err = _run(
        ["stylize", src, "-o", tmp_path / "out", "--weights", weights_file, "--size", 40], capsys
    )
    assert code == 0, err
    assert Image.open(tmp_path / "out" / "rot.png").size == (24, 40)


def test_stylize_converts_grey_and_rgba(tmp_path, weights_file, capsys):
    Image.new("L", (20, 20), 128).save(tmp_path / "grey.png")
    Image.new("RGBA", (20, 20), (10, 20, 30, 0)).save(tmp_path / "alpha.png")
    Image.new("P", (20, 20)).save(tmp_path / "pal.gif")
    code, _, err = _run(
        [
            "stylize",
            tmp_path / "grey.png",
            tmp_path / "alpha.png",
            tmp_path / "pal.gif",
            "-o",
            tmp_path / "out",
            "--weights",
            weights_file,
            "--size",
            16,
        ],
        capsys,
    )
    assert code == 0, err
    for name in ("grey", "alpha", "pal"):
        assert Image.open(tmp_path / "out" / f"{name}.png").mode == "RGB"


def test_stylize_bad_inputs_are_skipped(tmp_path, weights_file, capsys):
    good1 = _photo(tmp_path / "a.png")
    good2 = _photo(tmp_path / "b.jpg")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    corrupt = tmp_path / "broken.jpg"
    full = tmp_path / "full.jpg"
    _photo(full, (200, 120))
    corrupt.write_bytes(full.read_bytes()[:400])
    missing = tmp_path / "missing.png"
    out = tmp_path / "out"
    code, stdout, err = _run(
        ["stylize", good1, text, corrupt, missing, good2, "-o", out, "--weights", weights_file, "--size", 16],
        capsys,
    )
    assert code == 2
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]  # no partial outputs, no temp files
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert len(lines) == 4  # one line per bad input, then the summary
    assert "notes.png: not a readable image" in lines[0]
    assert "broken.jpg: corrupt or truncated" in lines[1]
    assert "missing.png: no such file" in lines[2]
    assert "3 of 5 images failed" in lines[3]
    assert all(line.startswith("animegan-edu: error: ") for line in lines)


def test_stylize_same_stem_does_not_overwrite(tmp_path, weights_file, capsys):
    (tmp_path / "x").mkdir()
    a = _photo(tmp_path / "pic.png")
    b = _photo(tmp_path / "x" / "pic.jpg", color=(10, 200, 10))
    code, _, err = _run(
        ["stylize", a, b, "-o", tmp_path / "out", "--weights", weights_file, "--size", 16], capsys
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["pic-2.png", "pic.png"]


def test_stylize_several_inputs_need_a_folder(tmp_path, weights_file, capsys):
    a, b = _photo(tmp_path / "a.png"), _photo(tmp_path / "b.png")
    code, _, err = _run(["stylize", a, b, "-o", tmp_path / "one.png", "--weights", weights_file], capsys)
    assert code == 2 and "-o must be a folder" in err and err.count("\n") == 1


def test_stylize_bad_weights_one_line(tmp_path, capsys):
    a = _photo(tmp_path / "a.png")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04garbage")
    for weights, needle in (
        (bad, "truncated or corrupt"),
        ("shinkai", "shinkai is not cached"),
        ("nonsense", "unknown weights"),
    ):
        code, _, err = _run(["stylize", a, "-o", tmp_path / "o", "--weights", weights], capsys)
        assert code == 2 and needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # no empty output folder left behind


def test_stylize_too_small_size(tmp_path, weights_file, capsys):
    code, _, err = _run(
        [
            "stylize",
            _photo(tmp_path / "a.png"),
            "-o",
            tmp_path / "o",
            "--size",
            "4",
            "--weights",
            weights_file,
        ],
        capsys,
    )
    assert code == 2 and "--size must be at least 8" in err


def test_weights_list_and_verify(tmp_path, weights_file, capsys):
    code, out, _ = _run(["weights", "list"], capsys)
    assert code == 0 and "face_paint_512_v2" in out and "shinkai" in out and "demo" in out
    code, out, _ = _run(["weights", "list", "-v"], capsys)
    assert code == 0 and "licence" in out
    code, out, _ = _run(["weights", "verify", weights_file], capsys)
    assert code == 0 and "OK" in out and sha256_file(weights_file) in out
    (tmp_path / "trunc.pt").write_bytes(weights_file.read_bytes()[:1000])
    code, _, err = _run(["weights", "verify", tmp_path / "trunc.pt"], capsys)
    assert code == 2 and "truncated" in err and err.count("\n") == 1


def test_weights_verify_resolves_registry_names_before_local_files(
    tmp_path, weights_file, capsys, monkeypatch
):
    import shutil

    monkeypatch.chdir(tmp_path)
    shutil.copyfile(weights_file, tmp_path / "paprika")  # a planted file named like a registry entry
    code, out, err = _run(["weights", "verify", "paprika"], capsys)
    assert code == 2 and "paprika is not cached" in err and "OK" not in out
    code, out, _ = _run(["weights", "verify", "./paprika"], capsys)  # as a path it is checked as a file
    assert code == 0 and "matches no recorded registry hash" in out


def test_weights_download_offline(capsys):
    code, _, err = _run(["weights", "download", "paprika"], capsys)
    assert code == 2 and "animegan-edu weights download paprika" in err and err.count("\n") == 1


def test_weights_convert_tf(tmp_path, shared_dir, capsys):
    src = shared_dir("testdata/tf_generator_random")
    out = tmp_path / "shinkai_local.safetensors"
    code, stdout, err = _run(["weights", "convert-tf", src, "-o", out], capsys)
    assert code == 0, err
    ref = tf_checkpoint.convert_checkpoint(src)  # exactness against the parity weights: test_tf_checkpoint
    g = W.load_generator(out)
    assert all(torch.equal(v, ref[k]) for k, v in g.state_dict().items())
    assert g.upsample == "tf1"  # recorded in the file's metadata: decode like the TF original
    assert W.load_generator(out, upsample="align_corners").upsample == "align_corners"
    assert sha256_file(out) in stdout
    code, _, err = _run(
        ["weights", "convert-tf", shared_dir("testdata/tf_bundle_minimal"), "-o", tmp_path / "x.safetensors"],
        capsys,
    )
    assert code == 2 and "no AnimeGANv2 generator variables" in err
    assert not (tmp_path / "x.safetensors").exists()


def test_console_script_runs(tmp_path):
    """The installed entry point works as a process (exit status, one-line error)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "animegan_edu.cli.main",
            "stylize",
            str(tmp_path / "nope.png"),
            "-o",
            str(tmp_path / "o"),
            "--weights",
            "nonsense",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("animegan-edu: error: unknown weights")
    assert proc.stderr.count("\n") == 1


def test_every_subcommand_is_registered_in_order():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == [
        "stylize", "weights", "train", "train-styles", "data", "bench", "quantize", "evaluate", "video"
    ]  # fmt: skip


def test_only_the_cli_package_knows_argparse():
    """The library modules expose plain functions; every parser lives in animegan_edu/cli/."""
    from pathlib import Path

    import animegan_edu

    root = Path(animegan_edu.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in sorted(root.rglob("*.py"))
        if p.parent.name != "cli" and ("argparse" in p.read_text() or "register_cli" in p.read_text())
    ]
    assert not offenders


def test_python_dash_m_cli_prints_the_help():
    proc = subprocess.run(
        [sys.executable, "-m", "animegan_edu.cli", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "video" in proc.stdout and "quantize" in proc.stdout


def test_weights_download_tf_entry_from_local_server_then_stylize(tmp_path, shared_dir, monkeypatch, capsys):
    """`weights download shinkai` from a 127.0.0.1 mirror: download, convert, cache, then stylize with it."""
    import shutil

    monkeypatch.delenv(ENV_OFFLINE)
    src = shared_dir("testdata/tf_generator_random")
    root = tmp_path / "mirror"
    root.mkdir()
    prefix = tf_bundle.find_checkpoint_prefix(src)
    shutil.copyfile(f"{prefix}.index", root / "Shinkai-53.ckpt.index")
    shutil.copyfile(f"{prefix}.data-00000-of-00001", root / "Shinkai-53.ckpt.data-00000-of-00001")
    with serve_folder(root) as url:
        code, out, err = _run(["weights", "download", "shinkai", "--base-url", url, "--no-progress"], capsys)
    assert code == 0, err
    assert out.strip() == str(tmp_path / "home" / "weights" / "shinkai.safetensors")
    code, out, _ = _run(["weights", "verify", "shinkai"], capsys)
    assert code == 0 and "registry entry 'shinkai'" in out
    monkeypatch.setenv(ENV_OFFLINE, "1")  # from now on the cache is enough
    code, _, err = _run(
        [
            "stylize",
            _photo(tmp_path / "a.png"),
            "-o",
            tmp_path / "o.png",
            "--weights",
            "Shinkai",
            "--size",
            16,
        ],
        capsys,
    )
    assert code == 0, err
    assert Image.open(tmp_path / "o.png").size == (
        16,
        8,
    )  # 40x24 -> longest 16, sides rounded to multiples of 4


# --------------------------------------------------------------------------- never lose a user's data


def test_stylize_never_writes_over_its_input(tmp_path, weights_file, capsys):
    """Defect: `stylize ow/photo.png -o ow/` wrote the result over the photo."""
    folder = tmp_path / "ow"
    folder.mkdir()
    src = _photo(folder / "photo.png")
    original = src.read_bytes()
    code, stdout, err = _run(["stylize", src, "-o", folder, "--weights", weights_file, "--size", 16], capsys)
    assert code == 0, err
    assert src.read_bytes() == original
    assert (folder / "photo-2.png").exists() and "photo-2.png" in stdout
    code, _, err = _run(["stylize", src, "-o", src, "--weights", weights_file, "--size", 16], capsys)
    assert code == 2 and err.count("\n") == 1 and str(src) in err and "is the input image" in err
    assert src.read_bytes() == original


def test_stylize_never_overwrites_another_input(tmp_path, weights_file, capsys):
    """`stylize a.jpg out/a.png -o out/`: out/a.png is an input, so a.jpg's result must go elsewhere."""
    out = tmp_path / "out"
    out.mkdir()
    a = _photo(tmp_path / "a.jpg")
    b = _photo(out / "a.png", color=(10, 200, 10))
    original = b.read_bytes()
    code, _, err = _run(["stylize", a, b, "-o", out, "--weights", weights_file, "--size", 16], capsys)
    assert code == 0, err
    assert b.read_bytes() == original
    assert sorted(p.name for p in out.iterdir()) == ["a-2.png", "a-3.png", "a.png"]


def test_stylize_output_names_are_unique(tmp_path, weights_file, capsys):
    """Defect: `x/a.png y/a.png x/a-2.png -o out/` gave 3 inputs but 2 outputs."""
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    inputs = [
        _photo(tmp_path / "x" / "a.png"),
        _photo(tmp_path / "y" / "a.png", color=(0, 0, 200)),
        _photo(tmp_path / "x" / "a-2.png", color=(0, 200, 0)),
    ]
    out = tmp_path / "out"
    code, stdout, err = _run(["stylize", *inputs, "-o", out, "--weights", weights_file, "--size", 16], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["a-2-2.png", "a-2.png", "a.png"]
    assert len(set(line.split(" -> ")[1] for line in stdout.strip().splitlines())) == 3


def test_stylize_size_has_an_upper_bound(tmp_path, weights_file, capsys):
    """Defect: --size 100000 ended in a bare MemoryError."""
    for size in ("100000", "4097"):
        code, _, err = _run(
            [
                "stylize",
                _photo(tmp_path / "a.png"),
                "-o",
                tmp_path / "o",
                "--size",
                size,
                "--weights",
                weights_file,
            ],
            capsys,
        )
        assert code == 2 and "--size must be at least 8 and at most 4096" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_stylize_bad_weights_leave_no_new_folders(tmp_path, capsys):
    """Defect: an empty -o folder (and its parents) stayed behind when loading the weights failed."""
    code, _, err = _run(
        ["stylize", _photo(tmp_path / "a.png"), "-o", tmp_path / "new" / "deeper", "--weights", "nonsense"],
        capsys,
    )
    assert code == 2 and "unknown weights" in err
    assert not (tmp_path / "new").exists()


def test_stylize_all_inputs_bad_leaves_no_folder(tmp_path, weights_file, capsys):
    (tmp_path / "t.png").write_text("text")
    code, _, err = _run(
        ["stylize", tmp_path / "t.png", "-o", tmp_path / "o", "--weights", weights_file, "--size", 16], capsys
    )
    assert code == 2 and "t.png: not a readable image" in err
    assert not (tmp_path / "o").exists()


def test_stylize_output_location_that_is_a_file(tmp_path, weights_file, capsys):
    (tmp_path / "notes.txt").write_text("keep me")
    code, _, err = _run(
        [
            "stylize",
            _photo(tmp_path / "a.png"),
            "-o",
            tmp_path / "notes.txt" / "o",
            "--weights",
            weights_file,
        ],
        capsys,
    )
    assert code == 2 and err.count("\n") == 1 and "notes.txt" in err and "not a folder" in err
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_stylize_refuses_huge_images_from_the_header(tmp_path, weights_file, capsys):
    """A few-hundred-KB PNG of 144 MP is skipped with one line naming the limit (no 2.5 GB decode)."""
    from test_imageio import _huge_png

    big = tmp_path / "bomb.png"
    _huge_png(big, 12000, 12000)
    good = _photo(tmp_path / "a.png")
    code, _, err = _run(
        ["stylize", big, good, "-o", tmp_path / "o", "--weights", weights_file, "--size", 16], capsys
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert (
        len(lines) == 2 and "bomb.png: 12000x12000 pixels (144.0 MP) is over the limit of 40 MP" in lines[0]
    )
    assert "1 of 2 images failed" in lines[1]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a.png"]
    code, _, err = _run(
        [
            "stylize",
            good,
            "-o",
            tmp_path / "p",
            "--weights",
            weights_file,
            "--size",
            16,
            "--max-megapixels",
            "0.0001",
        ],
        capsys,
    )
    assert code == 2 and "limit of 0.0001 MP" in err


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--glow", "inf"), ("--glow", "nan"), ("--strength", "nan"), ("--max-megapixels", "inf")],
)
def test_stylize_refuses_non_finite_numbers(flag, value, capsys):
    """Defect: `--glow inf` was accepted and produced a black image."""
    with pytest.raises(SystemExit) as exc:
        cli.main(["stylize", "a.png", "-o", "out", flag, value])
    assert exc.value.code == 2 and "finite" in capsys.readouterr().err


def test_stylize_output_respects_umask(tmp_path, weights_file, capsys):
    """Defect: outputs were mode 0600 (mkstemp) whatever the umask."""
    import os

    old = os.umask(0o022)
    try:
        code, _, err = _run(
            [
                "stylize",
                _photo(tmp_path / "a.png"),
                "-o",
                tmp_path / "r.png",
                "--weights",
                weights_file,
                "--size",
                16,
            ],
            capsys,
        )
    finally:
        os.umask(old)
    assert code == 0, err
    assert (tmp_path / "r.png").stat().st_mode & 0o777 == 0o644


def test_stylize_transparent_pixels_become_white(tmp_path, weights_file, capsys):
    Image.new("RGBA", (16, 16), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    code, _, err = _run(
        [
            "stylize",
            tmp_path / "clear.png",
            "-o",
            tmp_path / "o.png",
            "--weights",
            weights_file,
            "--size",
            16,
            "--strength",
            "0",
        ],
        capsys,
    )
    assert code == 0, err
    assert np.asarray(Image.open(tmp_path / "o.png")).min() == 255


def test_stylize_renamed_output_does_not_replace_a_bystander(tmp_path, weights_file, capsys):
    """`stylize ow/photo.png -o ow/` must not pick ow/photo-2.png when that is someone's existing file."""
    folder = tmp_path / "ow"
    folder.mkdir()
    src = _photo(folder / "photo.png")
    bystander = _photo(folder / "photo-2.png", color=(0, 0, 250))
    keep = bystander.read_bytes()
    code, stdout, err = _run(["stylize", src, "-o", folder, "--weights", weights_file, "--size", 16], capsys)
    assert code == 0, err
    assert bystander.read_bytes() == keep and (folder / "photo-3.png").exists()


def test_a_legal_249_character_photo_name_is_stylised(tmp_path, weights_file, capsys):
    """Issue 24, class 4: the hidden temporary name once pushed such outputs past 255 bytes."""
    stem = "p" * 245  # 249 characters with ".png"; the output keeps the name
    src = _photo(tmp_path / f"{stem}.png")
    out_dir = tmp_path / "out"
    code, _, err = _run(["stylize", src, "-o", out_dir, "--weights", weights_file, "--size", 32], capsys)
    assert code == 0, err
    assert [p.name for p in out_dir.iterdir()] == [f"{stem}.png"]
    single = tmp_path / ("q" * 251 + ".png")  # 255 bytes: the longest name a Linux folder takes
    code, _, err = _run(["stylize", src, "-o", single, "--weights", weights_file, "--size", 32], capsys)
    assert code == 0, err
    assert Image.open(single).size[1] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["g.pt", f"{stem}.png", "out", single.name])
