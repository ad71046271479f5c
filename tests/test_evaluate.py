"""evaluate: the figures behave as their definitions say, on identity, blur and colour casts."""

import json
import math

import kornia
import pytest
import torch
from torch import nn

from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01
from animegan_edu.training.evaluate import PhotoScore, evaluate_generator, image_metrics, summarize


@pytest.fixture(scope="module")
def photo():
    return sample_photo01("astronaut", 128)


def test_identical_images_score_perfectly(photo):
    m = image_metrics(photo, photo, photo)
    assert math.isinf(m["psnr_db"]) and math.isinf(m["input_psnr_db"])
    assert m["lab_shift"] == pytest.approx(0, abs=1e-6)
    assert m["laplacian_ratio"] == pytest.approx(1.0) and m["edge_corr"] == pytest.approx(1.0)


def test_blur_lowers_the_laplacian_ratio_and_a_cast_moves_lab(photo):
    blurred = kornia.filters.gaussian_blur2d(photo[None], (9, 9), (3.0, 3.0))[0]
    assert image_metrics(blurred, photo, photo)["laplacian_ratio"] < 0.4
    orange = (photo + torch.tensor([0.15, 0.05, -0.1]).view(3, 1, 1)).clamp(0, 1)
    assert image_metrics(orange, photo, photo)["lab_shift"] > 10
    assert image_metrics(photo, photo, photo)["lab_shift"] < 1e-4


def test_shapes_must_match(photo):
    with pytest.raises(ValueError, match="one shape"):
        image_metrics(photo, photo[:, :64], photo)


class Identity(nn.Module):
    def forward(self, x):
        return x


def test_identity_model_scores_exactly_the_unchanged_input():
    scores = evaluate_generator(Identity(), size=96, names=["coffee", "china"])
    for s in scores:
        assert s.psnr_db == pytest.approx(s.input_psnr_db)
        assert s.edge_corr == pytest.approx(1.0)
    # float64 PSNR sees the float32 rounding of (2x - 1 + 1) / 2: about 1e-9 dB
    assert summarize(scores)["min_margin_db"] == pytest.approx(0.0, abs=1e-6)


def test_validation_photos_are_all_available_offline():
    for name in VALIDATION_PHOTOS:
        x = sample_photo01(name, 64)
        assert x.shape[0] == 3 and max(x.shape[-2:]) == 64 and 0 <= x.min() and x.max() <= 1


def test_non_finite_generator_is_refused():
    class Broken(nn.Module):
        def forward(self, x):
            return x * float("nan")

    with pytest.raises(ValueError, match="non-finite"):
        evaluate_generator(Broken(), size=64, names=["coffee"])


def test_cli_json_on_the_bundled_weights(capsys):
    from animegan_edu.cli.main import main

    assert main(["evaluate", "--size", "64", "--photos", "coffee", "rocket", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "demo" in out["weights"] and len(out["photos"]) == 2
    assert set(out["summary"]["64"]) >= {
        "mean_psnr_db",
        "min_margin_db",
        "max_lab_shift",
        "min_laplacian_ratio",
    }
    PhotoScore(**out["photos"][0])  # the JSON rows are complete


def test_cli_refuses_absurd_sizes(capsys):
    from animegan_edu.cli.main import main

    assert main(["evaluate", "--size", "100000"]) == 2
    assert "--size 100000" in capsys.readouterr().err
