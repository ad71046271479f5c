"""The demo training set (animegan_edu.data.demoset): licences per file, validation kept apart,
no deletion of folders we did not write, byte-identical reruns. Offline: small fake
Debian package folders under tmp_path stand in for the real packages."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from animegan_edu.data import dataset as D
from animegan_edu.data import demo_sources as SRC
from animegan_edu.data import demoset as S
from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo_array

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fake

Files: *
Copyright: someone
License: GPL-2+

Files: pics/sky.png
 pics/other.png
Copyright: someone else
License: CC0-1.0

License: GPL-2+
 text
"""


def _img(path, w, h, seed, mode="RGB"):
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (h, w, 4 if mode == "RGBA" else 3), dtype=np.uint8)
    if mode == "RGBA":
        arr[..., 3] = 0
        arr[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4, 3] = 255  # an opaque cut-out in the middle
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode).save(path)


@pytest.fixture
def fake(tmp_path):
    """Two fake Debian packages (plain + wallpaper folders + a cut-out) and a sources table."""
    pk = tmp_path / "pkgs"
    a = pk / "fake-backgrounds"
    _img(a / "usr/share/bg/sky.png", 60, 40, 1)
    _img(a / "usr/share/bg/street.png", 50, 50, 2)
    _img(a / "usr/share/bg/Wall/contents/images/640x480.png", 32, 24, 3)
    _img(a / "usr/share/bg/Wall/contents/images/1920x1080.png", 64, 36, 4)
    (a / "usr/share/doc/fake-backgrounds").mkdir(parents=True)
    (a / "usr/share/doc/fake-backgrounds/copyright").write_text(COPYRIGHT)
    (a / SRC.VERSION_FILE).write_text("1.2-3\n")
    b = pk / "fake-stamps"
    _img(b / "usr/share/st/animals/cat.png", 40, 40, 5, "RGBA")
    (b / "usr/share/doc/fake-stamps").mkdir(parents=True)
    (b / "usr/share/doc/fake-stamps/copyright").write_text("Files: *\nCopyright: x\nLicense: GPL-2\n")
    (b / SRC.VERSION_FILE).write_text("2022.1-1\n")
    table = {
        "what": "test",
        "debian": [
            {"package": "fake-backgrounds", "dir": "usr/share/bg", "source_dir": "pics",
             "files": [["sky.png", "sky_night"], ["street.png", "street_building"]]},
            {"package": "fake-backgrounds", "dir": "usr/share/bg", "layout": "largest",
             "files": [["Wall", "nature"]]},
            {"package": "fake-stamps", "dir": "usr/share/st", "layout": "cutout",
             "files": [["animals/cat.png", "animal"]]},
        ],
        "pypi": [
            {"package": "scikit-image", "module": "skimage.data", "files": [["camera", "people", "CC0-1.0"]]}
        ],
    }  # fmt: skip
    (tmp_path / "sources.json").write_text(json.dumps(table))
    return tmp_path, table


def _build(tmp_path, out=None, sources=None, max_side=32):
    return S.prepare_demo(
        out or tmp_path / "data" / "demo", max_side=max_side, sources=sources or tmp_path / "sources.json",
        packages=tmp_path / "pkgs", progress=False,
    )  # fmt: skip


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_manifest_records_source_and_licence_per_file(fake):
    tmp_path, _ = fake
    out = _build(tmp_path)
    m = json.loads((out / "MANIFEST.json").read_text())
    assert m["made_by"] == S.MARKER and m["max_side"] == 32 and m["train_photos"] == 5
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*.png")}
    assert set(m["files"]) == on_disk and len(on_disk) == 4 * 5 + 2 * len(VALIDATION_PHOTOS)
    for rel, entry in m["files"].items():
        assert entry["sha256"] == _sha(out / rel)
        assert entry["package"] and entry["version"] and entry["path"] and entry["licence"]
    sky = m["files"]["train_photo/fake-backgrounds_sky.png"]
    assert (sky["package"], sky["version"], sky["path"], sky["licence"]) == (
        "fake-backgrounds",
        "1.2-3",
        "usr/share/bg/sky.png",
        "CC0-1.0",
    )  # the later stanza wins
    assert m["files"]["Demo/smooth/fake-backgrounds_street.png"]["licence"] == "GPL-2+"
    wall = m["files"]["train_photo/fake-backgrounds_wall.png"]
    assert wall["path"].endswith("1920x1080.png")  # the largest of the wallpaper's sizes
    assert m["files"]["train_photo/fake-stamps_animals-cat.png"]["licence"] == "GPL-2"
    assert m["kinds"] == {"animal": 1, "nature": 1, "people": 1, "sky_night": 1, "street_building": 1}
    for p in out.rglob("*.png"):
        with Image.open(p) as im:
            assert max(im.size) <= 32 and im.mode == "RGB"
    ds = D.AnimeDataset(out, D.DEMO_STYLE, paired=True)  # the trainer's reader accepts the layout
    assert len(ds) == 5


