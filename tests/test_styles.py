"""Style sets of real artwork (animegan_edu.data.styles, data.setfolder, ``data prepare-styles``).

Offline: small fake Debian package trees (with the ``.animegan-edu-version`` marker of
:func:`animegan_edu.data.demo_sources.debian_root`) in a tmp cache folder stand in for the
real packages, and a tmp sources table names them; the one fetch test fakes apt-get and
dpkg-deb the way tests/test_demoset.py does.
"""

import hashlib
import json
import os
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from animegan_edu.cli.main import main
from animegan_edu.data import demo_sources as SRC
from animegan_edu.data import styles as ST
from animegan_edu.data.dataset import DataError

ART = "fake-art"  # DEP-5 copyright file, licence per file
CLIP = "fake-clip"  # free-text copyright file: licence and phrase come from the table
ART_DIR = "usr/share/games/fakeart/Data/pics"
CLIP_DIR = "usr/share/clip/png"

ART_COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fakeart

Files: *
Copyright: the fakeart artists
License: GPL-2+

Files: share/fakeart/Data/pics/b_scene.jpg
Copyright: a guest painter
License: CC-BY-SA-3.0

License: GPL-2+
 text
"""
CLIP_COPYRIGHT = """This package was debianized by someone.

All the pictures were released under the Creative Commons CC0 1.0 Universal Public
Domain Dedication by their authors.
"""


def _pic(path: Path, w: int, h: int, seed: int, kind: str = "colour") -> None:
    """A small picture: random colours, a grey line drawing, or RGBA with little or half opacity."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "lines":  # white paper, black grid lines: no saturation at all
        arr = np.full((h, w, 3), 255, np.uint8)
        arr[::8] = 0
        arr[:, ::8] = 0
        Image.fromarray(arr).save(path)
        return
    arr = rng.integers(0, 256, (h, w, 4 if kind in ("ghost", "half") else 3), dtype=np.uint8)
    if kind == "ghost":  # opaque only in a small middle square
        arr[..., 3] = 0
        arr[h // 2 - 6 : h // 2 + 6, w // 2 - 6 : w // 2 + 6, 3] = 255
    elif kind == "half":  # left half opaque, right half fully transparent
        arr[..., 3] = 0
        arr[:, : w // 2, 3] = 255
    Image.fromarray(arr).save(path, quality=90) if path.suffix == ".jpg" else Image.fromarray(arr).save(path)


def _art_tree(root: Path) -> None:
    d = root / ART_DIR
    _pic(d / "a_scene.png", 96, 64, 1)  # kept, shrunk to 48 x 32
    _pic(d / "b_scene.jpg", 64, 64, 2)  # kept, its own licence (later stanza)
    _pic(d / "c_tiny.png", 40, 40, 3)  # too small (min_side 48)
    _pic(d / "d_ghost.png", 64, 64, 4, "ghost")  # mostly transparent (min_opaque 0.9)
    _pic(d / "e_lines.png", 64, 64, 5, "lines")  # grey (min_saturation 0.1)
    os.symlink("a_scene.png", d / "f_link.png")  # a duplicate inside the package: skipped
    _pic(d / "sub" / "g_deep.png", 64, 48, 6)  # kept: folders are searched recursively
    (d / "readme.txt").write_text("not a picture")
    (root / "usr/share/doc" / ART).mkdir(parents=True)
    (root / "usr/share/doc" / ART / "copyright").write_text(ART_COPYRIGHT)


def _clip_tree(root: Path) -> None:
    d = root / CLIP_DIR
    _pic(d / "p0.png", 48, 48, 10, "half")  # kept (min_opaque 0.3); transparent half on white
    for i in range(1, 5):
        _pic(d / f"p{i}.png", 48, 48, 10 + i)
    (root / "usr/share/doc" / CLIP).mkdir(parents=True)
    (root / "usr/share/doc" / CLIP / "copyright").write_text(CLIP_COPYRIGHT)


TREES = {ART: (_art_tree, "2.0-1"), CLIP: (_clip_tree, "1:0.18+dfsg-1")}


def _table(**clip_source) -> dict:
    return {
        "what": "test",
        "sets": [
            {"name": "Painted", "min_side": 48, "min_opaque": 0.9, "min_saturation": 0.1, "limit": 10,
             "sources": [{"package": ART, "dirs": [ART_DIR], "source_dir": "share/fakeart/Data"}]},
            {"name": "Clip", "min_side": 32, "min_opaque": 0.3, "min_saturation": 0.0, "limit": 10,
             "sources": [{"package": CLIP, "dirs": [CLIP_DIR], "licence": "public-domain",
                          "licence_phrase": "Public Domain Dedication", "limit": 2, **clip_source}]},
        ],
    }  # fmt: skip


@pytest.fixture
def fake(tmp_path):
    """A cache folder holding both fake packages (unpacked, with the version marker) and a table."""
    cache = tmp_path / "cache"
    for pkg, (make, version) in TREES.items():
        make(cache / pkg)
        (cache / pkg / SRC.VERSION_FILE).write_text(version + "\n")
    (tmp_path / "sources.json").write_text(json.dumps(_table()))
    return tmp_path


def _build(tmp_path, out=None, sources=None, sets=None):
    return ST.prepare_styles(
        out or tmp_path / "styles", sets=sets, max_side=48, sources=sources or tmp_path / "sources.json",
        cache=tmp_path / "cache", progress=False,
    )  # fmt: skip


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _manifest(out: Path) -> dict:
    return json.loads((out / "MANIFEST.json").read_text())


# --------------------------------------------------------------------------- the bundled sets
def test_prepare_styles_writes_sets_and_a_manifest_per_file(fake):
    out = _build(fake)
    m = _manifest(out)
    assert m["made_by"] == ST.STYLES_MARKER and m["max_side"] == 48
    assert m["sets"] == {"Clip": 2, "Painted": 3}
    assert m["licences"] == {"CC-BY-SA-3.0": 1, "GPL-2+": 2, "public-domain": 2}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*.png")}
    assert set(m["files"]) == on_disk and len(on_disk) == 2 * 5
    for rel, rec in m["files"].items():
        assert rec["sha256"] == hashlib.sha256((out / rel).read_bytes()).hexdigest()
        assert rec["role"] == rel.split("/")[1] and rec["set"] == rel.split("/")[0]
        assert rec["package"] and rec["version"] and rec["path"] and rec["licence"]
    a = m["files"]["Painted/style/000-a-scene.png"]
    assert (a["set"], a["package"], a["version"], a["path"], a["licence"]) == (
        "Painted", ART, "2.0-1", f"{ART_DIR}/a_scene.png", "GPL-2+")  # fmt: skip
    assert m["files"]["Painted/smooth/001-b-scene.png"]["licence"] == "CC-BY-SA-3.0"  # the later stanza
    assert m["files"]["Painted/style/002-g-deep.png"]["path"] == f"{ART_DIR}/sub/g_deep.png"
    p0 = m["files"]["Clip/style/000-p0.png"]
    assert (p0["package"], p0["version"], p0["licence"]) == (CLIP, "1:0.18+dfsg-1", "public-domain")
    for p in out.rglob("*.png"):
        with Image.open(p) as im:
            assert im.mode == "RGB" and max(im.size) <= 48
    with Image.open(out / "Painted/style/000-a-scene.png") as im:
        assert im.size == (48, 32)  # 96 x 64 shrunk, aspect kept
    style = np.asarray(Image.open(out / "Clip/style/000-p0.png"))
    assert (style[:, -8:] == 255).all()  # the transparent half is drawn on white
    smooth = np.asarray(Image.open(out / "Clip/smooth/000-p0.png"))
    assert smooth.shape == style.shape and not np.array_equal(smooth, style)  # edges blurred


def test_filters_pick_exactly_what_they_should(fake):
    images = ST.collect_style_images(fake / "cache", fake / "sources.json")
    names = [(im.set, im.stem, Path(im.path).name) for im in images]
    assert names == [
        ("Painted", "000-a-scene", "a_scene.png"),  # c_tiny: too small; d_ghost: mostly transparent;
        ("Painted", "001-b-scene", "b_scene.jpg"),  # e_lines: grey; f_link: a link (a duplicate)
        ("Painted", "002-g-deep", "g_deep.png"),
        ("Clip", "000-p0", "p0.png"),  # per-source limit 2 of 5: spread evenly (items 0 and 2)
        ("Clip", "001-p2", "p2.png"),
    ]
    only = ST.collect_style_images(fake / "cache", fake / "sources.json", sets=["Clip"])
    assert {im.set for im in only} == {"Clip"}


def test_each_filter_alone_lets_its_picture_through(fake):
    table = _table()
    painted = table["sets"][0]
    painted.update(min_side=8, min_opaque=0.0, min_saturation=0.0, limit=2)  # the set's own limit
    (fake / "loose.json").write_text(json.dumps(table))
    images = [
        im for im in ST.collect_style_images(fake / "cache", fake / "loose.json") if im.set == "Painted"
    ]
    # 6 files pass (a, b, c, d, e, g; never the link): the set limit spreads 2 of them (items 0 and 3)
    assert [Path(im.path).name for im in images] == ["a_scene.png", "d_ghost.png"]
    painted.update(limit=10)
    (fake / "loose.json").write_text(json.dumps(table))
    images = [
        im for im in ST.collect_style_images(fake / "cache", fake / "loose.json") if im.set == "Painted"
    ]
    assert [Path(im.path).name for im in images] == [
        "a_scene.png", "b_scene.jpg", "c_tiny.png", "d_ghost.png", "e_lines.png", "g_deep.png"]  # fmt: skip


def test_a_set_with_nothing_left_and_an_unknown_set_are_one_line_errors(fake):
    table = _table()
    table["sets"][0]["min_side"] = 10_000
    (fake / "strict.json").write_text(json.dumps(table))
    with pytest.raises(DataError, match="style set Painted: no picture passes") as err:
        _build(fake, sources=fake / "strict.json")
    assert "\n" not in str(err.value)
    with pytest.raises(DataError, match="unknown style set 'Nope'"):
        _build(fake, sets=["Nope"])
    assert not (fake / "styles").exists()


def test_a_trimmed_set_is_cropped_to_its_drawing(fake):
    table = _table()
    table["sets"][1]["trim_to_drawing"] = True  # Clip: p0's right half is transparent (white)
    (fake / "trim.json").write_text(json.dumps(table))
    out = _build(fake, out=fake / "trimmed", sources=fake / "trim.json")
    for sub in ("style", "smooth"):
        with Image.open(out / f"Clip/{sub}/000-p0.png") as im:
            assert im.size == (24 + 8, 48)  # the opaque left half and an 8-px margin of page
    untrimmed = _build(fake, out=fake / "whole")
    with Image.open(untrimmed / "Clip/style/000-p0.png") as im:
        assert im.size == (48, 48)
    assert _files(out / "Painted") == _files(untrimmed / "Painted")  # other sets untouched
    table["sets"][1]["trim_to_drawing"] = "yes"
    (fake / "trim.json").write_text(json.dumps(table))
    with pytest.raises(DataError, match="not a valid style sources table"):
        ST.load_style_sources(fake / "trim.json")


def test_building_twice_gives_the_same_bytes(fake):
    one = _files(_build(fake, out=fake / "one"))
    two = _files(_build(fake, out=fake / "two"))
    assert one == two and "MANIFEST.json" in one
    out = fake / "one"
    stamps = {p: os.stat(p).st_mtime_ns for p in out.rglob("*") if p.is_file()}
    _build(fake, out=out)  # a rerun with the same packages leaves the files untouched
    assert {p: os.stat(p).st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps
    assert sorted(p.name for p in fake.iterdir() if p.name.startswith(".")) == []  # no temp folders


def test_a_licence_phrase_missing_from_the_copyright_file_is_one_line(fake):
    table = _table(licence_phrase="GNU General Public License version 2")
    (fake / "wrong.json").write_text(json.dumps(table))
    with pytest.raises(DataError) as err:
        _build(fake, sources=fake / "wrong.json")
    msg = str(err.value)
    assert "\n" not in msg and str(fake / "cache" / CLIP / "usr/share/doc" / CLIP / "copyright") in msg
    assert "does not say 'GNU General Public License version 2'" in msg
    assert not (fake / "styles").exists()


def test_missing_table_or_bad_table_is_one_line(fake):
    (fake / "bad.json").write_text(json.dumps({"sets": [{"name": "not a name", "limit": 1, "min_side": 1,
                                                          "sources": []}]}))  # fmt: skip
    for path in (fake / "bad.json", fake / "missing.json"):
        with pytest.raises(DataError, match="not a valid style sources table") as err:
            ST.load_style_sources(path)
        assert "\n" not in str(err.value)


def test_packages_not_in_the_cache_are_fetched_once(fake, monkeypatch):
    import shutil
    import subprocess

    shutil.rmtree(fake / "cache")
    calls = []

    def run(cmd, cwd=None, check=False, capture_output=False, text=False):
        calls.append(cmd[:2])
        if cmd[:2] == ["apt-get", "download"]:
            (Path(cwd) / f"{cmd[2]}_1.0_all.deb").write_bytes(b"deb")
            return types.SimpleNamespace(stdout="")
        if cmd[:2] == ["dpkg-deb", "-f"]:
            return types.SimpleNamespace(stdout=TREES[Path(cmd[2]).name.split("_")[0]][1] + "\n")
        if cmd[:2] == ["dpkg-deb", "-x"]:
            TREES[Path(cmd[2]).name.split("_")[0]][0](Path(cmd[3]))
            return types.SimpleNamespace(stdout="")
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(SRC.subprocess, "run", run)
    out = _build(fake)
    assert calls.count(["apt-get", "download"]) == 2 and _manifest(out)["sets"] == {"Clip": 2, "Painted": 3}
    assert _manifest(out)["files"]["Clip/style/001-p2.png"]["version"] == "1:0.18+dfsg-1"
    n = len(calls)
    _build(fake, out=fake / "again")
    assert len(calls) == n  # the unpacked packages are reused
    assert _files(out) == _files(fake / "again")


# --------------------------------------------------------------------------- the output folder
def test_a_foreign_folder_is_refused_and_left_untouched(fake):
    out = fake / "styles"
    out.mkdir()
    (out / "my_notes.txt").write_text("precious")
    with pytest.raises(DataError, match="not a styles folder made by") as err:
        _build(fake)
    assert "\n" not in str(err.value) and str(out) in str(err.value)
    assert _files(out) == {"my_notes.txt": b"precious"}
    (out / "MANIFEST.json").write_text(json.dumps({"made_by": "someone else", "files": {}}))
    with pytest.raises(DataError, match="not a styles folder"):
        ST.prepare_user_style(fake / "cache" / CLIP / CLIP_DIR, "Mine", out, progress=False)
    assert (out / "my_notes.txt").read_text() == "precious"
    assert sorted(p.name for p in fake.iterdir() if p.name.startswith(".")) == []  # no temp folders


def test_an_empty_folder_is_filled_and_kept(fake):
    out = fake / "styles"
    out.mkdir()
    ino = os.stat(out).st_ino
    _build(fake)
    assert os.stat(out).st_ino == ino and _manifest(out)["sets"] == {"Clip": 2, "Painted": 3}


def test_rebuilding_one_set_keeps_the_others(fake):
    out = _build(fake)
    painted = {k: v for k, v in _files(out).items() if k.startswith("Painted/")}
    painted_records = {k: v for k, v in _manifest(out)["files"].items() if k.startswith("Painted/")}
    (fake / "more.json").write_text(json.dumps(_table(limit=3)))  # Clip now takes 3 of its 5
    _build(fake, sources=fake / "more.json", sets=["Clip"])
    m = _manifest(out)
    assert m["sets"] == {"Clip": 3, "Painted": 3}
    assert {k: v for k, v in _files(out).items() if k.startswith("Painted/")} == painted
    assert {k: v for k, v in m["files"].items() if k.startswith("Painted/")} == painted_records
    assert sorted(p.name for p in (out / "Clip/style").iterdir()) == [
        "000-p0.png",
        "001-p1.png",
        "002-p3.png",
    ]
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*.png")}
    assert set(m["files"]) == on_disk
    assert not list(fake.glob(".styles-*"))  # the old set, all ours, was removed completely


# --------------------------------------------------------------------------- a user's own folder
def _user_folder(root: Path) -> Path:
    _pic(root / "b.png", 40, 30, 20)
    _pic(root / "a photo.jpg", 70, 50, 21)
    _pic(root / "nested" / "c.png", 40, 40, 22)  # not read: only the folder itself
    (root / "notes.txt").write_text("x")
    return root


def test_a_user_folder_makes_a_set_beside_the_bundled_ones(fake):
    out = _build(fake)
    ST.prepare_user_style(_user_folder(fake / "mine"), "MyStyle", out, max_side=48, progress=False)
    m = _manifest(out)
    assert m["sets"] == {"Clip": 2, "MyStyle": 2, "Painted": 3}
    assert sorted(p.name for p in (out / "MyStyle/style").iterdir()) == ["000-a-photo.png", "001-b.png"]
    assert sorted(p.name for p in (out / "MyStyle/smooth").iterdir()) == ["000-a-photo.png", "001-b.png"]
    rec = m["files"]["MyStyle/style/000-a-photo.png"]
    assert (rec["package"], rec["path"], rec["licence"]) == (
        "user",
        "a photo.jpg",
        "the user's own (not redistributed)",
    )
    with Image.open(out / "MyStyle/style/000-a-photo.png") as im:
        assert im.size == (48, 34)


@pytest.mark.parametrize(
    "name, folder, match",
    [
        ("Wesnoth", "mine", "is a bundled set"),
        ("my style", "mine", "use letters, digits and _ only"),
        ("1st", "mine", "use letters, digits and _ only"),
        ("Mine", "empty", "no pictures"),
        ("Mine", "missing", "not a folder"),
    ],
)
def test_user_style_errors_are_one_line(tmp_path, name, folder, match):
    _user_folder(tmp_path / "mine")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no pictures here")
    with pytest.raises(DataError, match=match) as err:
        ST.prepare_user_style(tmp_path / folder, name, tmp_path / "styles", progress=False)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "styles").exists()


# --------------------------------------------------------------------------- the command line
def _run(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_from_a_folder(tmp_path, capsys):
    mine = _user_folder(tmp_path / "mine")
    out = tmp_path / "styles"
    code, stdout, err = _run(
        ["data", "prepare-styles", "--from", mine, "--name", "Mine", "--out", out, "--max-side", 64], capsys
    )
    assert code == 0, err
    assert f"style sets ready at {out}: Mine 2 pictures" in stdout
    assert _manifest(out)["sets"] == {"Mine": 2} and _manifest(out)["max_side"] == 64
    assert sorted(os.listdir(tmp_path)) == ["mine", "styles"]  # no lock or temp left behind


def test_cli_refuses_from_without_name_and_out_equal_to_the_input(tmp_path, capsys):
    mine = _user_folder(tmp_path / "mine")
    before = _files(mine)
    for args, says in [
        (["--from", mine], "--from and --name go together"),
        (["--name", "Mine"], "--from and --name go together"),
        (["--from", mine, "--name", "Mine", "--out", mine], "that is the input"),
        (["--from", mine, "--name", "Mine", "--max-side", 16], "--max-side must be at least 64"),
    ]:
        code, _, err = _run(["data", "prepare-styles", "--out", tmp_path / "styles", *args], capsys)
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert _files(mine) == before
    assert sorted(os.listdir(tmp_path)) == ["mine"]


# --------------------------------------------------------------------------- the bundled table
def test_the_bundled_table_has_three_sets_from_different_package_families():
    table = ST.load_style_sources()
    sets = table["sets"]
    assert len(sets) >= 3 and ST.style_set_names() == [s["name"] for s in sets]
    families = [{src["package"].split("-")[0] for src in s["sources"]} for s in sets]
    for i, fam in enumerate(families):
        assert fam and not any(fam & other for j, other in enumerate(families) if j != i), families
    for s in sets:
        assert s["name"].isidentifier() and s.get("title") and s.get("about")
        for src in s["sources"]:
            assert src["dirs"] and all(not d.startswith("/") for d in src["dirs"])
            if "licence" in src:  # a free-text copyright file: the phrase that must be in it
                assert src["licence"] and src["licence_phrase"]
            else:  # a DEP-5 file gives the licence per file
                assert "licence_phrase" not in src


def test_only_our_new_set_folders_are_removed(tmp_path):
    from animegan_edu.data.dataset import DataError
    from animegan_edu.data.setfolder import new_set_folder, remove_new_set_folder

    out = tmp_path / "styles"
    mine = tmp_path / "my_pictures"
    (mine / "keep.png").parent.mkdir()
    (mine / "keep.png").write_bytes(b"x")
    link = tmp_path / ".styles-new-link"
    link.symlink_to(mine, target_is_directory=True)
    for foreign in (mine, link, tmp_path / "elsewhere" / ".styles-new-x"):
        with pytest.raises(DataError, match="not a temporary folder of animegan-edu"):
            remove_new_set_folder(foreign, out)
    assert (mine / "keep.png").read_bytes() == b"x"  # nothing of the user's was touched
    tmp = new_set_folder(out)
    (tmp / "a.png").write_bytes(b"y")
    remove_new_set_folder(tmp, out)
    assert not tmp.exists() and mine.exists()
