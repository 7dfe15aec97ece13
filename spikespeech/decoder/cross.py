"""Spiking cross-attention: decoder tokens attend to the encoder's frames."""

from __future__ import annotations

import torch
from torch import nn

from ..attention import RepProjection
from ..attention.qkv import fire, merge_heads, split_heads
from ..layers import ConvBN, MatMul
from ..neurons.config import NeuronConfig, build_neuron


class SpikingCrossAttention(nn.Module):
    """``SN((Q K^T) V · scale)`` with ``Q = SN(Proj_q(s))`` from the decoder's spikes and
    ``K, V = SN(Proj(m))`` from the encoder's frame spikes ``m``; every product is between
    spikes. No decay mask. ``normalize="sqrt_frames"`` scales each utterance's output by
    ``1/sqrt(valid frames)`` (see :class:`~spikespeech.decoder.DecoderConfig`).

    :meth:`memory` computes K and V once per utterance; :meth:`forward` then serves any
    number of decoder tokens (all at once in training, one per step in decoding).
    """

    def __init__(self, dim: int, heads: int, neuron: NeuronConfig, normalize: str = "sqrt_frames") -> None:
        super().__init__()
        self.heads, self.normalize = heads, normalize
        self.scale = (dim // heads) ** -0.5
        self.q_proj, self.k_proj, self.v_proj = (RepProjection(dim, kernel=0) for _ in range(3))
        self.q_neuron, self.k_neuron, self.v_neuron = (build_neuron(neuron) for _ in range(3))
        self.qk = MatMul()  # (T, B, H, L, d) @ (T, B, H, d, S)
        self.av = MatMul()  # (T, B, H, L, S) @ (T, B, H, S, d)
        self.attn_neuron = build_neuron(neuron)
        self.out_proj = ConvBN(dim, dim, 1)

    def memory(self, m: torch.Tensor, frame_mask: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        """``m``: ``(T, B, S, C)`` frame spikes; ``frame_mask``: ``(B, S)`` True at valid frames
        or None → ``(k, v, scale)``: K and V spikes ``(T, B, H, S, d)``, zero at padded frames,
        and the output scale ``(1, B, 1, 1, 1)``."""
        keep = None if frame_mask is None else frame_mask[None, :, :, None].to(m.dtype)
        k, v = (fire(neuron, proj(m, frame_mask), keep=keep)
                for proj, neuron in ((self.k_proj, self.k_neuron), (self.v_proj, self.v_neuron)))
        frames = (torch.full((m.shape[1],), float(m.shape[2]), device=m.device, dtype=m.dtype)
                  if frame_mask is None else frame_mask.sum(-1).to(m.dtype))
        scale = torch.full_like(frames, self.scale)
        if self.normalize == "sqrt_frames":
            scale = scale * frames.clamp_min(1.0).rsqrt()
        return split_heads(k, self.heads), split_heads(v, self.heads), scale.view(1, -1, 1, 1, 1)

    def forward(self, s: torch.Tensor, memory: tuple[torch.Tensor, ...], mask: torch.Tensor | None = None,
                keep: torch.Tensor | None = None) -> torch.Tensor:
        """``s``: ``(T, B, L, C)`` decoder spikes; ``memory``: from :meth:`memory`; ``mask``
        ``(B, L)`` / ``keep`` ``(1, B, L, 1)``: valid tokens or None → ``(T, B, L, C)``."""
        k, v, scale = memory
        q = split_heads(fire(self.q_neuron, self.q_proj(s, mask), keep=keep), self.heads)
        mixed = self.av(self.qk(q, k.transpose(-1, -2)), v) * scale  # (T, B, H, L, d)
        return self.out_proj(fire(self.attn_neuron, merge_heads(mixed), keep=keep), mask)
