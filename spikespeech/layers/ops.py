"""Parameter-free ops as modules, so that the energy meter can see their operands.

Attention products are not weight layers, but between spike tensors they are synaptic
operations too; wrapping them in modules lets forward hooks count them exactly.
"""

from __future__ import annotations

import torch
from torch import nn


class MatMul(nn.Module):
    """``a @ b`` with the usual broadcasting: ``(..., n, k) @ (..., k, m) -> (..., n, m)``."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


class ElementwiseMul(nn.Module):
    """``a * b`` (broadcasting): gating by spikes, or a real-valued mask.

    ``count_as="auto"`` lets the energy meter classify the operands (a spike operand makes it
    a gate); ``"mac"`` always counts real multiplies (e.g. integer scores times a decay mask).
    """

    def __init__(self, count_as: str = "auto") -> None:
        super().__init__()
        if count_as not in ("auto", "mac"):
            raise ValueError(f"ElementwiseMul: count_as must be 'auto' or 'mac' (got {count_as!r})")
        self.count_as = count_as

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * b
