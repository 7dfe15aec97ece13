"""Batch normalisation whose statistics ignore padded frames."""

from __future__ import annotations

import torch
from torch import nn


class MaskedBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the last (channel) axis of ``(..., C)`` tensors.

    In training, mean and variance are taken over valid positions only (``mask`` True), so
    padding a batch never changes its valid outputs; in eval mode it is a fixed per-channel
    affine map (foldable into the preceding weight layer). State-dict keys are those of
    ``nn.BatchNorm1d``.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: ``(..., C)``; ``mask``: bool, broadcastable to ``x.shape[:-1]``, True = valid."""
        shape = x.shape
        use_batch_stats = self.training or not self.track_running_stats
        if mask is None or not use_batch_stats or bool(mask.all()):
            flat = x.reshape(-1, shape[-1])
            return self._native(flat).reshape(shape)
        valid = mask.expand(shape[:-1]).reshape(-1)
        flat = x.reshape(-1, shape[-1])
        rows = flat[valid]
        if rows.shape[0] < 2:
            raise ValueError("MaskedBatchNorm: need at least 2 valid frames in a training batch")
        mean = rows.mean(0)
        var = rows.var(0, unbiased=False)
        if self.track_running_stats:
            self._update_running(mean.detach(), rows.var(0, unbiased=True).detach())
        y = (flat - mean) * torch.rsqrt(var + self.eps)
        if self.affine:
            y = y * self.weight + self.bias
        return y.reshape(shape)

    def _native(self, flat: torch.Tensor) -> torch.Tensor:
        # BatchNorm1d.forward on (N, C) handles momentum/num_batches_tracked/eval for us
        return super().forward(flat)

    @torch.no_grad()
    def _update_running(self, mean: torch.Tensor, var_unbiased: torch.Tensor) -> None:
        self.num_batches_tracked += 1
        m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
        self.running_mean.lerp_(mean, m)
        self.running_var.lerp_(var_unbiased, m)

    def affine_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Eval-mode ``y = x * scale + shift`` (per channel)."""
        scale = torch.rsqrt(self.running_var + self.eps)
        if self.affine:
            scale = scale * self.weight
            shift = self.bias - self.running_mean * scale
        else:
            shift = -self.running_mean * scale
        return scale, shift


