"""Weights registry, downloads from a local HTTP server (127.0.0.1 only), safe loading."""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import torch
from http_helpers import serve_folder

from animegan_edu.files import read_sidecar, sha256_file, write_sidecar
from animegan_edu.models import Generator, count_parameters
from animegan_edu.weights import files as WIO
from animegan_edu.weights import hub as W
from animegan_edu.weights import registry as WR
from animegan_edu.weights.tf import bundle as tf_bundle
from animegan_edu.weights.tf import checkpoint as tf_checkpoint


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """A private cache, no mirror/offline settings from outside, and no way to reach the internet."""
    monkeypatch.setenv(WR.ENV_HOME, str(tmp_path / "home"))
    monkeypatch.delenv(WR.ENV_MIRROR, raising=False)
    monkeypatch.delenv(WIO.ENV_OFFLINE, raising=False)
    real = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        host = urllib.parse.urlparse(url if isinstance(url, str) else url.full_url).hostname
        assert host == "127.0.0.1", f"a test tried to reach {url}"
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    with serve_folder(root) as url:
        yield url, root


@pytest.fixture
def good_state():
    torch.manual_seed(5)
    return {k: torch.randn_like(v) for k, v in Generator().state_dict().items()}


def _save(state, path: Path) -> Path:
    torch.save(state, path)
    return path


