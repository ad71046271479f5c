"""The five multi-step exercises of notebooks 01-05, each checked piece by piece.

* 01 :func:`check_inverted_residual`: the generator's inverted residual block, as an ``nn.Module``;
* 02 :func:`check_power_iteration`: spectral normalisation by power iteration (no SVD);
* 03 :func:`check_edge_smoothing`: the "smooth" style data (edge band, blur, composite);
* 04 :func:`check_generator_step`: one training step of the AnimeGAN generator;
* 05 :func:`check_umeyama`: Umeyama's similarity transform, step by step.

Each checker takes the student's pieces in order and checks them one after the other on inputs
drawn fresh on every call (``seed=`` draws them again); a "Not yet" message starts with the piece
that is wrong ("piece (b) ..."), ``hint=2`` gives a closer hint. The library's own function is
refused. The notebooks import this module as ``projects``.

Example:
    >>> check_umeyama(lambda s, d: None)  # doctest: +ELLIPSIS
    Not yet: piece (a) the means and the covariance: your function returned None; ...
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any, Callable, Iterator, Optional

import kornia
import torch

from animegan_edu.data.dataset import EdgeSmooth, edge_smooth
from animegan_edu.inference.face import estimate_similarity
from animegan_edu.models import InvertedResBlock
from animegan_edu.teaching.checking import (
    Feedback,
    Wrong,
    answer_number,
    answer_tensor,
    call_answer,
    randint,
    require_close,
    run_check,
    uniform,
)
from animegan_edu.teaching.exercises_models import NO_SVD
from animegan_edu.teaching.project_references import (
    G_TERMS,
    TERM_HINTS,
    blocky_image,
    build_block,
    centre_cov_piece,
    composite_piece,
    copy_weights,
    edge_band_piece,
    edge_band_reference,
    flat_parameters,
    gapped_matrix,
    junk_grads,
    library_block,
    library_generator_step,
    point_sets,
    power_step_piece,
    power_steps,
    rotation_piece,
    scale_piece,
    tiny_networks,
    translation_piece,
    umeyama_pieces,
)
from animegan_edu.training.losses import LossWeights

__all__ = [  # noqa: RUF022 - in notebook order
    "check_inverted_residual",
    "check_power_iteration",
    "check_edge_smoothing",
    "check_generator_step",
    "check_umeyama",
]


@contextlib.contextmanager
def _piece(label: str) -> Iterator[None]:
    """Prefix a :class:`Wrong` raised inside the block with ``piece <label>: ``."""
    try:
        yield
    except Wrong as w:
        raise Wrong(f"piece {label}: {w.what}", w.hint, w.closer) from None


def _given(fn: Any, call: str) -> None:
    if fn is None:
        raise Wrong(f"pass all your functions, in order: {call}.")


# --------------------------------------------------------------------------------------------
# 01: the inverted residual block
# --------------------------------------------------------------------------------------------
def check_inverted_residual(block_cls: Any, *, seed: Optional[int] = None, hint: int = 1) -> Feedback:
    """01: ``block_cls(in_ch, out_ch, expansion_ratio=2)`` builds the generator's inverted residual block.

    Pieces: (a) the parameter count equals :class:`~animegan_edu.models.InvertedResBlock`'s,
    (b) ``(N, in_ch, H, W) -> (N, out_ch, H, W)``, (c) the input is added back when
    ``in_ch == out_ch`` (all parameters set to zero, the block returns its input), (d) with the
    library block's weights copied in (state_dict entries in order) the outputs are equal.

    Example:
        >>> check_inverted_residual(InvertedResBlock)  # doctest: +ELLIPSIS
        Not yet: this is the library's own InvertedResBlock; write your own version. ...
    """

    def body(gen: torch.Generator) -> str:
        c = randint(gen, 2, 17)
        for i, o in ((c, c), (c, c + randint(gen, 1, 9))):
            ratio = randint(gen, 2, 5)
            lib = library_block(gen, i, o, ratio)
            x = torch.randn(2, i, randint(gen, 5, 12), randint(gen, 5, 12), generator=gen)
            with _piece("(a) the layers"):
                mine = build_block(block_cls, i, o, ratio)
                n_mine, n_lib = (sum(p.numel() for p in m.parameters()) for m in (mine, lib))
                if n_mine != n_lib:
                    raise Wrong(
                        f"MyBlock({i}, {o}, {ratio}) has {n_mine} parameters, the library's block {n_lib}.",
                        "list the layers: a 1x1 convolution to expansion_ratio * in_ch channels, a 3x3 "
                        "depthwise one, a 1x1 projection to out_ch, each followed by GroupNorm(1, C).",
                        "a depthwise convolution has one 3x3 filter per channel (groups = its channels) "
                        "and is the only one with a bias.",
                    )
            with _piece("(b) the output shape"):
                out = answer_tensor(
                    call_answer(mine, x.clone(), stub="forward(x)"),
                    (2, o, *x.shape[2:]),
                    f"MyBlock({i}, {o}, {ratio})(x)",
                )
            with _piece("(c) the residual"):
                with torch.no_grad():
                    for p in mine.parameters():
                        p.zero_()
                out = answer_tensor(
                    call_answer(mine, x.clone(), stub="forward(x)"), (2, o, *x.shape[2:]), "the output"
                )
                want = x.double() if i == o else torch.zeros_like(out)
                if not torch.allclose(out, want, atol=1e-5):
                    raise Wrong(
                        f"with every parameter zero, MyBlock({i}, {o}, {ratio}) should return "
                        + ("its input" if i == o else "zeros (no residual when the shapes differ)")
                        + ".",
                        "the input is added to the layers' output only when in_ch == out_ch.",
                        "keep a flag from __init__ (whether in_ch == out_ch) and use it in forward to add "
                        "x to the output.",
                    )
            with _piece("(d) the outputs"):
                copy_weights(lib, mine)
                got = answer_tensor(
                    call_answer(mine.eval(), x.clone(), stub="forward(x)"), (2, o, *x.shape[2:]), "the output"
                )
                with torch.no_grad():
                    ref = lib(x)
                require_close(
                    got,
                    ref,
                    "with the library's weights your block computes something else: check each layer, "
                    "its padding and its activation.",
                    "the 3x3 depthwise convolution pads by reflection; LeakyReLU has slope 0.2; the "
                    "projection is followed by its norm but by no activation.",
                    atol=1e-4,
                )
        return "same parameters, shapes, residual and outputs as the generator's InvertedResBlock."

    return run_check(body, block_cls, seed=seed, hint=hint, library=(InvertedResBlock,))


# --------------------------------------------------------------------------------------------
# 02: spectral normalisation by power iteration
# --------------------------------------------------------------------------------------------
def check_power_iteration(
    power_step: Callable[[torch.Tensor, torch.Tensor], Any],
    estimate_sigma: Optional[Callable[[torch.Tensor, torch.Tensor, int], Any]] = None,
    spectral_normalise: Optional[Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]] = None,
    *,
    seed: Optional[int] = None,
    hint: int = 1,
) -> Feedback:
    """02: spectral normalisation by power iteration, without an SVD, in three pieces.

    ``W`` is ``(m, n)``, ``u`` has ``m`` entries. (a) ``power_step(W, u) -> (u, v)``: ``v`` from
    ``u`` through ``W^T``, the new ``u`` from ``v`` through ``W``, each of length 1; (b)
    ``estimate_sigma(W, u0, k)``: ``u^T W v`` after ``k`` steps from ``u0``, which converges to the
    largest singular value; (c) ``spectral_normalise(W, u0, k)``: ``W`` divided by that estimate,
    whose largest singular value is then about 1. While they run, SVDs, eigenvalue solvers and
    spectral norms raise (:data:`~animegan_edu.teaching.exercises_models.NO_SVD`).

    Example:
        >>> check_power_iteration(torch.linalg.svdvals)  # doctest: +ELLIPSIS
        Not yet: this is torch.linalg.svdvals: do not call an SVD ...
    """

    def body(gen: torch.Generator) -> str:
        w, top = gapped_matrix(gen)
        u0 = torch.randn(w.shape[0], generator=gen, dtype=torch.float64)
        with _piece("(a) one power-iteration step"):
            power_step_piece(power_step, w, u0 / u0.norm())
        with _piece("(b) the sigma estimate"):
            _given(estimate_sigma, "check_power_iteration(power_step, estimate_sigma, spectral_normalise)")
            for k in (1, 3, 200):
                got = answer_number(
                    call_answer(
                        estimate_sigma,
                        w.clone(),
                        u0.clone(),
                        k,
                        stub="def estimate_sigma(W, u0, k): ...",
                        want="a number",
                    ),
                    f"estimate_sigma(W, u0, {k})",
                )
                u, v = power_steps(w, u0, k)
                ref = float(u @ w @ v)
                if not abs(got - ref) <= 1e-4 * ref:
                    raise Wrong(
                        f"after {k} step(s) your estimate is {got:.5g}; power iteration gives {ref:.5g} "
                        f"(the largest singular value is {top:.5g}).",
                        "run k of your steps from u0, then measure how much W stretches v along u.",
                        "the estimate is a single number made from u, W and v (a product), not a norm of W.",
                    )
        with _piece("(c) the normalised weight"):
            _given(
                spectral_normalise, "check_power_iteration(power_step, estimate_sigma, spectral_normalise)"
            )
            out = call_answer(
                spectral_normalise, w.clone(), u0.clone(), 100, stub="def spectral_normalise(W, u0, k): ..."
            )
            got = answer_tensor(out, tuple(w.shape), "the normalised W")
            sigma = float(torch.linalg.matrix_norm(got, ord=2))
            if not abs(sigma - 1) <= 1e-3:
                raise Wrong(
                    f"the largest singular value of your normalised W is {sigma:.4g}, not 1.",
                    "divide W by its largest singular value, as your estimate_sigma measures it.",
                    "a Frobenius or an entry-wise norm is larger than sigma: W would shrink too much.",
                )
        return "one step, the estimate and the normalised weight all match; no SVD needed."

    return run_check(
        body,
        power_step,
        estimate_sigma,
        spectral_normalise,
        seed=seed,
        hint=hint,
        shortcuts=NO_SVD,
        reason="do not call an SVD (or an eigenvalue solver); use power iteration.",
    )


# --------------------------------------------------------------------------------------------
# 03: edge smoothing
# --------------------------------------------------------------------------------------------
def check_edge_smoothing(
    edge_band: Callable[[torch.Tensor, float, float, int], torch.Tensor],
    blur: Optional[Callable[[torch.Tensor, float, int], torch.Tensor]] = None,
    composite: Optional[Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = None,
    *,
    seed: Optional[int] = None,
    hint: int = 1,
) -> Feedback:
    """03: AnimeGAN's "smooth" data in three pieces, images ``(1, 3, H, W)`` in [0, 1].

    (a) ``edge_band(image, low, high, dilate)``: ``(1, 1, H, W)`` mask (bool or 0/1) of the Canny
    edges of the grey image, dilated by a ``dilate x dilate`` square; (b) ``blur(image, sigma,
    ksize)``: Gaussian blur, reflecting at the borders; (c) ``composite(image, blurred, band)``:
    the blurred pixels inside the band, the image's elsewhere. kornia is allowed;
    :func:`~animegan_edu.data.dataset.edge_smooth` is refused. Together they must equal it.

    Example:
        >>> check_edge_smoothing(edge_smooth)  # doctest: +ELLIPSIS
        Not yet: this is the library's own edge_smooth; write your own version. ...
    """

    def body(gen: torch.Generator) -> str:
        image = blocky_image(gen)
        low = round(uniform(gen, 0.05, 0.12), 3)
        high, dilate = round(low + 0.1, 3), (3, 5)[randint(gen, 0, 2)]
        sigma, ksize = round(uniform(gen, 0.8, 1.6), 2), (3, 5, 7)[randint(gen, 0, 3)]
        band, edges = edge_band_reference(image, low, high, dilate)
        with _piece("(a) the edge band"):
            edge_band_piece(edge_band, image, low, high, dilate, band, edges)
        with _piece("(b) the blur"):
            _given(blur, "check_edge_smoothing(edge_band, blur, composite)")
            got = answer_tensor(
                call_answer(blur, image.clone(), sigma, ksize, stub="def blur(image, sigma, ksize): ..."),
                tuple(image.shape),
                "the blurred image",
            )
            ref = kornia.filters.gaussian_blur2d(image, (ksize, ksize), (sigma, sigma), border_type="reflect")
            require_close(
                got,
                ref,
                "a Gaussian blur of the whole image with the given sigma and kernel size.",
                "the kernel is ksize x ksize with the same sigma in both directions; the borders "
                "reflect the image (no zero padding).",
                atol=1e-4,
            )
        with _piece("(c) the composite"):
            _given(composite, "check_edge_smoothing(edge_band, blur, composite)")
            blurred = torch.rand(image.shape, generator=gen)
            composite_piece(composite, image, blurred, band)
        with _piece("(d) all together"):

            def chain(im: torch.Tensor) -> torch.Tensor:
                return composite(im, blur(im, sigma, ksize), edge_band(im, low, high, dilate) > 0.5)

            whole = call_answer(chain, image.clone(), stub="the three pieces")
            ref = edge_smooth(image, low, high, dilate, sigma, ksize)
            require_close(
                answer_tensor(whole, tuple(image.shape), "the smoothed image"),
                ref,
                "each piece passes alone; check that they are combined as the task says.",
                "the band and the blur are both computed from the original image, and the composite takes "
                "all three.",
                atol=1e-4,
            )
        return "edge band, blur and composite give edge_smooth's result."

    return run_check(
        body, edge_band, blur, composite, seed=seed, hint=hint, library=(edge_smooth, EdgeSmooth)
    )


# --------------------------------------------------------------------------------------------
# 04: one training step of the generator
# --------------------------------------------------------------------------------------------
def check_generator_step(fn: Callable[..., Any], *, seed: Optional[int] = None, hint: int = 1) -> Feedback:
    """04: ``fn(G, D, feat, g_opt, photo, style_gray, w)``: one generator step; returns the terms and total.

    Returns a dict with the unweighted ``g_adv, content, style, colour, tv`` (the library's losses
    of notebook 03 may be used) and ``total``, their sum weighted by the
    :class:`~animegan_edu.training.losses.LossWeights` ``w``; it backpropagates ``total`` and
    steps ``g_opt`` (an optimiser of ``G``). Checked on tiny networks: (a) each term, (b) the
    total, (c) G's parameters after the step, (d) D and ``feat`` unchanged.

    Example:
        >>> check_generator_step(library_generator_step)  # doctest: +ELLIPSIS
        Not yet: this is the library's own library_generator_step; write your own version. ...
    """

    def body(gen: torch.Generator) -> str:
        G, D, feat = tiny_networks(gen)
        h, wd = randint(gen, 8, 14), randint(gen, 8, 14)
        photo = torch.rand(2, 3, h, wd, generator=gen) * 2 - 1
        style_gray = (torch.rand(2, 1, h, wd, generator=gen) * 2 - 1).expand(2, 3, h, wd).contiguous()
        w = LossWeights(**{k: round(uniform(gen, 0.5, 10.0), 2) for k in G_TERMS})
        runs = {}
        for name, zero in (("ref", True), ("stale", False)):
            g = copy.deepcopy(G)
            junk_grads(g, torch.Generator().manual_seed(7))
            runs[name] = (
                g,
                library_generator_step(
                    g, D, feat, torch.optim.SGD(g.parameters(), lr=0.05), photo, style_gray, w, zero
                ),
            )
        mine = copy.deepcopy(G)
        junk_grads(mine, torch.Generator().manual_seed(7))
        before = (flat_parameters(D), flat_parameters(feat))
        with _piece("(a) the terms"):
            stub = "def g_step(G, D, feat, g_opt, photo, style_gray, w): ..."
            opt = torch.optim.SGD(mine.parameters(), lr=0.05)
            args = (mine, D, feat, opt, photo.clone(), style_gray.clone(), w)
            out = call_answer(fn, *args, stub=stub, want="a dict of the terms and the total")
            if not isinstance(out, dict):
                raise Wrong(f"g_step should return a dict, got {type(out).__name__}.")
        ref = runs["ref"][1]
        for key in (*G_TERMS, "total"):
            with _piece("(a) the terms" if key != "total" else "(b) the total"):
                if key not in out:
                    raise Wrong(f"your dict has no {key!r}.")
                got = answer_number(out[key], f"out[{key!r}]")
                if not abs(got - ref[key]) <= 1e-4 * max(1.0, abs(ref[key])):
                    raise Wrong(
                        f"{key} is {got:.5g}, the library's losses give {ref[key]:.5g}.",
                        TERM_HINTS[key][0],
                        TERM_HINTS[key][1],
                    )
        with _piece("(c) the update of G"):
            if torch.allclose(flat_parameters(mine), flat_parameters(runs["stale"][0]), atol=1e-6):
                raise Wrong(
                    "G moved as if the old gradients were still there.",
                    "clear the optimiser's gradients before backward().",
                    "gradients add up in each parameter's .grad until they are cleared; clear them before "
                    "backward().",
                )
            require_close(
                flat_parameters(mine).double(),
                flat_parameters(runs["ref"][0]),
                "backpropagate the weighted total from G's output, then step g_opt once.",
                "every term must reach G's parameters: nothing between G's output and a loss may "
                "be detached.",
                atol=1e-5,
            )
        with _piece("(d) only G changes"):
            if not (
                torch.equal(before[0], flat_parameters(D)) and torch.equal(before[1], flat_parameters(feat))
            ):
                raise Wrong(
                    "D's or feat's parameters changed during the generator's step.",
                    "the generator's step updates G only; D and the feature network only judge.",
                    "step only g_opt (it holds G's parameters); make no optimiser of your own, and do not "
                    "touch D.",
                )
        return "each term, the weighted total and the update of G match the library's step; D is untouched."

    return run_check(body, fn, seed=seed, hint=hint, library=(library_generator_step,))


# --------------------------------------------------------------------------------------------
# 05: Umeyama's similarity transform
# --------------------------------------------------------------------------------------------
def check_umeyama(
    centre_cov: Callable[[torch.Tensor, torch.Tensor], Any],
    rotation: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
    scale: Optional[Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Any]] = None,
    translation: Optional[Callable[..., torch.Tensor]] = None,
    *,
    seed: Optional[int] = None,
    hint: int = 1,
) -> Feedback:
    """05: Umeyama's similarity transform in four pieces, points ``(K, 2)`` float64.

    (a) ``centre_cov(src, dst) -> (mu_s, mu_d, cov)``: the means and the ``2x2`` cross-covariance
    ``(dst - mu_d)^T (src - mu_s) / K``; (b) ``rotation(cov)``: the ``2x2`` rotation from the SVD
    of ``cov``, with ``det = +1`` (the reflection fix); (c) ``scale(src, cov, R)``; (d)
    ``translation(mu_s, mu_d, s, R)``. ``[s R | t]`` must equal
    :func:`~animegan_edu.inference.face.estimate_similarity` (refused).

    Example:
        >>> check_umeyama(estimate_similarity)  # doctest: +ELLIPSIS
        Not yet: this is the library's own estimate_similarity; write your own version. ...
    """
    call = "check_umeyama(centre_cov, rotation, scale, translation)"

    def body(gen: torch.Generator) -> str:
        for n, (src, dst) in enumerate(point_sets(gen)):
            ref = umeyama_pieces(src, dst)
            with _piece("(a) the means and the covariance"):
                centre_cov_piece(centre_cov, src, dst, ref)
            with _piece("(b) the rotation"):
                _given(rotation, call)
                covs = [ref["cov"], torch.randn(2, 2, generator=gen, dtype=torch.float64)]
                covs.append(covs[-1] * torch.tensor([[1.0], [-1.0]], dtype=torch.float64))
                rotation_piece(rotation, covs)
            with _piece("(c) the scale"):
                _given(scale, call)
                scale_piece(scale, src, ref, n)
            with _piece("(d) the translation"):
                _given(translation, call)
                translation_piece(translation, ref)
            with _piece("(e) all together"):

                def chain(s: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
                    mu_s, mu_d, cov = centre_cov(s, d)
                    rot = rotation(cov)
                    k = scale(s, cov, rot)
                    return torch.cat([k * rot, translation(mu_s, mu_d, k, rot)[:, None]], 1)

                m = answer_tensor(
                    call_answer(chain, src.clone(), dst.clone(), stub="the four pieces"), (2, 3), "[s R | t]"
                )
                require_close(
                    m,
                    estimate_similarity(src, dst),
                    "each piece passes alone; chain them in order.",
                    "the rotation and the scale both come from the same covariance, and t from that "
                    "rotation and scale.",
                    atol=1e-7,
                )
        return "means, covariance, rotation (mirror fixed), scale and translation match Umeyama's estimate."

    return run_check(
        body, centre_cov, rotation, scale, translation, seed=seed, hint=hint, library=(estimate_similarity,)
    )
