"""The Q, K and V spikes every spiking attention variant starts from, in two forms.

:class:`QKVSpikes` (training): three reparameterisable projections, each with its own neuron.
:class:`StackedQKVSpikes` (inference, made by :meth:`QKVSpikes.folded`): one stacked
projection (one GEMM) and one neuron call for all three. Both map spikes ``(T, B, L, C)`` to
``q, k, v`` of shape ``(T, B, H, L, d)``, zero at padded frames.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..neurons import IMLSNeuron
from ..neurons.config import NeuronConfig, build_neuron
from .reparam import RepProjection, StackedProjection


def fire(neuron: nn.Module, x: torch.Tensor, along_tokens: bool = False, token_axis: int = -2,
         keep: torch.Tensor | None = None) -> torch.Tensor:
    """``neuron`` on time-first currents, integrating along T, or along the token axis when
    ``along_tokens`` (the public SpikeVoice code's temporal module does that); the spikes are
    multiplied by ``keep`` (1 at valid tokens, 0 at padding) when given."""
    out = neuron(x) if not along_tokens else neuron(x.transpose(0, token_axis)).transpose(0, token_axis)
    return out if keep is None else out * keep


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """``(T, B, L, C)`` → ``(T, B, H, L, C / H)``."""
    T, B, L, C = x.shape
    return x.reshape(T, B, L, heads, C // heads).transpose(2, 3)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``(T, B, H, L, d)`` → ``(T, B, L, H * d)`` (the inverse of :func:`split_heads`)."""
    T, B, H, L, d = x.shape
    return x.transpose(2, 3).reshape(T, B, L, H * d)


class QKVSpikes(nn.Module):
    """Training form: ``SN_q(Proj_q(s))``, ``SN_k(Proj_k(s))``, ``SN_v(Proj_v(s))`` split into
    ``heads``. ``kernel``: the projections' depthwise temporal branch (0: linear+BN only)."""

    def __init__(self, dim: int, heads: int, kernel: int, causal: bool, neuron: NeuronConfig,
                 along_tokens: bool = False) -> None:
        super().__init__()
        self.heads, self.along_tokens = heads, along_tokens
        self.q_proj = RepProjection(dim, kernel, causal)
        self.k_proj = RepProjection(dim, kernel, causal)
        self.v_proj = RepProjection(dim, kernel, causal)
        self.q_neuron = build_neuron(neuron)
        self.k_neuron = build_neuron(neuron)
        self.v_neuron = build_neuron(neuron)
        if along_tokens:  # the neurons see token-first (L, B, T, ...) tensors, whose frame
            for n in (self.q_neuron, self.k_neuron, self.v_neuron):  # axis the energy meter
                n.frame_layout = "TB"  # cannot place: it counts their padded tokens too

    def forward(self, s: torch.Tensor, mask: torch.Tensor | None, keep: torch.Tensor | None):
        """``s``: ``(T, B, L, C)``; ``keep``: ``(1, B, L, 1)`` valid-frame weights or None."""
        return tuple(split_heads(fire(neuron, proj(s, mask), self.along_tokens, keep=keep), self.heads)
                     for proj, neuron in
                     ((self.q_proj, self.q_neuron), (self.k_proj, self.k_neuron),
                      (self.v_proj, self.v_neuron)))

    @torch.no_grad()
    def folded(self) -> StackedQKVSpikes:
        """The inference form: the projections folded and stacked, one neuron for all three."""
        neurons = [self.q_neuron, self.k_neuron, self.v_neuron]
        if isinstance(neurons[0], IMLSNeuron):
            neuron = IMLSNeuron.stacked(neurons)
        else:  # binary LIF: same parameters, elementwise, so one neuron serves all three
            neuron = copy.deepcopy(neurons[0])
        projection = StackedProjection([p.folded() for p in (self.q_proj, self.k_proj, self.v_proj)])
        return StackedQKVSpikes(projection, neuron, self.heads, self.along_tokens)


class StackedQKVSpikes(nn.Module):
    """Inference form of :class:`QKVSpikes`: one ``C → 3C`` projection and one neuron call."""

    def __init__(self, projection: StackedProjection, neuron: nn.Module, heads: int,
                 along_tokens: bool) -> None:
        super().__init__()
        self.projection, self.neuron = projection, neuron
        self.heads, self.d_head, self.along_tokens = heads, projection.dim // heads, along_tokens

    def forward(self, s: torch.Tensor, mask: torch.Tensor | None, keep: torch.Tensor | None):
        spikes = fire(self.neuron, self.projection(s), self.along_tokens, token_axis=2)  # (T, B, L, 3, C)
        if keep is not None:
            spikes = spikes * keep.unsqueeze(-1)
        T, B, L = spikes.shape[:3]  # heads as views: (3, T, B, H, L, d)
        q, k, v = spikes.view(T, B, L, 3, self.heads, self.d_head).permute(3, 0, 1, 4, 2, 5)
        return q, k, v
