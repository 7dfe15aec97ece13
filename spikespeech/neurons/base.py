"""The spiking-neuron interface, and resetting a model's neurons.

Every spiking neuron derives from :class:`SpikingNeuron`: it declares :attr:`max_level` (the
largest spike count one step emits: 1 for binary neurons, ``D`` for IMLS; the energy meter and
the binary expansion read it) and :meth:`reset`. A neuron with carried state keeps it on its own
instance (``MultiStepLIF(stateful=True)``), never in a global, so :func:`reset_states` on one
model cannot touch another; the IMLS neuron has none (its ``D`` sub-steps live inside one call).
"""

from __future__ import annotations

from torch import nn


class SpikingNeuron(nn.Module):
    """A spiking neuron: ``forward`` maps time-first ``(T, B, ...)`` input to spikes."""

    @property
    def max_level(self) -> int:
        """The largest spike count one time step emits."""
        raise NotImplementedError

    def reset(self) -> None:
        """Return to rest (drop any carried state); a stateless neuron has nothing to drop."""


def reset_states(model: nn.Module) -> None:
    """Reset every neuron inside ``model`` (and only those)."""
    for module in model.modules():
        if isinstance(module, SpikingNeuron):
            module.reset()
