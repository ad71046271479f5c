"""Checked exercises of notebooks 00-02: pixel ranges, style strength, the generator's units, discriminators.

Each ``check_<name>(answer)`` calls the student's function on inputs drawn fresh on every call
(``seed=`` draws them again) and compares the result with the library
(:mod:`animegan_edu.imageio`, :mod:`animegan_edu.models`, :mod:`animegan_edu.inference.grading`);
it returns a :class:`~animegan_edu.teaching.checking.Feedback` ("Correct: ..." or "Not yet: ..."
with a hint, ``hint=2`` for a closer one, never the solution). The library's own function is
refused, and so is an SVD in the spectral-norm exercise. The notebooks import this module as
``exercises``.

Example:
    >>> check_to_generator_range(lambda x: 2 * x - 1).correct
    True
    >>> check_patch_grid(lambda s: None)  # doctest: +ELLIPSIS
    Not yet: your function returned None; write its body (it should return an int). (inputs seed ...)
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import nn

from animegan_edu.imageio import to_generator_range
from animegan_edu.inference.grading import blend_strength
from animegan_edu.models import ConvNormLReLU, Discriminator, count_parameters, receptive_field
from animegan_edu.teaching.checking import (
    Feedback,
    Shortcut,
    Wrong,
    answer_number,
    answer_tensor,
    call_answer,
    randint,
    require_close,
    run_check,
    uniform,
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


def check_to_generator_range(
    fn: Callable[[torch.Tensor], torch.Tensor], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """00: ``fn(x01)`` maps ``[0, 1]`` pixels to the generator's ``[-1, 1]``.

    Example:
        >>> check_to_generator_range(lambda x: 2 * x - 1).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        x = torch.rand(2, 3, randint(gen, 3, 9), randint(gen, 3, 9), generator=gen)
        got = answer_tensor(
            call_answer(fn, x.clone(), stub="def to_gen(x01): ..."), tuple(x.shape), "the result"
        )
        require_close(
            got,
            to_generator_range(x),
            "the map is a straight line: stretch the range, then move it.",
            "[0, 1] is 1 wide and [-1, 1] is 2 wide; then look at where 0 must land.",
        )
        return "0 -> -1, 0.5 -> 0, 1 -> 1: the range the generator was trained on."

    return run_check(body, fn, seed=seed, hint=hint, library=(to_generator_range,))


