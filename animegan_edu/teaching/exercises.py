"""Checked exercises for the notebooks: one ``check_<name>(answer)`` per exercise.

Every checker verifies an answer **by computing**: it calls the student's function on fresh
random inputs and compares the result with the library's own implementation (``losses``,
``models``, ``grading``, ``face``, ``imageio``, ``pipeline``, ``bench``), or compares a number
with one computed from the library. Nothing is compared with a stored answer.

A checker never raises on an answer of the right kind: it returns a :class:`Feedback`, a
string that reads ``"Correct: ..."`` or ``"Not yet: ..."`` with a hint (never the solution),
and whose ``correct`` attribute says which. An unwritten stub (returning ``None`` or raising
``NotImplementedError``) gets a "Not yet" too, so a notebook run unmodified shows no traceback.

Example:
    >>> from animegan_edu import losses
    >>> check_gram(losses.gram).correct
    True
    >>> check_gram(lambda feat: None)
    Not yet: your function returned None; write its body (it should return a tensor).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import torch
from torch import nn

__all__ = [  # noqa: RUF022 - in notebook order
    "Feedback",
    "check_to_generator_range",
    "check_blend_strength",
    "check_stride2_size",
    "check_conv_parameters",
    "check_receptive_field",
    "check_patch_grid",
    "check_spectral_sigma",
    "check_gram",
    "check_lsgan_d_loss",
    "check_total_variation",
    "check_lsgan_g_loss",
    "check_generator_loss",
    "check_similarity",
    "check_invert_similarity",
    "check_luma",
    "check_blue_boost",
    "check_qparams",
    "check_fake_quantize",
    "check_psnr",
    "check_resize_size",
    "check_finish",
]


class Feedback(str):
    """A checker's message; ``correct`` is true for "Correct: ..." messages; ``repr`` is the plain message.

    Example:
        >>> Feedback.ok("well done").correct
        True
        >>> Feedback.no("try again")
        Not yet: try again
    """

    correct: bool

    @classmethod
    def ok(cls, message: str) -> "Feedback":
        fb = cls("Correct: " + message)
        fb.correct = True
        return fb

    @classmethod
    def no(cls, message: str) -> "Feedback":
        fb = cls("Not yet: " + message)
        fb.correct = False
        return fb

    def __repr__(self) -> str:
        return str(self)


class _Wrong(Exception):
    """Internal: carries a "Not yet" message out of a checker's body."""


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _call(fn: Any, *args: Any, stub: str, want: str = "a tensor") -> Any:
    """Call the student's function; turn a missing body, a wrong type or an exception into _Wrong."""
    if not callable(fn):
        raise _Wrong(f"expected a function like `{stub}`, got {type(fn).__name__}.")
    try:
        out = fn(*args)
    except NotImplementedError:
        raise _Wrong(
            f"your function is not written yet (it raised NotImplementedError); fill in `{stub}`."
        ) from None
    except Exception as exc:  # noqa: BLE001 - any error in student code becomes feedback
        raise _Wrong(
            f"your function raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(
                ": "
            )
            + ". Test it on a small input first."
        ) from None
    if out is None:
        raise _Wrong(f"your function returned None; write its body (it should return {want}).")
    return out


def _tensor(out: Any, shape: tuple[int, ...], what: str) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        raise _Wrong(f"{what} should be a torch.Tensor, got {type(out).__name__}.")
    if tuple(out.shape) != tuple(shape):
        raise _Wrong(f"{what} has shape {tuple(out.shape)}, expected {tuple(shape)}.")
    return out.detach().to(torch.float64)


def _number(out: Any, what: str) -> float:
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            raise _Wrong(f"{what} should be a single number, got a tensor of shape {tuple(out.shape)}.")
        return float(out.detach())
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return float(out)
    raise _Wrong(f"{what} should be a number, got {type(out).__name__}.")


