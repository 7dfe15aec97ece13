"""Spiking self-attention (HD-RepSSA, SSA, SDSA, STSA), HDM and reparameterisable projections."""

from .config import AttentionConfig, DecayConfig
from .hdm import HierarchicalDecayMask, decay_exponents
from .reparam import RepProjection
from .spiking import ATTENTION_TYPES, SpikingSelfAttention

__all__ = [
    "ATTENTION_TYPES",
    "AttentionConfig",
    "DecayConfig",
    "HierarchicalDecayMask",
    "RepProjection",
    "SpikingSelfAttention",
    "decay_exponents",
]
