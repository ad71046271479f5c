"""Flicker in stylised video: how to measure it, and one way to reduce it.

Introduced in ``notebooks/10_video.ipynb``; :mod:`animegan_edu.video.stylize` uses it for
``animegan-edu video``.

**The measure: the temporal warping error** (Lai et al., 2018, "Learning Blind Video
Temporal Consistency"). Frame ``t - 1`` of the *output* is carried to frame ``t`` along the
optical flow of the *input* frames, and compared with output frame ``t``; pixels that the
flow cannot follow (occluded, or moved in from outside the picture) are left out::

    E_warp = mean over t of  sum_x M_t(x) |O_t(x) - O_{t-1}(x + B_t(x))|  /  (3 sum_x M_t(x))

``B_t`` is the backward flow (frame ``t`` to frame ``t - 1``), ``M_t`` the non-occlusion mask
from forward-backward consistency (Sundaram et al., 2010; the thresholds of Ruder et al., 2016),
and ``|.|`` the absolute difference averaged over R, G and B, in ``[0, 1]`` units (Lai et al.
square it instead; the absolute value reads directly as "mean level change, / 255"). The same
figure for the input video is the floor that flow errors and resampling alone give, so motion is
not counted as flicker.

**The flow** is OpenCV's Farneback method (Farnebäck, 2003, "Two-Frame Motion Estimation Based on
Polynomial Expansion") from ``opencv-python-headless``: it needs no trained weights (RAFT would
need a download, or be meaningless untrained), runs offline on a CPU in tens of milliseconds at
512 px, and gives the same flow every run on a given machine.

**The method: flow-guided blending** (:class:`TemporalStabilizer`). Each new stylised frame
``S_t`` is blended with the previous *output* warped to frame ``t``, only where the flow is
trusted::

    O_t = (1 - w M'_t) S_t + w M'_t O_{t-1}(x + B_t(x))

``M'_t`` is ``M_t`` further limited to pixels where the input itself matches its own warp (a
photometric check that catches flow errors and lighting changes). The weight ``w`` in ``[0, 0.95]``
trades flicker against fidelity to the per-frame result (PSNR, :func:`animegan_edu.metrics.psnr`); the
default :data:`DEFAULT_WEIGHT` was chosen by measurement in notebook 10. Outputs are rounded to
1/255 steps at every frame, so a run resumed from saved 8-bit frames continues bit-identically.

Tensors: frames are ``(3, H, W)`` (one) or ``(T, 3, H, W)`` (a clip), RGB in ``[0, 1]``;
flows are ``(H, W, 2)`` float32 pixel offsets ``(dx, dy)``; masks ``(H, W)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from animegan_edu.checks import finite_in_range

__all__ = [
    "DEFAULT_WEIGHT",
    "MAX_WEIGHT",
    "PairFlow",
    "WarpingError",
    "TemporalStabilizer",
    "check_weight",
    "optical_flow",
    "warp",
    "consistency_mask",
    "pair_flow",
    "clip_flows",
    "warping_error",
    "blend_previous",
    "stabilize",
    "quantize8",
]

#: Default blend weight ``w`` of the previous output (chosen by measurement: notebook 10, docs/video.md).
DEFAULT_WEIGHT = 0.6
#: Largest allowed weight: at 1 the first frame would be frozen wherever the flow is trusted.
MAX_WEIGHT = 0.95
#: Photometric check: a pixel whose input differs from its warped predecessor by more than this
#: (mean over RGB, ``[0, 1]`` units) is not blended.
PHOTOMETRIC_LIMIT = 0.08


def check_weight(weight: float) -> float:
    """Check a blend weight: a finite number in ``[0, MAX_WEIGHT]`` (0.95).

    Raises:
        ValueError: one line saying the allowed range.

    Example:
        >>> check_weight(0.5)
        0.5
    """
    return finite_in_range("temporal weight", weight, 0, MAX_WEIGHT)


def _frame(x: torch.Tensor, what: str) -> torch.Tensor:
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f"{what} must be a (3, H, W) RGB tensor in [0, 1], got shape {tuple(x.shape)}")
    return x.detach().float().cpu()


def _grey_u8(x: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` in ``[0, 1]`` -> ``(H, W)`` uint8 luma (Rec. 601), Farneback's input."""
    w = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
    return (x * w).sum(0).mul(255).round().clamp(0, 255).to(torch.uint8).numpy()


def quantize8(x: torch.Tensor) -> torch.Tensor:
    """Round ``[0, 1]`` values to the nearest 1/255 step (what an 8-bit PNG or video frame keeps); any shape.

    Example:
        >>> quantize8(torch.tensor([0.0, 0.5, 1.2])).mul(255).tolist()
        [0.0, 128.0, 255.0]
    """
    return x.clamp(0, 1).mul(255).round().div(255)


