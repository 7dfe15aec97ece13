"""Hierarchical decay mask (HDM): per-head, per-layer decay of attention with distance."""

from __future__ import annotations

import torch
from torch import nn

from ..tensor_cache import cached_from
from .config import DecayConfig

# Floor of the exponents in use (gamma = 1 - 2**-e >= 6.9e-4). A learnt exponent can drift
# to <= 0, where gamma <= 0 and log(gamma) is NaN; clamping in the forward pass (rather than
# reparametrising the stored value) keeps every trained checkpoint's outputs unchanged.
MIN_EXPONENT = 1e-3


def decay_exponents(layer_index: int, num_layers: int, heads: int, cfg: DecayConfig) -> torch.Tensor:
    """Exponents ``e`` (``gamma = 1 - 2**-e``) of the ``heads`` heads of one layer, ``(H,)``.

    ``layerwise``: the layer's centre exponent rises linearly from ``e_min`` (first layer,
    local) to ``e_max`` (last layer, global); heads spread by ``head_spread`` around it.
    ``uniform``: every layer spreads its heads over ``[e_min, e_max]`` (RetNet-style).
    """
    lo, hi = cfg.exponent_range
    offsets = torch.linspace(-0.5, 0.5, heads) if heads > 1 else torch.zeros(1)
    if cfg.schedule == "uniform":
        return (lo + hi) / 2 + (hi - lo) * offsets
    frac = layer_index / (num_layers - 1) if num_layers > 1 else 0.5
    centre = lo + (hi - lo) * frac
    return (centre + cfg.head_spread * offsets).clamp(min=lo, max=hi)


class HierarchicalDecayMask(nn.Module):
    """Builds ``M_h[i, j] = gamma_h ** |i - j|`` for one layer, padding- and causality-aware.

    ``forward(length, key_mask)`` returns ``(B, H, L, L)`` (``(1, H, L, L)`` without a
    ``key_mask``): zero for padded keys (``key_mask`` False) and, if causal, for ``j > i``;
    then each row is normalised over its valid keys (``cfg.normalize``).
    """

    def __init__(self, layer_index: int, num_layers: int, heads: int, cfg: DecayConfig,
                 causal: bool = False) -> None:
        super().__init__()
        self.causal = causal
        self.normalize = cfg.normalize
        exps = decay_exponents(layer_index, num_layers, heads, cfg)
        if cfg.learnable:
            self.exponent = nn.Parameter(exps)
        else:
            self.register_buffer("exponent", exps)

    @property
    def gamma(self) -> torch.Tensor:
        """Per-head decay ``(H,)``, in ``(0, 1)``: the exponents are clamped to
        :data:`MIN_EXPONENT` or more (learnt ones get no gradient below it)."""
        return 1.0 - torch.pow(2.0, -self.exponent.clamp_min(MIN_EXPONENT))

    def forward(self, length: int, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The dense normalised mask ``(B | 1, H, L, L)`` (for inspection and plots)."""
        decay, row_scale = self.factors(length, key_mask)
        if key_mask is not None:
            decay = decay * key_mask[:, None, None, :].to(decay.dtype)
        return decay if row_scale is None else decay * row_scale

    def factors(self, length: int, key_mask: torch.Tensor | None = None):
        """``(decay (1, H, L, L), row_scale (B | 1, H, L, 1) or None)``.

        The dense mask is ``decay ⊙ key_mask ⊙ row_scale``. Attention applies it as
        ``row_scale ⊙ ((S ⊙ decay) V)``: the key mask is redundant there because K and V
        spikes are already zero at padded frames, and the per-row scale commutes with the
        product with V, so it is applied to the small ``(…, L, d)`` output instead of an
        ``L x L`` map per sequence.
        """
        decay = self._decay(length)
        if self.normalize == "none":
            return decay, None
        if key_mask is None:
            if self.exponent.requires_grad:
                return decay, self._row_scale(decay.sum(-1, keepdim=True))
            return decay, self._cached(
                ("row_scale", length), lambda: self._row_scale(decay.sum(-1, keepdim=True))
            )
        valid = key_mask[:, None, :, None].to(decay.dtype)  # (B, 1, L, 1)
        return decay, self._row_scale(torch.matmul(decay, valid))

    def last_row(self, length: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The last query's row of :meth:`factors` for an unpadded causal sequence of ``length``
        tokens: ``(decay (1, H, 1, L), row_scale (1, H, 1, 1) or None)``, built in ``O(L)`` for
        incremental decoding (query ``L - 1`` against keys ``0..L-1``)."""
        if not self.causal:
            raise RuntimeError("HierarchicalDecayMask.last_row: only a causal mask decodes incrementally")
        distance = torch.arange(length - 1, -1, -1, device=self.exponent.device, dtype=self.exponent.dtype)
        decay = torch.exp(torch.log(self.gamma).view(-1, 1, 1) * distance).unsqueeze(0)
        if self.normalize == "none":
            return decay, None
        return decay, self._row_scale(decay.sum(-1, keepdim=True))

    def _row_scale(self, rowsum: torch.Tensor) -> torch.Tensor:
        rowsum = rowsum.clamp_min(1e-6)
        return rowsum.rsqrt() if self.normalize == "sqrt_rowsum" else rowsum.reciprocal()

    def _decay(self, length: int) -> torch.Tensor:
        """Unnormalised ``(1, H, L, L)`` mask (cached while the exponents are fixed)."""
        if self.exponent.requires_grad:
            return self._build(length)
        return self._cached(("decay", length), lambda: self._build(length))

    def _build(self, length: int) -> torch.Tensor:
        pos = torch.arange(length, device=self.exponent.device)
        rel = pos.view(-1, 1) - pos.view(1, -1)  # i - j
        log_gamma = torch.log(self.gamma).view(-1, 1, 1)
        mask = torch.exp(log_gamma * rel.abs().to(self.exponent.dtype)).unsqueeze(0)
        return mask * (rel >= 0) if self.causal else mask

    def _cached(self, key: tuple, build) -> torch.Tensor:
        return cached_from(self, self.exponent, key, build)

    def extra_repr(self) -> str:
        g = ", ".join(f"{x:.4f}" for x in self.gamma.tolist())
        return f"gamma=[{g}], causal={self.causal}, normalize={self.normalize}"
