"""The spiking attention decoder (ASR): causal HD-RepSSA self-attention, spiking
cross-attention over the encoder's frames, cached incremental decoding."""

from __future__ import annotations

from .config import DecoderAttentionConfig, DecoderConfig
from .cross import SpikingCrossAttention
from .spiking import DecoderState, SpikingDecoder, SpikingDecoderLayer, select_state, stack_states

__all__ = ["DecoderAttentionConfig", "DecoderConfig", "DecoderState", "SpikingCrossAttention",
           "SpikingDecoder", "SpikingDecoderLayer", "select_state", "stack_states"]
