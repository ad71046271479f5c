"""Checked exercises of notebooks 00-02: pixel ranges, style strength, the generator's units, discriminators.

Each ``check_<name>(answer)`` calls the student's function on fresh inputs and compares the
result with the library (:mod:`animegan_edu.imageio`, :mod:`animegan_edu.models`,
:mod:`animegan_edu.inference.grading`); it returns a
:class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..." with a
hint, never the solution). The notebooks import this module as ``exercises``.

Example:
    >>> check_to_generator_range(lambda x: 2 * x - 1).correct
    True
    >>> check_patch_grid(lambda s: None)
    Not yet: your function returned None; write its body (it should return an int).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from animegan_edu.imageio import to_generator_range
from animegan_edu.inference.grading import blend_strength
from animegan_edu.models import ConvNormLReLU, Discriminator, count_parameters, receptive_field
from animegan_edu.teaching.checking import (
    Feedback,
    Wrong,
    answer_number,
    answer_tensor,
    call_answer,
    require_close,
    run_check,
    seeded,
)

__all__ = [  # noqa: RUF022 - in notebook order
    "check_to_generator_range",
    "check_blend_strength",
    "check_stride2_size",
    "check_conv_parameters",
    "check_receptive_field",
    "check_patch_grid",
    "check_spectral_sigma",
]


def check_to_generator_range(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """00: ``fn(x01)`` maps ``[0, 1]`` pixels to the generator's ``[-1, 1]``.

    Example:
        >>> check_to_generator_range(lambda x: 2 * x - 1).correct
        True
    """

    def body() -> str:
        x = torch.rand(2, 3, 5, 7, generator=seeded(0))
        got = answer_tensor(
            call_answer(fn, x.clone(), stub="def to_gen(x01): ..."), tuple(x.shape), "the result"
        )
        require_close(got, to_generator_range(x), "0 must become -1, 0.5 must become 0 and 1 must become 1.")
        return "0 -> -1, 0.5 -> 0, 1 -> 1: the range the generator was trained on."

    return run_check(body)


def check_blend_strength(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> Feedback:
    """00: ``fn(photo, stylised, s)`` blends by style strength ``s`` in [0, 1].

    Example:
        >>> check_blend_strength(lambda p, st, s: p + s * (st - p)).correct
        True
    """

    def body() -> str:
        g = seeded(1)
        p, st = torch.rand(1, 3, 6, 6, generator=g), torch.rand(1, 3, 6, 6, generator=g)
        for s in (0.0, 0.3, 1.0):
            got = answer_tensor(
                call_answer(fn, p.clone(), st.clone(), s, stub="def blend(photo, stylised, s): ..."),
                tuple(p.shape),
                f"the blend at s={s}",
            )
            require_close(
                got,
                blend_strength(p, st, s),
                f"check s={s}: s=0 must give the photo, s=1 the stylised image, "
                "and values in between a straight line between them.",
            )
        return "s=0 keeps the photo, s=1 the stylised picture, linear in between."

    return run_check(body)


def check_stride2_size(fn: Callable[[int, int, int], int]) -> Feedback:
    """01: ``fn(h, top, bottom)``: output height of a stride-2 3x3 unit padded ``top`` / ``bottom`` rows.

    The generator's units use ``top=0, bottom=1``; PyTorch's usual ``padding=1`` is ``1, 1``.

    Example:
        >>> check_stride2_size(lambda h, t, b: (h + t + b - 3) // 2 + 1).correct
        True
    """

    def body() -> str:
        for top, bottom in ((0, 1), (1, 1), (0, 0), (2, 1)):
            unit = ConvNormLReLU(1, 1, 3, stride=2, padding=(0, 0, top, bottom)).eval()
            for h in (8, 9, 31, 64, 255):
                with torch.no_grad():
                    ref = unit(torch.zeros(1, 1, h, 4)).shape[-2]
                got = answer_number(
                    call_answer(fn, h, top, bottom, stub="def out_size(h, top, bottom): ...", want="an int"),
                    f"out_size({h}, {top}, {bottom})",
                )
                if got != ref:
                    raise Wrong(
                        f"out_size({h}, {top}, {bottom}) = {got:g} is not the unit's real output height. "
                        "Hint: "
                        "pad first, then floor((h_padded - kernel) / stride) + 1."
                    )
        return (
            "floor((h + top + bottom - 3) / 2) + 1; with (0, 1) odd sizes lose their last row, "
            "with (1, 1) they round up."
        )

    return run_check(body)


def check_conv_parameters(fn: Callable[[int, int, int, int, bool], int]) -> Feedback:
    """01: ``fn(in_ch, out_ch, k, groups, bias)`` counts a ``Conv2d``'s parameters.

    Example:
        >>> check_conv_parameters(lambda i, o, k, g, b: o * (i // g) * k * k + (o if b else 0)).correct
        True
    """

    def body() -> str:
        for i, o, k, g, b in (
            (3, 32, 7, 1, False),
            (256, 256, 3, 256, True),
            (64, 128, 1, 1, False),
            (12, 24, 3, 4, True),
        ):
            ref = count_parameters(nn.Conv2d(i, o, k, groups=g, bias=b))
            got = answer_number(
                call_answer(
                    fn,
                    i,
                    o,
                    k,
                    g,
                    b,
                    stub="def conv_params(in_ch, out_ch, k, groups, bias): ...",
                    want="an int",
                ),
                "the count",
            )
            if got != ref:
                hint = (
                    "a depthwise conv (groups = in_ch) sees one input channel per filter"
                    if g > 1
                    else "each of out_ch filters has in_ch * k * k weights"
                )
                raise Wrong(
                    f"conv_params{(i, o, k, g, b)} = {got:g}, not the real count. Hint: {hint}; a bias adds "
                    "one per output."
                )
        return "weights out_ch * (in_ch / groups) * k * k, plus out_ch biases when bias=True."

    return run_check(body)


def _rf_extent(kernels: list[int], strides: list[int]) -> int:
    net = nn.Sequential(*[nn.Conv2d(1, 1, k, s, k // 2) for k, s in zip(kernels, strides)])
    m = receptive_field(net, size=96, in_ch=1)
    return int((m.sum(0) > 0).sum())


def check_receptive_field(fn: Callable[[list[int], list[int]], int]) -> Feedback:
    """02: ``fn(kernels, strides)`` is the receptive field of a stack of convolutions.

    Example:
        >>> def rf(ks, ss):
        ...     r, j = 1, 1
        ...     for k, s in zip(ks, ss):
        ...         r, j = r + (k - 1) * j, j * s
        ...     return r
        >>> check_receptive_field(rf).correct
        True
    """

    def body() -> str:
        for ks, ss in (
            ([3, 3, 3], [1, 2, 1]),
            ([5, 3], [2, 2]),
            ([3, 3, 3, 3, 3], [1, 2, 1, 2, 1]),
            ([7], [1]),
        ):
            ref = _rf_extent(ks, ss)
            got = answer_number(
                call_answer(fn, list(ks), list(ss), stub="def rf(kernels, strides): ...", want="an int"),
                "the field",
            )
            if got != ref:
                raise Wrong(
                    f"rf({ks}, {ss}) = {got:g}, but the measured field is different. Hint: each layer adds "
                    "(k - 1) times the product of the strides *before* it."
                )
        return "r grows by (k - 1) * jump, and the jump multiplies by each stride."

    return run_check(body)


def check_patch_grid(fn: Callable[[int], int]) -> Feedback:
    """02: ``fn(size)`` is the side of the score grid of ``Discriminator()`` for a square image.

    Example:
        >>> check_patch_grid(lambda s: -(-s // 8)).correct
        True
    """

    def body() -> str:
        d = Discriminator(ch=4, spectral_norm=False).eval()
        for s in (64, 100, 250, 256):
            with torch.no_grad():
                ref = d(torch.zeros(1, 3, s, s)).shape[-1]
            got = answer_number(call_answer(fn, s, stub="def grid(size): ...", want="an int"), f"grid({s})")
            if got != ref:
                raise Wrong(
                    f"grid({s}) = {got:g}, the real map is different. Hint: three stride-2 convs with "
                    "padding 1; "
                    "each one gives floor((h + 2 - 3) / 2) + 1."
                )
        return "three stride-2 convs: ceil(size / 8) scores per side."

    return run_check(body)


def check_spectral_sigma(fn: Callable[[torch.Tensor], Any]) -> Feedback:
    """02: ``fn(W)`` estimates the largest singular value of a 2-D matrix (e.g. by power iteration).

    Example:
        >>> check_spectral_sigma(lambda w: torch.linalg.svdvals(w)[0]).correct
        True
    """

    def body() -> str:
        g = seeded(2)
        for shape in ((16, 27), (64, 9), (5, 5)):
            w = torch.randn(*shape, generator=g)
            ref = float(torch.linalg.matrix_norm(w, ord=2))
            got = answer_number(
                call_answer(fn, w.clone(), stub="def sigma_max(W): ...", want="a number"), "sigma_max"
            )
            if not abs(got - ref) <= 1e-2 * ref:
                raise Wrong(
                    f"sigma_max of a random {shape} matrix is off by {abs(got - ref) / ref:.1%}. Hint: "
                    "repeat "
                    "v = W^T u / |W^T u|, u = W v / |W v| (30 times or more); then sigma = u . W v."
                )
        return "within 1% of the exact largest singular value."

    return run_check(body)
