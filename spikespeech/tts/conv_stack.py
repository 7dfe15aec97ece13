"""Spiking 1-D conv stack (variance predictors, postnet) and the spike read-out layer."""

from __future__ import annotations

import torch
from torch import nn

from ..encoder.spiking import clean_padding
from ..layers import ConvBN, MaskedBatchNorm
from ..neurons.config import NeuronConfig, build_neuron

_ANN_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class ConvStack(nn.Module):
    """``x (B, L, C_in)`` → ``(B, L, C_out)``, spike-driven.

    The real input (optionally through a padding-aware ``input_norm``) is the input current
    at each of the ``T`` steps, time-first ``(T, B, L, C)``. Each layer is
    ``SN → ConvBN(k) → dropout``, so every weight layer sees spikes; with ``readout`` a last
    ``SN → Linear(C → readout)`` follows. The output currents are averaged over ``T``.

    With ``neuron=None`` (the ANN baseline) ``T = 1`` and the neurons become ``activation``
    (none in front of the first layer): ``ConvBN → dropout → act → ConvBN …``, i.e. the
    usual FastSpeech2 predictor / Tacotron 2 postnet. Padded frames (``lengths``) are zero in
    the output and never change valid frames. ``norm=False``: biased convs without BN.
    :meth:`forward_steps` takes and returns per-step tensors ``(T, B, L, C)`` instead.
    """

    def __init__(
        self, channels: list[int], kernel: int, dropout: float, neuron: NeuronConfig | None,
        time_steps: int = 1, readout: int | None = None, input_norm: bool = True,
        activation: str = "relu", norm: bool = True,
    ) -> None:
        super().__init__()
        if len(channels) < 2:
            raise ValueError(f"ConvStack: channels needs input and >= 1 layer width (got {channels})")
        if activation not in _ANN_ACTIVATIONS:
            raise ValueError(f"ConvStack: unknown activation {activation!r}; choose relu or tanh")
        self.spiking = neuron is not None
        self.time_steps = time_steps if self.spiking else 1  # read by the energy meter
        self.input_norm = MaskedBatchNorm(channels[0]) if input_norm else None
        n = len(channels) - 1 + (readout is not None)

        def act(i: int) -> nn.Module:
            if self.spiking:
                return build_neuron(neuron)
            return nn.Identity() if i == 0 else _ANN_ACTIVATIONS[activation]()

        self.acts = nn.ModuleList(act(i) for i in range(n))
        self.convs = nn.ModuleList(
            ConvBN(c_in, c_out, kernel, norm=norm)
            for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
        )
        self.dropout = nn.Dropout(dropout)
        self.readout = nn.Linear(channels[-1], readout) if readout is not None else None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3:
            raise ValueError(f"ConvStack: expected input (B, L, C), got shape {tuple(x.shape)}")
        x, mask = clean_padding(x, lengths)
        if self.input_norm is not None:
            x = self.input_norm(x, mask)
        return self._layers(x.unsqueeze(0).expand(self.time_steps, -1, -1, -1), mask).mean(0)

    def forward_steps(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x (T, B, L, C_in)`` per-step input currents → ``(T, B, L, C_out)``."""
        if x.dim() != 4 or x.shape[0] != self.time_steps:
            raise ValueError(f"ConvStack: expected input ({self.time_steps}, B, L, C), "
                             f"got shape {tuple(x.shape)}")
        x, mask = clean_padding(x, lengths)
        if self.input_norm is not None:
            x = self.input_norm(x, mask)
        return self._layers(x, mask)

    def _layers(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``(T, B, L, C_in)`` → ``(T, B, L, C_out)``, zero at padded frames."""
        keep = None if mask is None else mask[None, :, :, None].to(h.dtype)
        for act, conv in zip(self.acts, self.convs, strict=False):  # acts[-1]: readout's
            s = act(h)
            if keep is not None:  # convs must not see padded frames
                s = s * keep
            h = self.dropout(conv(s, mask))
        if self.readout is not None:
            s = self.acts[-1](h)
            h = self.readout(s if keep is None else s * keep)
        return h if keep is None else h * keep


class StepReadout(nn.Module):
    """``Linear`` on per-step spikes ``(T, B, L, C)``, averaged over ``T`` → ``(B, L, C_out)``.

    The same as the linear map of the spike rates, but the energy meter sees the spikes.
    """

    def __init__(self, d_in: int, d_out: int, time_steps: int) -> None:
        super().__init__()
        self.time_steps = time_steps
        self.linear = nn.Linear(d_in, d_out)

    def forward(self, steps: torch.Tensor) -> torch.Tensor:
        return self.linear(steps).mean(0)
