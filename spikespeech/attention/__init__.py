"""Spiking self-attention (HD-RepSSA, SSA, SDSA, STSA), HDM and reparameterisable projections."""

from .config import AttentionConfig, DecayConfig
from .hdm import HierarchicalDecayMask, decay_exponents
from .reparam import RepProjection
from .spiking import ATTENTION_TYPES, ATTENTIONS, SpikingSelfAttention, build_attention

__all__ = [
    "ATTENTIONS",
    "ATTENTION_TYPES",
    "AttentionConfig",
    "DecayConfig",
    "HierarchicalDecayMask",
    "RepProjection",
    "SpikingSelfAttention",
    "build_attention",
    "decay_exponents",
]
