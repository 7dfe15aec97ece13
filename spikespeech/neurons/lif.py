"""Binary multi-step leaky integrate-and-fire neuron."""

from __future__ import annotations

import torch

from .base import SpikingNeuron
from .surrogate import SURROGATE_NAMES, heaviside


class MultiStepLIF(SpikingNeuron):
    """LIF neuron run over ``T`` steps at once.

    Input and output are time-first ``(T, B, ...)``; output spikes are 0/1.

    Charge (``decay_input=True``, SpikingJelly's default)::

        h[t] = v[t-1] + (x[t] - (v[t-1] - v_reset)) / tau

    or with ``decay_input=False``: ``h[t] = v[t-1] - (v[t-1] - v_reset) / tau + x[t]``.
    Fire: ``s[t] = H(h[t] - v_threshold)`` with a surrogate gradient. Reset: ``hard`` sets
    the membrane to ``v_reset``; ``soft`` subtracts ``v_threshold``. ``detach_reset`` stops
    gradients through the reset path (common, and cheaper, in spiking transformers).

    By default each call starts from rest (training batches are independent; nobody has to
    remember to reset). With ``stateful=True`` the membrane carries over between calls (a
    stream fed in chunks) until :meth:`reset`.
    """

    def __init__(
        self,
        tau: float = 2.0,
        v_threshold: float = 1.0,
        v_reset: float = 0.0,
        reset: str = "hard",
        surrogate: str = "atan",
        alpha: float | None = None,
        detach_reset: bool = True,
        decay_input: bool = True,
        stateful: bool = False,
    ) -> None:
        super().__init__()
        self.stateful = stateful
        self.v: torch.Tensor | None = None  # the carried membrane (stateful only)
        if tau <= 1.0:
            raise ValueError(f"MultiStepLIF: tau must be > 1 (got {tau})")
        if reset not in ("hard", "soft"):
            raise ValueError(f"MultiStepLIF: reset must be 'hard' or 'soft' (got {reset!r})")
        if surrogate not in SURROGATE_NAMES:
            raise ValueError(f"MultiStepLIF: unknown surrogate {surrogate!r}")
        self.tau = float(tau)
        self.v_threshold = float(v_threshold)
        self.v_reset = float(v_reset)
        self.reset_mode = reset
        self.surrogate = surrogate
        self.alpha = alpha
        self.detach_reset = detach_reset
        self.decay_input = decay_input

    max_level = 1  # binary spikes

    def reset(self) -> None:
        """Return to rest (drops the carried membrane potential)."""
        self.v = None

    def _initial_state(self, like: torch.Tensor) -> torch.Tensor | None:
        """The carried membrane if stateful, else ``None`` (rest)."""
        if not self.stateful or self.v is None:
            return None
        if self.v.shape != like.shape:
            raise ValueError(
                f"{type(self).__name__}: carried state has shape {tuple(self.v.shape)} but the "
                f"input step has shape {tuple(like.shape)}; call reset_states() between streams"
            )
        return self.v

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        """``x_seq``: ``(T, B, ...)`` input currents → ``(T, B, ...)`` spikes in {0, 1}."""
        v = self._initial_state(x_seq[0])
        if v is None:
            v = torch.full_like(x_seq[0], self.v_reset)
        k = 1.0 / self.tau
        spikes = []
        for x in x_seq:
            if self.decay_input:
                h = v + (x - (v - self.v_reset)) * k
            else:
                h = v - (v - self.v_reset) * k + x
            s = heaviside(h - self.v_threshold, self.surrogate, self.alpha)
            s_r = s.detach() if self.detach_reset else s
            if self.reset_mode == "hard":
                v = h * (1.0 - s_r) + self.v_reset * s_r
            else:
                v = h - s_r * self.v_threshold
            spikes.append(s)
        if self.stateful:
            self.v = v.detach()
        return torch.stack(spikes)

    def extra_repr(self) -> str:
        return (
            f"tau={self.tau}, v_threshold={self.v_threshold}, reset={self.reset_mode}, "
            f"surrogate={self.surrogate}, detach_reset={self.detach_reset}, "
            f"decay_input={self.decay_input}, stateful={self.stateful}"
        )
