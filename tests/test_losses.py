"""Each loss against values computed by hand on tiny tensors."""

from pathlib import Path

import numpy as np
import pytest
import torch

from animegan_edu.files import sha256_file, write_sidecar
from animegan_edu.training import losses as L
from animegan_edu.weights.files import IntegrityError, UnsafeFileError, WeightsError


class _Evil:
    """Unpickling this runs ``open(marker, "w")``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_lsgan_d_loss_by_hand():
    real = torch.tensor([1.0, 0.0])  # (1-1)^2, (0-1)^2 -> mean 0.5
    fake = torch.tensor([0.5, 0.5])  # 0.25
    gray = torch.tensor([1.0])  # 1
    smooth = torch.tensor([2.0])  # 4
    assert L.lsgan_d_loss(real, fake).item() == pytest.approx(0.75)
    got = L.lsgan_d_loss(real, fake, gray, smooth, weights=(1.2, 1.2, 1.2, 0.8))
    assert got.item() == pytest.approx(1.2 * 0.5 + 1.2 * 0.25 + 1.2 * 1 + 0.8 * 4)


def test_lsgan_g_loss_by_hand():
    assert L.lsgan_g_loss(torch.tensor([1.0, 0.0, 3.0])).item() == pytest.approx((0 + 1 + 4) / 3)


def test_gram_by_hand():
    feat = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # (1, 2, 1, 2)
    expected = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4
    assert torch.allclose(L.gram(feat), expected)


def test_style_and_content_losses_by_hand():
    a = torch.zeros(1, 2, 1, 2)
    b = torch.ones(1, 2, 1, 2)
    assert L.content_loss(a, b).item() == pytest.approx(1.0)
    # gram(b) = all (2 * 1) / 4 = 0.5 ; gram(a) = 0
    assert L.style_loss(a, b).item() == pytest.approx(0.5)
    assert L.style_loss(b, b).item() == 0.0


def test_colour_loss_white_vs_black():
    white, black = torch.ones(1, 3, 2, 2), -torch.ones(1, 3, 2, 2)
    # Y differs by 1, U and V are 0 for both
    assert L.colour_loss(white, black).item() == pytest.approx(1.0, abs=1e-5)


def test_colour_loss_red_vs_black():
    red = -torch.ones(1, 3, 2, 2)
    red[:, 0] = 1
    black = -torch.ones(1, 3, 2, 2)
    y, u, v = 0.299, -0.147, 0.615  # BT.601 YUV of pure red
    expected = y + 0.5 * u**2 + 0.5 * v**2  # Huber with delta 1 is quadratic below 1
    assert L.colour_loss(red, black).item() == pytest.approx(expected, abs=2e-3)


def test_total_variation_by_hand():
    x = torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])
    assert L.total_variation_loss(x).item() == pytest.approx(1.0)
    assert L.total_variation_loss(torch.ones(1, 3, 4, 4)).item() == 0.0


def test_presets_match_original_recipe():
    p = L.STYLE_PRESETS
    assert (p["hayao"].content, p["hayao"].style, p["hayao"].colour, p["hayao"].tv) == (1.5, 2.5, 15.0, 1.0)
    assert (p["paprika"].content, p["paprika"].style, p["paprika"].colour, p["paprika"].tv) == (
        2.0,
        0.6,
        50.0,
        0.1,
    )
    assert (p["shinkai"].content, p["shinkai"].style, p["shinkai"].colour, p["shinkai"].tv) == (
        1.2,
        2.0,
        10.0,
        1.0,
    )
    assert all(w.g_adv == 300 and w.d_adv == 300 for w in p.values())


def test_vgg_random_fallback_is_deterministic(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("ANIMEGAN_EDU_HOME", str(tmp_path / "home"))
    a, b = L.VGG19Features(), L.VGG19Features()
    assert a.source == "random(seed=0)"
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        fa, fb = a(x), b(x)
    assert fa.shape == (1, 512, 4, 4)
    assert torch.equal(fa, fb)
    assert not any(p.requires_grad for p in a.parameters())


def test_vgg_loads_torchvision_state_dict(tmp_path):
    from torchvision.models import vgg19

    torch.manual_seed(1)
    path = tmp_path / "vgg19-test.pth"
    ref = vgg19(weights=None)
    torch.save(ref.state_dict(), path)
    write_sidecar(path)  # every VGG file needs a recorded hash
    feats = L.VGG19Features(path)
    assert feats.source == "torchvision"
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        expected = ref.features[:26]((((x + 1) / 2) - feats.mean) / feats.std)
        assert torch.allclose(feats(x), expected, atol=1e-5)


def test_vgg_missing_file_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        L.VGG19Features(tmp_path / "nope.pth")


def test_content_loss_grows_with_distortion():
    """Even random VGG features see structure: more blur, larger content loss."""
    import kornia

    vgg = L.vgg19_features()
    torch.manual_seed(0)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        f = vgg(x)
        small = L.content_loss(vgg(kornia.filters.gaussian_blur2d(x, (5, 5), (0.7, 0.7))), f)
        large = L.content_loss(vgg(kornia.filters.gaussian_blur2d(x, (9, 9), (3.0, 3.0))), f)
    assert 0 < small < large


# -- defect: a planted vgg19.npy ran code (allow_pickle=True) -----------------------------------------
def test_planted_pickled_vgg19_npy_is_refused_and_never_run(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("ANIMEGAN_EDU_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    marker = tmp_path / "pwned"
    np.save(tmp_path / "home" / "vgg19.npy", np.array([_Evil(marker)], dtype=object), allow_pickle=True)
    write_sidecar(tmp_path / "home" / "vgg19.npy")  # even a recorded hash does not make a pickle safe
    with pytest.raises(UnsafeFileError) as info:
        L.VGG19Features()
    msg = str(info.value)
    assert not marker.exists(), "unpickling the planted file ran code"
    assert "vgg19.npy: refused" in msg and "vgg19.npz" in msg and "sha256sum" in msg and "\n" not in msg


def test_vgg_npz_of_plain_arrays_with_recorded_hash_loads(tmp_path):
    rng = np.random.default_rng(0)
    shapes = {
        "conv1_1": (3, 64),
        "conv1_2": (64, 64),
        "conv2_1": (64, 128),
        "conv2_2": (128, 128),
        "conv3_1": (128, 256),
        "conv3_2": (256, 256),
        "conv3_3": (256, 256),
        "conv3_4": (256, 256),
        "conv4_1": (256, 512),
        "conv4_2": (512, 512),
        "conv4_3": (512, 512),
        "conv4_4": (512, 512),
    }
    arrays = {}
    for k, (cin, cout) in shapes.items():
        arrays[f"{k}_weights"] = rng.standard_normal((3, 3, cin, cout)).astype(np.float32) * 0.01
        arrays[f"{k}_biases"] = rng.standard_normal(cout).astype(np.float32)
    path = tmp_path / "vgg19.npz"
    np.savez(path, **arrays)
    with pytest.raises(IntegrityError, match=r"vgg19.npz: no recorded SHA-256.*sha256sum"):
        L.VGG19Features(path)
    write_sidecar(path)
    feats = L.VGG19Features(path)
    assert feats.source == "vgg19.npz" and feats.bgr_caffe
    conv = feats.features[0]
    assert torch.equal(conv.weight[5, 2], torch.from_numpy(arrays["conv1_1_weights"][:, :, 2, 5]))
    (tmp_path / "vgg19.npz.sha256").write_text("0" * 64 + "  vgg19.npz\n")
    with pytest.raises(IntegrityError, match="tampered or corrupted"):
        L.VGG19Features(path)


def test_vgg_without_a_recorded_hash_is_refused(tmp_path):
    from torchvision.models import vgg19

    path = tmp_path / "my-vgg.pth"
    torch.save(vgg19(weights=None).state_dict(), path)
    with pytest.raises(IntegrityError, match="my-vgg.pth: no recorded SHA-256"):
        L.VGG19Features(path)


def _hub_file(tmp_path, payload) -> Path:
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    tmp = hub / "download.tmp"
    if isinstance(payload, bytes):
        tmp.write_bytes(payload)
    else:
        torch.save(payload, tmp)
    path = hub / f"vgg19-{sha256_file(tmp)[:8]}.pth"  # torch hub names files after their SHA-256
    tmp.rename(path)
    return path


@pytest.mark.parametrize("kind", ["pickle", "truncated"])
def test_torch_hub_vgg_that_fails_to_load_never_suggests_unpickling(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("ANIMEGAN_EDU_HOME", str(tmp_path / "home"))
    marker = tmp_path / "pwned"
    if kind == "pickle":
        path = _hub_file(tmp_path, {"features.0.weight": _Evil(marker)})
    else:
        import io

        buf = io.BytesIO()
        torch.save({"features.0.weight": torch.zeros(3)}, buf)
        path = _hub_file(tmp_path, buf.getvalue()[:300])
    with pytest.raises(WeightsError) as info:
        L.VGG19Features()
    msg = str(info.value)
    assert str(path) in msg and "weights_only" not in msg and "\n" not in msg
    assert not marker.exists()


def test_torch_hub_vgg_with_a_wrong_hash_prefix_is_refused(tmp_path, monkeypatch):
    from torchvision.models import vgg19

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    path = _hub_file(tmp_path, vgg19(weights=None).state_dict())
    path.rename(path.with_name("vgg19-dcbb9e9d.pth"))
    with pytest.raises(IntegrityError, match=r"vgg19-dcbb9e9d.pth: SHA-256 .* does not start with dcbb9e9d"):
        L.VGG19Features()
