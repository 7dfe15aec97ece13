"""Shared SpikeVoice test fixtures: tiny configs, random padded batches, prepared models
(used by tests/tts and the CUDA tests)."""

from __future__ import annotations

import dataclasses as dc
from pathlib import Path

import torch
from _helpers import randomize_bn_affine

from spikespeech.tts import PostnetConfig, PredictorConfig, SpikeVoice, SpikeVoiceConfig

CONF = Path(__file__).resolve().parents[1] / "spikespeech" / "conf" / "tts"
VOCAB, N_MELS, D = 11, 12, 32
DT = torch.float64


def shrink(cfg: SpikeVoiceConfig, **overrides) -> SpikeVoiceConfig:
    """``cfg`` (neurons, attention, backbone kept) at test size: d 32, 1 + 1 blocks, no dropout."""
    stack = dict(layers=1, d_model=D, ffn_dim=48, dropout=0.0)
    pred = PredictorConfig(layers=1, channels=16, kernel=3, dropout=0.0)
    fields = dict(
        encoder=dc.replace(cfg.encoder, **stack), decoder=dc.replace(cfg.decoder, **stack),
        variance=dc.replace(cfg.variance, duration=pred, pitch=pred, energy=pred, bins=16),
        postnet=PostnetConfig(layers=2, channels=16, kernel=5, dropout=0.0),
        aligner=dc.replace(cfg.aligner, attention_dim=8),
    )
    fields.update(overrides)
    return dc.replace(cfg, **fields)


def tiny_config(**overrides) -> SpikeVoiceConfig:
    return shrink(SpikeVoiceConfig(), **overrides)


def random_batch(lengths=((7, 20), (5, 15), (3, 9)), seed=0, dtype=torch.float32):
    """Padded random batch: tokens (B, L) (-1 at padding, as ESPnet pads), mels (B, F, M),
    pitch/energy (B, F) with garbage (NaN, large values) at padded positions."""
    g = torch.Generator().manual_seed(seed)
    B, L, F = len(lengths), max(t for t, _ in lengths), max(f for _, f in lengths)
    tl = torch.tensor([t for t, _ in lengths])
    ml = torch.tensor([f for _, f in lengths])
    tokens = torch.randint(0, VOCAB, (B, L), generator=g)
    mels = torch.randn(B, F, N_MELS, generator=g, dtype=dtype)
    pitch = torch.randn(B, F, generator=g, dtype=dtype)
    energy = torch.randn(B, F, generator=g, dtype=dtype)
    for i, (t, f) in enumerate(lengths):
        tokens[i, t:] = -1
        mels[i, f:] = 1e3
        pitch[i, f:] = float("nan")
        energy[i, f:] = -1e3
    return dict(tokens=tokens, token_lengths=tl, mels=mels, mel_lengths=ml, pitch=pitch, energy=energy)


def prepared_model(cfg: SpikeVoiceConfig, seed=0, dtype=DT) -> SpikeVoice:
    """Eval-mode model with BN running statistics from a few training batches and random BN
    affine parameters (positive shifts keep the untrained binary network firing)."""
    torch.manual_seed(seed)
    model = SpikeVoice(VOCAB, N_MELS, cfg).to(dtype)
    model.train()
    with torch.no_grad():
        for s in range(3):
            model(**random_batch(seed=100 + s, dtype=dtype))
    randomize_bn_affine(model, seed=seed)
    return model.eval()
