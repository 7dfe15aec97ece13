"""Energy meter: measured firing rates, synaptic operations and theoretical energy."""

from .classify import classify
from .meter import EnergyMeter, measure_energy
from .report import E_AC_PJ, E_MAC_PJ, EnergyReport, LayerEnergy, NeuronActivity

__all__ = [
    "E_AC_PJ",
    "E_MAC_PJ",
    "EnergyMeter",
    "EnergyReport",
    "LayerEnergy",
    "NeuronActivity",
    "classify",
    "measure_energy",
]
