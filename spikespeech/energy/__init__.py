"""Energy meter: measured firing rates, synaptic operations and theoretical energy, whole or
per scope (named parts of a model); a spike recorder for rasters."""

from .classify import classify
from .meter import EnergyMeter, measure_energy
from .recorder import SpikeRecorder, default_neuron_name, neuron_names, to_raster
from .report import E_AC_PJ, E_MAC_PJ, EnergyReport, LayerEnergy, NeuronActivity
from .scopes import Scope, ScopedEnergyReport, ScopeEnergy, split_scopes

__all__ = [
    "E_AC_PJ",
    "E_MAC_PJ",
    "EnergyMeter",
    "EnergyReport",
    "LayerEnergy",
    "NeuronActivity",
    "Scope",
    "ScopeEnergy",
    "ScopedEnergyReport",
    "SpikeRecorder",
    "classify",
    "default_neuron_name",
    "measure_energy",
    "neuron_names",
    "split_scopes",
    "to_raster",
]
