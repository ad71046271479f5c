"""One generator, several styles: the AnimeGANv2 generator with conditional normalisation.

Every ``GroupNorm`` of :class:`~animegan_edu.models.Generator` normalises its input and then
applies a learned per-channel scale and shift. Conditional normalisation (Dumoulin et al.
2017, "A Learned Representation for Artistic Style"; Huang and Belongie 2017, AdaIN)
makes that scale and shift depend on a **style code** ``c``: feature-wise linear modulation
(FiLM),

    ``y = norm(x) * weight * (1 + dg(c)) + bias + db(c)``,

where ``dg`` and ``db`` are linear maps of the code, one pair per norm layer. They start at
zero, so an untrained head (or no code at all) computes exactly the plain generator, and
the public and demo weights load unchanged.

The code comes from either of two paths:

* a **learned embedding** per named style (``style_names``);
* a small **style encoder** applied to the statistics of one or more reference pictures:
  a vector of :data:`REF_STATS_DIM` numbers (the per-channel mean and spread of early
  pretrained-VGG layers, computed above this layer by
  :func:`animegan_edu.training.multistyle.reference_stats`), mapped by two linear layers to
  weights over the named styles; the code is the weighted mean of their learned codes.

Interpolating two codes gives a continuous mix of the two styles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from animegan_edu.models import Generator, UpsampleMode

__all__ = [
    "REF_STATS_DIM",
    "channel_stats",
    "ModulatedGroupNorm",
    "StyleEncoder",
    "StyleConditionedGenerator",
    "StyleView",
]

#: Length of a reference picture's statistics vector: the mean and the spread of each channel of
#: VGG16 ``conv1_2`` (64), ``conv2_2`` (128) and ``conv3_3`` (256).
REF_STATS_DIM = 2 * (64 + 128 + 256)


def channel_stats(feat: torch.Tensor) -> torch.Tensor:
    """The per-channel mean, then the per-channel spread, of feature maps: ``(N, C, H, W)`` -> ``(N, 2C)``.

    The spread is torch's (unbiased) standard deviation over the ``H * W`` positions. These
    numbers, for early VGG layers, are what the style encoder reads from a reference picture
    (the statistics AdaIN transfers).

    Example:
        >>> f = torch.tensor([[[[1.0, 3.0]], [[2.0, 2.0]]]])  # N=1, C=2, H=1, W=2
        >>> channel_stats(f)
        tensor([[2.0000, 2.0000, 1.4142, 0.0000]])
    """
    return torch.cat([feat.mean((2, 3)), feat.std((2, 3))], dim=1)


class ModulatedGroupNorm(nn.GroupNorm):
    """``GroupNorm`` whose affine scale and shift a style code modulates (FiLM).

    Same parameters and state-dict names as :class:`torch.nn.GroupNorm`. While
    ``modulation`` is ``None`` it *is* a plain ``GroupNorm``; set to ``(dg, db)``, each
    ``(N, C)``, it returns ``norm(x) * weight * (1 + dg) + bias + db``, computed as the plain
    result plus ``norm(x) * weight * dg + db`` so that a zero modulation changes no bit.

    Example:
        >>> gn = ModulatedGroupNorm(1, 4)
        >>> x = torch.randn(2, 4, 5, 5)
        >>> torch.equal(gn(x), nn.GroupNorm(1, 4)(x))
        True
        >>> gn.modulation = (torch.zeros(2, 4), torch.ones(2, 4))  # shift every channel by 1
        >>> bool(torch.allclose(gn(x), nn.GroupNorm(1, 4)(x) + 1, atol=1e-6))
        True
    """

    modulation: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.modulation is None:
            return super().forward(x)
        dg, db = self.modulation
        plain = super().forward(x)  # the unmodulated result, so that a zero modulation changes no bit
        normed = F.group_norm(x, self.num_groups, None, None, self.eps)
        scale = self.weight[None, :, None, None] * dg[:, :, None, None]
        return plain + normed * scale + db[:, :, None, None]


class StyleEncoder(nn.Module):
    """Reference statistics to weights over the named styles ("style tokens").

    Each reference picture's statistics are standardised with the ``mean`` and ``std``
    buffers (set from the training sets' pictures) and mapped by two linear layers (a leaky
    ReLU between) to one score per named style; a softmax turns the scores into weights, and
    the weights of the ``K`` pictures are averaged, so each picture votes alike. The code of
    the references is then the weighted mean of the learned style codes
    (:meth:`StyleConditionedGenerator.reference_code`): the encoder can only say *which* of the
    learned styles the references resemble, and how much, not invent a new style (Wang et al.
    2018, "Style Tokens").

    Shapes: ``(K, stats_dim)`` for ``K`` pictures -> ``(n_styles,)`` weights ``>= 0``, summing to 1.

    Example:
        >>> enc = StyleEncoder(6, 3)
        >>> w = enc(torch.ones(2, 6)).detach()
        >>> w.shape, round(float(w.sum()), 6)
        (torch.Size([3]), 1.0)
    """

    def __init__(self, stats_dim: int = REF_STATS_DIM, n_styles: int = 1, hidden: int = 128) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(stats_dim))
        self.register_buffer("std", torch.ones(stats_dim))
        self.net = nn.Sequential(nn.Linear(stats_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, n_styles))

    def scores(self, stats: torch.Tensor) -> torch.Tensor:
        """One score per picture and named style: ``(K, stats_dim)`` -> ``(K, n_styles)`` (softmax logits)."""
        if stats.ndim != 2 or stats.shape[1] != self.mean.numel() or len(stats) == 0:
            want, got = self.mean.numel(), tuple(stats.shape)
            raise ValueError(f"StyleEncoder expects (K, {want}) statistics with K >= 1, got {got}")
        return self.net((stats - self.mean) / self.std)

    def forward(self, stats: torch.Tensor) -> torch.Tensor:
        return self.scores(stats).softmax(dim=1).mean(0)


class StyleConditionedGenerator(Generator):
    """The AnimeGANv2 generator with every ``GroupNorm`` modulated by a style code.

    Args:
        style_names: the named styles of the embedding path (may be empty).
        code_dim: length of a style code.
        stats_dim: length of a reference picture's statistics (:data:`REF_STATS_DIM`).
        upsample: as for :class:`~animegan_edu.models.Generator`.

    ``forward(x, code)`` takes RGB ``(N, 3, H, W)`` in ``[-1, 1]`` and a code ``(code_dim,)``
    or ``(N, code_dim)``, or ``None`` for the plain generator; it returns ``(N, 3, H, W)``
    in ``[-1, 1]``. :meth:`style_code`, :meth:`mix` and :meth:`reference_code` make codes.

    Example:
        >>> g = StyleConditionedGenerator(["a", "b"]).eval()
        >>> x = torch.zeros(1, 3, 32, 32)
        >>> g(x, g.mix({"a": 0.5, "b": 0.5})).shape
        torch.Size([1, 3, 32, 32])
    """

    def __init__(
        self,
        style_names: Sequence[str] = (),
        code_dim: int = 16,
        stats_dim: int = REF_STATS_DIM,
        upsample: UpsampleMode = "align_corners",
    ) -> None:
        super().__init__(upsample)
        self.norm_names: list[str] = []
        for name, module in list(self.named_modules()):
            if type(module) is nn.GroupNorm:
                self._swap(name, module)
        self.style_names = tuple(style_names)
        if len(set(self.style_names)) != len(self.style_names):
            raise ValueError(f"style names must differ, got {list(self.style_names)}")
        self.code_dim = code_dim
        self.embedding = nn.Embedding(max(1, len(self.style_names)), code_dim)
        nn.init.normal_(self.embedding.weight, std=1.0, generator=torch.Generator().manual_seed(0))
        self.encoder = StyleEncoder(stats_dim, max(1, len(self.style_names)))
        widths = [self._norm(n).num_channels for n in self.norm_names]
        self.film = nn.ModuleList(nn.Linear(code_dim, 2 * c) for c in widths)
        for head in self.film:  # zero: every code starts as the identity modulation
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def _swap(self, name: str, old: nn.GroupNorm) -> None:
        parent_name, _, child = name.rpartition(".")
        parent = self.get_submodule(parent_name)
        new = ModulatedGroupNorm(old.num_groups, old.num_channels, old.eps, old.affine)
        new.load_state_dict(old.state_dict())
        setattr(parent, child, new)
        self.norm_names.append(name)

    def _norm(self, name: str) -> ModulatedGroupNorm:
        module = self.get_submodule(name)
        assert isinstance(module, ModulatedGroupNorm)
        return module

    # ------------------------------------------------------------------ codes
    def style_code(self, name: str) -> torch.Tensor:
        """The learned code ``(code_dim,)`` of a named style (the embedding path)."""
        if name not in self.style_names:
            known = ", ".join(self.style_names) or "none"
            raise ValueError(f"unknown style {name!r}; this model knows: {known}")
        return self.embedding.weight[self.style_names.index(name)]

    def mix(self, weights: Mapping[str, float]) -> torch.Tensor:
        """The weighted mean ``(code_dim,)`` of named styles' codes (weights >= 0, not all 0).

        ``mix({"a": 1.0})`` is exactly ``style_code("a")``; ``mix({"a": 1 - t, "b": t})``
        moves continuously from one style to the other.
        """
        if not weights or any(not (w >= 0) for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f"mix weights must be >= 0 and not all 0, got {dict(weights)}")
        total = float(sum(weights.values()))
        return sum((w / total) * self.style_code(n) for n, w in weights.items() if w > 0)  # type: ignore[return-value]

    def reference_weights(self, stats: torch.Tensor) -> dict[str, float]:
        """How much reference pictures (statistics ``(K, stats_dim)``) resemble each named style.

        The weights are ``>= 0`` and sum to 1 (see :class:`StyleEncoder`).
        """
        w = self.encoder(stats)
        return {n: float(w[k]) for k, n in enumerate(self.style_names)}

    def reference_code(self, stats: torch.Tensor) -> torch.Tensor:
        """The code ``(code_dim,)`` of reference pictures from their statistics ``(K, stats_dim)``.

        The encoder's weights (:meth:`reference_weights`) times the named styles' codes, so a
        reference the encoder is sure of gets exactly that style's code.
        """
        w = self.encoder(stats)
        return w @ self.embedding.weight

    # ---------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor, code: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if code is None:
            return super().forward(x)
        codes = code.expand(len(x), -1) if code.ndim == 1 else code
        if codes.shape != (len(x), self.code_dim):
            want = f"({self.code_dim},) or ({len(x)}, {self.code_dim})"
            raise ValueError(f"style code must be {want}, got {tuple(code.shape)}")
        norms = [self._norm(n) for n in self.norm_names]
        try:
            for norm, head in zip(norms, self.film):
                dg, db = head(codes).chunk(2, dim=1)
                norm.modulation = (dg, db)
            return super().forward(x)
        finally:
            for norm in norms:
                norm.modulation = None

    def load_generator_state(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load a plain :class:`~animegan_edu.models.Generator` state dict (public or demo layout).

        Every generator key must be present and match; the style parts (embedding, encoder,
        FiLM heads) keep their values.
        """
        own = set(Generator().state_dict())
        missing, extra = own - set(state), set(state) - own
        if missing or extra:
            raise ValueError(
                f"not a Generator state dict: {len(missing)} keys missing, {len(extra)} unexpected"
                + (f" (e.g. {sorted(missing or extra)[0]!r})" if missing or extra else "")
            )
        result = self.load_state_dict(dict(state), strict=False)
        assert not result.unexpected_keys


class StyleView(nn.Module):
    """A :class:`StyleConditionedGenerator` under one style: a module with the plain generator's call.

    ``style`` is a style name (its learned code, read at every call, so a view made before or
    during training follows the embedding) or a fixed code ``(code_dim,)`` (a mix, or a
    reference code). ``forward(x)`` maps RGB ``(N, 3, H, W)`` in ``[-1, 1]`` to the same
    shape and range, so the view goes wherever a :class:`~animegan_edu.models.Generator` does.

    Example:
        >>> g = StyleConditionedGenerator(["a", "b"]).eval()
        >>> x = torch.zeros(1, 3, 16, 16)
        >>> torch.equal(StyleView(g, "a")(x), g(x, g.style_code("a")))
        True
    """

    def __init__(self, generator: StyleConditionedGenerator, style: str | torch.Tensor) -> None:
        super().__init__()
        self.generator = generator
        if isinstance(style, str):
            generator.style_code(style)  # an unknown name fails here, not at the first call
        self.style = style

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        code = self.generator.style_code(self.style) if isinstance(self.style, str) else self.style
        return self.generator(x, code)
