"""One IMLS step run as ``D`` binary slots: how spike-driven a folded IMLS encoder is, measured.

An IMLS neuron emits in one step a count ``s = clip(round(u / theta), 0, D)`` standing for
``D`` binary steps (slots), with ``theta = alpha * stat(u)`` over the token's channels. Inside
:func:`binary_slots` a folded :class:`~spikespeech.encoder.SpikingEncoder` (``T = 1``) runs
those slots for real: every activation carries a slot axis of size ``D`` where the time axis
was, and every IMLS neuron becomes an integrate-and-fire neuron that receives one current per
slot and fires at most one binary spike per slot (:func:`integrate_and_fire`). Per slot ``d``
a neuron receives:

* after a weight layer (Q/K/V projections and their depthwise taps, output projection, FFN):
  ``W b_d + bias / D`` for the slot's binary spikes ``b_d``. The bias is split evenly because
  no spike carries it: as a constant current it keeps a neuron with constant input exact (see
  below) and does not depend on the order of the slots. Likewise the BatchNorm shifts and the
  time embedding. The slot currents sum to the one-step ``W s + bias``.
* on the residual stream (the pre-attention and pre-FFN neurons): the encoder's real-valued
  input ``x / D`` (the encoding layer, a constant current) plus the branches' slot currents.
* after a product of two spike trains (``Q K^T``, its product with ``V``; SDSA's ``K ⊙ V`` and
  ``Q ⊙ ...``): what the product of the cumulative trains gains at slot ``d``
  (:func:`slot_product`). It telescopes to the one-step product and is non-negative, but it
  needs every earlier slot's spikes (a synapse with memory, not a local event). Products with
  constants (the decay mask, the row scale) are linear: per slot as they are.

The IF neuron starts at ``V = 0`` and fires when ``V >= theta_d / 2`` (then ``V -= theta_d``):
with a fixed ``theta``, a membrane starting at ``theta / 2`` against the threshold ``theta``,
so it rounds rather than floors (ties go up, where the one-step model rounds half to even).
Where ``theta`` comes from is the variant (:data:`VARIANTS`):

* ``oracle``: the one-step rule on the neuron's whole input, ``alpha * stat(sum_d I_d)``: known
  at the first slot only by looking ahead; the mismatches come from the slot dynamics alone.
* ``causal``: at slot ``d`` from the currents seen so far, ``alpha * stat(S_d * D / d)`` with
  ``S_d = sum_{e<=d} I_e``: causal, but still a sum over the token's channels before each slot.
* ``calibrated``: one fixed ``theta`` per neuron module, its mean one-step ``theta`` on
  calibration inputs (:func:`calibrate_thresholds`): local, a plain IF neuron.

It sits with the energy meter: both measure the encoder's inference form, and it needs the
encoder, attention and layer modules, which :mod:`spikespeech.neurons` must not import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial

import torch
from torch import nn

from ..attention import HierarchicalDecayMask
from ..encoder import PaddingMask, SpikingEncoder
from ..layers import ElementwiseMul, MaskedBatchNorm, MatMul
from ..neurons import IMLSNeuron

VARIANTS = ("oracle", "causal", "calibrated")
# every leaf module the simulation knows how to run slot by slot (anything else: ValueError)
_LEAVES = (nn.Linear, nn.Conv1d, MaskedBatchNorm, IMLSNeuron, MatMul, ElementwiseMul,
           HierarchicalDecayMask, nn.Dropout, PaddingMask)
_MIXES_STEPS = ("stsa", "sdsa_steps")  # attention across the time axis, where the slots are
_MISSING = object()


def integrate_and_fire(currents: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Slot currents ``(D, ...)`` and thresholds ``(D | 1, ...)`` (broadcast) → binary spikes
    ``(D, ...)``: ``V += I_d``; spike when ``V >= theta_d / 2``, then ``V -= theta_d``.

    Exact with a fixed ``theta``: the neuron fires at slot ``d`` iff ``A_d > n_{d-1}``, where
    ``A_d = floor(S_d / theta + 1/2)`` and ``n_d`` counts its spikes: a queue serving one spike
    per slot. Non-negative, front-loaded currents (``S_d >= d / D * S_D``: constant or
    non-increasing ones) make ``A`` non-decreasing with at most ``D - d`` arrivals in the last
    ``D - d`` slots, so the count is ``clip(floor(S_D / theta + 1/2), 0, D)``; a constant
    current of either sign too. Late or negative currents break it (tests/energy/test_binary_slots.py).
    """
    v = torch.zeros_like(currents[0])
    spikes = torch.empty_like(currents)
    for d in range(currents.shape[0]):
        th = theta[min(d, theta.shape[0] - 1)]
        v += currents[d]
        spikes[d] = (v >= th / 2).to(currents.dtype)
        v -= spikes[d] * th
    return spikes


