"""Where the time of one generator pass goes: milliseconds per unit, float or INT8.

Introduced in ``notebooks/07_quantized_cpu_inference.ipynb`` (section 5). The units are the
generator's own (:meth:`animegan_edu.models.Generator.units`); :mod:`animegan_edu.int8.diagnose`
says where the INT8 *error* enters, unit by unit.
"""

from __future__ import annotations

import time

import torch
from torch import nn

__all__ = ["profile_layers"]


def profile_layers(model: nn.Module, x: torch.Tensor, repeat: int = 3) -> dict[str, float]:
    """Median milliseconds per top-level unit (``"block_a.0"`` ... ``"out_layer"``).

    Works for any model with the generator's ``units()``: :class:`~animegan_edu.models.Generator`,
    :class:`~animegan_edu.int8.quantize.QuantizedGenerator` and
    :class:`~animegan_edu.inference.fastpaths.ChannelsLast`. ``"other"`` is the rest of the forward pass
    (decoder resizes, the quantization of the input, layout changes). ``x``: ``(N, 3, H, W)``
    in ``[-1, 1]``.

    Example:
        >>> from animegan_edu.models import Generator
        >>> prof = profile_layers(Generator().eval(), torch.zeros(1, 3, 32, 32), repeat=1)
        >>> list(prof)[:2], list(prof)[-2:], len(prof)
        (['block_a.0', 'block_a.1'], ['out_layer', 'other'], 18)
    """
    units_of = getattr(model, "units", None)
    if not callable(units_of):
        raise TypeError(f"profile_layers needs a generator with units(), got {type(model).__name__}")
    units = units_of(out_layer=True)
    runs: dict[str, list[float]] = {n: [] for n, _ in units}
    runs["other"] = []
    starts: dict[str, float] = {}
    handles = []
    for name, mod in units:
        handles.append(
            mod.register_forward_pre_hook(lambda m, a, n=name: starts.__setitem__(n, time.perf_counter()))
        )
        handles.append(
            mod.register_forward_hook(lambda m, a, y, n=name: runs[n].append(time.perf_counter() - starts[n]))
        )
    try:
        with torch.no_grad():
            model(x)  # warm-up (weight packing, allocator)
            for r in runs.values():
                r.clear()
            for _ in range(repeat):
                t0 = time.perf_counter()
                model(x)
                total = time.perf_counter() - t0
                runs["other"].append(total - sum(runs[n][-1] for n, _ in units))
    finally:
        for h in handles:
            h.remove()
    return {n: 1000 * sorted(v)[len(v) // 2] for n, v in runs.items()}