def _close(got: torch.Tensor, ref: torch.Tensor, hint: str, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    if not torch.allclose(got, ref.detach().to(torch.float64), atol=atol, rtol=rtol):
        err = (got - ref.to(torch.float64)).abs().max().item()
        raise _Wrong(f"values differ from the library's by up to {err:.3g}. Hint: {hint}")


def _run(body: Callable[[], str]) -> Feedback:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
        try:
            return Feedback.ok(body())
        except _Wrong as w:
            return Feedback.no(str(w))


def check_to_generator_range(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """00: ``fn(x01)`` maps ``[0, 1]`` pixels to the generator's ``[-1, 1]``.

    Example:
        >>> check_to_generator_range(lambda x: 2 * x - 1).correct
        True
    """
    from animegan_edu.imageio import to_generator_range

    def body() -> str:
        x = torch.rand(2, 3, 5, 7, generator=_gen(0))
        got = _tensor(_call(fn, x.clone(), stub="def to_gen(x01): ..."), tuple(x.shape), "the result")
        _close(got, to_generator_range(x), "0 must become -1, 0.5 must become 0 and 1 must become 1.")
        return "0 -> -1, 0.5 -> 0, 1 -> 1: the range the generator was trained on."

    return _run(body)


def check_blend_strength(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> Feedback:
    """00: ``fn(photo, stylised, s)`` blends by style strength ``s`` in [0, 1].

    Example:
        >>> check_blend_strength(lambda p, st, s: p + s * (st - p)).correct
        True
    """
    from animegan_edu.inference.grading import blend_strength

    def body() -> str:
        g = _gen(1)
        p, st = torch.rand(1, 3, 6, 6, generator=g), torch.rand(1, 3, 6, 6, generator=g)
        for s in (0.0, 0.3, 1.0):
            got = _tensor(
                _call(fn, p.clone(), st.clone(), s, stub="def blend(photo, stylised, s): ..."),
                tuple(p.shape),
                f"the blend at s={s}",
            )
            _close(
                got,
                blend_strength(p, st, s),
                f"check s={s}: s=0 must give the photo, s=1 the stylised image, "
                "and values in between a straight line between them.",
            )
        return "s=0 keeps the photo, s=1 the stylised picture, linear in between."

    return _run(body)


def check_stride2_size(fn: Callable[[int, int, int], int]) -> Feedback:
    """01: ``fn(h, top, bottom)``: output height of a stride-2 3x3 unit padded ``top`` / ``bottom`` rows.

    The generator's units use ``top=0, bottom=1``; PyTorch's usual ``padding=1`` is ``1, 1``.

    Example:
        >>> check_stride2_size(lambda h, t, b: (h + t + b - 3) // 2 + 1).correct
        True
    """
    from animegan_edu.models import ConvNormLReLU

    def body() -> str:
        for top, bottom in ((0, 1), (1, 1), (0, 0), (2, 1)):
            unit = ConvNormLReLU(1, 1, 3, stride=2, padding=(0, 0, top, bottom)).eval()
            for h in (8, 9, 31, 64, 255):
                with torch.no_grad():
                    ref = unit(torch.zeros(1, 1, h, 4)).shape[-2]
                got = _number(
                    _call(fn, h, top, bottom, stub="def out_size(h, top, bottom): ...", want="an int"),
                    f"out_size({h}, {top}, {bottom})",
                )
                if got != ref:
                    raise _Wrong(
                        f"out_size({h}, {top}, {bottom}) = {got:g} is not the unit's real output height. Hint: "
                        "pad first, then floor((h_padded - kernel) / stride) + 1."
                    )
        return "floor((h + top + bottom - 3) / 2) + 1; with (0, 1) odd sizes lose their last row, with (1, 1) they round up."

    return _run(body)


def check_conv_parameters(fn: Callable[[int, int, int, int, bool], int]) -> Feedback:
    """01: ``fn(in_ch, out_ch, k, groups, bias)`` counts a ``Conv2d``'s parameters.

    Example:
        >>> check_conv_parameters(lambda i, o, k, g, b: o * (i // g) * k * k + (o if b else 0)).correct
        True
    """
    from animegan_edu.models import count_parameters

    def body() -> str:
        for i, o, k, g, b in (
            (3, 32, 7, 1, False),
            (256, 256, 3, 256, True),
            (64, 128, 1, 1, False),
            (12, 24, 3, 4, True),
        ):
            ref = count_parameters(nn.Conv2d(i, o, k, groups=g, bias=b))
            got = _number(
                _call(
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
                raise _Wrong(
                    f"conv_params{(i, o, k, g, b)} = {got:g}, not the real count. Hint: {hint}; a bias adds one per output."
                )
        return "weights out_ch * (in_ch / groups) * k * k, plus out_ch biases when bias=True."

    return _run(body)


def _rf_extent(kernels: list[int], strides: list[int]) -> int:
    from animegan_edu.models import receptive_field

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
            got = _number(
                _call(fn, list(ks), list(ss), stub="def rf(kernels, strides): ...", want="an int"),
                "the field",
            )
            if got != ref:
                raise _Wrong(
                    f"rf({ks}, {ss}) = {got:g}, but the measured field is different. Hint: each layer adds "
                    "(k - 1) times the product of the strides *before* it."
                )
        return "r grows by (k - 1) * jump, and the jump multiplies by each stride."

    return _run(body)


def check_patch_grid(fn: Callable[[int], int]) -> Feedback:
    """02: ``fn(size)`` is the side of the score grid of ``Discriminator()`` for a square image.

    Example:
        >>> check_patch_grid(lambda s: -(-s // 8)).correct
        True
    """
    from animegan_edu.models import Discriminator

    def body() -> str:
        d = Discriminator(ch=4, spectral_norm=False).eval()
        for s in (64, 100, 250, 256):
            with torch.no_grad():
                ref = d(torch.zeros(1, 3, s, s)).shape[-1]
            got = _number(_call(fn, s, stub="def grid(size): ...", want="an int"), f"grid({s})")
            if got != ref:
                raise _Wrong(
                    f"grid({s}) = {got:g}, the real map is different. Hint: three stride-2 convs with padding 1; "
                    "each one gives floor((h + 2 - 3) / 2) + 1."
                )
        return "three stride-2 convs: ceil(size / 8) scores per side."

    return _run(body)


def check_spectral_sigma(fn: Callable[[torch.Tensor], Any]) -> Feedback:
    """02: ``fn(W)`` estimates the largest singular value of a 2-D matrix (e.g. by power iteration).

    Example:
        >>> check_spectral_sigma(lambda w: torch.linalg.svdvals(w)[0]).correct
        True
    """

    def body() -> str:
        g = _gen(2)
        for shape in ((16, 27), (64, 9), (5, 5)):
            w = torch.randn(*shape, generator=g)
            ref = float(torch.linalg.matrix_norm(w, ord=2))
            got = _number(_call(fn, w.clone(), stub="def sigma_max(W): ...", want="a number"), "sigma_max")
            if not abs(got - ref) <= 1e-2 * ref:
                raise _Wrong(
                    f"sigma_max of a random {shape} matrix is off by {abs(got - ref) / ref:.1%}. Hint: repeat "
                    "v = W^T u / |W^T u|, u = W v / |W v| (30 times or more); then sigma = u . W v."
                )
        return "within 1% of the exact largest singular value."

    return _run(body)


def check_gram(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """03: ``fn(feat)`` is the Gram matrix ``(N, C, C)`` of ``(N, C, H, W)`` features, divided by ``C*H*W``.

    Example:
        >>> check_gram(lambda f: None).correct
        False
    """
    from animegan_edu.training.losses import gram

    def body() -> str:
        f = torch.randn(2, 4, 5, 6, generator=_gen(3))
        got = _tensor(_call(fn, f.clone(), stub="def my_gram(feat): ..."), (2, 4, 4), "the Gram matrix")
        _close(
            got,
            gram(f),
            "flatten H and W, multiply the features by their own transpose per image, "
            "and divide by C * H * W.",
        )
        return "(N, C, C) channel correlations, normalised by C * H * W."

    return _run(body)


def check_lsgan_d_loss(fn: Callable[..., torch.Tensor]) -> Feedback:
    """03: ``fn(real, fake, gray, smooth)`` is the discriminator's LSGAN loss, all weights 1.

    Example:
        >>> from animegan_edu.training.losses import lsgan_d_loss
        >>> check_lsgan_d_loss(lsgan_d_loss).correct
        True
    """
    from animegan_edu.training.losses import lsgan_d_loss

    def body() -> str:
        g = _gen(4)
        maps = [torch.randn(2, 1, 4, 4, generator=g) for _ in range(4)]
        got = _number(
            _call(fn, *[m.clone() for m in maps], stub="def d_loss(real, fake, gray, smooth): ..."),
            "the loss",
        )
        ref = float(lsgan_d_loss(*maps))
        if not math.isclose(got, ref, rel_tol=1e-4, abs_tol=1e-6):
            raise _Wrong(
                f"your loss is {got:.4f} on random score maps, not the LSGAN value. Hint: real scores should be "
                "1, the three fakes 0; average the squared distance of each map to its label, then add."
            )
        return "mean((real-1)^2) + mean(fake^2) + mean(gray^2) + mean(smooth^2)."

    return _run(body)


def check_total_variation(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """03: ``fn(x)`` is the total-variation loss of ``losses.total_variation_loss``.

    Example:
        >>> from animegan_edu.training.losses import total_variation_loss
        >>> check_total_variation(total_variation_loss).correct
        True
    """
    from animegan_edu.training.losses import total_variation_loss

    def body() -> str:
        x = torch.randn(2, 3, 7, 9, generator=_gen(5))
        got = _number(_call(fn, x.clone(), stub="def tv(x): ..."), "the loss")
        ref = float(total_variation_loss(x))
        if not math.isclose(got, ref, rel_tol=1e-4):
            raise _Wrong(
                f"your TV is {got:.4f}, not the library's. Hint: square the differences of vertical "
                "neighbours and of horizontal neighbours, take the mean of each, add the two means."
            )
        return "mean squared vertical plus horizontal neighbour differences."

    return _run(body)


def check_lsgan_g_loss(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """04: ``fn(d_fake)`` is the generator's LSGAN loss on the discriminator's scores of its output.

    Example:
        >>> check_lsgan_g_loss(lambda d: (d - 1).pow(2).mean()).correct
        True
    """
    from animegan_edu.training.losses import lsgan_g_loss

    def body() -> str:
        d = torch.randn(3, 1, 8, 8, generator=_gen(6))
        got = _number(_call(fn, d.clone(), stub="def g_loss(d_fake): ..."), "the loss")
        ref = float(lsgan_g_loss(d))
        if not math.isclose(got, ref, rel_tol=1e-4):
            raise _Wrong(
                f"your loss is {got:.4f}, not the LSGAN generator loss. Hint: the generator wants the "
                "discriminator to answer 'real' (the label the discriminator gives real anime)."
            )
        return "the generator pulls every patch score towards the 'real' label 1."

    return _run(body)


def check_generator_loss(fn: Callable[[dict, Any], Any]) -> Feedback:
    """04: ``fn(terms, weights)`` is the adversarial phase's weighted generator loss.

    ``terms`` has the keys ``g_adv, content, style, colour, tv``; ``weights`` is a
    :class:`~animegan_edu.training.losses.LossWeights` with fields of the same names.

    Example:
        >>> check_generator_loss(lambda t, w: sum(getattr(w, k) * v for k, v in t.items())).correct
        True
    """
    from animegan_edu.training.losses import STYLE_PRESETS, LossWeights

    def body() -> str:
        g = _gen(7)
        keys = ("g_adv", "content", "style", "colour", "tv")
        for w in (LossWeights(), STYLE_PRESETS["shinkai"]):
            terms = {k: torch.rand((), generator=g) for k in keys}
            got = _number(_call(fn, dict(terms), w, stub="def g_total(terms, weights): ..."), "the total")
            ref = sum(float(getattr(w, k)) * float(v) for k, v in terms.items())
            if not math.isclose(got, ref, rel_tol=1e-4):
                raise _Wrong(
                    f"your total is {got:.3f}, the trainer's is different. Hint: every term is multiplied by "
                    "the LossWeights field of the same name, then all are added."
                )
        return "a weighted sum; the weights come from LossWeights, as in the trainer."

    return _run(body)


def check_similarity(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Feedback:
    """05: ``fn(src, dst)`` fits the least-squares similarity transform ``(2, 3)`` (Umeyama).

    Example:
        >>> from animegan_edu.inference.face import estimate_similarity
        >>> check_similarity(estimate_similarity).correct
        True
    """
    from animegan_edu.inference.face import estimate_similarity

    def body() -> str:
        g = _gen(8)
        src = torch.rand(5, 2, generator=g, dtype=torch.float64) * 100
        ang, s = 0.4, 1.7
        rot = torch.tensor(
            [[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]], dtype=torch.float64
        )
        dst = s * src @ rot.T + torch.tensor([12.0, -30.0], dtype=torch.float64)
        dst = dst + torch.randn(5, 2, generator=g, dtype=torch.float64)  # noisy: least squares, not exact
        got = _tensor(
            _call(fn, src.clone(), dst.clone(), stub="def similarity(src, dst): ..."), (2, 3), "the matrix"
        )
        ref = estimate_similarity(src, dst)
        lin = got[:, :2]
        if (
            abs(lin[0, 0] - lin[1, 1]) > 1e-3 * abs(lin).max()
            or abs(lin[0, 1] + lin[1, 0]) > 1e-3 * abs(lin).max()
        ):
            raise _Wrong(
                "your 2x2 part is not a scaled rotation [[a, -b], [b, a]]. Hint: centre both point sets, "
                "take the SVD of their cross-covariance, keep det R = +1, and use ONE scale."
            )
        _close(
            got,
            ref,
            "this is the least-squares fit: centre both sets, scale = sum of singular values "
            "(sign-corrected) / variance of src, shift = mean(dst) - s R mean(src).",
            atol=1e-3,
            rtol=1e-4,
        )
        return "rotation, one scale and a shift, fitted by least squares (Umeyama 1991)."

    return _run(body)


def check_invert_similarity(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """05: ``fn(M)`` inverts a ``(2, 3)`` affine matrix, so the stylised crop can be warped back.

    Example:
        >>> check_invert_similarity(lambda m: torch.linalg.inv(torch.cat([m, torch.tensor([[0., 0., 1.]], dtype=m.dtype)]))[:2]).correct
        True
    """
    from animegan_edu.inference.face import estimate_similarity, transform_points

    def body() -> str:
        g = _gen(9)
        src = torch.rand(5, 2, generator=g, dtype=torch.float64) * 200
        m = estimate_similarity(src, torch.rand(5, 2, generator=g, dtype=torch.float64) * 512)
        inv = _tensor(_call(fn, m.clone(), stub="def invert(M): ..."), (2, 3), "the inverse")
        back = transform_points(inv, transform_points(m, src))
        if not torch.allclose(back, src, atol=1e-3):
            raise _Wrong(
                "applying M then your inverse does not return the points. Hint: the inverse of x -> A x + t "
                "is y -> A^-1 y - A^-1 t."
            )
        return "M followed by its inverse returns every point."

    return _run(body)


def check_luma(fn: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """06: ``fn(image)`` is Rec. 601 luma ``(N, 1, H, W)`` of an RGB image in [0, 1].

    Example:
        >>> from animegan_edu.inference.grading import luma
        >>> check_luma(luma).correct
        True
    """
    from animegan_edu.inference.grading import luma

    def body() -> str:
        x = torch.rand(2, 3, 4, 5, generator=_gen(10))
        got = _tensor(_call(fn, x.clone(), stub="def my_luma(image): ..."), (2, 1, 4, 5), "the luma")
        _close(
            got,
            luma(x),
            "weights 0.299, 0.587, 0.114 for channels 0 (red), 1 (green), 2 (blue); keep the channel "
            "dimension (keepdim=True).",
        )
        return "0.299 R + 0.587 G + 0.114 B, with channel 0 red."

    return _run(body)


def check_blue_boost(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> Feedback:
    """06: ``fn(image, gain)`` boosts the BLUE channel by ``gain``, clips to [0, 1], leaves the input untouched.

    Example:
        >>> from animegan_edu.inference.grading import channel_gains
        >>> check_blue_boost(lambda im, g: channel_gains(im, (1.0, 1.0, g))).correct
        True
    """
    from animegan_edu.inference.grading import channel_gains

    def body() -> str:
        x = torch.rand(1, 3, 6, 6, generator=_gen(11))
        keep = x.clone()
        got = _tensor(
            _call(fn, x, 1.3, stub="def boost_blue(image, gain): ..."), tuple(x.shape), "the result"
        )
        if not torch.equal(x, keep):
            raise _Wrong(
                "your function changed the caller's image in place (like the article's `*=`). Hint: work on a copy."
            )
        ref = channel_gains(keep, (1.0, 1.0, 1.3))
        if torch.allclose(got, channel_gains(keep, (1.3, 1.0, 1.0)).double(), atol=1e-5):
            raise _Wrong("you boosted channel 0, which is RED in an RGB tensor. Hint: which index is blue?")
        _close(got, ref, "only the blue channel changes, and the result must stay in [0, 1].")
        return "channel 2 (blue) scaled and clipped, input untouched."

    return _run(body)


def check_qparams(fn: Callable[[float, float], tuple]) -> Feedback:
    """07: ``fn(x_min, x_max)`` returns ``(scale, zero_point)`` of an affine ``quint8`` range.

    The range is first widened to include 0 (so 0 is exact), as PyTorch's observers do.

    Example:
        >>> def qp(lo, hi):
        ...     lo, hi = min(lo, 0.0), max(hi, 0.0)
        ...     s = (hi - lo) / 255
        ...     return s, int(min(255, max(0, round(-lo / s))))
        >>> check_qparams(qp).correct
        True
    """
    from torch.ao.quantization.observer import MinMaxObserver

    def body() -> str:
        for lo, hi in ((-1.0, 1.0), (-0.37, 2.9), (0.2, 5.0), (-3.0, -0.5)):
            obs = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine)
            obs(torch.tensor([lo, hi]))
            s_ref, z_ref = (float(v) for v in obs.calculate_qparams())
            out = _call(fn, lo, hi, stub="def qparams(x_min, x_max): ...", want="(scale, zero_point)")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise _Wrong(f"return a pair (scale, zero_point), got {type(out).__name__}.")
            s, z = _number(out[0], "scale"), _number(out[1], "zero_point")
            if not math.isclose(s, s_ref, rel_tol=1e-4):
                raise _Wrong(
                    f"scale for [{lo}, {hi}] is {s:.5g}, not the observer's. Hint: widen the range to include 0, "
                    "then spread it over the 256 levels 0..255."
                )
            if abs(z - z_ref) > 1.0:  # a tie (e.g. 127.5) may round either way
                raise _Wrong(
                    f"zero point for [{lo}, {hi}] is {z:g}, not the observer's. Hint: it is the integer that "
                    "stands for the real 0, rounded and kept inside 0..255."
                )
        return "scale = range / 255 after including 0; the zero point is the integer image of 0."

    return _run(body)


def check_fake_quantize(fn: Callable[[torch.Tensor, float, int], torch.Tensor]) -> Feedback:
    """07: ``fn(x, scale, zero_point)`` quantizes to ``quint8`` and dequantizes back (a float tensor).

    Example:
        >>> check_fake_quantize(lambda x, s, z: torch.quantize_per_tensor(x, s, z, torch.quint8).dequantize()).correct
        True
    """

    def body() -> str:
        x = torch.randn(4, 50, generator=_gen(12)) * 2
        for s, z in ((0.02, 128), (0.01, 30)):
            ref = torch.quantize_per_tensor(x, s, z, torch.quint8).dequantize()
            got = _tensor(
                _call(fn, x.clone(), s, z, stub="def fake_quant(x, scale, zero_point): ..."),
                tuple(x.shape),
                "the round trip",
            )
            bad = (got - ref.double()).abs() > s * 0.51
            if bad.any():
                outside = bool(((x / s + z) < 0).logical_or((x / s + z) > 255)[bad].any())
                hint = (
                    "values outside the range must be clamped to 0..255 before dequantizing"
                    if outside
                    else "q = round(x / scale) + zero_point, then x_hat = (q - zero_point) * scale"
                )
                raise _Wrong(
                    f"{int(bad.sum())} of {x.numel()} values differ by more than half a step. Hint: {hint}."
                )
        return "round, shift, clamp to 0..255, then back: each value moves by at most half a step (or is clipped)."

    return _run(body)


def check_psnr(fn: Callable[[torch.Tensor, torch.Tensor], float]) -> Feedback:
    """07: ``fn(a, b)`` is the PSNR in dB of two images in [0, 1] (as used to compare INT8 with fp32).

    Example:
        >>> from animegan_edu.bench.run import psnr
        >>> check_psnr(psnr).correct
        True
    """
    from animegan_edu.bench.run import psnr

    def body() -> str:
        g = _gen(13)
        a = torch.rand(1, 3, 16, 16, generator=g)
        for noise in (0.1, 0.01):
            b = (a + noise * torch.randn(a.shape, generator=g)).clamp(0, 1)
            got = _number(
                _call(fn, a.clone(), b.clone(), stub="def my_psnr(a, b): ...", want="a number"), "the PSNR"
            )
            ref = psnr(a, b)
            if not math.isclose(got, ref, abs_tol=1e-3):
                raise _Wrong(
                    f"your PSNR is {got:.2f} dB where the library measures a different value. Hint: "
                    "10 * log10(peak^2 / mean squared error), with peak 1 for [0, 1] images."
                )
        return "10 log10(1 / MSE): every 10 dB is 10x less squared error."

    return _run(body)


def check_resize_size(fn: Callable[[int, int, int], tuple]) -> Feedback:
    """08: ``fn(w, h, size)`` is the ``(w, h)`` the pipeline resizes a picture to (longest side ``size``, multiples of 4).

    Example:
        >>> def rs(w, h, size):
        ...     k = size / max(w, h)
        ...     return max(4, round(w * k / 4) * 4), max(4, round(h * k / 4) * 4)
        >>> check_resize_size(rs).correct
        True
    """
    from animegan_edu.imageio import resize_longest

    def body() -> str:
        for w, h, size in ((64, 48, 32), (30, 90, 40), (50, 50, 20), (100, 37, 64)):
            ref = resize_longest(torch.zeros(1, 3, h, w), size).shape
            out = _call(fn, w, h, size, stub="def new_size(w, h, size): ...", want="a pair (w, h)")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise _Wrong(f"return a pair (w, h), got {type(out).__name__}.")
            got = (_number(out[0], "w"), _number(out[1], "h"))
            if got != (ref[-1], ref[-2]):
                raise _Wrong(
                    f"new_size({w}, {h}, {size}) = {got}, the pipeline makes a different size. Hint: scale so "
                    "the LONGEST side is `size`, then round both sides to the nearest multiple of 4 (at least 4)."
                )
        return "longest side = size, both sides rounded to a multiple of 4 (the encoder halves twice)."

    return _run(body)


def check_finish(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> Feedback:
    """08: ``fn(photo, raw, strength)`` is the studio's fast step with the ``"shinkai"`` grade.

    Example:
        >>> from animegan_edu.inference.pipeline import finish
        >>> check_finish(lambda p, r, s: finish(p, r, strength=s, grade="shinkai")).correct
        True
    """
    from animegan_edu.inference.grading import blend_strength, color_grade
    from animegan_edu.inference.pipeline import finish

    def body() -> str:
        g = _gen(14)
        p, r = torch.rand(1, 3, 24, 24, generator=g), torch.rand(1, 3, 24, 24, generator=g)
        got = _tensor(
            _call(fn, p.clone(), r.clone(), 0.6, stub="def my_finish(photo, raw, strength): ..."),
            tuple(p.shape),
            "the picture",
        )
        ref = finish(p, r, strength=0.6, grade="shinkai")
        wrong_order = blend_strength(p, color_grade(r, "shinkai"), 0.6)
        if torch.allclose(got, wrong_order.double(), atol=1e-4) and not torch.allclose(
            got, ref.double(), atol=1e-4
        ):
            raise _Wrong(
                "you graded before blending. Hint: the studio blends photo and stylised picture first, and "
                "grades the blend."
            )
        _close(
            got,
            ref,
            "blend by strength (grading.blend_strength), then apply the 'shinkai' grade (grading.color_grade).",
            atol=1e-4,
        )
        return "blend first, then grade: both cheap, so the studio re-runs only these when a slider moves."

    return _run(body)


# Notebook 10's checkers live in exercises_video.py (this module is at its size limit).
from animegan_edu.teaching.exercises_video import check_masked_error, check_temporal_blend  # noqa: E402

__all__ += ["check_masked_error", "check_temporal_blend"]
