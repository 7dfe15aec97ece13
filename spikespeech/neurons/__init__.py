"""Spiking neurons: binary multi-step LIF, input-aware multi-level (IMLS), binary expansion."""

from .base import SpikingNeuron, reset_states
from .expansion import from_binary_slots, spike_driven_apply, to_binary_slots
from .imls import IMLSNeuron
from .lif import MultiStepLIF
from .surrogate import SURROGATE_NAMES, heaviside

__all__ = [
    "IMLSNeuron",
    "MultiStepLIF",
    "SpikingNeuron",
    "SURROGATE_NAMES",
    "from_binary_slots",
    "heaviside",
    "reset_states",
    "spike_driven_apply",
    "to_binary_slots",
]
