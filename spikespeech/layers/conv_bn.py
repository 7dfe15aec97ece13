"""Weight layer + BatchNorm on time-first token tensors, foldable for inference."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..tensor_cache import cached_from
from .norm import MaskedBatchNorm


class DepthwiseTokenConv(nn.Conv1d):
    """Depthwise convolution over the token axis of channels-last ``(..., L, C)`` input.

    Same parameters and state dict as ``nn.Conv1d(C, M * C, k, groups=C)`` (``M`` =
    ``multiplier`` outputs per input channel); computed as ``k`` shifted multiply-adds, about
    twice as fast on CPU as a (transposed) depthwise conv at speech sizes, and free of layout
    copies. "Same" zero padding, or left-only if causal. With ``M > 1`` the output is
    slice-major, ``(..., L, M * C)`` with index ``m * C + c`` (the weight keeps Conv1d's
    ``c * M + m`` order): the contiguous channel axis stays innermost, which vectorises.
    """

    def __init__(self, channels: int, kernel_size: int, causal: bool = False, bias: bool = False,
                 multiplier: int = 1):
        super().__init__(channels, multiplier * channels, kernel_size, groups=channels, bias=bias)
        self.causal = causal
        self.multiplier = multiplier

    @property
    def token_padding(self) -> tuple[int, int]:
        k = self.kernel_size[0]
        return (k - 1, 0) if self.causal else (k // 2, k // 2)

    def forward(self, x: torch.Tensor, add_to: torch.Tensor | None = None) -> torch.Tensor:
        """``(..., L, C)`` → ``(..., L, M * C)``; or, given ``add_to`` ``(..., L, M, C)``, add
        the result into it in place and return it (inference: saves the temporaries)."""
        bias = None if self.bias is None else self.bias.view(-1, self.multiplier).t()  # (M, C)
        if add_to is not None:
            self._add_weight_only_(add_to, x)
            return add_to if bias is None else add_to.add_(bias)
        y = self.weight_only(x)
        return y if bias is None else y + bias.reshape(-1)  # slice-major, like the output

    def _add_weight_only_(self, y: torch.Tensor, x: torch.Tensor) -> None:
        L, M, k = x.shape[-2], self.multiplier, self.weight.shape[-1]
        if torch.is_grad_enabled() and self.weight.requires_grad:  # cached taps carry no grad
            y.add_(self.weight_only(x).unflatten(-1, (M, -1)))
            return
        # y[t] += x[t + o_j] * tap_j over the valid t of each tap (zero padding = skipped rows)
        taps = cached_from(self, self.weight, ("taps",),  # (k, M, C)
                           lambda: self.weight.detach().view(-1, M, k).permute(2, 1, 0).contiguous())
        x = x.unsqueeze(-2)
        for j in range(k):
            o = j - self.token_padding[0]
            if abs(o) >= L:
                continue
            if o >= 0:
                y[..., : L - o, :, :].addcmul_(x[..., o:, :, :], taps[j])
            else:
                y[..., -o:, :, :].addcmul_(x[..., : L + o, :, :], taps[j])

    def weight_only(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution without its bias: ``(..., L, C)`` → ``(..., L, M * C)``."""
        L, M, k = x.shape[-2], self.multiplier, self.weight.shape[-1]
        # (..., L', 1, C) x (M, C) taps -> (..., L, M, C) -> slice-major m * C + c
        padded = F.pad(x, (0, 0, *self.token_padding)).unsqueeze(-2)
        taps = self.weight.view(-1, M, k).transpose(0, 1)  # (M, C, k)
        y = padded[..., 0:L, :, :] * taps[..., 0]
        for j in range(1, k):
            y = y + padded[..., j:j + L, :, :] * taps[..., j]
        return y.flatten(-2)


