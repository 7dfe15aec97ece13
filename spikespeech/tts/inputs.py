"""Input checks for :class:`~spikespeech.tts.SpikeVoice` (one-line ValueErrors naming the input)."""

from __future__ import annotations

import torch

from ..encoder.spiking import make_pad_mask


def check_lengths(name: str, lengths: torch.Tensor, batch: int, max_len: int) -> None:
    if not isinstance(lengths, torch.Tensor) or lengths.shape != (batch,):
        shape = tuple(lengths.shape) if isinstance(lengths, torch.Tensor) else type(lengths).__name__
        raise ValueError(f"{name}: expected shape ({batch},), got {shape}")
    if lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
        raise ValueError(f"{name}: expected an integer tensor, got {lengths.dtype}")
    if bool((lengths < 1).any()) or bool((lengths > max_len).any()):
        raise ValueError(f"{name}: values must lie in [1, {max_len}], got {lengths.tolist()}")


def check_tokens(tokens: torch.Tensor, token_lengths: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Validate ``tokens (B, L)``; return them with padded positions set to 0 (ESPnet pads -1)."""
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2:
        raise ValueError(f"tokens: expected a (B, L) tensor, got {getattr(tokens, 'shape', type(tokens))}")
    if tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
        raise ValueError(f"tokens: expected an integer (long) tensor, got {tokens.dtype}")
    check_lengths("token_lengths", token_lengths, tokens.shape[0], tokens.shape[1])
    mask = make_pad_mask(token_lengths, tokens.shape[1])
    tokens = tokens.long().masked_fill(~mask, 0)
    if bool((tokens < 0).any()) or bool((tokens >= vocab_size).any()):
        raise ValueError(f"tokens: ids must lie in [0, {vocab_size}) (vocab_size), got "
                         f"[{int(tokens.min())}, {int(tokens.max())}]")
    return tokens


def check_frames(name: str, values: torch.Tensor | None, batch: int, frames: int) -> None:
    if values is not None and (not isinstance(values, torch.Tensor) or values.shape != (batch, frames)):
        raise ValueError(f"{name}: expected shape ({batch}, {frames}) (frame level, like mels), "
                         f"got {getattr(values, 'shape', type(values))}")


def check_durations(durations: torch.Tensor, token_mask: torch.Tensor,
                    mel_lengths: torch.Tensor) -> torch.Tensor:
    """External ``durations (B, L)`` → long, 0 at padded tokens; each row must sum to its mel length."""
    if not isinstance(durations, torch.Tensor) or durations.shape != token_mask.shape:
        raise ValueError(f"durations: expected shape {tuple(token_mask.shape)} like tokens, "
                         f"got {getattr(durations, 'shape', type(durations))}")
    durations = durations.to(token_mask.device)
    rounded = durations.round() if durations.dtype.is_floating_point else durations
    if durations.dtype.is_floating_point and not torch.equal(rounded, durations):
        raise ValueError("durations: expected whole numbers of frames")
    d = rounded.long().masked_fill(~token_mask, 0)
    if bool((d < 0).any()):
        raise ValueError("durations: must be >= 0")
    bad = (d.sum(1) != mel_lengths).nonzero().flatten().tolist()
    if bad:
        i = bad[0]
        raise ValueError(f"durations: item {i} sums to {int(d[i].sum())} frames but mel_lengths[{i}] "
                         f"is {int(mel_lengths[i])}")
    return d