def check_blend_strength(
    fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor],
    *,
    seed: Optional[int] = None,
    hint: int = 1,
) -> Feedback:
    """00: ``fn(photo, stylised, s)`` blends by style strength ``s`` in [0, 1].

    Example:
        >>> check_blend_strength(lambda p, st, s: p + s * (st - p)).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        size = (1, 3, randint(gen, 3, 9), randint(gen, 3, 9))
        p, st = torch.rand(size, generator=gen), torch.rand(size, generator=gen)
        for s in (0.0, round(uniform(gen, 0.05, 0.95), 3), 1.0):
            got = answer_tensor(
                call_answer(fn, p.clone(), st.clone(), s, stub="def blend(photo, stylised, s): ..."),
                size,
                f"the blend at s={s}",
            )
            require_close(
                got,
                blend_strength(p, st, s),
                f"check s={s}: s=0 gives the photo, s=1 the stylised picture, and in between "
                "a linear interpolation.",
                "at s = 0.25 every pixel is a quarter of the way from the photo to the stylised picture.",
            )
        return "s=0 keeps the photo, s=1 the stylised picture, linear in between."

    return run_check(body, fn, seed=seed, hint=hint, library=(blend_strength,))


def check_stride2_size(
    fn: Callable[[int, int, int], int], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """01: ``fn(h, top, bottom)``: output height of a stride-2 3x3 unit padded ``top`` / ``bottom`` rows.

    The generator's units use ``top=0, bottom=1``; PyTorch's usual ``padding=1`` is ``1, 1``.
    The reference is the unit itself, run on a zero picture of height ``h``.

    Example:
        >>> check_stride2_size(lambda h, t, b: (h + t + b - 3) // 2 + 1).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        pads = [(0, 1), (1, 1), (0, 0), (randint(gen, 0, 3), randint(gen, 0, 3))]
        for top, bottom in pads:
            unit = ConvNormLReLU(1, 1, 3, stride=2, padding=(0, 0, top, bottom)).eval()
            for h in (randint(gen, 4, 40) * 2, randint(gen, 4, 40) * 2 + 1, randint(gen, 41, 300)):
                with torch.no_grad():
                    ref = unit(torch.zeros(1, 1, h, 4)).shape[-2]
                got = answer_number(
                    call_answer(fn, h, top, bottom, stub="def out_size(h, top, bottom): ...", want="an int"),
                    f"out_size({h}, {top}, {bottom})",
                )
                if got != ref:
                    raise Wrong(
                        f"out_size({h}, {top}, {bottom}) = {got:g} is not the unit's real output height.",
                        "the padding adds rows before the convolution; then count the positions a "
                        "3-row window can take, moving 2 rows at a time.",
                        "in a padded picture of p rows the window's first row can sit at rows 0, 2, 4, ... "
                        "as long as all 3 of its rows fit; count those positions for a small p by hand.",
                    )
        return (
            "floor((h + top + bottom - 3) / 2) + 1; with (0, 1) odd sizes lose their last row, "
            "with (1, 1) they round up."
        )

    return run_check(body, fn, seed=seed, hint=hint, library=(ConvNormLReLU,))


def _conv_cases(gen: torch.Generator) -> list[tuple[int, int, int, int, bool]]:
    """(in_ch, out_ch, k, groups, bias): a plain conv, a depthwise one, a 1x1 one, a grouped one."""
    c = 8 * randint(gen, 1, 33)
    g = 2 ** randint(gen, 1, 3)
    return [
        (3, 8 * randint(gen, 1, 9), 2 * randint(gen, 0, 4) + 1, 1, bool(randint(gen, 0, 2))),
        (c, c, 3, c, bool(randint(gen, 0, 2))),
        (8 * randint(gen, 1, 33), 8 * randint(gen, 1, 33), 1, 1, False),
        (g * randint(gen, 1, 9), g * randint(gen, 1, 9), 3, g, True),
    ]


def check_conv_parameters(
    fn: Callable[[int, int, int, int, bool], int], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """01: ``fn(in_ch, out_ch, k, groups, bias)`` counts a ``Conv2d``'s parameters, without building it.

    While ``fn`` runs, building a convolution (``nn.Conv2d``) raises: the task says "without building it".

    Example:
        >>> check_conv_parameters(lambda i, o, k, g, b: o * (i // g) * k * k + (o if b else 0)).correct
        True
        >>> check_conv_parameters(lambda i, o, k, g, b: sum(p.numel() for p in torch.nn.Conv2d(
        ...     i, o, k, groups=g, bias=b).parameters())).startswith("Not yet: your function calls")
        True
    """

    def body(gen: torch.Generator) -> str:
        for i, o, k, g, b in _conv_cases(gen):
            ref = count_parameters(nn.Conv2d(i, o, k, groups=g, bias=b))
            stub = "def conv_params(in_ch, out_ch, k, groups, bias): ..."
            got = answer_number(call_answer(fn, i, o, k, g, b, stub=stub, want="an int"), "the count")
            if got != ref:
                if g > 1:
                    first = "with groups > 1 each filter sees only its own group of input channels"
                    closer = "how many input channels does one filter see when groups = in_ch?"
                else:
                    first = "every output channel has its own filter over the input channels"
                    closer = "count the numbers in ONE filter (a k x k window over the channels it sees)"
                raise Wrong(
                    f"conv_params{(i, o, k, g, b)} = {got:g}, not the real count.",
                    f"{first}; a bias is one more number per output channel.",
                    f"{closer}, multiply by the number of filters, then add the biases if bias=True.",
                )
        return "weights out_ch * (in_ch / groups) * k * k, plus out_ch biases when bias=True."

    return run_check(
        body,
        fn,
        seed=seed,
        hint=hint,
        library=(count_parameters,),
        shortcuts=("torch.nn.modules.conv._ConvNd.__init__",),
        reason="count the parameters without building the convolution.",
    )


def _rf_extent(kernels: list[int], strides: list[int]) -> int:
    """The measured width (input pixels) of the stack's field, on a picture large enough not to clip it."""
    reach, jump = 1, 1
    for k, s in zip(kernels, strides):  # an upper bound, only to size the test picture
        reach, jump = reach + k * jump, jump * s
    net = nn.Sequential(*[nn.Conv2d(1, 1, k, s, k // 2) for k, s in zip(kernels, strides)])
    m = receptive_field(net, size=2 * reach + 8 * jump, in_ch=1)
    seen = torch.nonzero(m.sum(0) > 0).flatten()  # a 1x1 kernel after a stride leaves holes: take the span
    return int(seen.max() - seen.min() + 1)


def check_receptive_field(
    fn: Callable[[list[int], list[int]], int], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """02: ``fn(kernels, strides)`` is the receptive field of a stack of convolutions.

    The reference is :func:`animegan_edu.models.receptive_field` measured on such a stack.

    Example:
        >>> def rf(ks, ss):
        ...     r, j = 1, 1
        ...     for k, s in zip(ks, ss):
        ...         r, j = r + (k - 1) * j, j * s
        ...     return r
        >>> check_receptive_field(rf).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        stacks = []
        for _ in range(3):
            n = randint(gen, 2, 6)
            stacks.append(([(1, 3, 3, 5, 7)[randint(gen, 0, 5)] for _ in range(n)],
                           [randint(gen, 1, 3) for _ in range(n)]))  # fmt: skip
        stacks.append(([3, 3, 3], [1, 2, 1]))
        for ks, ss in stacks:
            ref = _rf_extent(ks, ss)
            got = answer_number(
                call_answer(fn, list(ks), list(ss), stub="def rf(kernels, strides): ...", want="an int"),
                "the field",
            )
            if got != ref:
                raise Wrong(
                    f"rf({ks}, {ss}) = {got:g}, but the measured field is different.",
                    "go layer by layer: each kernel widens the field, and the strides spread a layer's "
                    "taps apart in the input.",
                    "keep two numbers as you walk the stack: the field so far and the distance, in "
                    "input pixels, between neighbouring positions of the current layer; which strides "
                    "have changed that distance when layer i is reached?",
                )
        return "r grows by (k - 1) * jump, and the jump multiplies by each stride."

    return run_check(body, fn, seed=seed, hint=hint, library=(receptive_field,))


def check_patch_grid(fn: Callable[[int], int], *, seed: Optional[int] = None, hint: int = 1) -> Feedback:
    """02: ``fn(size)`` is the side of the score grid of ``Discriminator()`` for a square image.

    Example:
        >>> check_patch_grid(lambda s: -(-s // 8)).correct
        True
    """

    def body(gen: torch.Generator) -> str:
        d = Discriminator(ch=4, spectral_norm=False).eval()
        sizes = (8 * randint(gen, 4, 32), 8 * randint(gen, 4, 32) + randint(gen, 1, 8), randint(gen, 17, 64))
        for s in sizes:
            with torch.no_grad():
                ref = d(torch.zeros(1, 3, s, s)).shape[-1]
            got = answer_number(call_answer(fn, s, stub="def grid(size): ...", want="an int"), f"grid({s})")
            if got != ref:
                raise Wrong(
                    f"grid({s}) = {got:g}, the real map is different.",
                    "each stride-2 convolution about halves the side; what happens to an odd side?",
                    "apply the output size of one 3x3, stride-2, padding-1 convolution three times in a "
                    "row (the same rule as notebook 01's first exercise), with integer division.",
                )
        return "three stride-2 convs: ceil(size / 8) scores per side."

    return run_check(body, fn, seed=seed, hint=hint, library=(Discriminator,))


def _matrix_ord2(args: tuple, kwargs: dict) -> bool:
    """Whether a norm call asks for a spectral (ord +-2) or nuclear norm of a matrix."""
    x = args[0] if args else kwargs.get("A", kwargs.get("x", kwargs.get("input")))
    order = args[1] if len(args) > 1 else kwargs.get("ord", kwargs.get("p"))
    ndim = getattr(x, "ndim", 0)
    dim = args[2] if len(args) > 2 else kwargs.get("dim", kwargs.get("axis"))
    matrix = (ndim >= 2 and dim is None) or (isinstance(dim, (tuple, list)) and len(dim) == 2)
    return matrix and order in (2, -2, "nuc")


def _matrix_norm_ord2(args: tuple, kwargs: dict) -> bool:
    order = args[1] if len(args) > 1 else kwargs.get("ord", "fro")
    return order in (2, -2, "nuc")


#: What the spectral-norm exercise may not call: an SVD, an eigenvalue solver, a spectral norm.
NO_SVD: tuple[Any, ...] = (
    "torch.linalg.svd",
    "torch.linalg.svdvals",
    "torch.svd",
    "torch.svd_lowrank",
    "torch.pca_lowrank",
    "torch.Tensor.svd",
    "torch.linalg.eig",
    "torch.linalg.eigvals",
    "torch.linalg.eigh",
    "torch.linalg.eigvalsh",
    "torch.linalg.cond",
    "torch.nn.utils.spectral_norm",
    "torch.nn.utils.parametrizations.spectral_norm",
    "numpy.linalg.svd",
    "numpy.linalg.eig",
    "numpy.linalg.eigvals",
    "numpy.linalg.eigh",
    "numpy.linalg.eigvalsh",
    "numpy.linalg.cond",
    Shortcut("torch.linalg.matrix_norm", _matrix_norm_ord2),
    Shortcut("torch.linalg.norm", _matrix_ord2),
    Shortcut("numpy.linalg.norm", _matrix_ord2),
)


def check_spectral_sigma(
    fn: Callable[[torch.Tensor], Any], *, seed: Optional[int] = None, hint: int = 1
) -> Feedback:
    """02: ``fn(W)`` estimates the largest singular value of a 2-D matrix by power iteration.

    The task says "do not call an SVD": while ``fn`` runs, the SVDs, eigenvalue solvers and
    spectral norms of torch and numpy (:data:`NO_SVD`) raise.

    Example:
        >>> def sigma(w):
        ...     v = torch.ones(w.shape[1])
        ...     for _ in range(200):
        ...         v = w.T @ (w @ v)
        ...         v = v / v.norm()
        ...     return (w @ v).norm()
        >>> check_spectral_sigma(sigma).correct
        True
        >>> check_spectral_sigma(lambda w: torch.linalg.svdvals(w)[0])  # doctest: +ELLIPSIS
        Not yet: your function calls torch.linalg.svdvals: do not call an SVD ...
    """

    def body(gen: torch.Generator) -> str:
        shapes = ((randint(gen, 8, 65), randint(gen, 8, 65)), (randint(gen, 32, 97), randint(gen, 3, 12)))
        for shape in (*shapes, (5, 5)):
            w = torch.randn(*shape, generator=gen)
            ref = float(torch.linalg.matrix_norm(w, ord=2))
            got = answer_number(
                call_answer(fn, w.clone(), stub="def sigma_max(W): ...", want="a number"), "sigma_max"
            )
            if not abs(got - ref) <= 1e-2 * ref:
                raise Wrong(
                    f"sigma_max of a random {shape} matrix is off by {abs(got - ref) / ref:.1%}.",
                    "power iteration: a vector multiplied by the matrix again and again turns towards "
                    "the direction the matrix stretches most.",
                    "go back and forth between the two sides (W takes a vector from the input side to "
                    "the output side, W^T brings it back), normalise after each step, repeat many "
                    "times, then measure how much W stretches your last vector.",
                )
        return "within 1% of the exact largest singular value."

    return run_check(
        body,
        fn,
        seed=seed,
        hint=hint,
        shortcuts=NO_SVD,
        reason="do not call an SVD (or an eigenvalue solver); estimate sigma by power iteration.",
    )
