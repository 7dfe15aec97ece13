"""Classify an activation tensor as binary spikes, multi-level spike counts, or real values."""

from __future__ import annotations

import torch

BINARY, MULTILEVEL, REAL = "binary", "multilevel", "real"


def classify(x: torch.Tensor) -> str:
    """``binary`` (all values in {0, 1}), ``multilevel`` (non-negative integers) or ``real``."""
    if not x.is_floating_point():
        x = x.float()
    if x.numel() == 0:
        return BINARY
    if bool((x < 0).any()) or not bool(torch.equal(x, torch.round(x))):
        return REAL
    return BINARY if float(x.max()) <= 1.0 else MULTILEVEL


def is_spike(kind: str) -> bool:
    return kind in (BINARY, MULTILEVEL)