def slot_product(op, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``op`` (bilinear) of two slot trains ``(D, ...)``, per slot: ``op(A_d, B_d) - op(A_{d-1},
    B_{d-1})`` with the cumulative trains ``A_d = sum_{e<=d} a_e``. Sums over the slots to
    ``op(sum a, sum b)``; non-negative for non-negative trains and a monotone ``op``."""
    total = op(a.cumsum(0), b.cumsum(0))
    return torch.diff(total, dim=0, prepend=torch.zeros_like(total[:1]))


def imls_neurons(encoder: nn.Module) -> dict[str, IMLSNeuron]:
    """The IMLS neurons of ``encoder`` by module name, in call order."""
    return {name: m for name, m in encoder.named_modules() if isinstance(m, IMLSNeuron)}


@contextmanager
def binary_slots(encoder: SpikingEncoder, variant: str = "oracle",
                 thresholds: dict[str, torch.Tensor] | None = None) -> Iterator[SpikingEncoder]:
    """Inside: ``encoder(x, lengths)`` (``x`` ``(B, L, C)``) is the ``D``-slot simulation and
    returns what the one-step model returns, ``(B, L, C)``: the output stream summed over the
    slots (``output: membrane``) or the output spike counts (``spikes``).

    ``encoder``: folded, eval mode, IMLS neurons with ``T = 1``. ``thresholds``: for
    ``calibrated``, one ``theta`` per neuron name (:func:`calibrate_thresholds`). Everything is
    restored on exit (the biases bit for bit, from saved copies).
    """
    _check_supported(encoder, variant)
    neurons = imls_neurons(encoder)
    if variant == "calibrated":
        missing = sorted(set(neurons) - set(thresholds or {}))
        if missing:
            raise ValueError(f"binary_slots: variant 'calibrated' needs thresholds for {missing[0]} "
                             f"(and {len(missing) - 1} more)")
    slots = encoder.config.neuron.levels
    undo: list[tuple[object, str, object]] = []

    def swap(obj, attr: str, value) -> None:
        undo.append((obj, attr, obj.__dict__.get(attr, _MISSING)))
        setattr(obj, attr, value)

    constants = _spread_constants(encoder)
    saved = [c.detach().clone() for c in constants]
    try:
        with torch.no_grad():
            for c in constants:
                c.div_(slots)
        for name, neuron in neurons.items():
            theta = thresholds[name] if variant == "calibrated" else None
            swap(neuron, "forward", partial(_fire_slots, neuron, variant, theta))
        for m in encoder.modules():
            if isinstance(m, (MatMul, ElementwiseMul)):
                swap(m, "forward", partial(_slotwise_product, m.forward, slots))
        swap(encoder, "time_steps", slots)
        swap(encoder, "forward", lambda x, lengths=None: encoder.forward_steps(x / slots, lengths).sum(0))
        yield encoder
    finally:
        for obj, attr, old in reversed(undo):
            if old is _MISSING:
                delattr(obj, attr)
            else:
                setattr(obj, attr, old)
        with torch.no_grad():
            for c, s in zip(constants, saved, strict=True):
                c.copy_(s)


def _check_supported(encoder: SpikingEncoder, variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"binary_slots: unknown variant {variant!r}; choose {', '.join(VARIANTS)}")
    cfg = encoder.config
    problems = []
    if encoder.training:
        problems.append("is in training mode (BatchNorm on batch statistics is not affine): call .eval()")
    if cfg.time_steps != 1:
        problems.append(f"has T = {cfg.time_steps} (the slots take the time axis; IMLS runs T = 1)")
    if cfg.attention.type in _MIXES_STEPS or cfg.attention.temporal != "none":
        problems.append("mixes its time steps in attention (stsa, sdsa_steps)")
    for name, m in encoder.named_modules():
        if not list(m.children()) and not isinstance(m, _LEAVES):
            problems.append(f"has a {type(m).__name__} ({name}) the simulation cannot run slot by slot")
            break
        if isinstance(m, IMLSNeuron) and m.output != "count":
            problems.append(f"has an IMLS neuron with output {m.output!r} ({name}), not spike counts")
            break
        if isinstance(m, MaskedBatchNorm) and m.running_mean is None:
            problems.append(f"has a BatchNorm without running statistics ({name}): not affine")
            break
    if problems:
        raise ValueError(f"binary_slots: the encoder {problems[0]}")


def _spread_constants(encoder: SpikingEncoder) -> list[torch.Tensor]:
    """Every constant current of the encoder (biases, BN shifts, time embedding): each slot gets
    ``1 / D`` of it. A BN's eval shift is ``bias - mean * scale``: ``bias`` and ``mean`` both."""
    out = [m.bias for m in encoder.modules()
           if isinstance(m, (nn.Linear, nn.Conv1d, MaskedBatchNorm)) and m.bias is not None]
    out += [m.running_mean for m in encoder.modules() if isinstance(m, MaskedBatchNorm)]
    return out + ([encoder.time_embed] if encoder.time_embed is not None else [])


def _fire_slots(neuron: IMLSNeuron, variant: str, fixed: torch.Tensor | None,
                currents: torch.Tensor) -> torch.Tensor:
    """The IF form of ``neuron``: slot currents ``(D, B, ..., C)`` → binary spikes, same shape."""
    if variant == "oracle":
        theta = neuron.theta(currents.sum(0, keepdim=True))
    elif variant == "causal":  # stat is 1-homogeneous: stat(S_d) * D / d = stat(S_d * D / d)
        slots = currents.shape[0]
        seen = torch.arange(1, slots + 1, dtype=currents.dtype, device=currents.device) / slots
        theta = neuron.theta(currents.cumsum(0) / seen.view(-1, *[1] * (currents.dim() - 1)))
    else:
        theta = fixed.unsqueeze(0)
    return integrate_and_fire(currents, theta)


def _slotwise_product(op, slots: int, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if a.shape[0] == slots and b.shape[0] == slots:
        return slot_product(op, a, b)
    return op(a, b)  # a constant factor (leading size 1): linear, slot by slot


class NeuronTrace:
    """While active, the input current and spike count of every IMLS neuron of ``encoder`` on
    its last call, each summed over the leading axis (the slots inside :func:`binary_slots`,
    the single step outside): ``current[name]``, ``count[name]``, shaped like one step."""

    def __init__(self, encoder: nn.Module) -> None:
        self.neurons = imls_neurons(encoder)
        self.current: dict[str, torch.Tensor] = {}
        self.count: dict[str, torch.Tensor] = {}
        self._handles: list = []

    def __enter__(self) -> NeuronTrace:
        for name, neuron in self.neurons.items():
            self._handles.append(neuron.register_forward_hook(partial(self._record, name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _record(self, name: str, module, args, out) -> None:
        self.current[name] = args[0].detach().sum(0, keepdim=True)
        self.count[name] = out.detach().sum(0, keepdim=True)


@dataclass
class SlotMismatch:
    """Spike counts of the slot simulation vs the one-step model, over ``elements`` neuron
    outputs (``firing`` of them non-zero in the one-step model): ``differing`` counts, their
    summed ``abs_delta``, and ``own_input_differing``: counts that differ from the one-step
    rule (oracle ``theta``) on the neuron's own slot input, i.e. from this neuron's dynamics
    and threshold, not from upstream."""

    elements: int = 0
    firing: int = 0
    differing: int = 0
    abs_delta: float = 0.0
    own_input_differing: int = 0

    def __add__(self, other: SlotMismatch) -> SlotMismatch:
        return SlotMismatch(*(a + b for a, b in zip(asdict(self).values(), asdict(other).values(),
                                                      strict=True)))

    def summary(self) -> dict:
        n = max(self.elements, 1)
        return {"elements": self.elements, "one_step_firing": self.firing / n,
                "mismatch_rate": self.differing / n,
                "mean_abs_delta": self.abs_delta / n, "own_input_mismatch_rate": self.own_input_differing / n}


@dataclass
class SlotComparison:
    """One input through the one-step model and the slot simulation: per-neuron mismatches and
    both encoder outputs ``(B, L, C)``."""

    neurons: dict[str, SlotMismatch]
    reference: torch.Tensor
    simulated: torch.Tensor

    @property
    def relative_error(self) -> float:
        """``||simulated - reference|| / ||reference||`` of the encoder outputs."""
        return float((self.simulated - self.reference).norm() / self.reference.norm().clamp_min(1e-12))

    @property
    def total(self) -> SlotMismatch:
        return sum(self.neurons.values(), SlotMismatch())


@torch.no_grad()
def compare(encoder: SpikingEncoder, x: torch.Tensor, variant: str = "oracle",
            thresholds: dict[str, torch.Tensor] | None = None) -> SlotComparison:
    """``x`` ``(B, L, C)``, unpadded (every element counts), through the one-step ``encoder``
    and its :func:`binary_slots` simulation."""
    with NeuronTrace(encoder) as one_step:
        reference = encoder(x)
    with NeuronTrace(encoder) as slotted, binary_slots(encoder, variant, thresholds):
        simulated = encoder(x)
    neurons = {}
    for name, neuron in one_step.neurons.items():
        count, ref = slotted.count[name], one_step.count[name]
        own = neuron(slotted.current[name])  # the one-step rule on this neuron's slot input
        delta = (count - ref).abs()
        neurons[name] = SlotMismatch(ref.numel(), int((ref > 0).sum()), int((delta > 0).sum()),
                                     float(delta.sum()), int((count != own).sum()))
    return SlotComparison(neurons, reference, simulated)


@torch.no_grad()
def calibrate_thresholds(encoder: SpikingEncoder, inputs: Iterable[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per IMLS neuron name, its mean one-step ``theta`` over the tokens of ``inputs`` (each
    ``(B, L, C)``, unpadded), shaped like the neuron's scale (``(1,)``, or ``(S, 1)`` stacked)."""
    sums: dict[str, torch.Tensor] = {}
    tokens: dict[str, int] = {}
    trace = NeuronTrace(encoder)
    for x in inputs:
        with trace:
            encoder(x)
        for name, neuron in trace.neurons.items():
            theta = neuron.theta(trace.current[name]).reshape(-1, *neuron.scale.shape)
            sums[name] = sums.get(name, 0) + theta.sum(0)
            tokens[name] = tokens.get(name, 0) + theta.shape[0]
    if not sums:
        raise ValueError("calibrate_thresholds: no inputs")
    return {name: sums[name] / tokens[name] for name in sums}
