"""Energy meter: measured firing rates, synaptic operations and theoretical energy; a spike
recorder for rasters."""

from .classify import classify
from .meter import EnergyMeter, measure_energy
from .recorder import SpikeRecorder, default_neuron_name, neuron_names, to_raster
from .report import E_AC_PJ, E_MAC_PJ, EnergyReport, LayerEnergy, NeuronActivity

__all__ = [
    "E_AC_PJ",
    "E_MAC_PJ",
    "EnergyMeter",
    "EnergyReport",
    "LayerEnergy",
    "NeuronActivity",
    "SpikeRecorder",
    "classify",
    "default_neuron_name",
    "measure_energy",
    "neuron_names",
    "to_raster",
]
