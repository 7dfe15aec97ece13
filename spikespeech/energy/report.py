"""Energy report: per-layer operation counts, firing rates and theoretical energy."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

E_MAC_PJ = 4.6  # 32-bit float multiply-accumulate, 45 nm (Horowitz, ISSCC 2014)
E_AC_PJ = 0.9  # 32-bit float accumulate, 45 nm


@dataclass
class LayerEnergy:
    """Counts for one weight layer or activation product, summed over all calls."""

    name: str
    op: str  # linear | conv | matmul | mul
    input: str  # real | binary | multilevel (of the spike operand, if any)
    macs: float = 0.0
    acs: float = 0.0
    ann_macs: float = 0.0  # the same layer on real inputs, one pass (its ANN counterpart)
    spikes: float = 0.0  # spike events in the inputs (counts)
    slots: float = 0.0  # neuron-steps x levels those events could have filled
    calls: int = 0

    @property
    def firing_rate(self) -> float | None:
        """Events per neuron per (binary) step; ``None`` for real-valued inputs."""
        return self.spikes / self.slots if self.slots else None


@dataclass
class NeuronActivity:
    name: str
    spikes: float = 0.0
    slots: float = 0.0

    @property
    def firing_rate(self) -> float:
        return self.spikes / self.slots if self.slots else 0.0


@dataclass
class EnergyReport:
    """Counts of the metered layers and neurons; ``scope`` names what they cover (every total
    and ratio is of that scope: see :mod:`.scopes` for a split into parts)."""

    layers: list[LayerEnergy]
    neurons: list[NeuronActivity] = field(default_factory=list)
    e_mac_pj: float = E_MAC_PJ
    e_ac_pj: float = E_AC_PJ
    scope: str = "metered model"

    @property
    def macs(self) -> float:
        return sum(layer.macs for layer in self.layers)

    @property
    def acs(self) -> float:
        return sum(layer.acs for layer in self.layers)

    @property
    def ann_macs(self) -> float:
        return sum(layer.ann_macs for layer in self.layers)

    def layer_energy_pj(self, layer: LayerEnergy) -> float:
        return layer.macs * self.e_mac_pj + layer.acs * self.e_ac_pj

    @property
    def energy_pj(self) -> float:
        return self.macs * self.e_mac_pj + self.acs * self.e_ac_pj

    @property
    def ann_energy_pj(self) -> float:
        return self.ann_macs * self.e_mac_pj

    @property
    def ann_to_snn_ratio(self) -> float:
        return self.ann_energy_pj / self.energy_pj if self.energy_pj else float("inf")

    @property
    def firing_rate(self) -> float:
        """Mean firing rate over all spiking neurons (events per neuron per binary step)."""
        slots = sum(n.slots for n in self.neurons)
        return sum(n.spikes for n in self.neurons) / slots if slots else 0.0

    def to_dict(self) -> dict:
        return {
            "e_mac_pj": self.e_mac_pj,
            "e_ac_pj": self.e_ac_pj,
            "total": {
                "scope": self.scope,
                "macs": self.macs,
                "acs": self.acs,
                "energy_pj": self.energy_pj,
                "ann_macs": self.ann_macs,
                "ann_energy_pj": self.ann_energy_pj,
                "ann_to_snn_ratio": self.ann_to_snn_ratio,
                "firing_rate": self.firing_rate,
            },
            "layers": [
                {**asdict(layer), "firing_rate": layer.firing_rate,
                 "energy_pj": self.layer_energy_pj(layer),
                 "ann_energy_pj": layer.ann_macs * self.e_mac_pj}
                for layer in self.layers
            ],
            "neurons": [{**asdict(n), "firing_rate": n.firing_rate} for n in self.neurons],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def format_table(self) -> str:
        head = f"{'layer':<42} {'op':<6} {'input':<10} {'rate':>6} {'MACs':>9} {'ACs':>9} " \
               f"{'energy':>10} {'ANN':>10}"
        lines = [head, "-" * len(head)]
        for layer in self.layers:
            rate = "-" if layer.firing_rate is None else f"{layer.firing_rate:.3f}"
            lines.append(
                f"{_short(layer.name, 42):<42} {layer.op:<6} {layer.input:<10} {rate:>6} "
                f"{si(layer.macs):>9} {si(layer.acs):>9} "
                f"{joules(self.layer_energy_pj(layer)):>10} "
                f"{joules(layer.ann_macs * self.e_mac_pj):>10}"
            )
        lines.append("-" * len(head))
        rate = f"{self.firing_rate:.3f}" if self.neurons else "-"
        lines.append(
            f"{'total':<42} {'':<6} {'':<10} {rate:>6} {si(self.macs):>9} "
            f"{si(self.acs):>9} {joules(self.energy_pj):>10} {joules(self.ann_energy_pj):>10}"
        )
        lines.append(
            f"{self.scope}: SNN energy {joules(self.energy_pj)} vs ANN {joules(self.ann_energy_pj)}: "
            f"{self.ann_to_snn_ratio:.2f}x lower (E_MAC {self.e_mac_pj} pJ, E_AC {self.e_ac_pj} pJ, "
            f"45 nm); mean firing rate {rate}"
        )
        return "\n".join(lines)


def si(x: float) -> str:
    """``x`` with a k/M/G suffix: ``si(1.5e6) == "1.50M"``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"


def joules(pj: float) -> str:
    """Picojoules ``pj`` in the largest unit that keeps them >= 1: ``joules(2.5e6) == "2.50 uJ"``."""
    for unit, scale in (("mJ", 1e9), ("uJ", 1e6), ("nJ", 1e3)):
        if abs(pj) >= scale:
            return f"{pj / scale:.2f} {unit}"
    return f"{pj:.1f} pJ"


def _short(name: str, width: int) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]
