"""animegan_edu.checks (finite numbers and ranges) and animegan_edu.machine (CPU facts, threads)."""

from __future__ import annotations

import math

import pytest
import torch

from animegan_edu.checks import finite_float, finite_in_range, require_finite
from animegan_edu.machine import cpu_class, cpu_info, num_threads


@pytest.mark.parametrize(
    "bad", [math.nan, math.inf, -math.inf, (1.0, math.nan), [0.0, math.inf], torch.tensor([1.0, math.nan])]
)
def test_require_finite_rejects_nan_and_inf_naming_the_value(bad):
    with pytest.raises(ValueError) as info:
        require_finite("contrast", bad)
    msg = str(info.value)
    assert msg.startswith("contrast must be finite (no NaN or infinity), got") and "\n" not in msg


@pytest.mark.parametrize("good", [0, 1.5, -3, (1.0, 2.0, 3.0), torch.ones(2, 2), torch.tensor(0.5)])
def test_require_finite_accepts_finite_numbers(good):
    assert require_finite("gain", good) is None


@pytest.mark.parametrize("bad", ["a lot", None, object()])
def test_what_is_not_a_number_is_one_line(bad):
    for check in (lambda: require_finite("glow", bad), lambda: finite_float("glow", bad)):
        with pytest.raises(ValueError, match=r"^glow must be a number, got"):
            check()


def test_finite_float_converts():
    assert finite_float("strength", 1) == 1.0 and isinstance(finite_float("strength", 1), float)
    assert finite_float("strength", torch.tensor(0.25)) == 0.25
    with pytest.raises(ValueError, match="strength must be finite"):
        finite_float("strength", float("nan"))


def test_finite_in_range_checks_both_ends_and_nan():
    assert finite_in_range("temporal weight", 0, 0, 0.95) == 0.0
    assert finite_in_range("temporal weight", 0.95, 0, 0.95) == 0.95
    for bad in (-0.01, 0.96, math.nan, math.inf):
        with pytest.raises(ValueError) as info:
            finite_in_range("temporal weight", bad, 0, 0.95)
        assert str(info.value) == f"temporal weight must be a finite number in [0, 0.95], got {bad!r}"


# --------------------------------------------------------------------------- machine
def test_cpu_info_has_the_flags_the_path_choice_reads():
    info = cpu_info()
    assert {"model", "logical_cpus", "avx2", "avx512", "vnni", "amx", "avx512_bf16"} <= set(info)
    assert all(isinstance(info[k], bool) for k in ("avx2", "avx512", "vnni", "amx", "avx512_bf16"))
    assert cpu_class() == cpu_class(info)


@pytest.mark.parametrize(
    ("flags", "cls"),
    [
        ({"amx": True, "avx512": True, "vnni": True}, "amx"),
        ({"avx512": True, "vnni": True, "avx512_bf16": True}, "avx512_vnni_bf16"),
        ({"avx512": True, "vnni": True}, "avx512_vnni"),
        ({"avx512": True}, "avx512"),
        ({"avx2": True, "vnni": True}, "avx2_vnni"),
        ({"avx2": True}, "avx2"),
        ({}, "other"),
    ],
)
def test_cpu_class(flags, cls):
    assert cpu_class(flags) == cls


def test_num_threads_restores_and_refuses_zero():
    before = torch.get_num_threads()
    other = 2 if before == 1 else 1
    with num_threads(other):
        assert torch.get_num_threads() == other
    assert torch.get_num_threads() == before
    with num_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match=r"threads must be a whole number from 1 to \d+, got 0"):
        with num_threads(0):
            pass
    with pytest.raises(ValueError, match="got 100000"), num_threads(100000):  # issue 24: OpenMP aborted
        pass
    assert torch.get_num_threads() == before
