"""Energy per scope: a report split into named parts of a model (front-end, encoder blocks,
decoder, ...), each with its own operation counts, ANN counterpart and ratio.

A ratio means little without what it covers: a real-valued front-end costs the same in the
SNN and in its ANN, so the whole model's ratio is smaller than the spiking blocks' alone. A
:class:`Scope` names a part by module-name prefixes (as the meter names layers, e.g.
``encoder.embed`` covers ``encoder.embed.conv.0``); :func:`split_scopes` gives every metered
layer and neuron to the first scope that covers it, and what none covers to an ``other``
scope, listed only when something fell into it::

    with EnergyMeter(model) as meter:
        model(x)
    scoped = split_scopes(meter.report(), (Scope("front-end", ("embed",)),
                                           Scope("blocks", ("layers",))))
    print(scoped.format_scopes())
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .report import EnergyReport, LayerEnergy, NeuronActivity, joules, si

OTHER = "other"  # the scope of whatever no scope covers


@dataclass(frozen=True)
class Scope:
    """A named part of a model: the modules named ``prefix`` or ``prefix.*`` for one of
    ``prefixes`` (``""`` covers everything). ``unit``: what the part's energy may also be
    given per (e.g. ``"output token"``), counted by the caller."""

    name: str
    prefixes: tuple[str, ...]
    unit: str | None = None

    def covers(self, module_name: str) -> bool:
        return any(p == "" or module_name == p or module_name.startswith(f"{p}.") for p in self.prefixes)


@dataclass
class ScopeEnergy(EnergyReport):
    """The layers and neurons of one scope, with :class:`EnergyReport`'s totals; ``units``
    of ``unit`` (``None`` when not counted) give the energy per unit."""

    unit: str | None = None
    units: float | None = None

    @property
    def scope_firing_rate(self) -> float | None:
        """Mean firing rate of the scope's own neurons; ``None`` if it has none (an ANN part)."""
        return self.firing_rate if self.neurons else None

    @property
    def ratio(self) -> float | None:
        """ANN energy / SNN energy; ``None`` when the scope cost nothing (it did not run)."""
        ratio = self.ann_to_snn_ratio
        return ratio if math.isfinite(ratio) else None

    def per_unit_pj(self, energy_pj: float) -> float | None:
        return energy_pj / self.units if self.unit and self.units else None

    def summary(self, per: float = 1.0, suffix: str = "") -> dict:
        """JSON-ready totals: ``scope``, firing rate, MACs and ACs (summed), energy and the ANN's
        energy in µJ divided by ``per`` (keys ``energy_uj{suffix}``, e.g. ``_per_utt``), the
        ratio, and with a unit the energy per unit (``energy_uj_per_output_token``)."""
        out = {"scope": self.scope, "firing_rate": self.scope_firing_rate, "macs": self.macs,
               "acs": self.acs, f"energy_uj{suffix}": self.energy_pj / 1e6 / per,
               f"ann_energy_uj{suffix}": self.ann_energy_pj / 1e6 / per, "ann_to_snn_ratio": self.ratio}
        if self.unit:
            key = self.unit.replace(" ", "_")
            out[f"{key}s"] = self.units
            for name, pj in (("energy", self.energy_pj), ("ann_energy", self.ann_energy_pj)):
                value = self.per_unit_pj(pj)
                out[f"{name}_uj_per_{key}"] = None if value is None else value / 1e6
        return out


