"""The spiking attention decoder, with cached incremental decoding for beam search."""

from __future__ import annotations

import torch
from torch import nn

from ..attention import build_attention
from ..attention.qkv import fire
from ..encoder.spiking import SpikingFFN, clean_padding
from ..layers import MaskedBatchNorm
from ..neurons.config import build_neuron
from .config import DecoderConfig
from .cross import SpikingCrossAttention

# A decoding state is a flat dict of tensors whose axis 1 is the batch (hypothesis) axis, so
# that a beam search can select and stack the states of single hypotheses (``select_state``,
# ``stack_states``). Per layer i: "self_k.i", "self_v.i" (T, B, H, t, d): the self-attention's
# K and V spikes of the t tokens so far; "window.i" (T, B, W - 1, C): the last pre-attention
# spikes the causal temporal branch reads; "mem_k.i", "mem_v.i" (T, B, H, S, d) and
# "mem_scale.i" (1, B, 1, 1, 1): the cross-attention's memory, computed once per utterance.
DecoderState = dict[str, torch.Tensor]
MEMORY = "mem_"  # prefix of the state's per-utterance entries (the cross-attention's K, V, scale)


class SpikingDecoderLayer(nn.Module):
    """Residual block on the real-valued stream ``x`` ``(T, B, L, C)`` (membrane shortcut, as
    the encoder's ``block: membrane``)::

        x = x + SelfAttn(SN(x))              # causal HD-RepSSA (or SSA) over the tokens
        x = x + CrossAttn(SN(x), memory)     # over the encoder frames' spikes
        x = x + FFN(SN(x))
    """

    def __init__(self, cfg: DecoderConfig, layer_index: int) -> None:
        super().__init__()
        d = cfg.d_model
        self.pre_self_neuron = build_neuron(cfg.neuron)
        self.self_attn = build_attention(d, cfg.attention, cfg.neuron, layer_index, cfg.layers, causal=True)
        self.pre_cross_neuron = build_neuron(cfg.neuron)
        self.cross_attn = SpikingCrossAttention(d, cfg.attention.heads, cfg.neuron, cfg.cross_normalize)
        self.pre_ffn_neuron = build_neuron(cfg.neuron)
        self.ffn = SpikingFFN(d, cfg.ffn_dim, cfg.neuron)
        self.dropout = nn.Dropout(cfg.dropout)
        self.window = max(cfg.attention.rep_kernel, 1)  # tokens one step's projections read

    def forward(self, x: torch.Tensor, memory: tuple[torch.Tensor, ...], mask: torch.Tensor | None,
                keep: torch.Tensor | None) -> torch.Tensor:
        """``x``: ``(T, B, L, C)``; ``memory``: :meth:`SpikingCrossAttention.memory`'s; ``mask``
        ``(B, L)`` / ``keep`` ``(1, B, L, 1)``: valid tokens, or None."""
        x = x + self.dropout(self.self_attn(fire(self.pre_self_neuron, x, keep=keep), mask))
        x = x + self.dropout(self.cross_attn(fire(self.pre_cross_neuron, x, keep=keep), memory, mask, keep))
        return x + self.dropout(self.ffn(fire(self.pre_ffn_neuron, x, keep=keep), mask, keep))

    def step(self, x: torch.Tensor, memory: tuple[torch.Tensor, ...],
             cache: tuple[torch.Tensor, torch.Tensor, torch.Tensor]):
        """The newest token ``x`` ``(T, B, 1, C)`` with the cached ``(k, v, window)`` of the
        tokens before it → ``(x out (T, B, 1, C), the cache with the newest token)``."""
        k, v, window = cache
        window = torch.cat([window, self.pre_self_neuron(x)], 2)
        out, (k, v) = self.self_attn.step(window, (k, v))
        x = x + out
        x = x + self.cross_attn(self.pre_cross_neuron(x), memory)
        x = x + self.ffn(self.pre_ffn_neuron(x), None, None)
        return x, (k, v, window[:, :, window.shape[2] - (self.window - 1):])


