"""Variance adaptor: duration/pitch/energy predictors, quantised embeddings, length regulator."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..neurons.config import NeuronConfig
from .config import PredictorConfig, VarianceConfig
from .conv_stack import ConvStack


class VariancePredictor(nn.Module):
    """Spiking conv stack with a scalar read-out: ``(B, L, C)`` → ``(B, L)`` (0 at padding);
    per-step input ``(T, B, L, C)`` → per-step predictions ``(T, B, L)``."""

    def __init__(self, d_model: int, cfg: PredictorConfig, neuron: NeuronConfig | None,
                 time_steps: int, input_norm: bool, activation: str) -> None:
        super().__init__()
        self.stack = ConvStack([d_model] + [cfg.channels] * cfg.layers, cfg.kernel, cfg.dropout,
                               neuron, time_steps, readout=1, input_norm=input_norm,
                               activation=activation, norm=cfg.norm)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        if x.dim() == 4:
            return self.stack.forward_steps(x, lengths).squeeze(-1)
        return self.stack(x, lengths).squeeze(-1)


class VarianceAdaptor(nn.Module):
    """Token-level predictors and pitch/energy embeddings (FastSpeech2 with JETS-style
    token-averaged pitch/energy). Values are normalised (z-scored) units.

    The encoder output ``hs`` is ``(B, L, C)`` (spike rates) or per step ``(T, B, L, C)``;
    predictions come back averaged over ``T``, ``(B, L)``.
    """

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
        if cfg.bin_range == "data":  # running (min, max) of the training targets, saved
            for name in ("pitch_bounds", "energy_bounds"):
                self.register_buffer(name, torch.tensor([math.inf, -math.inf]))

    def embed(self, pitch: torch.Tensor, energy: torch.Tensor) -> torch.Tensor:
        """Token pitch and energy ``(B, L)`` → summed bin embeddings ``(B, L, C)``."""
        return self.embed_pitch(pitch) + self.embed_energy(energy)

    def embed_pitch(self, pitch: torch.Tensor) -> torch.Tensor:
        """Pitch values ``(..., L)`` → bin embeddings ``(..., L, C)``."""
        return self.pitch_embed(torch.bucketize(pitch.detach().contiguous(), self._edges("pitch", pitch)))

    def embed_energy(self, energy: torch.Tensor) -> torch.Tensor:
        """Energy values ``(..., L)`` → bin embeddings ``(..., L, C)``."""
        return self.energy_embed(torch.bucketize(energy.detach().contiguous(), self._edges("energy", energy)))

    def _edges(self, name: str, like: torch.Tensor) -> torch.Tensor:
        edges = getattr(self, f"{name}_edges")
        if self.config.bin_range == "data":
            lo, hi = getattr(self, f"{name}_bounds").tolist()
            if lo < hi:
                edges = torch.linspace(lo, hi, self.config.bins - 1, device=edges.device)
        return edges.to(like.dtype)

    @torch.no_grad()
    def observe(self, pitch: torch.Tensor | None, energy: torch.Tensor | None, valid: torch.Tensor) -> None:
        """Widen the data bin ranges (``bin_range: data``) to the training targets ``(B, L)``
        at ``valid`` tokens; a no-op with ``bin_range: fixed``."""
        if self.config.bin_range != "data" or not bool(valid.any()):
            return
        for name, values in (("pitch", pitch), ("energy", energy)):
            if values is not None:
                bounds = getattr(self, f"{name}_bounds")
                v = values[valid].to(bounds.dtype)
                bounds[0] = torch.minimum(bounds[0], v.min())
                bounds[1] = torch.maximum(bounds[1], v.max())

    def adapt(self, hs: torch.Tensor, lengths: torch.Tensor | None, pitch: torch.Tensor | None,
              energy: torch.Tensor | None, pitch_shift: float = 0.0):
        """Predict, then add the pitch and energy embeddings to ``hs``.

        ``hs (B, L, C)`` or ``(T, B, L, C)``; ``pitch``/``energy (B, L)`` token targets, or None
        to embed the predictions (pitch plus ``pitch_shift``). Returns ``(hs + embeddings
        (same shape; none added at padded tokens), log_duration, pitch, energy)``, the last
        three ``(B, L)`` predictions averaged over ``T`` (pitch shifted).
        """
        keep = 1.0 if lengths is None else _token_keep(lengths, hs)
        x = hs.detach() if self.config.detach_input else hs
        log_d = self.duration_predictor(x, lengths)
        pitch_pred = self.pitch_predictor(x, lengths) + pitch_shift
        pitch = pitch_pred if pitch is None else pitch
        if self.config.energy_input == "encoder":
            energy_pred = self.energy_predictor(x, lengths)
            hs = hs + self.embed(pitch, energy_pred if energy is None else energy) * keep
        else:  # the energy predictor reads the pitch-embedded input
            hs = hs + self.embed_pitch(pitch) * keep
            x = hs.detach() if self.config.detach_input else hs
            energy_pred = self.energy_predictor(x, lengths)
            hs = hs + self.embed_energy(energy_pred if energy is None else energy) * keep
        return hs, _mean_steps(log_d), _mean_steps(pitch_pred), _mean_steps(energy_pred)

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


def _mean_steps(x: torch.Tensor) -> torch.Tensor:
    """Per-step predictions ``(T, B, L)`` → ``(B, L)``; ``(B, L)`` unchanged."""
    return x.mean(0) if x.dim() == 3 else x


def _token_keep(lengths: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``(B, L, 1)`` 0/1 of valid tokens, for ``like`` ``(…, B, L, C)``."""
    valid = torch.arange(like.shape[-2], device=like.device)[None, :] < lengths[:, None]
    return valid[..., None].to(like.dtype)


def length_regulate(x: torch.Tensor, durations: torch.Tensor, max_len: int | None = None):
    """Repeat each token ``durations`` times.

    ``x (B, L, C)``, ``durations (B, L)`` long (0 at padded tokens) → ``(frames (B, F, C),
    lengths (B,))`` with ``F = max_len`` or the longest total; frames past each length are 0.
    Per-step ``x (T, B, L, C)`` gives per-step frames ``(T, B, F, C)``.
    """
    if x.dim() == 4:
        T, B, L, C = x.shape
        frames, lengths = length_regulate(x.permute(1, 2, 0, 3).reshape(B, L, T * C), durations, max_len)
        return frames.view(B, -1, T, C).permute(2, 0, 1, 3), lengths
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
