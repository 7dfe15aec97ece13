"""Variance adaptor: duration/pitch/energy predictors, quantised embeddings, length regulator."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..neurons.config import NeuronConfig
from .config import PredictorConfig, VarianceConfig
from .conv_stack import ConvStack


class VariancePredictor(nn.Module):
    """Spiking conv stack with a scalar read-out: ``(B, L, C)`` → ``(B, L)`` (0 at padding)."""

    def __init__(self, d_model: int, cfg: PredictorConfig, neuron: NeuronConfig | None,
                 time_steps: int, input_norm: bool, activation: str) -> None:
        super().__init__()
        self.stack = ConvStack([d_model] + [cfg.channels] * cfg.layers, cfg.kernel, cfg.dropout,
                               neuron, time_steps, readout=1, input_norm=input_norm,
                               activation=activation)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        return self.stack(x, lengths).squeeze(-1)


class VarianceAdaptor(nn.Module):
    """Token-level predictors and pitch/energy embeddings (FastSpeech2 with JETS-style
    token-averaged pitch/energy). Values are normalised (z-scored) units."""

    def __init__(self, d_model: int, cfg: VarianceConfig, neuron: NeuronConfig | None,
                 time_steps: int, input_norm: bool) -> None:
        super().__init__()
        self.config = cfg

        def predictor(p: PredictorConfig) -> VariancePredictor:
            return VariancePredictor(d_model, p, neuron, time_steps, input_norm, cfg.ann_activation)

        self.duration_predictor = predictor(cfg.duration)
        self.pitch_predictor = predictor(cfg.pitch)
        self.energy_predictor = predictor(cfg.energy)
        self.pitch_embed = nn.Embedding(cfg.bins, d_model)
        self.energy_embed = nn.Embedding(cfg.bins, d_model)
        # bins - 1 inner boundaries: bucketize gives 0..bins-1 (derived from cfg, not saved)
        for name, (lo, hi) in (("pitch_edges", cfg.pitch_range), ("energy_edges", cfg.energy_range)):
            self.register_buffer(name, torch.linspace(lo, hi, cfg.bins - 1), persistent=False)

    def predict(self, hs: torch.Tensor, lengths: torch.Tensor | None):
        """``hs (B, L, C)`` → ``(log_duration, pitch, energy)``, each ``(B, L)``."""
        if self.config.detach_input:
            hs = hs.detach()
        return (self.duration_predictor(hs, lengths), self.pitch_predictor(hs, lengths),
                self.energy_predictor(hs, lengths))

    def embed(self, pitch: torch.Tensor, energy: torch.Tensor) -> torch.Tensor:
        """Token pitch and energy ``(B, L)`` → summed bin embeddings ``(B, L, C)``."""
        p = torch.bucketize(pitch.detach().contiguous(), self.pitch_edges.to(pitch.dtype))
        e = torch.bucketize(energy.detach().contiguous(), self.energy_edges.to(energy.dtype))
        return self.pitch_embed(p) + self.energy_embed(e)

    def log_target(self, durations: torch.Tensor) -> torch.Tensor:
        """Duration regression target ``log(d + offset)``."""
        return torch.log(durations.float() + self.config.duration_offset)

    def durations(self, log_duration: torch.Tensor, speed: float = 1.0) -> torch.Tensor:
        """One utterance's predicted ``(L,)`` log-durations → ``(L,)`` long frames.

        ``speed > 1`` is faster (durations divided by it); tokens round to >= 0 frames, and
        an utterance that would be empty gets one frame on its longest token.
        """
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a finite number > 0, got {speed}")
        d = (torch.exp(log_duration) - self.config.duration_offset).clamp_min(0.0) / speed
        frames = torch.round(d).long()
        if int(frames.sum()) < 1:
            frames[int(d.argmax())] = 1
        return frames


def length_regulate(x: torch.Tensor, durations: torch.Tensor, max_len: int | None = None):
    """Repeat each token ``durations`` times.

    ``x (B, L, C)``, ``durations (B, L)`` long (0 at padded tokens) → ``(frames (B, F, C),
    lengths (B,))`` with ``F = max_len`` or the longest total; frames past each length are 0.
    """
    if durations.shape != x.shape[:2]:
        raise ValueError(f"durations: shape {tuple(durations.shape)} != tokens {tuple(x.shape[:2])}")
    if bool((durations < 0).any()):
        raise ValueError("durations: must be >= 0")
    lengths = durations.sum(1)
    F = int(lengths.max()) if max_len is None else max_len
    if int(lengths.max()) > F:
        raise ValueError(f"durations sum to {int(lengths.max())} frames, more than max_len {F}")
    ends = durations.cumsum(1)  # (B, L): token i covers frames [ends[i-1], ends[i])
    frames = torch.arange(F, device=x.device).expand(x.shape[0], F).contiguous()
    index = torch.searchsorted(ends, frames, right=True).clamp_max(x.shape[1] - 1)  # (B, F)
    out = torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[2]))
    valid = frames < lengths[:, None]
    return out * valid.unsqueeze(-1).to(out.dtype), lengths


def average_by_duration(values: torch.Tensor, durations: torch.Tensor) -> torch.Tensor:
    """Mean of frame-level ``values (B, F)`` over each token's frames (``durations (B, L)``)
    → ``(B, L)``; 0 for tokens with no frames. Frames past ``durations.sum(1)`` are ignored."""
    lengths = durations.sum(1)
    F = values.shape[1]
    if int(lengths.max()) > F:
        raise ValueError(f"durations sum to {int(lengths.max())} frames, but values have only {F}")
    valid = torch.arange(F, device=values.device)[None, :] < lengths[:, None]
    values = values.masked_fill(~valid, 0.0)  # masked_fill: NaN padding must not leak
    csum = torch.nn.functional.pad(values.cumsum(1), (1, 0))  # (B, F + 1)
    ends = durations.cumsum(1)
    total = torch.gather(csum, 1, ends) - torch.gather(csum, 1, ends - durations)
    return total / durations.clamp_min(1).to(values.dtype)
