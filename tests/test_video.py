"""`animegan-edu video`: round trip, resuming, bad inputs, and the flicker measure and method."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from animegan_edu.cli.main import main
from animegan_edu.inference.pipeline import generate
from animegan_edu.metrics import psnr
from animegan_edu.samples import sample_photo_array
from animegan_edu.video import media as video_io
from animegan_edu.video import stylize as V
from animegan_edu.video import temporal as T
from animegan_edu.weights.hub import get_generator


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    return get_generator("random", seed=0)[0]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("clips")
    video_io.make_test_clip(d / "audio.mp4", seconds=1.0, fps=8, size=96, audio=True)
    video_io.make_test_clip(d / "plain.mp4", seconds=1.0, fps=12, size=96)
    return d


def _frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])])


def _audio_seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return 0.0
        s = c.streams.audio[0]
        return sum(f.samples for f in c.decode(s)) / s.rate


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# ------------------------------------------------------------------------------ round trip
def test_round_trip_keeps_frames_size_fps_and_audio(
    clip_dir: Path, tmp_path: Path, model: torch.nn.Module
) -> None:
    src = clip_dir / "audio.mp4"
    info = video_io.probe_video(src)
    assert (info.frames, info.fps, info.has_audio) == (8, Fraction(8), True)
    out = tmp_path / "out.mp4"
    r = V.stylize_video(src, out, model, size=96, progress=False)
    got = video_io.probe_video(out)
    assert (got.width, got.height) == (info.width, info.height) == r.size
    assert got.frames == info.frames == r.frames == r.computed
    assert got.fps == info.fps
    assert got.has_audio and r.audio
    assert abs(_audio_seconds(out) - _audio_seconds(src)) < 0.1
    assert _listing(tmp_path) == ["out.mp4"]  # work folder removed, no temporary file left


def test_size_limit_max_frames_and_no_audio(clip_dir: Path, tmp_path: Path, model: torch.nn.Module) -> None:
    out = tmp_path / "small.mkv"
    r = V.stylize_video(clip_dir / "audio.mp4", out, model, size=48, max_frames=4, progress=False)
    got = video_io.probe_video(out)
    assert (got.width, got.height) == video_io.output_size(96, 54, 48) == r.size
    assert got.frames == 4 and got.fps == Fraction(8)
    assert 0.4 < _audio_seconds(out) < 0.65  # cut to 4 frames at 8 fps
    out2 = tmp_path / "mute.mp4"
    V.stylize_video(clip_dir / "audio.mp4", out2, model, size=48, max_frames=2, audio=False, progress=False)
    assert not video_io.probe_video(out2).has_audio


def test_cli_writes_the_video(clip_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = main(
        [
            "video",
            str(clip_dir / "plain.mp4"),
            "-o",
            str(tmp_path),
            "--weights",
            "random",
            "--size",
            "64",
            "--max-frames",
            "3",
            "--no-progress",
            "--grade",
            "shinkai",
            "--glow",
            "0.2",
        ]
    )
    assert rc == 0
    out = tmp_path / "plain-anime.mp4"
    assert video_io.probe_video(out).frames == 3
    assert "3 frames at 12 fps" in capsys.readouterr().out


# ------------------------------------------------------------------------------ resuming
class _Counting:
    """generate() that counts its calls and optionally fails (Ctrl-C) at call number ``fail_at``."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls = 0
        self.fail_at = fail_at

    def __call__(self, photo: torch.Tensor, model: object, **kw: object) -> tuple[torch.Tensor, list[str]]:
        if self.fail_at is not None and self.calls == self.fail_at:
            raise KeyboardInterrupt
        self.calls += 1
        return generate(photo, model, **kw)  # type: ignore[arg-type]


def test_cli_face_option_summarises_face2paint(
    clip_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    rc = main(
        [
            "video",
            str(clip_dir / "plain.mp4"),
            "-o",
            str(tmp_path / "f.mp4"),
            "--weights",
            "random",
            "--size",
            "64",
            "--max-frames",
            "2",
            "--face",
            "--no-progress",
        ]
    )
    assert rc == 0 and video_io.probe_video(tmp_path / "f.mp4").frames == 2
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("face2paint: ")]
    assert (
        notes and sum(int(n.rsplit("(", 1)[1].split()[0]) for n in notes) == 2
    )  # one line per kind, frames counted


