"""Binary expansion of multi-level spikes (thermometer code).

A count ``s`` in ``0..D`` equals the sum of ``D`` binary slots ``b_d = 1[s >= d]``. Every
weight layer ``W`` is linear, so ``W s = sum_d W b_d``: a multi-level spike tensor can be
processed as ``D`` binary spike tensors with accumulate-only (AC) operations, which is why
IMLS keeps spike-driven inference. A bias is not part of the spike-driven sum: it is added
once, after the accumulation, exactly like a binary SNN's bias (``W s + b = sum_d W b_d + b``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def to_binary_slots(counts: torch.Tensor, levels: int) -> torch.Tensor:
    """``counts`` (any shape, integers in ``0..levels``) → ``(levels, *shape)`` in {0, 1}."""
    if counts.numel() and (counts.min() < 0 or counts.max() > levels):
        raise ValueError(f"to_binary_slots: counts must lie in 0..{levels}")
    if counts.numel() and not torch.equal(counts, counts.round()):
        raise ValueError("to_binary_slots: counts must be integers")
    thresholds = torch.arange(1, levels + 1, device=counts.device, dtype=counts.dtype)
    shape = (levels,) + (1,) * counts.dim()
    return (counts.unsqueeze(0) >= thresholds.view(shape)).to(counts.dtype)


def from_binary_slots(slots: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_binary_slots`: ``(D, *shape)`` binary slots → counts ``shape``."""
    return slots.sum(0)


def spike_driven_apply(layer: torch.nn.Module, counts: torch.Tensor, levels: int) -> torch.Tensor:
    """Apply ``layer`` (Linear or Conv) slot by slot: ``sum_d W b_d``, then ``+ b`` once.

    Numerically equal to ``layer(counts)``; used to check spike-driven equivalence.
    """
    out = sum(_apply_weight_only(layer, b) for b in to_binary_slots(counts, levels))
    if layer.bias is not None:
        channels_last = hasattr(layer, "weight_only")  # DepthwiseTokenConv: (..., L, C)
        shape = (-1,) if channels_last else (-1,) + (1,) * (layer.weight.dim() - 2)
        out = out + layer.bias.view(shape)
    return out


def _apply_weight_only(layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    if isinstance(layer, nn.Linear):
        return F.linear(x, layer.weight)
    if hasattr(layer, "weight_only"):  # channels-last token conv
        return layer.weight_only(x)
    if isinstance(layer, nn.modules.conv._ConvNd):
        return layer._conv_forward(x, layer.weight, None)
    raise TypeError(f"spike_driven_apply: unsupported layer type {type(layer).__name__}")
