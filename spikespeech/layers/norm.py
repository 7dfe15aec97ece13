"""Batch normalisation whose statistics ignore padded frames."""

from __future__ import annotations

import torch
import torch.nn.functional as F
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
        flat = x.reshape(-1, shape[-1])
        if mask is None or not use_batch_stats or bool(mask.all()):
            # nn.BatchNorm1d on (N, C) handles momentum, num_batches_tracked and eval mode
            if not (self.training and self.track_running_stats):
                return super().forward(flat).reshape(shape)
            return self._train_unmasked(flat).reshape(shape)
        weights = mask.expand(shape[:-1]).reshape(-1, 1).to(x.dtype)
        n = float(weights.sum())
        if n < 2:
            raise ValueError("MaskedBatchNorm: need at least 2 valid frames in a training batch")
        gamma = self.weight if self.affine else None
        beta = self.bias if self.affine else None
        y, mean, var = _MaskedBatchNormFunction.apply(flat, weights, n, gamma, beta, self.eps)
        if self.track_running_stats:
            self._update_running(mean, var * (n / (n - 1)))
        return y.reshape(shape)

    def _train_unmasked(self, flat: torch.Tensor) -> torch.Tensor:
        # F.batch_norm updates copies of the running statistics (autograd keeps those), so
        # the buffers themselves take the update only if it is finite
        mean, var = self.running_mean.clone(), self.running_var.clone()
        y = F.batch_norm(flat, mean, var, self.weight, self.bias, True, self._momentum_step(), self.eps)
        self._accept_if_finite(mean, var)
        return y

    @torch.no_grad()
    def _update_running(self, mean: torch.Tensor, var_unbiased: torch.Tensor) -> None:
        m = self._momentum_step()
        self._accept_if_finite(torch.lerp(self.running_mean, mean, m),
                               torch.lerp(self.running_var, var_unbiased, m))

    def _momentum_step(self) -> float:
        self.num_batches_tracked.add_(1)
        return self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)

    @torch.no_grad()
    def _accept_if_finite(self, mean: torch.Tensor, var: torch.Tensor) -> None:
        # A NaN/inf batch makes the trainer skip its update (ESPnet: "The grad norm is nan"),
        # but running statistics change in the forward pass: keep them finite, or the
        # inference model would be corrupt. torch.where, not an if: no device sync.
        ok = torch.isfinite(mean).all() & torch.isfinite(var).all()
        self.running_mean.copy_(torch.where(ok, mean, self.running_mean))
        self.running_var.copy_(torch.where(ok, var, self.running_var))

    def affine_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Eval-mode ``y = x * scale + shift`` (per channel)."""
        scale = torch.rsqrt(self.running_var + self.eps)
        if self.affine:
            scale = scale * self.weight
            shift = self.bias - self.running_mean * scale
        else:
            shift = -self.running_mean * scale
        return scale, shift




class _MaskedBatchNormFunction(torch.autograd.Function):
    """Batch norm whose statistics come from rows with weight 1 (valid frames) only.

    Closed-form backward (standard BN, with the statistics' terms restricted to valid rows)::

        dx = gamma * r * (dy - w / n * (sum(dy) + x_hat * sum(dy * x_hat)))

    where ``r = 1/sqrt(var + eps)`` and sums run over all rows (padded outputs still depend
    on the statistics). Written with few full-size temporaries: on CPU each costs page faults.
    """

    @staticmethod
    def forward(ctx, x, w, n, gamma, beta, eps):
        mean = (w.T @ x).squeeze(0) / n
        x_hat = x - mean
        sq = x_hat.square()
        var = (w.T @ sq).squeeze(0) / n
        r = torch.rsqrt(var + eps)
        x_hat.mul_(r)
        if gamma is None:
            y = x_hat.clone()
        else:
            y = torch.addcmul(beta, x_hat, gamma, out=sq)
        ctx.save_for_backward(x_hat, w, r, gamma)
        ctx.n = n
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, dy, _dmean, _dvar):
        x_hat, w, r, gamma = ctx.saved_tensors
        sum_dy = dy.sum(0)
        tmp = dy * x_hat
        sum_dy_xhat = tmp.sum(0)
        torch.mul(x_hat, sum_dy_xhat, out=tmp).add_(sum_dy).mul_(w / ctx.n)
        scale = r if gamma is None else r * gamma
        dx = tmp.neg_().add_(dy).mul_(scale)
        if gamma is None:
            return dx, None, None, None, None, None
        return dx, None, None, sum_dy_xhat, sum_dy, None