def _tampered(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0x55
    dst.write_bytes(bytes(data))
    return dst


def _record(monkeypatch, entry: WR.AnimeGANv2Weights, path: Path) -> None:
    """Pretend the registry recorded ``path``'s git-blob SHA-1 for ``entry`` (the real files cannot ship)."""
    monkeypatch.setitem(entry.meta, "hash", ("git-sha1", WIO.git_blob_sha1(path)))


def _no_leftovers(home: Path) -> None:
    assert not list(home.rglob("*.partial")), "a .partial file was left behind"


# -- registry schema -----------------------------------------------------------------------
def test_registry_schema():
    names = {w.key for w in WR.AnimeGANv2Weights}
    assert names == {
        "face_paint_512_v2",
        "face_paint_512_v1",
        "celeba_distill",
        "paprika",
        "shinkai",
        "hayao",
        "paprika_tf",
        "demo",
        "wesnoth",
        "hedgewars",
    }
    n = count_parameters(Generator())
    for w in WR.AnimeGANv2Weights:
        m = w.meta
        for key in (
            "doc",
            "licence",
            "training_data",
            "num_params",
            "file_size_mb",
            "hash",
            "upsample",
            "min_size",
        ):
            assert key in m, (w, key)
        assert m["num_params"] == n
        assert m["upsample"] in ("align_corners", "tf1")
        if w.value.kind == "pytorch":
            algo, digest = m["hash"]
            assert algo == "git-sha1" and re.fullmatch(r"[0-9a-f]{40}", digest)
            assert w.url.startswith("https://github.com/bryandlee/animegan2-pytorch/")
            assert w.url.endswith(f"/{w.key}.pt")
        elif w.value.kind == "tf":
            assert m["hash"] is None and "unverified upstream" in m["hash_note"]  # honest: no fake hash
            assert len(w.value.files) == 2 and all(
                f.url.startswith("https://github.com/TachibanaYoshino/AnimeGANv2/") for f in w.value.files
            )
            assert w.value.files[0].filename.endswith(".ckpt.index")
            assert w.value.files[1].filename.endswith(".ckpt.data-00000-of-00001")
            assert m["upsample"] == "tf1"
    assert (
        WR.AnimeGANv2Weights.FACE_PAINT_512_V2.meta["hash"][1] == "d75102f8f201ddaf8dbe6b913b1a97585b55f838"
    )


@pytest.mark.parametrize(
    "name", ["paprika", "PAPRIKA", "Face_Paint_512_V2", "face-paint-512-v1", "shinkai", "demo", "paprika_tf"]
)
def test_names_case_insensitive(name):
    assert WR.get_weights(name).key == name.lower().replace("-", "_")


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(WIO.UnknownWeightsError, match="use one of face_paint_512_v2, .*shinkai"):
        W.load_generator("miyazaki")


def test_git_blob_sha1_matches_git(tmp_path):
    p = tmp_path / "hello.txt"
    p.write_bytes(b"hello\n")
    assert WIO.git_blob_sha1(p) == "ce013625030ba8dba906f756967f9e9ca394464a"  # `git hash-object`


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    assert WR.cache_dir() == tmp_path / "home"
    monkeypatch.delenv(WR.ENV_HOME)
    assert WR.cache_dir() == Path("~/.cache/animegan-edu").expanduser()


def test_describe_mentions_licence_and_hash():
    text = WR.describe("face_paint_512_v2")
    assert "licence" in text and "d75102f8" in text and "cached: no" in text
    assert "unverified upstream" in WR.describe("shinkai")


# -- downloads -------------------------------------------------------------------------------
def test_download_good_file(server, tmp_path, monkeypatch, good_state, capsys):
    url, root = server
    src = _save(good_state, root / "paprika.pt")
    _record(monkeypatch, WR.AnimeGANv2Weights.PAPRIKA, src)
    path = WR.download("paprika", base_url=url, progress=True)
    assert path == tmp_path / "home" / "weights" / "paprika.pt"
    assert path.read_bytes() == src.read_bytes()
    _no_leftovers(tmp_path / "home")
    assert WR.is_cached("paprika")
    g = W.load_generator("paprika", download=False)
    assert not g.training and g.upsample == "align_corners"
    for k, v in g.state_dict().items():
        assert torch.equal(v, good_state[k])
    # a second call finds the verified cached copy and does not download again
    src.unlink()
    assert WR.download("paprika", base_url=url) == path


def test_download_uses_mirror_environment_variable(server, tmp_path, monkeypatch, good_state):
    url, root = server
    src = _save(good_state, root / "celeba_distill.pt")
    _record(monkeypatch, WR.AnimeGANv2Weights.CELEBA_DISTILL, src)
    monkeypatch.setenv(WR.ENV_MIRROR, url + "/")
    g = W.load_generator("celeba_distill", progress=False)  # not cached: downloads by itself
    assert torch.equal(g.state_dict()["out_layer.0.weight"], good_state["out_layer.0.weight"])


def test_download_tampered_file_is_refused(server, tmp_path, monkeypatch, good_state):
    url, root = server
    good = _save(good_state, tmp_path / "good.pt")
    _tampered(good, root / "paprika.pt")
    _record(monkeypatch, WR.AnimeGANv2Weights.PAPRIKA, good)
    with pytest.raises(
        WIO.IntegrityError, match=r"does not match its recorded git-sha1.*nothing was saved"
    ) as info:
        WR.download("paprika", base_url=url, progress=False)
    assert "\n" not in str(info.value)
    assert not WR.is_cached("paprika")
    _no_leftovers(tmp_path / "home")


def test_download_truncated_copy_is_refused(server, tmp_path, monkeypatch, good_state):
    url, root = server
    good = _save(good_state, tmp_path / "good.pt")
    (root / "paprika.pt").write_bytes(good.read_bytes()[:100_000])
    _record(monkeypatch, WR.AnimeGANv2Weights.PAPRIKA, good)
    with pytest.raises(WIO.IntegrityError):
        WR.download("paprika", base_url=url, progress=False)
    assert not WR.is_cached("paprika")
    _no_leftovers(tmp_path / "home")


def test_download_interrupted_connection(server, tmp_path, monkeypatch, good_state):
    url, root = server
    good = _save(good_state, root / "paprika.pt")
    _record(monkeypatch, WR.AnimeGANv2Weights.PAPRIKA, good)
    with pytest.raises(WIO.DownloadError, match="interrupted|truncated"):
        WR.download("paprika", base_url=url + "/liar", progress=False)
    assert not WR.is_cached("paprika")
    _no_leftovers(tmp_path / "home")


def test_download_http_404(server, tmp_path):
    url, _ = server
    with pytest.raises(WIO.DownloadError, match="HTTP 404"):
        WR.download("face_paint_512_v1", base_url=url, progress=False)
    _no_leftovers(tmp_path / "home")


def test_offline_says_how_to_get_it(monkeypatch):
    monkeypatch.setenv(WIO.ENV_OFFLINE, "1")
    with pytest.raises(WIO.WeightsNotAvailableError) as info:
        W.load_generator("face_paint_512_v2")
    msg = str(info.value)
    assert "\n" not in msg
    assert "animegan-edu weights download face_paint_512_v2" in msg
    assert "https://github.com/bryandlee/animegan2-pytorch/raw/main/weights/face_paint_512_v2.pt" in msg
    assert str(WR.cache_dir() / "weights" / "face_paint_512_v2.pt") in msg


def test_unreachable_server_says_how_to_get_it():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(
        WIO.WeightsNotAvailableError, match=r"offline or unreachable.*weights download paprika"
    ):
        WR.download("paprika", base_url=f"http://127.0.0.1:{port}", progress=False)


def test_no_download_flag():
    with pytest.raises(WIO.WeightsNotAvailableError, match="paprika is not cached"):
        W.load_generator("paprika", download=False)


def test_tampered_cached_file_is_detected_and_redownloaded(server, tmp_path, monkeypatch, good_state):
    url, root = server
    src = _save(good_state, root / "paprika.pt")
    _record(monkeypatch, WR.AnimeGANv2Weights.PAPRIKA, src)
    path = WR.download("paprika", base_url=url, progress=False)
    _tampered(src, path)
    with pytest.raises(WIO.IntegrityError, match=r"tampered or corrupted.*download paprika --force"):
        W.load_generator("paprika")
    assert WR.download("paprika", base_url=url, progress=False) == path  # repaired
    assert path.read_bytes() == src.read_bytes()


def test_pickle_that_runs_code_is_refused(server, tmp_path, monkeypatch):
    url, root = server
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = root / "paprika.pt"
    torch.save({"block_a.0.1.weight": Evil()}, evil)
    _record(monkeypatch, WR.AnimeGANv2Weights.PAPRIKA, evil)  # even a hash-valid file must not run code
    path = WR.download("paprika", base_url=url, progress=False)
    with pytest.raises(WIO.UnsafeFileError, match="refused"):
        W.load_generator("paprika")
    with pytest.raises(WIO.UnsafeFileError):
        W.load_generator(path)
    assert not marker.exists()


# -- TF entries ------------------------------------------------------------------------------
def _serve_tf_fixture(shared_dir, root: Path, stem: str = "Shinkai-53.ckpt") -> None:
    src = shared_dir("testdata/tf_generator_random")
    prefix = tf_bundle.find_checkpoint_prefix(src)
    shutil.copyfile(f"{prefix}.index", root / f"{stem}.index")
    shutil.copyfile(f"{prefix}.data-00000-of-00001", root / f"{stem}.data-00000-of-00001")


def test_tf_entry_downloads_and_converts(server, shared_dir, tmp_path):
    url, root = server
    _serve_tf_fixture(shared_dir, root)
    path = WR.download("shinkai", base_url=url, progress=False)
    assert path == tmp_path / "home" / "weights" / "shinkai.safetensors"
    sidecar = path.with_name("shinkai.safetensors.sha256")
    assert sidecar.read_text().split()[0] == sha256_file(path)
    ref = tf_checkpoint.convert_checkpoint(
        shared_dir("testdata/tf_generator_random")
    )  # exactness: test_tf_checkpoint
    g = W.load_generator("shinkai")
    assert g.upsample == "tf1"  # the TF originals resize the TF1 way
    for k, v in g.state_dict().items():
        assert torch.equal(v, ref[k]), k
    assert W.load_generator("Shinkai", upsample="align_corners").upsample == "align_corners"
    assert W.verify_file(path)["matches"] == "shinkai"
    _no_leftovers(tmp_path / "home")
    # the converted file is checked against its recorded SHA-256 on every load
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(WIO.IntegrityError, match="recorded"):
        W.load_generator("shinkai")


def test_tf_entry_truncated_data_is_refused(server, shared_dir, tmp_path):
    url, root = server
    _serve_tf_fixture(shared_dir, root, "Hayao-64.ckpt")
    data = root / "Hayao-64.ckpt.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:-1000])
    with pytest.raises(WIO.CorruptFileError, match="truncated"):
        WR.download("hayao", base_url=url, progress=False)
    assert not WR.is_cached("hayao")
    assert not (
        tmp_path / "home" / "tf" / "generator_Hayao_weight" / "Hayao-64.ckpt.data-00000-of-00001"
    ).exists()
    _no_leftovers(tmp_path / "home")


def test_tf_entry_offline_message(monkeypatch):
    monkeypatch.setenv(WIO.ENV_OFFLINE, "1")
    with pytest.raises(
        WIO.WeightsNotAvailableError, match=r"paprika_tf is not cached.*Paprika-54.ckpt.index.*convert-tf"
    ):
        W.load_generator("paprika_tf")


def test_load_generator_from_tf_folder(shared_dir):
    g = W.load_generator(shared_dir("testdata/tf_generator_random"))
    assert g.upsample == "tf1"


# -- local files ------------------------------------------------------------------------------
def test_load_local_pt_and_safetensors(tmp_path, good_state):
    from safetensors.torch import save_file

    pt = _save(good_state, tmp_path / "g.pt")
    st = tmp_path / "g.safetensors"
    save_file(good_state, str(st))
    for p in (pt, str(pt), st):
        g = W.load_generator(p)
        assert torch.equal(
            g.state_dict()["block_c.1.layers.1.1.bias"], good_state["block_c.1.layers.1.1.bias"]
        )
    # nested training checkpoints and DataParallel prefixes are understood
    _save({"generator": {f"module.{k}": v for k, v in good_state.items()}, "step": 3}, tmp_path / "ckpt.pt")
    assert isinstance(W.load_generator(tmp_path / "ckpt.pt"), Generator)


def test_truncated_files(tmp_path, good_state):
    from safetensors.torch import save_file

    pt = _save(good_state, tmp_path / "g.pt")
    (tmp_path / "t.pt").write_bytes(pt.read_bytes()[:5000])
    with pytest.raises(WIO.CorruptFileError, match=r"t.pt: truncated or corrupt PyTorch file") as info:
        W.load_generator(tmp_path / "t.pt")
    assert "\n" not in str(info.value)
    save_file(good_state, str(tmp_path / "g.safetensors"))
    (tmp_path / "t.safetensors").write_bytes((tmp_path / "g.safetensors").read_bytes()[:5000])
    with pytest.raises(WIO.CorruptFileError, match="truncated or corrupt safetensors"):
        W.load_generator(tmp_path / "t.safetensors")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(WIO.CorruptFileError, match="empty"):
        W.load_generator(tmp_path / "empty.pt")
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(WIO.CorruptFileError, match="not a PyTorch"):
        W.load_generator(tmp_path / "notes.txt")


def test_wrong_architecture_names_the_keys(tmp_path, good_state):
    bad = dict(good_state)
    del bad["out_layer.0.weight"]
    bad["head.weight"] = torch.zeros(3)
    _save(bad, tmp_path / "bad.pt")
    with pytest.raises(
        WIO.ArchitectureError, match=r"missing 1 keys: out_layer.0.weight; unexpected 1 keys: head.weight"
    ):
        W.load_generator(tmp_path / "bad.pt")
    from animegan_edu.models import ResnetGenerator

    _save(ResnetGenerator().state_dict(), tmp_path / "resnet.pt")
    with pytest.raises(
        WIO.ArchitectureError, match=r"not an AnimeGANv2 generator state dict \(missing 77 keys"
    ):
        W.load_generator(tmp_path / "resnet.pt")
    shapes = dict(good_state)
    shapes["block_a.0.1.weight"] = torch.zeros(32, 3, 3, 3)
    _save(shapes, tmp_path / "shape.pt")
    with pytest.raises(
        WIO.ArchitectureError,
        match=r"shapes differ: block_a.0.1.weight \(32, 3, 3, 3\) \(needs \(32, 3, 7, 7\)\)",
    ):
        W.load_generator(tmp_path / "shape.pt")
    nan = dict(good_state)
    nan["block_b.0.2.bias"] = torch.full((128,), float("nan"))
    _save(nan, tmp_path / "nan.pt")
    with pytest.raises(WIO.CorruptFileError, match="NaN"):
        W.load_generator(tmp_path / "nan.pt")


def test_missing_local_file():
    with pytest.raises(WIO.CorruptFileError, match="no such file"):
        W.load_generator("weights/nothing_here.pt")


def test_verify_file_matches_registry(tmp_path, monkeypatch, good_state):
    p = _save(good_state, tmp_path / "x.pt")
    report = W.verify_file(p)
    assert report["matches"] is None and report["num_params"] == 2_143_552
    _record(monkeypatch, WR.AnimeGANv2Weights.FACE_PAINT_512_V1, p)
    assert W.verify_file(p)["matches"] == "face_paint_512_v1"


# -- default resolution and the bundled demo ----------------------------------------------------
def test_resolve_default_order(tmp_path, monkeypatch, good_state):
    from safetensors.torch import save_file

    repo_weights = tmp_path / "repo_weights"
    repo_weights.mkdir()
    monkeypatch.setattr(WR, "REPO_WEIGHTS_DIR", repo_weights)
    with pytest.raises(WIO.WeightsNotAvailableError, match="no generator weights available"):
        W.resolve_default()
    save_file(good_state, str(repo_weights / "demo.safetensors"))
    (repo_weights / "demo.safetensors.sha256").write_text(
        sha256_file(repo_weights / "demo.safetensors") + "  demo.safetensors\n"
    )
    assert W.resolve_default() == "demo"
    assert isinstance(W.load_generator(), Generator)
    cache = WR.cache_dir() / "weights"
    cache.mkdir(parents=True)
    _save(good_state, cache / "paprika.pt")
    assert W.resolve_default() == "paprika"
    _save(good_state, cache / "face_paint_512_v2.pt")
    assert W.resolve_default() == "face_paint_512_v2"


def test_demo_hash_mismatch_is_refused(tmp_path, monkeypatch, good_state):
    from safetensors.torch import save_file

    monkeypatch.setattr(WR, "REPO_WEIGHTS_DIR", tmp_path)
    save_file(good_state, str(tmp_path / "demo.safetensors"))
    (tmp_path / "demo.safetensors.sha256").write_text("0" * 64 + "  demo.safetensors\n")
    with pytest.raises(WIO.IntegrityError, match="restore it from git"):
        W.load_generator("demo")


def test_bundled_demo_matches_its_recorded_hash():
    """When the repository ships weights/demo.safetensors, its recorded SHA-256 must match it."""
    path = WR.REPO_WEIGHTS_DIR / "demo.safetensors"
    if not path.exists():
        pytest.skip("weights/demo.safetensors is not in this checkout yet")
    recorded = WR.recorded_hash(WR.AnimeGANv2Weights.DEMO)
    assert recorded is not None, "weights/demo.safetensors.sha256 is missing"
    assert recorded == ("sha256", sha256_file(path))
    assert W.verify_file(path)["matches"] == "demo"
    assert isinstance(W.load_generator("demo"), Generator)


def test_old_entry_points_are_gone():
    """One front door: the silent-random loader and the second builder no longer exist."""
    assert not hasattr(W, "load_generator_or_random")
    assert not hasattr(W, "animeganv2_generator")
    assert "get_generator" in W.__all__
    assert not set(W.__all__) - set(vars(W)) and "AnimeGANv2Weights" not in W.__all__  # no re-exports


# -- defect: hash sidecars that are missing, empty or unreadable were a silent pass ----------------
def _break_sidecar(sidecar: Path, how: str) -> None:
    if how == "missing":
        sidecar.unlink()
    elif how == "empty":
        sidecar.write_text("")
    else:  # unreadable: a folder in its place (chmod 000 does not stop root)
        sidecar.unlink()
        sidecar.mkdir()


@pytest.mark.parametrize("how", ["missing", "empty", "unreadable"])
def test_converted_tf_file_without_its_hash_is_refused(server, shared_dir, tmp_path, how):
    url, root = server
    _serve_tf_fixture(shared_dir, root)
    path = WR.download("shinkai", base_url=url, progress=False)
    _break_sidecar(path.with_name(path.name + ".sha256"), how)
    for call in (
        lambda: W.load_generator("shinkai"),
        lambda: W.verify_file(path),
        lambda: W.get_generator("shinkai"),
    ):
        with pytest.raises(
            WIO.IntegrityError, match=r"no recorded SHA-256.*weights download shinkai --force"
        ) as info:
            call()
        assert "\n" not in str(info.value) and str(path) in str(info.value)
    if how == "unreadable":
        path.with_name(path.name + ".sha256").rmdir()
    assert (
        WR.download("shinkai", base_url=url, progress=False) == path
    )  # re-converts and records the hash again
    assert W.verify_file(path)["matches"] == "shinkai"


def test_demo_without_its_hash_is_refused(tmp_path, monkeypatch, good_state):
    from safetensors.torch import save_file

    monkeypatch.setattr(WR, "REPO_WEIGHTS_DIR", tmp_path)
    save_file(good_state, str(tmp_path / "demo.safetensors"))
    with pytest.raises(WIO.IntegrityError, match=r"demo.safetensors: no recorded SHA-256.*git checkout"):
        W.load_generator("demo")
    with pytest.raises(WIO.IntegrityError):
        W.get_generator("paprika")  # the fallback is checked too, never loaded unchecked


def test_local_file_with_a_wrong_sidecar_is_refused(tmp_path, good_state):
    p = _save(good_state, tmp_path / "mine.pt")
    (tmp_path / "mine.pt.sha256").write_text("0" * 64 + "  mine.pt\n")
    with pytest.raises(WIO.IntegrityError, match="mine.pt: sha256 .* does not match"):
        W.get_generator(p)
    write_sidecar(p)
    assert W.get_generator(p)[1] == f"{p} (local file, SHA-256 verified)"


# -- defect: a local file or folder named like a registry entry shadowed the registry --------------
def test_registry_names_are_resolved_before_paths(tmp_path, monkeypatch, good_state, shared_dir):
    monkeypatch.chdir(tmp_path)
    _save(good_state, tmp_path / "paprika")  # planted, never hash-checked before
    shutil.copytree(shared_dir("testdata/tf_generator_random"), tmp_path / "shinkai")
    with pytest.raises(WIO.WeightsNotAvailableError, match="paprika is not cached"):
        W.load_generator("paprika", download=False)
    with pytest.raises(WIO.WeightsNotAvailableError, match="shinkai is not cached"):
        W.load_generator("shinkai", download=False)
    _, label = W.get_generator("paprika")
    assert label.startswith("demo (bundled): paprika is not available offline")
    assert isinstance(W.load_generator("./paprika"), Generator)  # a path must look like a path
    assert W.load_generator("./shinkai").upsample == "tf1"
    (tmp_path / "mine").write_bytes((tmp_path / "paprika").read_bytes())
    with pytest.raises(WIO.UnknownWeightsError, match=r"unknown weights 'mine'.*write \./mine"):
        W.get_generator("mine")


# -- defect: any weights error became random weights; the front door's policy ------------------------
def test_get_generator_falls_back_to_the_demo_and_says_so():
    if not (WR.REPO_WEIGHTS_DIR / "demo.safetensors").exists():
        pytest.skip("weights/demo.safetensors is not in this checkout")
    g, label = W.get_generator("face_paint_512_v2")
    assert label.startswith(
        "demo (bundled): face_paint_512_v2 is not available offline; "
        "run `animegan-edu weights download face_paint_512_v2`"
    )
    assert "\n" not in label and not g.training
    demo = W.load_generator("demo")
    assert all(torch.equal(a, b) for a, b in zip(g.state_dict().values(), demo.state_dict().values()))
    assert W.get_generator("demo")[1] == "demo (bundled)"
    assert W.get_generator()[1] == "demo (bundled)"  # nothing cached: the default is the demo


def test_get_generator_fallback_none_raises():
    with pytest.raises(WIO.WeightsNotAvailableError, match="paprika is not cached"):
        W.get_generator("paprika", fallback=None)
    with pytest.raises(ValueError, match="fallback"):
        W.get_generator("paprika", fallback="zeros")


def test_get_generator_random_only_when_asked(tmp_path, monkeypatch):
    state = torch.random.get_rng_state()
    g, label = W.get_generator("paprika", fallback="random", seed=3)
    assert label.startswith("random (UNTRAINED generator, seed 3): paprika is not available offline")
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's random state is untouched
    torch.manual_seed(3)
    assert torch.equal(g.state_dict()["out_layer.0.weight"], Generator().state_dict()["out_layer.0.weight"])
    g2, label2 = W.get_generator("random", seed=3)
    assert label2.startswith("random (UNTRAINED generator, seed 3)")
    assert torch.equal(g2.state_dict()["out_layer.0.weight"], g.state_dict()["out_layer.0.weight"])
    monkeypatch.setattr(WR, "REPO_WEIGHTS_DIR", tmp_path / "empty")  # no demo either
    with pytest.raises(WIO.WeightsNotAvailableError, match="fallback demo weights are missing too"):
        W.get_generator("paprika")
    assert W.get_generator(None, fallback="random")[1].startswith(
        "random (UNTRAINED generator, seed 0): no pretrained"
    )


def _bad_files(tmp_path: Path, good_state) -> dict[str, tuple[Path, type]]:
    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(_save(good_state, tmp_path / "g.pt").read_bytes()[:5000])
    torch.save({"block_a.0.1.weight": Evil()}, tmp_path / "evil.pt")
    wrong = dict(good_state)
    del wrong["out_layer.0.weight"]
    _save(wrong, tmp_path / "wrong.pt")
    nan = dict(good_state)
    nan["block_b.0.2.bias"] = torch.full((128,), float("nan"))
    _save(nan, tmp_path / "nan.pt")
    return {
        "truncated": (truncated, WIO.CorruptFileError),
        "unsafe": (tmp_path / "evil.pt", WIO.UnsafeFileError),
        "architecture": (tmp_path / "wrong.pt", WIO.ArchitectureError),
        "non-finite": (tmp_path / "nan.pt", WIO.CorruptFileError),
    }


@pytest.mark.parametrize("fallback", ["demo", "random", None])
def test_get_generator_never_falls_back_on_a_bad_file(server, tmp_path, monkeypatch, good_state, fallback):
    for name, (path, error) in _bad_files(tmp_path, good_state).items():
        with pytest.raises(error) as info:
            W.get_generator(path, fallback=fallback)
        assert str(path) in str(info.value) and "\n" not in str(info.value), name
    assert not (tmp_path / "pwned").exists()
    url, root = server  # a tampered cached registry file
    src = _save(good_state, root / "paprika.pt")
    _record(monkeypatch, WR.AnimeGANv2Weights.PAPRIKA, src)
    cached = WR.download("paprika", base_url=url, progress=False)
    _tampered(src, cached)
    with pytest.raises(WIO.IntegrityError, match="tampered or corrupted"):
        W.get_generator("paprika", fallback=fallback)
    with pytest.raises(WIO.IntegrityError):
        W.get_generator(None, fallback=fallback)  # the default picks the cached paprika: still refused


def test_tampered_demo_is_never_replaced(tmp_path, monkeypatch, good_state):
    from safetensors.torch import save_file

    monkeypatch.setattr(WR, "REPO_WEIGHTS_DIR", tmp_path)
    save_file(good_state, str(tmp_path / "demo.safetensors"))
    (tmp_path / "demo.safetensors.sha256").write_text("0" * 64 + "  demo.safetensors\n")
    for fallback in ("demo", "random"):
        with pytest.raises(WIO.IntegrityError, match="restore it from git"):
            W.get_generator(None, fallback=fallback)
    with pytest.raises(WIO.IntegrityError):
        W.get_generator("paprika", fallback="demo")


# -- defect: non-finite weights ------------------------------------------------------------------------
def test_float64_weights_that_overflow_float32_are_refused(tmp_path, good_state):
    big = {k: v.double() for k, v in good_state.items()}
    big["out_layer.0.weight"][0, 0, 0, 0] = 1e300  # finite in float64, inf in float32: a black image
    p = _save(big, tmp_path / "big.pt")
    with pytest.raises(
        WIO.CorruptFileError, match=r"big.pt: tensor out_layer.0.weight .*overflows to infinity in float32"
    ) as info:
        W.get_generator(p)
    assert "\n" not in str(info.value)


def test_nan_weights_are_refused_naming_file_and_tensor(tmp_path, good_state):
    from safetensors.torch import save_file

    nan = dict(good_state)
    nan["block_c.1.layers.1.1.bias"] = nan["block_c.1.layers.1.1.bias"].clone()
    nan["block_c.1.layers.1.1.bias"][3] = float("nan")
    save_file(nan, str(tmp_path / "nan.safetensors"))
    with pytest.raises(
        WIO.CorruptFileError, match=r"nan.safetensors: tensor block_c.1.layers.1.1.bias holds NaN"
    ):
        W.load_generator(tmp_path / "nan.safetensors")


# -- defect: downloads without a size cap ----------------------------------------------------------------
@pytest.mark.parametrize("route", ["", "/nolength"])
def test_download_larger_than_the_entry_is_refused(server, tmp_path, monkeypatch, good_state, route):
    url, root = server
    src = _save(good_state, root / "paprika.pt")  # 8.6 MB, but the registry says about 1 MB
    _record(monkeypatch, WR.AnimeGANv2Weights.PAPRIKA, src)
    monkeypatch.setitem(WR.AnimeGANv2Weights.PAPRIKA.meta, "file_size_mb", 1.0)
    with pytest.raises(
        WIO.DownloadError, match=r"larger than the 1,315,536 bytes expected for paprika.*nothing was saved"
    ) as info:
        WR.download("paprika", base_url=url + route, progress=False)
    assert "\n" not in str(info.value)
    assert not WR.is_cached("paprika")
    _no_leftovers(tmp_path / "home")


def test_every_download_has_a_hard_cap(monkeypatch):
    monkeypatch.setitem(WR.AnimeGANv2Weights.PAPRIKA.meta, "file_size_mb", 5000)
    assert WR._download_cap(WR.AnimeGANv2Weights.PAPRIKA) == WIO.HARD_DOWNLOAD_CAP == 200_000_000
    monkeypatch.setitem(WR.AnimeGANv2Weights.PAPRIKA.meta, "file_size_mb", None)
    assert WR._download_cap(WR.AnimeGANv2Weights.PAPRIKA) == 200_000_000


def test_tf_download_is_capped_and_its_bundle_hashes_recorded(server, shared_dir, tmp_path, monkeypatch):
    url, root = server
    _serve_tf_fixture(shared_dir, root)
    monkeypatch.setitem(WR.AnimeGANv2Weights.SHINKAI.meta, "file_size_mb", 0.5)
    with pytest.raises(WIO.DownloadError, match="larger than"):
        WR.download("shinkai", base_url=url, progress=False)
    _no_leftovers(tmp_path / "home")
    monkeypatch.setitem(WR.AnimeGANv2Weights.SHINKAI.meta, "file_size_mb", 8.6)
    path = WR.download("shinkai", base_url=url, progress=False)
    folder = tmp_path / "home" / "tf" / "generator_Shinkai_weight"
    for f in ("Shinkai-53.ckpt.index", "Shinkai-53.ckpt.data-00000-of-00001"):
        assert read_sidecar(folder / f) == sha256_file(folder / f)  # recorded at conversion
    # a bundle file changed after it was recorded is fetched again before any re-conversion
    data = folder / "Shinkai-53.ckpt.data-00000-of-00001"
    data.write_bytes(b"\0" * data.stat().st_size)
    path.unlink()
    assert WR.download("shinkai", base_url=url, progress=False) == path
    assert data.read_bytes() == (root / data.name).read_bytes()


# -- defect: messages without the file name; files written 0600 -------------------------------------------
def test_cache_that_is_a_file_gives_one_line(tmp_path, monkeypatch, server, good_state):
    url, root = server
    src = _save(good_state, root / "paprika.pt")
    _record(monkeypatch, WR.AnimeGANv2Weights.PAPRIKA, src)
    blocker = tmp_path / "home_is_a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(WR.ENV_HOME, str(blocker))
    with pytest.raises(WIO.StorageError) as info:
        WR.download("paprika", base_url=url, progress=False)
    msg = str(info.value)
    assert str(blocker) in msg and "ANIMEGAN_EDU_HOME" in msg and "[Errno" not in msg and "\n" not in msg


def test_corrupt_safetensors_header_names_the_file(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((20).to_bytes(8, "little") + b'{"a": {"dtype": 1}}  ' + bytes(10))
    with pytest.raises(WIO.CorruptFileError) as info:
        W.get_generator(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    (tmp_path / "folder.pt").mkdir()
    with pytest.raises(WIO.CorruptFileError, match=r"folder.pt: no TF checkpoint here"):
        W.get_generator(tmp_path / "folder.pt")


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_written_weight_files_respect_the_umask(server, shared_dir, tmp_path, umask):
    url, root = server
    _serve_tf_fixture(shared_dir, root)
    old = os.umask(umask)
    try:
        path = WR.download("shinkai", base_url=url, progress=False)
    finally:
        os.umask(old)
    want = 0o666 & ~umask
    folder = tmp_path / "home" / "tf" / "generator_Shinkai_weight"
    for f in (path, path.with_name(path.name + ".sha256"), *folder.iterdir()):
        assert stat.S_IMODE(f.stat().st_mode) == want, f


@pytest.mark.parametrize("how", ["missing", "empty", "unreadable"])
def test_converted_file_loaded_by_path_needs_its_hash(shared_dir, tmp_path, how):
    """`weights convert-tf` output records its SHA-256; afterwards a missing record is a refusal."""
    out = tmp_path / "mine.safetensors"
    tf_checkpoint.convert_checkpoint(shared_dir("testdata/tf_generator_random"), out)
    assert read_sidecar(out) == sha256_file(out)
    _, label = W.get_generator(out)
    assert label == f"{out} (local file, SHA-256 verified)"
    _break_sidecar(out.with_name(out.name + ".sha256"), how)
    for call in (lambda: W.get_generator(out), lambda: W.verify_file(out)):
        with pytest.raises(
            WIO.IntegrityError, match=r"mine.safetensors: no recorded SHA-256.*re-run the conversion"
        ) as info:
            call()
        assert "\n" not in str(info.value)


def test_odd_paths_give_one_line_naming_the_file(tmp_path):
    for bad, pattern in (
        (str(tmp_path / "a\0b.pt"), "NUL byte"),
        (tmp_path / "missing.safetensors", "missing.safetensors: no such file"),
    ):
        with pytest.raises(WIO.CorruptFileError, match=pattern) as info:
            W.get_generator(bad)
        assert "[Errno" not in str(info.value) and "\n" not in str(info.value)


def test_every_bundled_style_has_its_measured_acceptance():
    """Each style generator in the registry has its figures in weights/style_eval.json; they meet the bar."""
    import json

    from animegan_edu.resources import data_dir

    ev = json.loads((data_dir("weights") / "style_eval.json").read_text())
    styles = {w.key: w.meta["style_set"] for w in WR.AnimeGANv2Weights if "style_set" in w.meta}
    assert styles and set(styles) == set(ev["acceptance"]), (styles, list(ev["acceptance"]))
    for key, style_set in styles.items():
        check, row, demo = ev["acceptance"][key], ev["scores"][key], ev["scores"]["demo"]
        assert check["met"] and check["cast_ok"] and check["edge_corr"] >= 0.5, (key, check)
        assert row["distance"][style_set] <= 0.7 * demo["distance"][style_set], key  # 30 % below the demo
        others = [s for s in styles.values() if s != style_set]
        assert all(row["distance"][style_set] < row["distance"][o] for o in others), key
