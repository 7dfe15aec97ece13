"""Explicit, per-module neuron state.

Every spiking neuron derives from :class:`StatefulNeuron`. Its state lives on the module
instance (``self.v``), never in a global, so :func:`reset_states` on one model cannot touch
another. By default a forward call starts from rest and keeps no state (``stateful=False``):
training batches are independent and nobody has to remember to reset. With
``stateful=True`` the membrane carries over between calls (chunked streaming) until
``reset()``.
"""

from __future__ import annotations

import torch
from torch import nn


class StatefulNeuron(nn.Module):
    def __init__(self, stateful: bool = False) -> None:
        super().__init__()
        self.stateful = stateful
        self.v: torch.Tensor | None = None

    def reset(self) -> None:
        """Return this neuron to rest (drops the carried membrane potential)."""
        self.v = None

    def initial_state(self, like: torch.Tensor) -> torch.Tensor | None:
        """Carried membrane if stateful and shape-compatible, else ``None`` (rest)."""
        if not self.stateful or self.v is None:
            return None
        if self.v.shape != like.shape:
            raise ValueError(
                f"{type(self).__name__}: carried state has shape {tuple(self.v.shape)} but the "
                f"input step has shape {tuple(like.shape)}; call reset_states() between streams"
            )
        return self.v

    def keep_state(self, v: torch.Tensor) -> None:
        if self.stateful:
            self.v = v.detach()


def reset_states(model: nn.Module) -> None:
    """Reset every neuron inside ``model`` (and only those)."""
    for module in model.modules():
        if isinstance(module, StatefulNeuron):
            module.reset()
