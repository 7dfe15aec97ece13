"""Forward-hook energy meter: measures what each layer really receives."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from ..encoder import PaddingMask
from ..layers import DepthwiseTokenConv, ElementwiseMul, MatMul, TokenConv
from ..neurons import SpikingNeuron
from .classify import MULTILEVEL, is_spike
from .counting import Operand, conv_ops, elementwise_ops, linear_ops, matmul_ops, token_conv_ops
from .frames import frame_validity
from .report import E_AC_PJ, E_MAC_PJ, EnergyReport, LayerEnergy, NeuronActivity

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _depthwise_token_conv_ops(layer: DepthwiseTokenConv, op: Operand) -> tuple[str, float, float]:
    return token_conv_ops(layer, op, zero_pad=layer.token_padding)


def _token_conv_ops(layer: TokenConv, op: Operand) -> tuple[str, float, float]:
    """A :class:`TokenConv` over ``nn.Conv1d``, counted on its channels-last input."""
    zero_pad = (layer.kernel_size - 1, 0) if layer.causal else None
    return token_conv_ops(layer.layer, op, zero_pad=zero_pad)


class EnergyMeter:
    """Count MACs/ACs of every weight layer and activation product of ``model``.

    Use as a context manager around forward passes; counts add up over calls::

        with EnergyMeter(model) as meter:
            model(x)
        print(meter.report().format_table())

    Layers inside a module with an integer ``time_steps`` attribute (the spiking encoder)
    run ``T`` steps per input; their ANN counterpart runs once, so ``ann_macs`` is the dense
    count divided by ``T``.

    Padded batches cost what their sequences cost alone: inside a stack with a
    :class:`~spikespeech.encoder.PaddingMask` (the encoders), rates and counts take only
    valid frames, read from the mask of the stack's current call. Activations there have
    the stack's ``layout`` (see :mod:`~spikespeech.energy.frames`) unless a module says
    otherwise with a ``frame_layout`` attribute: a string for a neuron's output or a layer's
    input, a pair of strings for the operands of a product (products without one count all
    elements).

    Spikes are what the model's neurons emit, counts up to their largest level; larger
    integers (raw ``Q K^T`` coincidence counts) are values and cost as such.

    ``scope`` names what the report covers (default: the model's class name); split it into
    parts with :func:`~spikespeech.energy.split_scopes`.
    """

    def __init__(self, model: nn.Module, e_mac_pj: float = E_MAC_PJ, e_ac_pj: float = E_AC_PJ,
                 scope: str | None = None):
        if e_mac_pj < 0 or e_ac_pj < 0:
            raise ValueError("EnergyMeter: energies per operation must be >= 0")
        self.model = model
        self.scope = type(model).__name__ if scope is None else scope
        self.e_mac_pj, self.e_ac_pj = float(e_mac_pj), float(e_ac_pj)
        levels = [int(m.max_level) for m in model.modules() if isinstance(m, SpikingNeuron)]
        self.levels = max(levels, default=1)
        self.spike_bound = max(levels) if levels else None  # no neurons: any count is spikes
        self._handles: list = []
        self._masks: dict[str, torch.Tensor | None] = {}
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
        stacks = self._stacks()
        counted_by_parent: set[str] = set()
        for name, module in self.model.named_modules():
            if name in counted_by_parent:
                continue
            t, frames = steps.get(name, 1), self._stack_of(name, stacks)
            if isinstance(module, PaddingMask):
                hook = partial(self._on_padding, name.rpartition(".")[0])
            elif isinstance(module, DepthwiseTokenConv):  # before nn.Conv1d: channels-last input
                hook = partial(self._on_layer, name, "conv", t, _depthwise_token_conv_ops, frames)
            elif isinstance(module, TokenConv) and type(module.layer) is nn.Conv1d:
                # counted on the channels-last input, where frames (and causal padding) show
                inner = f"{name}.layer" if name else "layer"
                counted_by_parent.add(inner)
                hook = partial(self._on_layer, inner, "conv", t, _token_conv_ops, frames)
            elif isinstance(module, nn.Linear):
                hook = partial(self._on_layer, name, "linear", t, linear_ops, frames)
            elif isinstance(module, _CONVS):
                hook = partial(self._on_layer, name, "conv", t, conv_ops, frames)
            elif isinstance(module, MatMul):
                hook = partial(self._on_product, name, "matmul", t, frames)
            elif isinstance(module, ElementwiseMul):
                hook = partial(self._on_product, name, "mul", t, frames)
            elif isinstance(module, SpikingNeuron):
                hook = partial(self._on_neuron, name, frames)
            else:
                continue
            self._handles.append(module.register_forward_hook(hook))

    def stop(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._masks.clear()

    def reset(self) -> None:
        self._layers.clear()
        self._neurons.clear()

    def report(self) -> EnergyReport:
        return EnergyReport(
            layers=list(self._layers.values()),
            neurons=list(self._neurons.values()),
            e_mac_pj=self.e_mac_pj,
            e_ac_pj=self.e_ac_pj,
            scope=self.scope,
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

    def _stacks(self) -> dict[str, str]:
        """Stack name (the module holding a :class:`PaddingMask`) → its activations' layout."""
        return {name.rpartition(".")[0]: module.layout for name, module in self.model.named_modules()
                if isinstance(module, PaddingMask)}

    @staticmethod
    def _stack_of(name: str, stacks: dict[str, str]) -> tuple[str, str] | None:
        """(stack, default layout) of the innermost stack holding module ``name``, if any."""
        inside = [s for s in stacks if s == "" or name == s or name.startswith(f"{s}.")]
        if not inside:
            return None
        stack = max(inside, key=len)
        return stack, stacks[stack]

    def _valid(self, frames: tuple[str, str] | None, layout: str | None,
               shape: torch.Size) -> torch.Tensor | None:
        if frames is None or layout is None:
            return None
        return frame_validity(shape, layout, self._masks.get(frames[0]))

    def _operand(self, x: torch.Tensor, frames, layout: str | None) -> Operand:
        return Operand.of(x, self.spike_bound, self._valid(frames, layout, x.shape))

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

    def _activity(self, entry: LayerEnergy, op: Operand) -> None:
        # neuron-like spikes only (counts <= levels), for the firing rate
        if op.is_spike and (op.x.numel() == 0 or float(op.x.max()) <= self.levels):
            entry.spikes += float(op.events().sum())
            entry.slots += op.count_slots() * (self.levels if op.kind == MULTILEVEL else 1)

    def _on_padding(self, stack, module, inputs, output) -> None:
        self._masks[stack] = output[1]

    @torch.no_grad()
    def _on_layer(self, name, op, steps, count, frames, module, inputs, output) -> None:
        layout = getattr(module, "frame_layout", None) or (frames[1] if frames else None)
        x = self._operand(inputs[0], frames, layout)
        kind, ops, dense = count(module, x)
        entry = self._entry(name, op, kind)
        self._add(entry, kind, ops, dense, steps)
        self._activity(entry, x)

    @torch.no_grad()
    def _on_product(self, name, op, steps, frames, module, inputs, output) -> None:
        layouts = getattr(module, "frame_layout", None) or (None, None)
        a, b = (self._operand(t, frames, layout) for t, layout in zip(inputs, layouts, strict=True))
        if op == "matmul":
            kind, ops, dense = matmul_ops(a, b)
        else:
            kind, ops, dense = elementwise_ops(a, b, module.count_as)
        entry = self._entry(name, op, kind)
        self._add(entry, kind, ops, dense, steps)
        if is_spike(kind):
            for t in (a, b):
                self._activity(entry, t)

    @torch.no_grad()
    def _on_neuron(self, name, frames, module, inputs, output) -> None:
        layout = getattr(module, "frame_layout", None) or (frames[1] if frames else None)
        out = Operand(output, MULTILEVEL, self._valid(frames, layout, output.shape))
        entry = self._neurons.setdefault(name, NeuronActivity(name=name))
        entry.spikes += float(out.events().sum())
        entry.slots += out.count_slots() * int(module.max_level)


def measure_energy(model: nn.Module, *args, e_mac_pj: float = E_MAC_PJ,
                   e_ac_pj: float = E_AC_PJ, scope: str | None = None, **kwargs) -> EnergyReport:
    """Run ``model(*args, **kwargs)`` once under an :class:`EnergyMeter`; return the report."""
    with torch.no_grad(), EnergyMeter(model, e_mac_pj, e_ac_pj, scope) as meter:
        model(*args, **kwargs)
    return meter.report()
