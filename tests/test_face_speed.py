"""The face path's shortcut: stop the rotation search after a confident upright face (issue 12)."""

from __future__ import annotations

import pytest
import torch

from animegan_edu.inference import face as FA


@pytest.fixture(scope="module")
def portrait() -> torch.Tensor:
    from skimage import data

    arr = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float() / 255
    return arr[:, 0:300, 80:380].contiguous()


def test_early_stop_finds_the_same_face_as_the_full_search(portrait):
    calls = []
    real = FA._mtcnn

    def counting(arr):
        calls.append(arr.shape)
        return real(arr)

    full = FA.detect_faces(portrait, stop_if_upright=None)
    import unittest.mock as mock

    with mock.patch.object(FA, "_mtcnn", counting):
        quick = FA.detect_faces(portrait)
    assert len(full) == len(quick) == 1
    assert float((full[0].landmarks - quick[0].landmarks).abs().max()) < 1.0
    # one pass on the upright image, one confirming refinement, then the face's own two refinements;
    # the 90/180/270-degree passes are skipped
    assert all(s[:2] != (300, 300) or i == 0 for i, s in enumerate(calls))
    assert len(calls) < 4 + 2


def test_upside_down_face_still_found(portrait):
    faces = FA.detect_faces(portrait.flip(-2).flip(-1))  # turned by 180 degrees
    assert len(faces) == 1 and faces[0].refined
