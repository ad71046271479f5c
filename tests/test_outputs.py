"""What a command writes (animegan_edu.outputs): never an input, the right suffix, one run per output,
and the video work folder's own litter cleaned after a crash (issue 24, classes 1 and 5, and the lock)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from animegan_edu import outputs as O
from animegan_edu.cli.main import main
from animegan_edu.files import FileWriteError, is_temp_name
from animegan_edu.video import media as video_io
from animegan_edu.video import stylize as V
from animegan_edu.weights import registry
from animegan_edu.weights.files import ENV_OFFLINE


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.ENV_HOME, str(tmp_path / "home"))
    monkeypatch.setenv(ENV_OFFLINE, "1")  # no test reaches the network
    monkeypatch.delenv(registry.ENV_MIRROR, raising=False)


def _run(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _listing(folder: Path) -> list[str]:
    return sorted(set(os.listdir(folder)) - {"home"})  # home: the test's cache folder


def _one_error(code, err):
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("animegan-edu: error: "), err
    return lines[0]


def _photo(path, size=(40, 24)):
    arr = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(arr).save(path)
    return path


def _weights(path):
    path.write_bytes(b"the user's float generator, not to be lost")
    return path


def _case_insensitive(folder: Path) -> bool:
    probe = folder / f"CaseProbe-{secrets.token_hex(4)}"
    probe.write_bytes(b"")
    try:
        return (folder / probe.name.lower()).exists()
    finally:
        probe.unlink()


@pytest.fixture
def sleeper():
    """A live process other than this one (its pid stands for another running animegan-edu)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture
def dead_pid():
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _hold(output: Path, pid: int) -> Path:
    """Leave the lock file a run with ``pid`` would hold on ``output``."""
    lock = O.lock_path(output)
    lock.write_text(json.dumps({"made_by": "animegan-edu", "pid": pid}))
    return lock


# --------------------------------------------------------------------------- class 1: never an input
@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "case"])
def test_quantize_never_replaces_its_own_weights(how, tmp_path, monkeypatch, capsys):
    """Issue 24: `quantize --weights ./mine.safetensors -o mine.safetensors` replaced the float generator."""
    monkeypatch.chdir(tmp_path)
    mine = _weights(tmp_path / "mine.safetensors")
    before = mine.read_bytes()
    out = {"same": "mine.safetensors", "symlink": "link.safetensors", "hardlink": "hard.safetensors"}.get(
        how, "MINE.safetensors"
    )
    if how == "symlink":
        (tmp_path / out).symlink_to(mine)
    elif how == "hardlink":
        os.link(mine, tmp_path / out)
    code, _, err = _run(["quantize", "--weights", "./mine.safetensors", "-o", out], capsys)
    line = _one_error(code, err)
    assert "that is the input weights" in line and "mine.safetensors" in line and "refusing" in line
    assert mine.read_bytes() == before
    assert _listing(tmp_path) == sorted({"mine.safetensors", out} - {"MINE.safetensors"})


def test_quantize_never_replaces_the_cached_registry_weights_it_reads(tmp_path, capsys):
    """A registry name reads the cache's file: -o naming that file is refused too."""
    cached = registry.target_path(registry.AnimeGANv2Weights.PAPRIKA)
    cached.parent.mkdir(parents=True)
    before = _weights(cached).read_bytes()
    code, _, err = _run(["quantize", "--weights", "paprika", "-o", cached], capsys)
    assert "that is the input weights" in _one_error(code, err) and cached.read_bytes() == before


def test_case_insensitive_file_system_sees_one_file(tmp_path, capsys):
    if not _case_insensitive(tmp_path):
        pytest.skip("this file system is case-sensitive: Mine.png and mine.png are two files here")
    mine = _weights(tmp_path / "Mine.safetensors")
    assert O.replaced_input(tmp_path / "mine.safetensors", [mine]) == mine


def test_name_comparison_ignores_case_and_unicode_form():
    assert O.same_name("Mine.safetensors", "mine.SAFETENSORS")
    assert O.same_name("caf\u00e9.png", "CAFE\u0301.png")  # NFC vs NFD, as macOS stores names
    assert O.same_name("stra\u00dfe.png", "STRASSE.png")
    assert not O.same_name("mine.safetensors", "mine2.safetensors")