def test_cli_interrupt_keeps_the_frames_and_says_how_to_continue(
    clip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    args = [
        "video",
        str(clip_dir / "plain.mp4"),
        "-o",
        str(tmp_path / "o.mp4"),
        "--weights",
        "random",
        "--size",
        "64",
        "--no-progress",
    ]
    monkeypatch.setattr(V, "generate", _Counting(fail_at=4))
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "4 of 12 frames are kept" in err and "run the same command again" in err
    assert not (tmp_path / "o.mp4").exists()
    again = _Counting()
    monkeypatch.setattr(V, "generate", again)
    assert main(args) == 0 and again.calls == 8
    assert "4 reused from an interrupted run" in capsys.readouterr().out
    assert _listing(tmp_path) == ["o.mp4"]


def test_resume_computes_only_the_missing_frames_and_gives_the_same_video(
    clip_dir: Path, tmp_path: Path, model: torch.nn.Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[
        np.ndarray
    ] = []  # the frames handed to the encoder (x264's bytes are not reproducible run to run)
    to_u8 = video_io._to_u8
    monkeypatch.setattr(video_io, "_to_u8", lambda x: encoded.append(to_u8(x)) or encoded[-1])
    src = clip_dir / "plain.mp4"
    n = video_io.probe_video(src).frames
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    full = _Counting()
    V.stylize_video(src, tmp_path / "a" / "o.mp4", model, size=64, progress=False, generate_fn=full)
    assert full.calls == n
    uninterrupted = encoded[:]
    encoded.clear()

    out = tmp_path / "b" / "o.mp4"
    first = _Counting(fail_at=5)
    with pytest.raises(KeyboardInterrupt):
        V.stylize_video(src, out, model, size=64, progress=False, generate_fn=first)
    assert first.calls == 5 and not out.exists()
    (work,) = [p for p in (tmp_path / "b").iterdir() if p.is_dir()]
    assert V.WORK_TAG in work.name and len(list(work.glob("frame_*.png"))) == 5

    second = _Counting()
    r = V.stylize_video(src, out, model, size=64, progress=False, generate_fn=second)
    assert second.calls == n - 5 and (r.computed, r.reused) == (n - 5, 5)
    assert len(encoded) == len(uninterrupted) == n
    for got, want in zip(encoded, uninterrupted):
        np.testing.assert_array_equal(got, want)
    decoded, reference = _frames(out).astype(float), _frames(tmp_path / "a" / "o.mp4").astype(float)
    assert decoded.shape == reference.shape
    assert (
        10 * np.log10(255**2 / max(((decoded - reference) ** 2).mean(), 1e-9)) > 35
    )  # the same video, re-encoded
    assert _listing(tmp_path / "b") == ["o.mp4"]


def test_changed_input_never_reuses_stale_frames(tmp_path: Path, model: torch.nn.Module) -> None:
    src = video_io.make_test_clip(tmp_path / "in.mp4", 0.5, 12, 64)
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        V.stylize_video(src, out, model, progress=False, generate_fn=_Counting(fail_at=3))
    video_io.make_test_clip(src, 0.75, 12, 64)  # the input changes under the same name
    again = _Counting()
    V.stylize_video(src, out, model, progress=False, generate_fn=again)
    assert again.calls == 9  # all of them: the 3 saved frames belong to the old input
    stale = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (
        len(stale) == 1 and len(list(stale[0].glob("frame_*.png"))) == 3
    )  # the old run's folder is left alone


def test_a_folder_not_made_by_the_toolkit_is_refused_and_kept(tmp_path: Path, model: torch.nn.Module) -> None:
    src = video_io.make_test_clip(tmp_path / "in.mp4", 0.5, 12, 64)
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        V.stylize_video(src, out, model, progress=False, generate_fn=_Counting(fail_at=2))
    (work,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (work / V.MARKER).write_text("not ours")
    (work / "notes.txt").write_text("keep me")
    with pytest.raises(video_io.VideoError, match="not made by animegan-edu"):
        V.stylize_video(src, out, model, progress=False)
    assert (work / "notes.txt").read_text() == "keep me" and not out.exists()


# ------------------------------------------------------------------------------ bad inputs
def _zero_frames(d: Path) -> Path:
    p = d / "zero.y4m"
    p.write_bytes(b"YUV4MPEG2 W64 H36 F12:1 Ip A1:1 C420jpeg\n")  # a header, no frame
    return p


def _vfr(d: Path) -> Path:
    p = d / "vfr.mp4"
    with av.open(str(p), "w") as out:
        s = out.add_stream("libx264", rate=12)
        s.width, s.height, s.pix_fmt = 64, 36, "yuv420p"
        for i, pts in enumerate((0, 1, 2, 5, 6, 9, 10, 11)):
            f = av.VideoFrame.from_ndarray(np.full((36, 64, 3), 20 * i, np.uint8), format="rgb24")
            f.pts, f.time_base = pts, Fraction(1, 12)
            out.mux(s.encode(f))
        out.mux(s.encode(None))
    return p


def _audio_only(d: Path) -> Path:
    p = d / "audio_only.mp4"
    with av.open(str(p), "w") as out:
        a = out.add_stream("aac", rate=44100)
        a.layout = "mono"
        for start in range(0, 22050, 1024):
            f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            f.sample_rate, f.pts, f.time_base = 44100, start, Fraction(1, 44100)
            out.mux(a.encode(f))
        out.mux(a.encode(None))
    return p


def _text(d: Path) -> Path:
    p = d / "notes.mp4"
    p.write_text("this is not a video")
    return p


def _png(d: Path) -> Path:
    from PIL import Image

    p = d / "photo.png"
    Image.fromarray(sample_photo_array("coffee")).save(p)
    return p


BAD = {
    "missing": (lambda d: d / "missing.mp4", [], "no such file"),
    "not a video": (_text, [], "not a readable video"),
    "still image": (_png, [], "still image"),
    "no video stream": (_audio_only, [], "no video stream"),
    "zero frames": (_zero_frames, [], "zero frames"),
    "variable frame rate": (_vfr, [], "variable frame rate"),
    "huge frames": (
        lambda d: video_io.make_test_clip(d / "big.mp4", 0.5, 8, 64),
        ["--max-megapixels", "0.001"],
        "over the limit",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    make, extra, phrase = BAD[case]
    src_dir, out_dir = tmp_path / "in", tmp_path / "out"
    src_dir.mkdir(), out_dir.mkdir()
    src = make(src_dir)
    rc = main(
        ["video", str(src), "-o", str(out_dir / "o.mp4"), "--weights", "random", "--no-progress", *extra]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("animegan-edu: error: "), err
    assert str(src) in err[0] and phrase in err[0], err
    assert _listing(out_dir) == []


def test_too_many_pixels_in_total_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    src = video_io.make_test_clip(tmp_path / "c.mp4", 0.5, 8, 64)
    monkeypatch.setenv(video_io.MAX_VIDEO_PIXELS_ENV, str(3 * 64 * 36))  # room for 3 of its 4 frames
    assert main(["video", str(src), "-o", str(tmp_path / "o.mp4"), "--weights", "random"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "in total" in err[0]
    assert _listing(tmp_path) == ["c.mp4"]


@pytest.mark.parametrize("name", ["same", "bad_suffix"])
def test_output_that_is_the_input_or_not_a_video_name_is_refused(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    src = video_io.make_test_clip(tmp_path / "c.mp4", 0.5, 8, 64)
    before = src.read_bytes()
    out = src if name == "same" else tmp_path / "c.avi"
    assert main(["video", str(src), "-o", str(out), "--weights", "random"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("animegan-edu: error: -o ")
    assert src.read_bytes() == before and _listing(tmp_path) == ["c.mp4"]


@pytest.mark.parametrize(
    "option",
    [
        ["--temporal-weight", "nan"],
        ["--temporal-weight", "inf"],
        ["--temporal-weight", "1"],
        ["--glow", "nan"],
        ["--size", "5000"],
        ["--max-frames", "0"],
    ],
)
def test_non_finite_or_out_of_range_options_are_refused(
    option: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    src = video_io.make_test_clip(tmp_path / "c.mp4", 0.5, 8, 64)
    try:
        rc = main(["video", str(src), "-o", str(tmp_path / "o.mp4"), "--weights", "random", *option])
    except SystemExit as exc:  # argparse: usage line and one error line
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and option[0] in err or "size" in err
    assert _listing(tmp_path) == ["c.mp4"]


# ------------------------------------------------------------------------------ the measure
def test_warping_error_is_zero_for_a_static_clip() -> None:
    still = torch.from_numpy(video_io.sample_clip_frames(0.25, 12, 96)[0]).permute(2, 0, 1).float() / 255
    clip = still[None].repeat(4, 1, 1, 1)
    e = T.warping_error(clip)
    assert e.mean < 1e-3 and e.valid_fraction > 0.95


def test_known_shift_flow_and_flicker_are_measured() -> None:
    photo = torch.from_numpy(sample_photo_array("coffee")).permute(2, 0, 1).float() / 255
    photo = torch.nn.functional.avg_pool2d(photo[None], 4)[0]  # 100 x 150, smooth enough for the flow
    shift = 2
    frames = torch.stack(
        [photo[:, 10:90, 20 + shift * t : 120 + shift * t] for t in range(4)]
    )  # camera pans right
    flow = T.optical_flow(frames[1], frames[0])  # pixel x of frame 1 shows what frame 0 has at x + 2
    inner = flow[10:-10, 10:-10]
    assert abs(float(inner[..., 0].median()) - shift) < 0.2 and abs(float(inner[..., 1].median())) < 0.2
    flows = T.clip_flows(frames)
    motion_only = T.warping_error(frames, flows)
    assert motion_only.mean < 0.01  # the motion itself is not counted as flicker
    flicker = frames + torch.tensor([0.0, 0.05, 0.0, 0.05]).view(
        4, 1, 1, 1
    )  # brightness jumps by 0.05 every frame
    e = T.warping_error(flicker.clamp(0, 1), flows)
    assert abs(e.mean - 0.05) < 0.01


def test_the_method_reduces_the_warping_error_on_the_test_clip(
    clip_dir: Path, model: torch.nn.Module
) -> None:
    clip = video_io.read_clip(clip_dir / "plain.mp4")
    per_frame = torch.cat([generate(f[None], model)[0] for f in clip])
    flows = T.clip_flows(clip)
    before = T.warping_error(T.quantize8(per_frame), flows).mean
    out = T.stabilize(per_frame, clip, T.DEFAULT_WEIGHT)
    after = T.warping_error(out, flows).mean
    assert after < 0.8 * before, (before, after)
    assert (
        T.warping_error(out, T.clip_flows(clip, "dis")).mean
        < T.warping_error(T.quantize8(per_frame), T.clip_flows(clip, "dis")).mean
    )
    assert 25 < psnr(out, per_frame) < 60
    torch.testing.assert_close(T.stabilize(per_frame, clip, 0.0), T.quantize8(per_frame))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.1, 1.0])
def test_weight_is_checked(bad: float) -> None:
    with pytest.raises(ValueError, match="temporal weight"):
        T.TemporalStabilizer(bad)


def test_sample_clip_is_deterministic_and_licensed() -> None:
    first, again = video_io.sample_clip_frames(0.25, 12, 64), video_io.sample_clip_frames(0.25, 12, 64)
    np.testing.assert_array_equal(first, again)
    lic = video_io.sample_clip_licence()
    assert lic["licence"] == "CC0-1.0" and all("CC0" in s["licence"] for s in lic["sources"])


def test_int8_option_uses_the_pipelines_int8_model(
    clip_dir: Path, tmp_path: Path, model: torch.nn.Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []

    def fake_int8(
        m: torch.nn.Module,
    ) -> torch.nn.Module:  # calibration takes ~15 s; the wiring is what is tested
        seen.append(m)
        return m

    monkeypatch.setattr(V, "int8_model", fake_int8)
    r = V.stylize_video(
        clip_dir / "plain.mp4", tmp_path / "q.mp4", model, size=48, max_frames=2, int8=True, progress=False
    )
    assert seen == [model] and r.frames == 2
    plain = V.stylize_video(
        clip_dir / "plain.mp4", tmp_path / "p.mp4", model, size=48, max_frames=2, progress=False
    )
    assert (
        r.work_dir.name.split("-")[-1] != plain.work_dir.name.split("-")[-1]
    )  # INT8 frames never mix with fp32 ones