class SpikingDecoder(nn.Module):
    """Stack of spiking decoder layers over the encoder's output.

    ``forward(x, lengths, memory, memory_lengths)``: ``x`` ``(B, L, C)`` real-valued token
    inputs (embedding plus position code), ``memory`` ``(B, S, C)`` the encoder's output (spikes
    or membrane: the decoder fires its own spikes from it). Returns ``(B, L, C)``: the last
    neuron's spikes averaged over ``T`` (``output: spikes``) or the BN'd membrane stream, zero
    at padded tokens. Token ``i`` sees tokens ``<= i`` only; padding changes no valid output.

    Decoding: :meth:`init_state` once per utterance, then :meth:`step` per token; the steps'
    outputs equal :meth:`forward`'s at every position.
    """

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.config = cfg
        self.time_steps = cfg.time_steps  # read by the energy meter: layers run T steps
        self.memory_neuron = build_neuron(cfg.neuron)
        self.layers = nn.ModuleList(SpikingDecoderLayer(cfg, i) for i in range(cfg.layers))
        self.out_norm = MaskedBatchNorm(cfg.d_model)
        self.out_neuron = build_neuron(cfg.neuron) if cfg.output == "spikes" else None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None, memory: torch.Tensor,
                memory_lengths: torch.Tensor | None = None) -> torch.Tensor:
        x, mask = clean_padding(x, lengths)
        keep = None if mask is None else mask[None, :, :, None].to(x.dtype)
        h = self._steps(x)
        for layer, mem in zip(self.layers, self.memory(memory, memory_lengths), strict=True):
            h = layer(h, mem, mask, keep)
        return self._readout(h, mask, keep)

    def memory(self, memory: torch.Tensor, memory_lengths: torch.Tensor | None = None) -> list[tuple]:
        """Each layer's cross-attention K, V (and scale) of ``memory`` ``(B, S, C)``."""
        m, frame_mask = clean_padding(memory, memory_lengths)
        keep = None if frame_mask is None else frame_mask[None, :, :, None].to(m.dtype)
        spikes = fire(self.memory_neuron, self._steps(m), keep=keep)
        return [layer.cross_attn.memory(spikes, frame_mask) for layer in self.layers]

    def init_state(self, memory: torch.Tensor, memory_lengths: torch.Tensor | None = None) -> DecoderState:
        """The decoding state before the first token, for the utterances of ``memory`` ``(B, S, C)``."""
        T, B, C = self.time_steps, memory.shape[0], self.config.d_model
        state: DecoderState = {}
        for i, (k, v, scale) in enumerate(self.memory(memory, memory_lengths)):
            empty = k.new_zeros(*k.shape[:3], 0, k.shape[-1])
            state.update({f"self_k.{i}": empty, f"self_v.{i}": empty,
                          f"window.{i}": memory.new_zeros(T, B, 0, C),
                          f"{MEMORY}k.{i}": k, f"{MEMORY}v.{i}": v, f"{MEMORY}scale.{i}": scale})
        return state

    def step(self, x: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, DecoderState]:
        """``x`` ``(B, 1, C)``: the newest token's input → ``(output (B, 1, C), next state)``."""
        h = self._steps(x)
        new = {name: t for name, t in state.items() if name.startswith(MEMORY)}  # unchanged
        for i, layer in enumerate(self.layers):
            memory = tuple(state[f"{MEMORY}{part}.{i}"] for part in ("k", "v", "scale"))
            h, (k, v, window) = layer.step(h, memory, (state[f"self_k.{i}"], state[f"self_v.{i}"],
                                                       state[f"window.{i}"]))
            new.update({f"self_k.{i}": k, f"self_v.{i}": v, f"window.{i}": window})
        return self._readout(h, None, None), new

    def _steps(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, C)`` → the same input current at each of the T steps, ``(T, B, L, C)``."""
        return x.unsqueeze(0).expand(self.time_steps, -1, -1, -1)

    def _readout(self, h: torch.Tensor, mask, keep) -> torch.Tensor:
        h = self.out_norm(h, mask)
        if self.out_neuron is not None:
            h = self.out_neuron(h)
        return (h if keep is None else h * keep).mean(0)


def select_state(state: DecoderState, index: int) -> DecoderState:
    """Hypothesis ``index``'s state (batch axis kept, size 1). Memory entries of batch size 1
    are shared by every hypothesis (the one utterance a beam search decodes) and are passed on
    as they are, not copied."""
    return {name: t if name.startswith(MEMORY) and t.shape[1] == 1 else t[:, index:index + 1]
            for name, t in state.items()}


def stack_states(states: list[DecoderState]) -> DecoderState:
    """Single hypotheses' states as one batch (of states with equal token counts). A memory
    entry that all of them share stays one tensor of batch size 1, which broadcasts: a beam of
    ``n`` hypotheses over ``S`` frames would otherwise copy every layer's memory K and V
    (``O(n S C)``) at every step."""
    return {name: first if name.startswith(MEMORY) and all(s[name] is first for s in states)
            else torch.cat([s[name] for s in states], 1)
            for name, first in states[0].items()}
