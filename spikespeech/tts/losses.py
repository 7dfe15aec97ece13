"""Masked regression losses and the weighted SpikeVoice loss (padding never counts)."""

from __future__ import annotations

import torch

from .config import LossConfig

LOSS_NAMES = ("mel_l1", "postnet_l1", "duration_mse", "pitch_mse", "energy_mse", "forward_sum",
              "binarization")


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values (B, N, ...)`` over the positions where ``mask (B, N)`` is True (0 if none).

    ``torch.where``, not a product: NaN/inf at padded positions must not leak.
    """
    mask = mask.reshape(*mask.shape, *([1] * (values.dim() - mask.dim()))).expand_as(values)
    total = torch.where(mask, values, torch.zeros_like(values)).sum()
    return total / mask.sum().clamp_min(1).to(values.dtype)


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L1 averaged over valid positions (and channels): ``pred``/``target`` ``(B, N, ...)``."""
    return masked_mean((pred - target).abs(), mask)


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return masked_mean((pred - target).square(), mask)


def binarization_weight(cfg: LossConfig, step: int) -> float:
    """``cfg.binarization`` ramped linearly from 0 at ``binarization_start_step`` over
    ``binarization_warmup_steps`` (0 before the start)."""
    if step < cfg.binarization_start_step:
        return 0.0
    if cfg.binarization_warmup_steps == 0:
        return cfg.binarization
    ramp = (step - cfg.binarization_start_step + 1) / cfg.binarization_warmup_steps
    return cfg.binarization * min(1.0, ramp)


def total_loss(losses: dict[str, torch.Tensor], cfg: LossConfig, step: int) -> torch.Tensor:
    """Weighted sum of the unweighted ``losses`` (keys :data:`LOSS_NAMES`)."""
    weights = {
        "mel_l1": cfg.mel, "postnet_l1": cfg.postnet, "duration_mse": cfg.duration,
        "pitch_mse": cfg.pitch, "energy_mse": cfg.energy, "forward_sum": cfg.forward_sum,
        "binarization": binarization_weight(cfg, step),
    }
    return sum(weights[name] * losses[name] for name in LOSS_NAMES)
