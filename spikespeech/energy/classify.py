"""Classify an activation tensor as binary spikes, multi-level spike counts, or real values."""

from __future__ import annotations

import torch

BINARY, MULTILEVEL, REAL = "binary", "multilevel", "real"


def classify(x: torch.Tensor, max_level: float | None = None) -> str:
    """``binary`` (all values in {0, 1}), ``multilevel`` (non-negative integers) or ``real``.

    ``max_level``: the largest count a neuron of the model emits. Integers above it are not
    spikes but integer-valued activations (e.g. raw ``Q K^T`` coincidence counts): ``real``.
    ``None`` = no bound (a model without neurons).
    """
    if not x.is_floating_point():
        x = x.float()
    if x.numel() == 0:
        return BINARY
    if bool((x < 0).any()) or not bool(torch.equal(x, torch.round(x))):
        return REAL
    top = float(x.max())
    if max_level is not None and top > max_level:
        return REAL
    return BINARY if top <= 1.0 else MULTILEVEL


def is_spike(kind: str) -> bool:
    return kind in (BINARY, MULTILEVEL)
