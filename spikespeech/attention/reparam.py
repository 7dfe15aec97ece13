"""Reparameterisable spike projection (the "Rep" of RepSSA).

Training form (multi-branch)::

    y = BN_a(W_a s) + BN_b(DWConv_k s)        # dense linear + depthwise temporal conv

Both branches are linear in ``s`` and BN is affine in eval mode, so after training the
whole projection folds into a single convolution over the token axis whose kernel is
dense at the centre tap and diagonal elsewhere. :meth:`RepProjection.folded` returns it as
a :class:`FoldedProjection`: that centre ``Linear`` (with the merged bias) plus the depthwise
side taps (same maths as one conv, without materialising the zero entries); its
:meth:`~FoldedProjection.as_conv1d` materialises the single dense ``Conv1d`` for export.
"""

from __future__ import annotations

import torch
from torch import nn

from ..layers import ConvBN, DepthwiseTokenConv, TokenConv


class RepProjection(nn.Module):
    """``(T, B, L, C)`` spikes → ``(T, B, L, C)`` currents; ``kernel=0`` is plain linear+BN."""

    def __init__(self, dim: int, kernel: int = 3, causal: bool = False) -> None:
        super().__init__()
        self.dim, self.kernel, self.causal = dim, kernel, causal
        self.linear = ConvBN(dim, dim, 1)
        self.temporal = ConvBN(dim, dim, kernel, groups=dim, causal=causal) if kernel > 0 else None

    def forward(self, s: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        y = self.linear(s, mask)
        return y if self.temporal is None else y + self.temporal(s, mask)

    @torch.no_grad()
    def folded(self) -> FoldedProjection:
        """The inference form: both branches and their BNs (eval statistics) folded."""
        linear = self.linear.fold()
        temporal = None
        if self.temporal is not None:
            temporal = self.temporal.fold()
            linear.layer.bias.add_(temporal.layer.bias)  # one bias for the whole projection
            temporal.layer.bias = None
        return FoldedProjection(linear, temporal, self.kernel, self.causal)


class FoldedProjection(nn.Module):
    """Inference form of :class:`RepProjection`: the centre ``Linear`` (with the merged bias)
    plus the depthwise side taps, the same maths as one conv without its zero entries."""

    def __init__(self, linear: TokenConv, temporal: TokenConv | None, kernel: int,
                 causal: bool) -> None:
        super().__init__()
        self.linear, self.temporal = linear, temporal
        self.dim, self.kernel, self.causal = linear.layer.weight.shape[0], kernel, causal

    def forward(self, s: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        y = self.linear(s)
        return y if self.temporal is None else y + self.temporal(s)

    @torch.no_grad()
    def as_conv1d(self) -> nn.Conv1d:
        """The projection as one dense ``Conv1d`` (``C x C x k``) over the token axis."""
        k = max(self.kernel, 1)
        pad = 0 if self.causal else k // 2
        conv = nn.Conv1d(self.dim, self.dim, k, padding=pad, bias=True)
        conv = conv.to(self.linear.layer.weight)
        weight = torch.zeros_like(conv.weight)
        centre = k - 1 if self.causal else k // 2
        weight[:, :, centre] = self.linear.layer.weight
        if self.temporal is not None:
            idx = torch.arange(self.dim)
            weight[idx, idx, :] += self.temporal.layer.weight[:, 0, :]
        conv.weight.copy_(weight)
        conv.bias.copy_(self.linear.layer.bias)
        return conv


class StackedProjection(nn.Module):
    """Inference form of ``S`` folded projections of the same input, computed together.

    ``(T, B, L, C)`` spikes → ``(T, B, L, S, C)``: one ``C → S·C`` linear (one GEMM instead of
    ``S``) plus each projection's depthwise temporal taps. Numerically the same as running the
    ``S`` folded projections one by one.
    """

    def __init__(self, projections: list[FoldedProjection]) -> None:
        super().__init__()
        self.slices, self.dim = len(projections), projections[0].dim
        weight = torch.cat([p.linear.layer.weight for p in projections])
        bias = torch.cat([p.linear.layer.bias for p in projections])
        self.linear = nn.Linear(self.dim, self.slices * self.dim).to(weight)
        with torch.no_grad():
            self.linear.weight.copy_(weight)
            self.linear.bias.copy_(bias)
        self.temporal = None
        first = projections[0].temporal
        if first is not None:  # one grouped conv: S outputs per input channel
            conv = first.layer
            self.temporal = DepthwiseTokenConv(self.dim, conv.kernel_size[0], conv.causal,
                                               multiplier=self.slices).to(weight)
            taps = torch.stack([p.temporal.layer.weight[:, 0, :] for p in projections], 1)
            with torch.no_grad():
                self.temporal.weight.copy_(taps.reshape(-1, 1, taps.shape[-1]))  # c * S + s

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        y = self.linear(s).unflatten(-1, (self.slices, self.dim))
        if self.temporal is not None:  # taps added in place, slice-major (..., L, S, C)
            y = self.temporal(s, add_to=y)
        return y