class TokenConv(nn.Module):
    """A 1-D convolution over the token axis of ``(..., L, C_in)`` → ``(..., L, C_out)``.

    ``kernel_size=1`` with ``groups=1`` is a plain ``nn.Linear`` (faster, and the energy meter
    sees the usual fan-out). Larger kernels use ``nn.Conv1d`` with "same" padding, or left-only
    padding when ``causal``. Inputs must be zero at padded frames for padding invariance.
    """

    def __init__(
        self, d_in: int, d_out: int, kernel_size: int = 1, groups: int = 1,
        causal: bool = False, bias: bool = False,
    ) -> None:
        super().__init__()
        if kernel_size < 1:
            raise ValueError(f"TokenConv: kernel_size must be >= 1 (got {kernel_size})")
        if not causal and kernel_size % 2 == 0:
            raise ValueError(f"TokenConv: non-causal kernel_size must be odd (got {kernel_size})")
        self.kernel_size = kernel_size
        self.causal = causal
        if kernel_size == 1 and groups == 1:
            self.layer: nn.Module = nn.Linear(d_in, d_out, bias=bias)
        elif groups == d_in == d_out:
            self.layer = DepthwiseTokenConv(d_in, kernel_size, causal, bias)
        else:
            pad = 0 if causal else kernel_size // 2
            self.layer = nn.Conv1d(d_in, d_out, kernel_size, padding=pad, groups=groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.layer, (nn.Linear, DepthwiseTokenConv)):
            return self.layer(x)
        lead, (L, C) = x.shape[:-2], x.shape[-2:]
        y = x.reshape(-1, L, C).transpose(1, 2)
        if self.causal:
            y = F.pad(y, (self.kernel_size - 1, 0))
        y = self.layer(y).transpose(1, 2)
        return y.reshape(*lead, L, -1)


def fold_batchnorm(conv: TokenConv, bn: MaskedBatchNorm) -> TokenConv:
    """Return a new :class:`TokenConv` with bias computing ``bn(conv(x))`` (eval mode)."""
    inner = conv.layer
    out_ch = inner.out_features if isinstance(inner, nn.Linear) else inner.out_channels
    groups = 1 if isinstance(inner, nn.Linear) else inner.groups
    d_in = inner.in_features if isinstance(inner, nn.Linear) else inner.in_channels
    fused = TokenConv(d_in, out_ch, conv.kernel_size, groups, conv.causal, bias=True)
    scale, shift = bn.affine_params()
    with torch.no_grad():
        w = inner.weight * scale.view(-1, *([1] * (inner.weight.dim() - 1)))
        fused.layer.weight.copy_(w)
        b = shift if inner.bias is None else inner.bias * scale + shift
        fused.layer.bias.copy_(b)
    return fused.to(inner.weight)  # same device and dtype


class ConvBN(nn.Module):
    """``BN(TokenConv(x))`` with padding-aware batch statistics; ``fold()`` for inference.

    ``norm=False``: a plain biased ``TokenConv`` (no BN), for blocks that normalise elsewhere.
    """

    def __init__(self, d_in: int, d_out: int, kernel_size: int = 1, groups: int = 1,
                 causal: bool = False, norm: bool = True) -> None:
        super().__init__()
        self.conv = TokenConv(d_in, d_out, kernel_size, groups, causal, bias=not norm)
        self.bn = MaskedBatchNorm(d_out) if norm else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: ``(T, B, L, C_in)`` spikes; ``mask``: ``(B, L)`` bool → ``(T, B, L, C_out)``."""
        y = self.conv(x)
        return y if self.bn is None else self.bn(y, mask)

    def fold(self) -> TokenConv:
        """A new layer computing this one's eval-mode output (BN folded into the weights)."""
        if self.bn is None:
            return self.conv
        return fold_batchnorm(self.conv, self.bn)

    def folded(self) -> ConvBN:
        """The inference form (:func:`~spikespeech.layers.fold_for_inference`): a new
        ``ConvBN`` without BN whose biased weight layer computes this one's eval output."""
        inference = ConvBN.__new__(ConvBN)
        nn.Module.__init__(inference)
        # a new layer either way: the folded module shares no parameters with this one
        inference.conv = self.fold() if self.bn is not None else copy.deepcopy(self.conv)
        inference.bn = None
        return inference
