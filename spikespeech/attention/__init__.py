"""Spiking self-attention (HD-RepSSA, SSA, SDSA, STSA), HDM and reparameterisable projections."""

from .config import AttentionConfig, DecayConfig
from .hdm import HierarchicalDecayMask, decay_exponents
from .qkv import QKVSpikes, StackedQKVSpikes
from .reparam import FoldedProjection, RepProjection, StackedProjection
from .spiking import ATTENTION_TYPES, ATTENTIONS, SpikingSelfAttention, build_attention

__all__ = [
    "ATTENTIONS",
    "ATTENTION_TYPES",
    "AttentionConfig",
    "DecayConfig",
    "FoldedProjection",
    "HierarchicalDecayMask",
    "QKVSpikes",
    "RepProjection",
    "SpikingSelfAttention",
    "StackedProjection",
    "StackedQKVSpikes",
    "build_attention",
    "decay_exponents",
]