def test_cutout_is_cropped_and_put_on_a_plain_background(fake):
    tmp_path, _ = fake
    out = _build(tmp_path, max_side=64)
    arr = np.asarray(Image.open(out / "train_photo/fake-stamps_animals-cat.png"))
    assert tuple(arr[0, 0]) == SRC.CUTOUT_BACKGROUND  # margin: plain, not black
    assert arr.shape[:2] == (36, 36)  # the opaque 20 x 20 middle of the 40 x 40 stamp, 8 px margins


def test_validation_set_is_written_and_never_trained_on(fake):
    tmp_path, table = fake
    out = _build(tmp_path)
    val = sorted(p.stem for p in (out / "val/photo").iterdir())
    assert val == sorted(VALIDATION_PHOTOS) == sorted(p.stem for p in (out / "val/target").iterdir())
    train = {_sha(p) for p in (out / "train_photo").iterdir()}
    assert not train & {_sha(p) for p in (out / "val/photo").iterdir()}
    # by source: a validation photo listed for training is refused
    table["pypi"][0]["files"].append(["chelsea", "animal", "CC0-1.0"])
    (tmp_path / "bad.json").write_text(json.dumps(table))
    with pytest.raises(D.DataError, match="chelsea is a validation photo"):
        _build(tmp_path, out=tmp_path / "other", sources=tmp_path / "bad.json")
    # by pixels: a Debian file that is a validation photo under another name is refused
    Image.fromarray(sample_photo_array("coffee")).save(
        tmp_path / "pkgs/fake-backgrounds/usr/share/bg/street.png"
    )
    with pytest.raises(D.DataError, match="validation photo coffee"):
        _build(tmp_path, out=tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_a_foreign_folder_is_refused_and_left_alone(fake):
    tmp_path, _ = fake
    out = tmp_path / "data" / "demo"
    out.mkdir(parents=True)
    (out / "my_notes.txt").write_text("precious")
    with pytest.raises(D.DataError, match="not a demo set made by") as err:
        _build(tmp_path)
    assert "\n" not in str(err.value) and str(out) in str(err.value)
    assert (out / "my_notes.txt").read_text() == "precious"
    assert sorted(p.name for p in out.parent.iterdir()) == ["demo"]  # no temp folders left behind
    # a MANIFEST.json that is not ours does not make the folder ours
    (out / "MANIFEST.json").write_text(json.dumps({"files": {"my_notes.txt": "x"}}))
    with pytest.raises(D.DataError, match="not a demo set"):
        _build(tmp_path)
    assert (out / "my_notes.txt").read_text() == "precious"


def test_an_empty_folder_is_filled_not_removed(fake):
    tmp_path, _ = fake
    out = tmp_path / "data" / "demo"
    out.mkdir(parents=True)
    ino = os.stat(out).st_ino
    _build(tmp_path)
    assert os.stat(out).st_ino == ino and (out / "MANIFEST.json").is_file()


def test_rerun_is_byte_identical_and_leaves_the_set_untouched(fake):
    tmp_path, _ = fake
    out = _build(tmp_path)
    before = {
        str(p.relative_to(out)): (_sha(p), os.stat(p).st_mtime_ns) for p in out.rglob("*") if p.is_file()
    }
    _build(tmp_path)
    after = {
        str(p.relative_to(out)): (_sha(p), os.stat(p).st_mtime_ns) for p in out.rglob("*") if p.is_file()
    }
    assert after == before
    # built elsewhere from scratch: the same bytes (deterministic, no timestamps)
    other = _build(tmp_path, out=tmp_path / "again")
    assert (other / "MANIFEST.json").read_bytes() == (out / "MANIFEST.json").read_bytes()
    assert sorted(p.name for p in out.parent.iterdir()) == ["demo"]  # no temp folders left behind


def test_our_previous_set_is_replaced_removing_only_our_files(fake):
    tmp_path, table = fake
    out = _build(tmp_path)
    (out / "train_photo" / "mine.txt").write_text("added by the user")
    table["debian"] = table["debian"][:1]  # a different set: fewer photos
    (tmp_path / "fewer.json").write_text(json.dumps(table))
    _build(tmp_path, sources=tmp_path / "fewer.json")
    m = json.loads((out / "MANIFEST.json").read_text())
    assert m["train_photos"] == 3 and sorted(p.name for p in (out / "train_photo").iterdir()) == [
        "fake-backgrounds_sky.png", "fake-backgrounds_street.png", "scikit-image_camera.png"]  # fmt: skip
    kept = [p for p in (tmp_path / "data").glob(".demo-old-*/demo/train_photo/mine.txt")]
    assert len(kept) == 1 and kept[0].read_text() == "added by the user"  # moved aside, not deleted
    assert [p.name for p in kept[0].parent.iterdir()] == ["mine.txt"]  # only our files were removed


def test_missing_package_is_one_clear_error(fake):
    tmp_path, table = fake
    table["debian"][0]["package"] = "not-there"
    (tmp_path / "missing.json").write_text(json.dumps(table))
    with pytest.raises(D.DataError, match="not-there") as err:
        _build(tmp_path, sources=tmp_path / "missing.json")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "data" / "demo").exists()


