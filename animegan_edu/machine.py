"""Facts about this machine that decide which inference path is fastest: CPU features and threads.

:func:`cpu_info` reads what the CPU offers (AVX2, AVX-512, VNNI, AMX, AVX-512 BF16),
:func:`cpu_class` names its class for the measured path tables, :func:`num_threads`
runs a block with a given number of PyTorch threads, and :func:`max_threads` is the most
threads any setting may ask for (the number of CPUs x 4: more only costs memory, and
``threads: 100000`` made OpenMP abort).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import torch

__all__ = ["cpu_info", "cpu_class", "num_threads", "max_threads", "THREADS_PER_CPU", "has_native_bf16"]

#: The most threads per logical CPU a setting may ask for (:func:`max_threads`).
THREADS_PER_CPU = 4


def max_threads() -> int:
    """The most intra-op threads a setting may ask for: the number of logical CPUs x 4.

    Example:
        >>> max_threads() >= THREADS_PER_CPU
        True
    """
    return (os.cpu_count() or 1) * THREADS_PER_CPU


def cpu_info() -> dict[str, object]:
    """What the CPU offers for INT8 and bf16: model name, AVX2, AVX-512, VNNI, AMX, AVX-512 BF16.

    Example:
        >>> {"model", "logical_cpus", "avx2", "avx512", "vnni", "amx"} <= set(cpu_info())
        True
    """
    name = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    flag = lambda f: bool(getattr(torch.cpu, f, lambda: False)())  # noqa: E731
    return {
        "model": name,
        "logical_cpus": os.cpu_count(),
        "avx2": flag("_is_avx2_supported"),
        "avx512": flag("_is_avx512_supported"),
        "vnni": flag("_is_vnni_supported"),
        "amx": flag("_is_amx_tile_supported"),
        "avx512_bf16": flag("_is_avx512_bf16_supported"),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def cpu_class(info: dict[str, object] | None = None) -> str:
    """The CPU's class for choosing a path: ``"amx"``, ``"avx512_vnni_bf16"``, ``"avx512_vnni"``,
    ``"avx512"``, ``"avx2_vnni"``, ``"avx2"`` or ``"other"``.

    Args:
        info: a :func:`cpu_info` dict (``avx2``, ``avx512``, ``vnni``, ``amx``, optional
            ``avx512_bf16``); default: this machine's.

    Example:
        >>> cpu_class({"avx2": True, "avx512": False, "vnni": False, "amx": False})
        'avx2'
        >>> cpu_class({"avx2": True, "avx512": True, "vnni": True, "amx": False, "avx512_bf16": True})
        'avx512_vnni_bf16'
    """
    if info is None:
        info = cpu_info()
    if info.get("amx"):
        return "amx"
    if info.get("avx512") and info.get("vnni"):
        return "avx512_vnni_bf16" if info.get("avx512_bf16") else "avx512_vnni"
    if info.get("avx512"):
        return "avx512"
    if info.get("avx2"):
        return "avx2_vnni" if info.get("vnni") else "avx2"
    return "other"


@contextlib.contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """Temporarily use ``n`` intra-op threads (``None``: leave as is).

    Raises:
        ValueError: ``n`` is not a whole number from 1 to :func:`max_threads`.

    Example:
        >>> before = torch.get_num_threads()
        >>> with num_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    old = torch.get_num_threads()
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= max_threads():
            raise ValueError(f"threads must be a whole number from 1 to {max_threads()}, got {n!r}")
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def has_native_bf16(device: torch.device | None = None) -> bool:
    """Whether bf16 autocast runs on native instructions here (AMX or AVX-512 BF16, or a bf16 GPU).

    Example:
        >>> isinstance(has_native_bf16(), bool)
        True
    """
    if device is not None and device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    cpu = torch.cpu
    return bool(
        getattr(cpu, "_is_amx_tile_supported", lambda: False)()
        or getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
    )