@dataclass
class ScopedEnergyReport(EnergyReport):
    """A whole report (its totals are the whole model's, named by ``scope``) and its split
    into :attr:`scopes`, in the order they were defined (``other`` last, if any)."""

    scopes: list[ScopeEnergy] = field(default_factory=list)

    def part(self, name: str) -> ScopeEnergy:
        """The scope called ``name``; ``KeyError`` naming the known ones if there is none."""
        for scope in self.scopes:
            if scope.scope == name:
                return scope
        raise KeyError(f"no energy scope {name!r}; the report has {', '.join(s.scope for s in self.scopes)}")

    def whole(self) -> ScopeEnergy:
        """The whole model as one scope (no unit)."""
        return ScopeEnergy(self.layers, self.neurons, self.e_mac_pj, self.e_ac_pj, self.scope)

    def summary(self, per: float = 1.0, suffix: str = "") -> dict:
        """:meth:`ScopeEnergy.summary` of the whole, with ``scopes``: the same of each scope."""
        return {**self.whole().summary(per, suffix), "scopes": self.scope_summaries(per, suffix)}

    def scope_summaries(self, per: float = 1.0, suffix: str = "") -> list[dict]:
        return [s.summary(per, suffix) for s in self.scopes]

    def to_dict(self) -> dict:
        return {**super().to_dict(), "scopes": self.scope_summaries()}

    def format_table(self) -> str:
        return f"{super().format_table()}\n\n{self.format_scopes()}"

    def format_scopes(self) -> str:
        """One line per scope and the whole model: firing rate, MACs, ACs, energy, the ANN's
        energy, their ratio and the energy per unit where a scope has one."""
        head = f"{'scope':<22} {'rate':>6} {'MACs':>9} {'ACs':>9} {'energy':>10} {'ANN':>10} {'ANN/SNN':>8}"
        lines = [head, "-" * len(head)]
        for part in [*self.scopes, None]:
            line = _scope_line(part or self.whole())
            if part is None:
                lines.append("-" * len(head))
            elif part.unit:
                per = part.per_unit_pj(part.energy_pj)
                line += f"  {'-' if per is None else joules(per)} / {part.unit}"
            lines.append(line)
        lines.append(f"E_MAC {self.e_mac_pj} pJ, E_AC {self.e_ac_pj} pJ (45 nm); ANN: the same layers "
                     "on real-valued inputs")
        return "\n".join(lines)


def _scope_line(part: ScopeEnergy) -> str:
    rate = "-" if part.scope_firing_rate is None else f"{part.scope_firing_rate:.3f}"
    ratio = "-" if part.ratio is None else f"{part.ratio:.2f}x"
    return (f"{part.scope:<22} {rate:>6} {si(part.macs):>9} {si(part.acs):>9} "
            f"{joules(part.energy_pj):>10} {joules(part.ann_energy_pj):>10} {ratio:>8}")


def split_scopes(report: EnergyReport, scopes: Iterable[Scope], units: Mapping[str, float] | None = None,
                 whole: str | None = None) -> ScopedEnergyReport:
    """``report`` split by ``scopes`` (first match wins), named ``whole`` as a whole (default:
    the report's own scope, as its meter named it).

    ``units``: scope name → how many of its ``unit`` the run produced (e.g. output tokens).
    Every scope is listed, an empty one (a part that did not run) with zero energy and no
    ratio; the uncovered layers and neurons make a scope ``other``, listed only when non-empty.
    Raises ``ValueError`` on two scopes of one name or a scope called ``other``.
    """
    scopes = list(scopes)
    names = [s.name for s in scopes]
    if len(set(names)) != len(names) or OTHER in names:
        raise ValueError(f"energy scopes must have distinct names other than {OTHER!r}, got {names}")
    rest = Scope(OTHER, ("",))
    layers: dict[str, list[LayerEnergy]] = {s.name: [] for s in [*scopes, rest]}
    neurons: dict[str, list[NeuronActivity]] = {s.name: [] for s in [*scopes, rest]}
    for items, table in ((report.layers, layers), (report.neurons, neurons)):
        for item in items:
            owner = next(s for s in [*scopes, rest] if s.covers(item.name))
            table[owner.name].append(item)
    if layers[OTHER] or neurons[OTHER]:
        scopes.append(rest)
    units = units or {}
    parts = [ScopeEnergy(layers[s.name], neurons[s.name], report.e_mac_pj, report.e_ac_pj, s.name,
                         unit=s.unit, units=units.get(s.name)) for s in scopes]
    return ScopedEnergyReport(report.layers, report.neurons, report.e_mac_pj, report.e_ac_pj,
                              report.scope if whole is None else whole, scopes=parts)