def test_a_new_name_differing_only_by_case_from_an_input_in_that_folder_is_refused(tmp_path):
    """On a case-insensitive file system that name *is* the input; refused on every file system."""
    mine = _weights(tmp_path / "Mine.safetensors")
    other = tmp_path / "sub"
    other.mkdir()
    assert O.replaced_input(tmp_path / "mine.safetensors", [mine]) == mine
    assert O.replaced_input(other / "mine.safetensors", [mine]) is None  # another folder: another file
    assert O.replaced_input(tmp_path / "mine2.safetensors", [mine]) is None
    with pytest.raises(FileWriteError, match="the same name but for case"):
        O.check_output(tmp_path / "MINE.safetensors", [mine], suffixes=(".safetensors",))


@pytest.mark.parametrize(
    "args, expected",
    [
        (["quantize", "-o", "q.pt"], "end the name in .safetensors"),
        (["weights", "convert-tf", "ckpt", "-o", "g.pt"], "end the name in .safetensors"),
        (["video", "in.mp4", "-o", "o.avi"], "end the name in .mp4, .mkv or .mov"),
        (["stylize", "in.png", "-o", "out.jpg"], "end the name in .png"),
    ],
)
def test_a_suffix_the_command_does_not_write_is_refused(args, expected, tmp_path, monkeypatch, capsys):
    """`-o` had no suffix check in quantize; stylize -o out.jpg made a folder named out.jpg."""
    monkeypatch.chdir(tmp_path)
    _photo(tmp_path / "in.png")
    video_io.make_test_clip(tmp_path / "in.mp4", 0.5, 8, 64)
    (tmp_path / "ckpt").mkdir()
    before = _listing(tmp_path)
    code, _, err = _run(args, capsys)
    assert expected in _one_error(code, err)
    assert _listing(tmp_path) == before


def test_convert_tf_never_replaces_a_checkpoint_file(tmp_path, capsys):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    index = _weights(ckpt / "generator.safetensors")  # an odd file in the folder, but an input all the same
    code, _, err = _run(["weights", "convert-tf", ckpt, "-o", index], capsys)
    assert "that is the checkpoint file" in _one_error(code, err)
    assert index.read_bytes().startswith(b"the user")


def test_stylize_single_file_refuses_an_input_through_a_symlink(tmp_path, capsys):
    src = _photo(tmp_path / "photo.png")
    before = src.read_bytes()
    (tmp_path / "link.png").symlink_to(src)
    code, _, err = _run(["stylize", src, "-o", tmp_path / "link.png", "--weights", "random"], capsys)
    assert "is the input image" in _one_error(code, err) and src.read_bytes() == before


def test_train_never_writes_its_history_over_its_config(tmp_path, capsys):
    """A config kept in out_dir under a name train writes there (history.json) would be replaced."""
    run = tmp_path / "run"
    run.mkdir()
    config = run / "history.json"
    config.write_text(json.dumps({"name": "x", "out_dir": str(run), "data_root": str(tmp_path / "data")}))
    before = config.read_bytes()
    code, _, err = _run(["train", "--config", config, "--steps", 0], capsys)
    line = _one_error(code, err)
    assert "that is the training input" in line and str(config) in line and config.read_bytes() == before


