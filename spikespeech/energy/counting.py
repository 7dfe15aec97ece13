"""Exact operation counts of one call of a layer, given its actual inputs.

Convention (standard in the SNN literature, e.g. Spikformer, Spike-driven Transformer):

* a real-valued input costs multiply-accumulates: ``MAC = number of products``;
* a spike input costs accumulates: each spike event adds one weight to every output it
  reaches, so ``AC = sum(spike counts x fan-out)``. For multi-level counts this is the
  binary expansion: a count ``c`` is ``c`` binary events;
* a product of two spike tensors costs one AC per coinciding pair of events:
  ``sum_{i,k,j} a_ik b_kj`` for a matrix product, ``sum_i a_i b_i`` for an elementwise one
  (multi-level counts ``c`` and ``c'`` make ``c c'`` pairs); a spike tensor times a real
  tensor costs ``sum(a) x fan-out``.

Spikes are what neurons emit: integer counts up to the largest neuron level (see
:func:`~spikespeech.energy.classify.classify`). Other integer-valued activations, such as
the raw coincidence counts of ``Q K^T``, are values, not events: they cost like real ones.

Neuron dynamics, BatchNorm (folded into weights at inference) and residual additions are
not counted: our choice, following our reading of those papers (not re-checked against their
texts here). ``dense`` is the same layer on a real input: its ANN cost.
Only elements at valid (unpadded) frames count: see :class:`Operand` ``valid``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .classify import classify, is_spike


@dataclass(frozen=True)
class Operand:
    """An activation as the meter sees it: its values, their kind and its valid elements.

    ``valid``: 0/1 tensor broadcastable to ``x`` (1 at valid frames), ``None`` = all valid.
    """

    x: torch.Tensor
    kind: str
    valid: torch.Tensor | None = None

    @classmethod
    def of(cls, x: torch.Tensor, max_level: float | None = None,
           valid: torch.Tensor | None = None) -> Operand:
        return cls(x, classify(x, max_level), valid)

    @property
    def is_spike(self) -> bool:
        return is_spike(self.kind)

    def slots(self) -> torch.Tensor:
        """1 at every valid element, shaped like ``x``."""
        ones = torch.ones_like(self.x)
        return ones if self.valid is None else ones * self.valid.to(self.x.dtype)

    def count_slots(self) -> float:
        """Number of valid elements (``sum(slots())``, without building it when all are)."""
        return float(self.x.numel()) if self.valid is None else float(self.slots().sum())

    def events(self) -> torch.Tensor:
        """The spike counts at valid elements."""
        return self.x if self.valid is None else self.x * self.valid.to(self.x.dtype)

    def weights(self) -> torch.Tensor:
        """What each element costs per unit of fan-out: its events if spikes, else 1 if valid."""
        return self.events() if self.is_spike else self.slots()


def linear_ops(layer: nn.Linear, op: Operand) -> tuple[str, float, float]:
    """(input kind, ops, dense ops) for one ``nn.Linear`` call."""
    dense = op.count_slots() * layer.out_features
    ops = float(op.events().sum()) * layer.out_features if op.is_spike else dense
    return op.kind, ops, dense


def conv_ops(layer: nn.modules.conv._ConvNd, op: Operand,
             zero_pad: tuple[int, ...] | None = None,
             out_valid: torch.Tensor | None = None) -> tuple[str, float, float]:
    """(input kind, ops, dense ops) for one ``nn.Conv1d``/``nn.Conv2d`` call (exact, with edges).

    Counts run the layer's own geometry over the activity with all-one weights, so zero
    padding costs nothing and every output counts only the inputs it really reads.
    ``zero_pad`` is padding applied outside the layer (``F.pad`` order), also free;
    ``out_valid`` (broadcastable to the output) drops the outputs at padded frames.
    """
    x, valid = op.events(), op.slots()
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[x.dim() - 2]
    padding = layer.padding
    if layer.padding_mode != "zeros":  # padded values are real data: count them
        pad = layer._reversed_padding_repeated_twice
        x, valid = F.pad(x, pad, mode=layer.padding_mode), F.pad(valid, pad, mode=layer.padding_mode)
        padding = 0
    if zero_pad is not None:
        x, valid = F.pad(x, zero_pad), F.pad(valid, zero_pad)
    ones_w = torch.ones_like(layer.weight)

    def count(act: torch.Tensor) -> float:
        out = conv(act, ones_w, None, layer.stride, padding, layer.dilation, layer.groups)
        return float(out.sum() if out_valid is None else (out * out_valid.to(out.dtype)).sum())

    with torch.no_grad():
        dense = count(valid)
        ops = count(x) if op.is_spike else dense
    return op.kind, ops, dense


def _pair_sum(a: torch.Tensor, b: torch.Tensor) -> float:
    """``sum(a @ b)`` without forming the product: ``sum_k (sum_i a_ik)(sum_j b_kj)``."""
    return float(torch.matmul(a.sum(-2, keepdim=True), b.sum(-1, keepdim=True)).sum())


def matmul_ops(a: Operand, b: Operand) -> tuple[str, float, float]:
    """(kind of the pair, ops, dense ops) for ``a @ b`` with ``(..., n, k) @ (..., k, m)``.

    Each spike operand contributes its events, each real one its valid elements, so
    spike x spike counts coinciding pairs and spike x real counts events x fan-out.
    """
    with torch.no_grad():
        if a.valid is None and b.valid is None:  # every product counts
            n, k, m = a.x.shape[-2], a.x.shape[-1], b.x.shape[-1]
            dense = float(math.prod(torch.broadcast_shapes(a.x.shape[:-2], b.x.shape[:-2])) * n * k * m)
        else:
            dense = _pair_sum(a.slots(), b.slots())
        if not (a.is_spike or b.is_spike):
            return "real", dense, dense
        ops = _pair_sum(a.weights(), b.weights())
    if a.is_spike and b.is_spike:
        kind = a.kind if a.kind == b.kind else "multilevel"
    else:
        kind = a.kind if a.is_spike else b.kind
    return kind, ops, dense


def elementwise_ops(a: Operand, b: Operand, count_as: str) -> tuple[str, float, float]:
    """(kind, ops, dense ops) for ``a * b``: spike x spike costs one AC per coinciding pair
    of events (``sum a b``), spike x real one AC per event; ``count_as="mac"`` forces MACs."""
    with torch.no_grad():
        if a.valid is None and b.valid is None:
            dense = float(math.prod(torch.broadcast_shapes(a.x.shape, b.x.shape)))
        else:
            dense = float((a.slots() * b.slots()).sum())
        if count_as == "mac" or not (a.is_spike or b.is_spike):
            return "real", dense, dense
        ops = float((a.weights() * b.weights()).sum())
    if a.is_spike and b.is_spike:
        kind = a.kind if a.kind == b.kind else "multilevel"
    else:
        kind = a.kind if a.is_spike else b.kind
    return kind, ops, dense


def token_conv_ops(layer: nn.Conv1d, op: Operand,
                   zero_pad: tuple[int, int] | None = None) -> tuple[str, float, float]:
    """A token convolution on channels-last ``(..., L, C)`` input (the layer's own padding
    plus ``zero_pad`` outside it); outputs at padded frames are not counted."""
    L, C = op.x.shape[-2:]

    def channels_first(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(-1, L, C).transpose(1, 2)

    valid = None if op.valid is None else channels_first(op.slots())
    flat = Operand(channels_first(op.x), op.kind, valid)
    out_valid = None if valid is None else valid[:, :1, :]  # same frames out (stride 1)
    return conv_ops(layer, flat, zero_pad=zero_pad, out_valid=out_valid)