def test_copyright_licence_follows_dep5(tmp_path):
    f = tmp_path / "copyright"
    f.write_text(COPYRIGHT)
    assert SRC.copyright_licence(f, "usr/share/x/a.jpg") == "GPL-2+"
    assert SRC.copyright_licence(f, "usr/share/x/other.png") == "CC0-1.0"  # continuation line, same file name
    assert SRC.copyright_licence(f, "pics/sky.png", exact=True) == "CC0-1.0"
    assert SRC.copyright_licence(f, "elsewhere/sky.png", exact=True) == "GPL-2+"
    f.write_text("Files: debian/*\nLicense: MIT\n")
    with pytest.raises(D.DataError, match="no Files: stanza covers"):
        SRC.copyright_licence(f, "usr/share/a.jpg", exact=True)


def test_bundled_sources_table_is_well_formed():
    table = SRC.load_sources()
    names = [f[0] for g in table["pypi"] for f in g["files"]]
    assert not set(names) & set(VALIDATION_PHOTOS)
    kinds = {f[1] for g in table["debian"] + table["pypi"] for f in g["files"]}
    assert kinds <= {
        "people",
        "animal",
        "food",
        "vehicle",
        "nature",
        "sky_night",
        "indoor",
        "street_building",
        "object",
    }
    assert sum(len(g["files"]) for g in table["debian"] + table["pypi"]) >= 220
    assert torch.is_tensor(
        SRC.load_photo(SRC.Photo("x", "scikit-image", "0", "skimage.data coins", "l", "object"), 24)
    )


def _fake_debian(monkeypatch, calls):
    """subprocess.run stand-in: apt-get download writes a .deb, dpkg-deb -f/-x fake the rest."""
    import subprocess
    import types

    def run(cmd, cwd=None, check=False, capture_output=False, text=False):
        calls.append(cmd[:2])
        if cmd[:2] == ["apt-get", "download"]:
            (Path(cwd) / f"{cmd[2]}_1.0_all.deb").write_bytes(b"deb")
            return types.SimpleNamespace(stdout="")
        if cmd[:2] == ["dpkg-deb", "-f"]:
            return types.SimpleNamespace(stdout="1.0\n")
        if cmd[:2] == ["dpkg-deb", "-x"]:
            f = Path(cmd[3]) / "usr/share/fake-pkg/photo.jpg"
            f.parent.mkdir(parents=True)
            f.write_bytes(b"jpg")
            return types.SimpleNamespace(stdout="")
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(SRC.subprocess, "run", run)


def test_debian_cache_never_deletes_a_folder_it_did_not_unpack(tmp_path, monkeypatch):
    calls = []
    _fake_debian(monkeypatch, calls)
    cache = tmp_path / "my-files"
    (cache / "fake-pkg").mkdir(parents=True)
    (cache / "fake-pkg" / "thesis.txt").write_text("years of work")
    with pytest.raises(D.DataError, match="not unpacked by animegan-edu"):
        SRC.debian_root("fake-pkg", cache, ["usr/share/fake-pkg/photo.jpg"])
    assert (cache / "fake-pkg" / "thesis.txt").read_text() == "years of work"


def test_debian_cache_unpacks_completely_then_reuses(tmp_path, monkeypatch):
    calls = []
    _fake_debian(monkeypatch, calls)
    root, version = SRC.debian_root("fake-pkg", tmp_path / "cache", ["usr/share/fake-pkg/photo.jpg"])
    assert version == "1.0" and (root / "usr/share/fake-pkg/photo.jpg").exists()
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".fake-pkg-")]  # no temp left
    n = len(calls)
    assert SRC.debian_root("fake-pkg", tmp_path / "cache", ["usr/share/fake-pkg/photo.jpg"]) == (root, "1.0")
    assert len(calls) == n  # reused, nothing fetched again
