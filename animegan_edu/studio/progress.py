"""Progress from inside one generator pass, for the Studio's progress bar.

At 1024 px one pass of the generator takes 10-30 s on a CPU, and it is a single call: a
progress bar fed only before and after it sits still. :func:`pass_progress` hooks the
generator's units (``block_a.0``, ``block_a.1``, ... ``out_layer``) and reports, after each
unit, the fraction of the pass's multiply-adds done so far, so the bar moves through the
pass in about 17 steps. A model without such units (a plain function) reports nothing.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Callable, Iterator

import torch.nn as nn

from animegan_edu.models import macs_by_unit

__all__ = ["pass_units", "unit_costs", "pass_progress"]


def pass_units(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The units whose ends mark progress.

    A model with a ``units`` method (:meth:`animegan_edu.models.Generator.units`, and the INT8
    and channels-last models built from it) gives its units, output layer included; any other
    module the children of its children (or its children).

    Example:
        >>> from animegan_edu.models import Generator
        >>> names = [n for n, _ in pass_units(Generator())]
        >>> len(names), names[0], names[-1]
        (17, 'block_a.0', 'out_layer')
    """
    units = getattr(model, "units", None)
    if callable(units):
        return units(out_layer=True)
    found: list[tuple[str, nn.Module]] = []
    for name, child in model.named_children():
        grand = list(child.named_children())
        if grand:
            found.extend((f"{name}.{g}", m) for g, m in grand)
        else:
            found.append((name, child))
    return found


_COSTS: "weakref.WeakKeyDictionary[nn.Module, list[tuple[str, float]]]" = weakref.WeakKeyDictionary()


def unit_costs(model: nn.Module, probe: int = 64) -> list[tuple[str, float]]:
    """Each unit's share of one pass's multiply-adds (:func:`animegan_edu.models.macs_by_unit`).

    In the order of :func:`pass_units`.

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
    macs = macs_by_unit(model, pass_units(model), probe)
    total = sum(macs.values()) or 1
    _COSTS[model] = [(n, m / total) for n, m in macs.items()]
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
        >>> import torch
        >>> from animegan_edu.models import Generator
        >>> g, seen = Generator().eval(), []
        >>> with pass_progress(g, seen.append), torch.inference_mode():
        ...     _ = g(torch.zeros(1, 3, 32, 32))
        >>> len(seen), seen == sorted(seen), round(seen[-1], 6)
        (17, True, 1.0)
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
