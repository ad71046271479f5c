"""Progress from inside one generator pass, for the Studio's progress bar.

At 1024 px one pass of the generator takes 10-30 s on a CPU, and it is a single call: a
progress bar fed only before and after it sits still. :func:`pass_progress` hooks the
generator's units (``block_a.0``, ``block_a.1``, ... ``out_layer``) and reports, after each
unit, the fraction of the pass's multiply-adds done so far, so the bar moves through the
pass in about 20 steps. A model without such units (a plain function) reports nothing.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Callable, Iterator

import torch
import torch.nn as nn

__all__ = ["pass_units", "unit_costs", "pass_progress"]


def pass_units(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The units whose ends mark progress: the children of the model's children (or its children).

    Example:
        >>> from animegan_edu.models import Generator
        >>> names = [n for n, _ in pass_units(Generator())]
        >>> len(names), names[0], names[-1]
        (18, 'block_a.0', 'out_layer.1')
    """
    units: list[tuple[str, nn.Module]] = []
    for name, child in model.named_children():
        grand = list(child.named_children())
        if grand:
            units.extend((f"{name}.{g}", m) for g, m in grand)
        else:
            units.append((name, child))
    return units


_COSTS: "weakref.WeakKeyDictionary[nn.Module, list[tuple[str, float]]]" = weakref.WeakKeyDictionary()


def unit_costs(model: nn.Module, probe: int = 64) -> list[tuple[str, float]]:
    """Each unit's share of one pass's convolution multiply-adds, in the order the units run.

    Measured once per model on a ``(1, 3, probe, probe)`` input (shares do not depend on the
    picture's size: every layer scales with the pixel count). Shares sum to 1.

    Example:
        >>> from animegan_edu.models import Generator
        >>> shares = unit_costs(Generator())
        >>> round(sum(s for _, s in shares), 6), max(shares, key=lambda u: u[1])[0].startswith("block_")
        (1.0, True)
    """
    if model in _COSTS:
        return _COSTS[model]
    units = pass_units(model)
    order: list[str] = []
    macs: dict[str, float] = {n: 0.0 for n, _ in units}
    current: list[str] = []
    handles = []

    def enter(name: str) -> Callable:
        return lambda _m, _a: current.append(name)

    def leave(name: str) -> Callable:
        def hook(_m, _a, _y) -> None:
            current.pop()
            if name not in order:
                order.append(name)

        return hook

    def conv_hook(m: nn.Conv2d, _a, y: torch.Tensor) -> None:
        if current:
            macs[current[-1]] += (
                float(y.numel()) * m.in_channels / m.groups * m.kernel_size[0] * m.kernel_size[1]
            )

    for name, unit in units:
        handles.append(unit.register_forward_pre_hook(enter(name)))
        handles.append(unit.register_forward_hook(leave(name)))
        for sub in unit.modules():
            if isinstance(sub, nn.Conv2d):
                handles.append(sub.register_forward_hook(conv_hook))
    try:
        p = next(model.parameters(), None)
        x = torch.zeros(1, 3, probe, probe, device=p.device if p is not None else "cpu")
        with torch.inference_mode():
            model(x)
    finally:
        for h in handles:
            h.remove()
    total = sum(macs.values()) or 1.0
    _COSTS[model] = [(n, macs[n] / total) for n in order]
    return _COSTS[model]


@contextlib.contextmanager
def pass_progress(model: object, report: Callable[[float], None], runs: object = None) -> Iterator[None]:
    """While inside, every pass of ``model`` calls ``report(fraction done)`` after each unit.

    Fractions rise from about 0.01 to 1.0 within a pass (and start again with the next pass).
    ``model`` without units (not an ``nn.Module``, or without children) reports nothing.
    ``runs``: the module that will actually run in ``model``'s place, when it is another one
    with the same unit names (its INT8 model, :func:`animegan_edu.inference.pipeline.model_for_path`);
    its units report too, with the shares measured on ``model``.

    Example:
        >>> from animegan_edu.models import Generator
        >>> g, seen = Generator().eval(), []
        >>> with pass_progress(g, seen.append), torch.inference_mode():
        ...     _ = g(torch.zeros(1, 3, 32, 32))
        >>> len(seen), seen == sorted(seen), round(seen[-1], 6)
        (18, True, 1.0)
    """
    if not isinstance(model, nn.Module) or not pass_units(model):
        yield
        return
    costs = unit_costs(model)
    cumulative, acc = {}, 0.0
    for name, share in costs:
        acc += share
        cumulative[name] = min(1.0, acc)
    hooked = [model] + ([runs] if isinstance(runs, nn.Module) and runs is not model else [])
    handles = [
        unit.register_forward_hook(lambda _m, _a, _y, f=cumulative[name]: report(f))
        for m in hooked
        for name, unit in pass_units(m)
        if name in cumulative
    ]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
