"""Hierarchical decay mask (HDM): per-head, per-layer decay of attention with distance."""

from __future__ import annotations

import torch
from torch import nn

from .config import DecayConfig


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
        """Per-head decay ``(H,)``."""
        return 1.0 - torch.pow(2.0, -self.exponent)

    def forward(self, length: int, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        pos = torch.arange(length, device=self.exponent.device)
        rel = pos.view(-1, 1) - pos.view(1, -1)  # i - j
        dist = rel.abs().to(self.exponent.dtype)
        log_gamma = torch.log(self.gamma).view(-1, 1, 1)
        mask = torch.exp(log_gamma * dist).unsqueeze(0)  # (1, H, L, L)
        if self.causal:
            mask = mask * (rel >= 0)
        if key_mask is not None:
            mask = mask * key_mask[:, None, None, :].to(mask.dtype)
        if self.normalize != "none":
            rowsum = mask.sum(-1, keepdim=True).clamp_min(1e-6)
            mask = mask / (rowsum.sqrt() if self.normalize == "sqrt_rowsum" else rowsum)
        return mask

    def extra_repr(self) -> str:
        g = ", ".join(f"{x:.4f}" for x in self.gamma.tolist())
        return f"gamma=[{g}], causal={self.causal}, normalize={self.normalize}"
