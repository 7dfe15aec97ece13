"""Forward-hook energy meter: measures what each layer really receives."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from ..layers import DepthwiseTokenConv, ElementwiseMul, MatMul
from ..neurons import StatefulNeuron
from .classify import MULTILEVEL, classify, is_spike
from .counting import conv_ops, elementwise_ops, linear_ops, matmul_ops, token_conv_ops
from .report import E_AC_PJ, E_MAC_PJ, EnergyReport, LayerEnergy, NeuronActivity

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


class EnergyMeter:
    """Count MACs/ACs of every weight layer and activation product of ``model``.

    Use as a context manager around forward passes; counts add up over calls::

        with EnergyMeter(model) as meter:
            model(x)
        print(meter.report().format_table())

    Layers inside a module with an integer ``time_steps`` attribute (the spiking encoder)
    run ``T`` steps per input; their ANN counterpart runs once, so ``ann_macs`` is the dense
    count divided by ``T``.
    """

    def __init__(self, model: nn.Module, e_mac_pj: float = E_MAC_PJ, e_ac_pj: float = E_AC_PJ):
        if e_mac_pj < 0 or e_ac_pj < 0:
            raise ValueError("EnergyMeter: energies per operation must be >= 0")
        self.model = model
        self.e_mac_pj, self.e_ac_pj = float(e_mac_pj), float(e_ac_pj)
        self.levels = max(
            (int(m.max_level) for m in model.modules() if isinstance(m, StatefulNeuron)), default=1
        )
        self._handles: list = []
        self._layers: dict[str, LayerEnergy] = {}
        self._neurons: dict[str, NeuronActivity] = {}

    # ---- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> EnergyMeter:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if self._handles:
            return
        steps = self._time_steps()
        for name, module in self.model.named_modules():
            t = steps.get(name, 1)
            if isinstance(module, DepthwiseTokenConv):  # before nn.Conv1d: channels-last input
                hook = partial(self._on_layer, name, "conv", t, token_conv_ops)
            elif isinstance(module, nn.Linear):
                hook = partial(self._on_layer, name, "linear", t, linear_ops)
            elif isinstance(module, _CONVS):
                hook = partial(self._on_layer, name, "conv", t, conv_ops)
            elif isinstance(module, MatMul):
                hook = partial(self._on_product, name, "matmul", t)
            elif isinstance(module, ElementwiseMul):
                hook = partial(self._on_product, name, "mul", t)
            elif isinstance(module, StatefulNeuron):
                hook = partial(self._on_neuron, name)
            else:
                continue
            self._handles.append(module.register_forward_hook(hook))

    def stop(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def reset(self) -> None:
        self._layers.clear()
        self._neurons.clear()

    def report(self) -> EnergyReport:
        return EnergyReport(
            layers=list(self._layers.values()),
            neurons=list(self._neurons.values()),
            e_mac_pj=self.e_mac_pj,
            e_ac_pj=self.e_ac_pj,
        )

    # ---- hooks ----------------------------------------------------------------------------
    def _time_steps(self) -> dict[str, int]:
        steps: dict[str, int] = {}
        for name, module in self.model.named_modules():
            t = getattr(module, "time_steps", None)
            if isinstance(t, int) and t > 1:
                prefix = f"{name}." if name else ""
                for sub, _ in module.named_modules():
                    steps[f"{prefix}{sub}" if sub else name] = t
        return steps

    def _entry(self, name: str, op: str, kind: str) -> LayerEnergy:
        entry = self._layers.get(name)
        if entry is None:
            entry = self._layers[name] = LayerEnergy(name=name, op=op, input=kind)
        elif entry.input != kind:
            entry.input = "mixed"
        return entry

    def _add(self, entry: LayerEnergy, kind: str, ops: float, dense: float, steps: int) -> None:
        if is_spike(kind):
            entry.acs += ops
        else:
            entry.macs += ops
        entry.ann_macs += dense / steps
        entry.calls += 1

    def _activity(self, entry: LayerEnergy, x: torch.Tensor, kind: str) -> None:
        # neuron-like spikes only (counts <= levels), for the firing rate
        if is_spike(kind) and (x.numel() == 0 or float(x.max()) <= self.levels):
            entry.spikes += float(x.sum())
            entry.slots += x.numel() * (self.levels if kind == MULTILEVEL else 1)

    @torch.no_grad()
    def _on_layer(self, name, op, steps, count, module, inputs, output) -> None:
        x = inputs[0]
        kind, ops, dense = count(module, x)
        entry = self._entry(name, op, kind)
        self._add(entry, kind, ops, dense, steps)
        self._activity(entry, x, kind)

    @torch.no_grad()
    def _on_product(self, name, op, steps, module, inputs, output) -> None:
        a, b = inputs
        if op == "matmul":
            kind, ops, dense = matmul_ops(a, b)
        else:
            kind, ops, dense = elementwise_ops(a, b, module.count_as)
        entry = self._entry(name, op, kind)
        self._add(entry, kind, ops, dense, steps)
        if is_spike(kind):
            for t in (a, b):
                self._activity(entry, t, classify(t))

    @torch.no_grad()
    def _on_neuron(self, name, module, inputs, output) -> None:
        entry = self._neurons.setdefault(name, NeuronActivity(name=name))
        entry.spikes += float(output.sum())
        entry.slots += output.numel() * int(module.max_level)


def measure_energy(model: nn.Module, *args, e_mac_pj: float = E_MAC_PJ,
                   e_ac_pj: float = E_AC_PJ, **kwargs) -> EnergyReport:
    """Run ``model(*args, **kwargs)`` once under an :class:`EnergyMeter`; return the report."""
    with torch.no_grad(), EnergyMeter(model, e_mac_pj, e_ac_pj) as meter:
        model(*args, **kwargs)
    return meter.report()