def optical_flow(a: torch.Tensor, b: torch.Tensor, method: str = "farneback") -> torch.Tensor:
    """Dense optical flow from frame ``a`` to frame ``b`` (OpenCV, on the luma).

    Args:
        a, b: ``(3, H, W)`` RGB in ``[0, 1]``, the same size.
        method: ``"farneback"`` (the default, used everywhere) or ``"dis"`` (OpenCV's DIS flow,
            Kroeger et al. 2016: a different algorithm, to cross-check a measurement that the
            method itself was tuned on).

    Returns:
        ``(H, W, 2)`` float32 ``(dx, dy)``: pixel ``(x, y)`` of ``a`` is seen at
        ``(x + dx, y + dy)`` in ``b``.

    Example:
        >>> a = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> tuple(optical_flow(a, a).shape), float(optical_flow(a, a).abs().max()) < 0.1   # ~0: nothing moved
        ((32, 32, 2), True)
    """
    import cv2

    ga, gb = _grey_u8(_frame(a, "a")), _grey_u8(_frame(b, "b"))
    if ga.shape != gb.shape:
        raise ValueError(f"frames differ in size: {ga.shape} and {gb.shape}")
    if method == "dis":
        flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(ga, gb, None)
    elif method == "farneback":
        levels = max(1, min(5, int(math.log2(max(2, min(ga.shape) // 8)))))
        flow = cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, levels, 15, 3, 5, 1.2, 0)
    else:
        raise ValueError(f"method must be 'farneback' or 'dis', got {method!r}")
    return torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32))


def _grid(flow: torch.Tensor) -> torch.Tensor:
    h, w = flow.shape[:2]
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
    )
    return torch.stack([xs + flow[..., 0], ys + flow[..., 1]], -1)  # absolute positions (x, y)


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp: ``out(x) = image(x + flow(x))``, bilinear, edges repeated.

    Args:
        image: ``(C, H, W)`` or ``(N, C, H, W)``.
        flow: ``(H, W, 2)`` pixel offsets ``(dx, dy)``.

    Returns:
        the same shape as ``image``.

    Example:
        >>> img = torch.arange(12.0).view(1, 3, 4)
        >>> flow = torch.zeros(3, 4, 2); flow[..., 0] = 1.0     # look one pixel to the right
        >>> warp(img, flow)[0, 0].tolist()
        [1.0, 2.0, 3.0, 3.0]
    """
    x = image if image.ndim == 4 else image[None]
    h, w = x.shape[-2:]
    if tuple(flow.shape) != (h, w, 2):
        raise ValueError(f"flow must be (H, W, 2) = ({h}, {w}, 2), got {tuple(flow.shape)}")
    pos = _grid(flow.float())
    norm = torch.stack([pos[..., 0] * 2 / max(w - 1, 1) - 1, pos[..., 1] * 2 / max(h - 1, 1) - 1], -1)
    out = F.grid_sample(
        x.float(),
        norm[None].expand(x.shape[0], h, w, 2),
        mode="bilinear",
        padding_mode="border",
        align_corners=True,
    )
    return out if image.ndim == 4 else out[0]


def consistency_mask(back: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
    """Non-occlusion mask from forward-backward consistency: ``True`` where the flow can be trusted.

    ``back`` is the flow from frame ``t`` to ``t - 1``, ``forward`` from ``t - 1`` to ``t``
    (both ``(H, W, 2)``). A pixel is kept when its backward vector lands inside frame ``t - 1``
    and the forward flow there brings it back:
    ``|b + f~|^2 <= 0.01 (|b|^2 + |f~|^2) + 0.5`` (Ruder et al., 2016).

    Returns:
        ``(H, W)`` bool.

    Example:
        >>> f = torch.zeros(4, 5, 2); f[..., 0] = 1.0          # everything moves 1 px right
        >>> consistency_mask(-f, f).sum(0).tolist()             # column 0 came from outside
        [0, 4, 4, 4, 4]
    """
    h, w = back.shape[:2]
    f_at = warp(forward.permute(2, 0, 1), back).permute(1, 2, 0)
    pos = _grid(back.float())
    inside = (pos[..., 0] >= 0) & (pos[..., 0] <= w - 1) & (pos[..., 1] >= 0) & (pos[..., 1] <= h - 1)
    err = (back + f_at).pow(2).sum(-1)
    bound = 0.01 * (back.pow(2).sum(-1) + f_at.pow(2).sum(-1)) + 0.5
    return inside & (err <= bound)


@dataclass
class PairFlow:
    """The motion between two consecutive input frames ``t - 1`` and ``t``.

    Attributes:
        back: ``(H, W, 2)`` flow from frame ``t`` to ``t - 1`` (what :func:`warp` needs to bring
            frame ``t - 1`` onto frame ``t``).
        mask: ``(H, W)`` bool, ``True`` where not occluded (:func:`consistency_mask`).
        photometric: ``(H, W)`` float, mean absolute RGB difference between input frame ``t`` and
            warped input frame ``t - 1``, in ``[0, 1]``.
    """

    back: torch.Tensor
    mask: torch.Tensor
    photometric: torch.Tensor


def pair_flow(prev: torch.Tensor, cur: torch.Tensor, method: str = "farneback") -> PairFlow:
    """Flows both ways, the occlusion mask and the photometric check for input frames ``prev``, ``cur``.

    Args:
        prev, cur: ``(3, H, W)`` RGB in ``[0, 1]``.

    Example:
        >>> a = torch.rand(3, 24, 24, generator=torch.Generator().manual_seed(1))
        >>> p = pair_flow(a, a)
        >>> float(p.mask.float().mean()) > 0.9, float(p.photometric.mean()) < 0.01
        (True, True)
    """
    prev, cur = _frame(prev, "prev"), _frame(cur, "cur")
    back, fwd = optical_flow(cur, prev, method), optical_flow(prev, cur, method)
    photometric = (cur - warp(prev, back)).abs().mean(0)
    return PairFlow(back, consistency_mask(back, fwd), photometric)


def clip_flows(frames: torch.Tensor, method: str = "farneback") -> list[PairFlow]:
    """:func:`pair_flow` for every consecutive pair of a clip ``(T, 3, H, W)``: ``T - 1`` entries.

    ``method``: see :func:`optical_flow`.

    Example:
        >>> len(clip_flows(torch.zeros(3, 3, 16, 16)))
        2
    """
    if frames.ndim != 4 or frames.shape[1] != 3:
        raise ValueError(f"frames must be (T, 3, H, W) RGB in [0, 1], got shape {tuple(frames.shape)}")
    return [pair_flow(frames[t - 1], frames[t], method) for t in range(1, frames.shape[0])]


@dataclass
class WarpingError:
    """:func:`warping_error`'s result.

    Attributes:
        per_pair: ``(T - 1,)`` error of each frame against its warped predecessor, ``[0, 1]`` units.
        mean: their mean (the figure reported).
        valid_fraction: mean fraction of pixels not occluded (the pixels counted).
    """

    per_pair: torch.Tensor
    mean: float
    valid_fraction: float


def warping_error(
    frames: torch.Tensor, flows: Optional[Sequence[PairFlow]] = None, reference: Optional[torch.Tensor] = None
) -> WarpingError:
    """The temporal warping error of a clip: mean ``|O_t - warp(O_{t-1})|`` over non-occluded pixels.

    Args:
        frames: ``(T, 3, H, W)`` RGB in ``[0, 1]``, ``T >= 2``: the clip to measure (an output).
        flows: :func:`clip_flows` of the *input* clip (computed once, shared by every output);
            default: computed from ``reference``.
        reference: ``(T, 3, H, W)`` input clip the flow comes from; default ``frames`` itself.

    Returns:
        a :class:`WarpingError`; ``mean`` is ``0`` for a static clip and grows with flicker.

    Example:
        >>> clip = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)).repeat(4, 1, 1, 1)
        >>> warping_error(clip).mean < 0.002       # a static clip: ~0 (flow noise only)
        True
    """
    if frames.ndim != 4 or frames.shape[1] != 3 or frames.shape[0] < 2:
        raise ValueError(f"frames must be (T, 3, H, W) with T >= 2, got shape {tuple(frames.shape)}")
    if flows is None:
        flows = clip_flows(frames if reference is None else reference)
    if len(flows) != frames.shape[0] - 1:
        raise ValueError(f"{frames.shape[0]} frames need {frames.shape[0] - 1} flows, got {len(flows)}")
    errs, fracs = [], []
    for t in range(1, frames.shape[0]):
        pf = flows[t - 1]
        diff = (frames[t].float() - warp(frames[t - 1].float(), pf.back)).abs().mean(0)
        m = pf.mask.float()
        n = float(m.sum())
        errs.append(float((diff * m).sum()) / n if n > 0 else 0.0)
        fracs.append(n / m.numel())
    per = torch.tensor(errs, dtype=torch.float64)
    return WarpingError(per, float(per.mean()), float(np.mean(fracs)))


def blend_previous(
    stylized: torch.Tensor, warped_prev: torch.Tensor, mask: torch.Tensor, weight: float
) -> torch.Tensor:
    """The method's one line: ``(1 - w m) S + w m W`` (no rounding).

    Args:
        stylized: ``S``, the per-frame stylised frame ``(3, H, W)`` in ``[0, 1]``.
        warped_prev: ``W``, the previous output warped onto this frame, ``(3, H, W)``.
        mask: ``m``, ``(H, W)`` bool or float in ``[0, 1]``: 1 where the flow is trusted.
        weight: ``w`` in ``[0, 0.95]``.

    Example:
        >>> s, w = torch.zeros(3, 1, 2), torch.ones(3, 1, 2)
        >>> blend_previous(s, w, torch.tensor([[True, False]]), 0.7)[0].tolist()
        [[0.699999988079071, 0.0]]
    """
    a = mask.float() * check_weight(weight)
    return (1 - a) * stylized + a * warped_prev


class TemporalStabilizer:
    """Flow-guided blending of the previous output into each new stylised frame (streaming).

    ``step(frame, stylized)`` takes input frame ``t`` and its per-frame stylised version and
    returns output frame ``t``, rounded to 1/255 steps (:func:`quantize8`); the first frame
    (or the first after :meth:`reset`) is returned as it is. ``reset(prev_input, prev_output)``
    starts again, optionally from a saved previous frame (how a resumed run continues).

    Args:
        weight: ``w`` in ``[0, 0.95]`` (:func:`check_weight`); 0 turns the method off.
        photometric_limit: input pixels changing more than this after warping are not blended.

    Example:
        >>> st = TemporalStabilizer(0.5)
        >>> a = torch.full((3, 16, 16), 0.2)
        >>> first = st.step(a, torch.zeros(3, 16, 16))
        >>> round(float(st.step(a, torch.ones(3, 16, 16)).mean()), 3)   # half of the previous 0
        0.502
    """

    def __init__(self, weight: float = DEFAULT_WEIGHT, photometric_limit: float = PHOTOMETRIC_LIMIT) -> None:
        self.weight = check_weight(weight)
        self.photometric_limit = float(photometric_limit)
        self.prev_input: Optional[torch.Tensor] = None
        self.prev_output: Optional[torch.Tensor] = None
        self.last_mask_fraction = 0.0

    def reset(
        self, prev_input: Optional[torch.Tensor] = None, prev_output: Optional[torch.Tensor] = None
    ) -> None:
        """Forget the past, or continue after ``prev_input`` / ``prev_output`` (both ``(3, H, W)``)."""
        self.prev_input = None if prev_input is None else _frame(prev_input, "prev_input")
        self.prev_output = None if prev_output is None else quantize8(_frame(prev_output, "prev_output"))

    def step(self, frame: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
        """The output frame for input ``frame`` and its per-frame ``stylized`` version, all ``(3, H, W)``."""
        frame, stylized = _frame(frame, "frame"), _frame(stylized, "stylized")
        if frame.shape != stylized.shape:
            raise ValueError(
                f"frame {tuple(frame.shape)} and stylized {tuple(stylized.shape)} differ in shape"
            )
        if (
            self.weight == 0
            or self.prev_input is None
            or self.prev_output is None
            or self.prev_output.shape != stylized.shape
        ):
            out = quantize8(stylized)
            self.last_mask_fraction = 0.0
        else:
            pf = pair_flow(self.prev_input, frame)
            keep = pf.mask & (pf.photometric <= self.photometric_limit)
            self.last_mask_fraction = float(keep.float().mean())
            out = quantize8(blend_previous(stylized, warp(self.prev_output, pf.back), keep, self.weight))
        self.prev_input, self.prev_output = frame, out
        return out


def stabilize(stylized: torch.Tensor, frames: torch.Tensor, weight: float = DEFAULT_WEIGHT) -> torch.Tensor:
    """:class:`TemporalStabilizer` over a whole clip: ``(T, 3, H, W)`` per-frame outputs and their inputs.

    Returns:
        ``(T, 3, H, W)`` in ``[0, 1]`` (1/255 steps), what ``animegan-edu video --temporal`` writes
        before the colour grade.

    Example:
        >>> clip = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0)).repeat(3, 1, 1, 1)
        >>> tuple(stabilize(clip, clip, 0.5).shape)
        (3, 3, 16, 16)
    """
    if stylized.shape != frames.shape or stylized.ndim != 4:
        raise ValueError(
            f"stylized {tuple(stylized.shape)} and frames {tuple(frames.shape)} must both be (T, 3, H, W)"
        )
    st = TemporalStabilizer(weight)
    return torch.stack([st.step(f, s) for f, s in zip(frames, stylized)])
