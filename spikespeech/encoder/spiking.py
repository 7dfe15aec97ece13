"""The shared spiking encoder stack (used by IML-Spikeformer ASR and SpikeVoice TTS)."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ..attention import SpikingSelfAttention, build_attention
from ..layers import ConvBN, MaskedBatchNorm
from ..neurons import reset_states
from ..neurons.config import NeuronConfig, build_neuron
from .config import EncoderConfig


class PaddingMask(nn.Module):
    """``(x (B, L, C), lengths) → (x with padded frames zeroed, mask (B, L) or None)``.

    :func:`clean_padding` as a parameter-free module, so that observers can read each call's
    mask with a forward hook: the energy meter counts only valid frames with it. ``layout``
    names the leading axes of the stack's activations (``T`` steps, ``B`` batch, ``L``
    frames; see :mod:`spikespeech.energy.frames`).
    """

    def __init__(self, layout: str) -> None:
        super().__init__()
        self.layout = layout

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None):
        return clean_padding(x, lengths)

    def extra_repr(self) -> str:
        return f"layout={self.layout!r}"


class SpikingFFN(nn.Module):
    """``ConvBN(C→F, k1) → SN → ConvBN(F→C, k2)`` on spikes ``(T, B, L, C)`` (``norm=False``:
    biased convs without BN, as in ``post_norm`` blocks)."""

    def __init__(self, d_model: int, ffn_dim: int, neuron: NeuronConfig,
                 kernels: tuple[int, int] = (1, 1), causal: bool = False, norm: bool = True) -> None:
        super().__init__()
        k1, k2 = kernels
        self.fc1 = ConvBN(d_model, ffn_dim, k1, causal=causal, norm=norm)
        self.neuron = build_neuron(neuron)
        self.fc2 = ConvBN(ffn_dim, d_model, k2, causal=causal, norm=norm)

    def forward(self, s: torch.Tensor, mask: torch.Tensor | None, keep) -> torch.Tensor:
        h = self.neuron(self.fc1(s, mask))
        if keep is not None:
            h = h * keep
        return self.fc2(h, mask)


class SpikingEncoderLayer(nn.Module):
    """Residual block on the real-valued stream ``x`` ``(T, B, L, C)``; ``block: membrane``::

        x = x + Attn_T(SN(x))      # only with attention.temporal (attention over the T steps)
        x = x + Attn(SN(x))
        x = x + FFN(SN(x))

    The residual adds real-valued currents to the membrane potential, and each branch
    starts with a neuron, so every weight layer sees spikes (membrane shortcut, as in
    Spike-driven Transformer v2). ``block: post_norm`` wraps each line as
    ``x = LayerNorm(x + Sub(SN(x)))`` and zeroes padded frames after it (SpikeVoice's
    public block).
    """

    def __init__(self, cfg: EncoderConfig, layer_index: int) -> None:
        super().__init__()
        post_norm = cfg.block == "post_norm"

        def attention(acfg) -> SpikingSelfAttention:
            return build_attention(cfg.d_model, acfg, cfg.neuron, layer_index, cfg.layers,
                                   cfg.causal, out_norm=not post_norm)

        def norm() -> nn.Module | None:
            return nn.LayerNorm(cfg.d_model) if post_norm else None

        self.temporal_attn = None
        if cfg.attention.temporal != "none":
            self.pre_temporal_neuron = build_neuron(cfg.neuron)
            temporal = dataclasses.replace(cfg.attention, type=cfg.attention.temporal)
            self.temporal_attn = attention(temporal)
            self.temporal_norm = norm()
        self.pre_attn_neuron = build_neuron(cfg.neuron)
        self.attn = attention(cfg.attention)
        self.attn_norm = norm()
        self.pre_ffn_neuron = build_neuron(cfg.neuron)
        self.ffn = SpikingFFN(cfg.d_model, cfg.ffn_dim, cfg.neuron, cfg.ffn_kernels, cfg.causal,
                              norm=not post_norm)
        self.ffn_norm = norm()
        self.dropout = nn.Dropout(cfg.dropout)

    def _residual(self, x, neuron, branch, norm, keep, *args) -> torch.Tensor:
        s = neuron(x)
        if keep is not None:
            s = s * keep
        x = x + self.dropout(branch(s, *args))
        if norm is None:
            return x
        x = norm(x)
        return x if keep is None else x * keep

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, keep) -> torch.Tensor:
        if self.temporal_attn is not None:
            x = self._residual(x, self.pre_temporal_neuron, self.temporal_attn, self.temporal_norm,
                               keep, mask)
        x = self._residual(x, self.pre_attn_neuron, self.attn, self.attn_norm, keep, mask)
        return self._residual(x, self.pre_ffn_neuron, self.ffn, self.ffn_norm, keep, mask, keep)


class SpikingEncoder(nn.Module):
    """Stack of spiking encoder layers.

    ``forward(x, lengths)``: ``x`` ``(B, L, C)`` real-valued features (the front-end's output),
    ``lengths`` ``(B,)`` valid frames per sequence (None = all valid). The features are the
    input current at each of the ``T`` steps (plus a learned per-step vector with
    ``time_embedding``); returns ``(B, L, C)``: the output spikes averaged over ``T``
    (``output: spikes``) or the normalised membrane stream (``output: membrane``), zero at
    padded frames. Padded frames never change valid ones.
    """

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.config = cfg
        self.time_steps = cfg.time_steps
        self.padding = PaddingMask("TBL")  # activations (T, B, L, C)
        self.time_embed = None  # (T, C), added to the T copies of the input
        if cfg.time_embedding:
            self.time_embed = nn.Parameter(torch.zeros(cfg.time_steps, cfg.d_model))
        self.layers = nn.ModuleList(SpikingEncoderLayer(cfg, i) for i in range(cfg.layers))
        # post_norm blocks end in a LayerNorm: the stream is normalised already
        self.out_norm = MaskedBatchNorm(cfg.d_model) if cfg.block == "membrane" else None
        self.out_neuron = build_neuron(cfg.neuron) if cfg.output == "spikes" else None

    @property
    def output_size(self) -> int:
        return self.config.d_model

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_steps(x, lengths).mean(0)

    def forward_steps(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Like :meth:`forward` but keeps the time axis: ``(T, B, L, C)``. ``x`` may also be
        per-step input ``(T, B, L, C)``."""
        if x.dim() not in (3, 4) or (x.dim() == 4 and x.shape[0] != self.time_steps):
            raise ValueError(f"SpikingEncoder: expected input (B, L, C) or ({self.time_steps}, B, L, C), "
                             f"got shape {tuple(x.shape)}")
        x, mask = self.padding(x, lengths)
        keep = None if mask is None else mask[None, :, :, None].to(x.dtype)
        h = x if x.dim() == 4 else x.unsqueeze(0).expand(self.time_steps, -1, -1, -1)
        if self.time_embed is not None:
            h = h + self.time_embed[:, None, None, :]
            h = h if keep is None else h * keep
        for layer in self.layers:
            h = layer(h, mask, keep)
        if self.out_norm is not None:
            h = self.out_norm(h, mask)
        if self.out_neuron is not None:
            h = self.out_neuron(h)
        return h if keep is None else h * keep

    def reset_states(self) -> None:
        reset_states(self)


def clean_padding(x: torch.Tensor, lengths: torch.Tensor | None):
    """``x (B, L, C)`` or ``(T, B, L, C)`` → ``(x with padded frames zeroed, mask (B, L) or
    None)``; ``None`` when nothing is padded, so callers skip all masking work.
    ``masked_fill``, not a product: NaN/inf padding must not leak into valid frames."""
    if lengths is None:
        return x, None
    mask = make_pad_mask(lengths, x.shape[-2])
    if bool(mask.all()):
        return x, None
    return x.masked_fill(~mask[:, :, None], 0.0), mask


def make_pad_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``(B,)`` lengths → ``(B, max_len)`` bool, True at valid frames."""
    if lengths.dim() != 1:
        raise ValueError(f"lengths must be 1-D (B,), got shape {tuple(lengths.shape)}")
    if bool((lengths > max_len).any()) or bool((lengths < 0).any()):
        raise ValueError(f"lengths must lie in [0, {max_len}], got {lengths.tolist()}")
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]