def test_train_export_must_be_safetensors(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(f"out_dir: {tmp_path / 'run'}\n")
    code, _, err = _run(["train", "--config", config, "--export", tmp_path / "g.pt"], capsys)
    assert "--export" in _one_error(code, err) and "end the name in .safetensors" in err


def test_prepare_demo_refuses_an_output_folder_holding_its_sources(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    sources = out / "sources.json"
    sources.write_text('{"what": "", "debian": [], "pypi": []}')
    code, _, err = _run(["data", "prepare-demo", "--out", out, "--sources", sources], capsys)
    assert "inside that folder" in _one_error(code, err) and sources.exists()


# --------------------------------------------------------------------------- one run per output: the lock
def test_lock_is_held_while_writing_and_removed_after(tmp_path):
    out = tmp_path / "o.mp4"
    with O.output_lock(out) as lock:
        assert lock == tmp_path / ".o.mp4.lock" and json.loads(lock.read_text())["pid"] == os.getpid()
        busy = rf"another animegan-edu is writing {out} \(pid {os.getpid()}\)"
        with pytest.raises(O.OutputBusyError, match=busy):
            with O.output_lock(out):
                pass
    assert sorted(os.listdir(tmp_path)) == []


def test_lock_of_a_dead_run_is_taken_over(tmp_path, dead_pid):
    out = tmp_path / "o.png"
    _hold(out, dead_pid)
    with O.output_lock(out) as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert os.listdir(tmp_path) == []


def test_unreadable_lock_is_busy_while_fresh_and_stale_when_old(tmp_path):
    out = tmp_path / "o.png"
    lock = O.lock_path(out)
    lock.write_bytes(b"")  # a run between creating its lock and writing it (no-link file systems)
    with pytest.raises(O.OutputBusyError, match="was just made"):
        with O.output_lock(out):
            pass
    os.utime(lock, (1, 1))  # long ago: garbage
    with O.output_lock(out):
        pass
    assert os.listdir(tmp_path) == []


def test_a_long_output_name_gets_a_short_lock_name(tmp_path):
    out = tmp_path / ("n" * 250 + ".png")
    with O.output_lock(out) as lock:
        assert len(lock.name) < 40 and lock.parent == tmp_path


def test_second_video_run_on_one_output_is_refused_with_the_pid(tmp_path, sleeper, capsys):
    """Issue 24: two identical `video` runs at once raced ("may be truncated", "does not exist")."""
    src = video_io.make_test_clip(tmp_path / "in.mp4", 0.5, 8, 64)
    out = tmp_path / "out.mp4"
    lock = _hold(out, sleeper)
    code, _, err = _run(["video", src, "-o", out, "--weights", "random", "--no-progress"], capsys)
    assert f"another animegan-edu is writing {out} (pid {sleeper})" in _one_error(code, err)
    assert sorted(os.listdir(tmp_path)) == [".out.mp4.lock", "in.mp4"] and lock.exists()


def test_second_stylize_run_on_one_file_is_refused_with_the_pid(tmp_path, sleeper, capsys):
    src = _photo(tmp_path / "in.png")
    out = tmp_path / "new" / "out.png"
    (tmp_path / "new").mkdir()
    _hold(out, sleeper)
    code, _, err = _run(["stylize", src, "-o", out, "--weights", "random", "--size", 16], capsys)
    assert f"another animegan-edu is writing {out} (pid {sleeper})" in _one_error(code, err)
    assert not out.exists()


def test_stylize_takes_over_a_dead_runs_lock(tmp_path, dead_pid, capsys):
    src = _photo(tmp_path / "in.png")
    out = tmp_path / "out.png"
    _hold(out, dead_pid)
    code, _, err = _run(["stylize", src, "-o", out, "--weights", "random", "--size", 16], capsys)
    assert code == 0, err
    assert _listing(tmp_path) == ["in.png", "out.png"]


def test_quantize_writes_and_releases_its_lock(tmp_path, capsys):
    out = tmp_path / "q.safetensors"
    code, _, err = _run(["quantize", "--weights", "random", "-o", out, "--calib-size", 16], capsys)
    assert code == 0, err
    assert _listing(tmp_path) == ["q.safetensors", "q.safetensors.sha256"]


# ------------------------------------------------------------------- class 5: own litter after a crash
def _negate(photo: torch.Tensor, model: object, **kw: object) -> tuple[torch.Tensor, list[str]]:
    return -photo, []


class _Stop:
    """generate() that is 'killed' (Ctrl-C) at call ``at``."""

    def __init__(self, at: int) -> None:
        self.calls, self.at = 0, at

    def __call__(self, photo: torch.Tensor, model: object, **kw: object) -> tuple[torch.Tensor, list[str]]:
        if self.calls == self.at:
            raise KeyboardInterrupt
        self.calls += 1
        return -photo, []


def test_video_killed_mid_frame_resumes_and_cleans_its_own_litter(tmp_path, dead_pid):
    """Issue 24: after SIGKILL mid-frame, the rerun said 'left ... in place: it holds files animegan-edu
    did not make' about its own temporary frame and kept the hidden work folder."""
    src = video_io.make_test_clip(tmp_path / "in.mp4", 0.5, 12, 64)
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        V.stylize_video(src, out, None, progress=False, generate_fn=_Stop(3))
    (work,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    # what SIGKILL while saving frame 3 leaves: the frame's half-written temporary file (today's
    # atomic_write name, and an older version's), the run's lock; and an older temporary marker
    (work / ".tmp-0123456789abcdef.png").write_bytes(b"\x89PNG half")
    (work / ".frame_000003.png.k2x9_abc.tmp").write_bytes(b"\x89PNG half")
    (work / ".tmp-fedcba9876543210.json").write_text("{")
    (work / ".tmp-00112233aabbccdd.mp4").write_bytes(b"half a video")  # killed mid-encode (an earlier try)
    _hold(out, dead_pid)
    r = V.stylize_video(src, out, None, progress=False, generate_fn=_negate)
    assert (r.reused, r.computed) == (3, r.frames - 3)
    assert not any("left" in m for m in r.messages), r.messages
    assert sorted(os.listdir(tmp_path)) == ["in.mp4", "out.mp4"]


def test_video_killed_while_making_its_work_folder_resumes(tmp_path):
    """Killed between creating the work folder and renaming its marker into place: still ours."""
    src = video_io.make_test_clip(tmp_path / "in.mp4", 0.5, 12, 64)
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        V.stylize_video(src, out, None, progress=False, generate_fn=_Stop(0))
    (work,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    for p in work.iterdir():
        p.unlink()
    (work / ".tmp-0123456789abcdef.json").write_text('{"made_by": "animegan-edu video"')
    V.stylize_video(src, out, None, progress=False, generate_fn=_negate)
    assert sorted(os.listdir(tmp_path)) == ["in.mp4", "out.mp4"]


def test_a_users_file_in_the_work_folder_is_still_kept(tmp_path):
    src = video_io.make_test_clip(tmp_path / "in.mp4", 0.5, 12, 64)
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        V.stylize_video(src, out, None, progress=False, generate_fn=_Stop(2))
    (work,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (work / "notes.txt").write_text("keep me")
    (work / ".tmp-0123456789abcdef.png").write_bytes(b"half")
    r = V.stylize_video(src, out, None, progress=False, generate_fn=_negate)
    assert any("did not make" in m for m in r.messages)
    assert sorted(os.listdir(work)) == ["notes.txt"]


def test_temp_names_of_atomic_write_are_recognised():
    assert is_temp_name(".tmp-0123456789abcdef.png") and is_temp_name(".tmp-0123456789abcdef.tmp")
    assert not is_temp_name("frame_000001.png") and not is_temp_name(".tmp-xyz.png")
    assert not is_temp_name(".tmp-0123456789abcdef")  # atomic_write always adds a suffix


def test_video_encodes_into_its_work_folder(tmp_path, monkeypatch):
    """A run killed outright mid-encode leaves its temporary video in the work folder (cleaned next run),
    never beside the output among the user's files."""
    src = video_io.make_test_clip(tmp_path / "in.mp4", 0.5, 12, 64)
    seen: list[list[str]] = []
    to_u8 = video_io._to_u8

    def spy(x):
        seen.append(sorted(p.name for p in tmp_path.iterdir() if not p.is_dir()))
        return to_u8(x)

    monkeypatch.setattr(video_io, "_to_u8", spy)
    r = V.stylize_video(src, tmp_path / "out.mp4", None, progress=False, generate_fn=_negate)
    assert seen and all(names == [".out.mp4.lock", "in.mp4"] for names in seen), seen[0]
    assert r.work_dir.parent == tmp_path and not r.work_dir.exists()


def test_stylize_into_a_folder_never_takes_an_inputs_name_but_for_case(tmp_path, capsys):
    """`stylize ow/Photo.PNG -o ow/`: ow/Photo.png is the input on a case-insensitive file system."""
    folder = tmp_path / "ow"
    folder.mkdir()
    src = _photo(folder / "Photo.PNG")
    before = src.read_bytes()
    code, stdout, err = _run(["stylize", src, "-o", folder, "--weights", "random", "--size", 16], capsys)
    assert code == 0, err
    assert src.read_bytes() == before and "Photo-2.png" in stdout
    assert sorted(os.listdir(folder)) == ["Photo-2.png", "Photo.PNG"]
