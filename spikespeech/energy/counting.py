"""Exact operation counts of one call of a layer, given its actual inputs.

Convention (standard in the SNN literature, e.g. Spikformer, Spike-driven Transformer):

* a real-valued input costs multiply-accumulates: ``MAC = number of products``;
* a spike input costs accumulates: each spike event adds one weight to every output it
  reaches, so ``AC = sum(spike counts x fan-out)``. For multi-level counts this is the
  binary expansion: a count ``c`` is ``c`` binary events;
* a product of two spike tensors costs one AC per coinciding pair of events,
  ``sum_{i,k,j} a_ik b_kj``; a spike tensor times a real tensor costs ``sum(a) x fan-out``.

Neuron dynamics, BatchNorm (folded into weights at inference) and residual additions are
not counted, as in those papers. ``dense`` is the same layer on a real input: its ANN cost.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .classify import classify, is_spike


def linear_ops(layer: nn.Linear, x: torch.Tensor) -> tuple[str, float, float]:
    """(input kind, ops, dense ops) for one ``nn.Linear`` call."""
    kind = classify(x)
    dense = float(x.numel() * layer.out_features)
    ops = float(x.sum()) * layer.out_features if is_spike(kind) else dense
    return kind, ops, dense


def conv_ops(layer: nn.modules.conv._ConvNd, x: torch.Tensor,
             zero_pad: tuple[int, ...] | None = None) -> tuple[str, float, float]:
    """(input kind, ops, dense ops) for one ``nn.Conv1d``/``nn.Conv2d`` call (exact, with edges).

    Counts run the layer's own geometry over the activity with all-one weights, so zero
    padding costs nothing and every output counts only the inputs it really reads.
    ``zero_pad`` is padding applied outside the layer (``F.pad`` order), also free.
    """
    kind = classify(x)
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[x.dim() - 2]
    padding = layer.padding
    if layer.padding_mode != "zeros":  # padded values are real data: count them
        x = F.pad(x, layer._reversed_padding_repeated_twice, mode=layer.padding_mode)
        padding = 0
    valid = torch.ones_like(x)
    if zero_pad is not None:
        x, valid = F.pad(x, zero_pad), F.pad(valid, zero_pad)
    ones_w = torch.ones_like(layer.weight)

    def count(act: torch.Tensor) -> float:
        out = conv(act, ones_w, None, layer.stride, padding, layer.dilation, layer.groups)
        return float(out.sum())

    with torch.no_grad():
        dense = count(valid)
        ops = count(x) if is_spike(kind) else dense
    return kind, ops, dense


def matmul_ops(a: torch.Tensor, b: torch.Tensor) -> tuple[str, float, float]:
    """(kind of the pair, ops, dense ops) for ``a @ b`` with ``(..., n, k) @ (..., k, m)``."""
    ka, kb = classify(a), classify(b)
    n, k, m = a.shape[-2], a.shape[-1], b.shape[-1]
    batch = math.prod(torch.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    dense = float(batch * n * k * m)
    with torch.no_grad():
        if is_spike(ka) and is_spike(kb):
            ops = float(torch.matmul(a.sum(-2, keepdim=True), b.sum(-1, keepdim=True)).sum())
            kind = ka if ka == kb else "multilevel"
        elif is_spike(ka):
            ops = float(torch.matmul(a.sum(-2, keepdim=True), torch.ones_like(b[..., :1])).sum()) * m
            kind = ka
        elif is_spike(kb):
            ops = float(torch.matmul(torch.ones_like(a[..., :1, :]), b.sum(-1, keepdim=True)).sum()) * n
            kind = kb
        else:
            ops, kind = dense, "real"
    return kind, ops, dense


def elementwise_ops(a: torch.Tensor, b: torch.Tensor, count_as: str) -> tuple[str, float, float]:
    """(kind, ops, dense ops) for ``a * b``: a spike operand gates (one AC per event)."""
    shape = torch.broadcast_shapes(a.shape, b.shape)
    dense = float(math.prod(shape))
    if count_as == "mac":
        return "real", dense, dense
    ka, kb = classify(a), classify(b)
    for kind, t in ((ka, a), (kb, b)):
        if is_spike(kind):
            return kind, float(torch.broadcast_to(t, shape).sum()), dense
    return "real", dense, dense


def token_conv_ops(layer, x: torch.Tensor) -> tuple[str, float, float]:
    """:class:`~spikespeech.layers.DepthwiseTokenConv` on channels-last ``(..., L, C)`` input."""
    L, C = x.shape[-2:]
    return conv_ops(layer, x.reshape(-1, L, C).transpose(1, 2), zero_pad=layer.token_padding)
