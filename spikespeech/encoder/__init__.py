"""The shared spiking encoder (and its same-shape ANN baseline)."""

from __future__ import annotations

from pathlib import Path

from ..config import ConfigError, from_dict, load_yaml
from .ann import ANNEncoder
from .config import AttentionConfig, EncoderConfig, NeuronConfig
from .spiking import PaddingMask, SpikingEncoder, SpikingEncoderLayer, make_pad_mask

ENCODER_KINDS = ("spiking", "ann")


def build_encoder(cfg: EncoderConfig, kind: str = "spiking"):
    """``kind="spiking"`` → :class:`SpikingEncoder`; ``"ann"`` → same-shape :class:`ANNEncoder`."""
    if kind == "spiking":
        return SpikingEncoder(cfg)
    if kind == "ann":
        return ANNEncoder(cfg)
    raise ConfigError(f"encoder kind: unknown {kind!r}; choose one of {', '.join(ENCODER_KINDS)}")


def load_encoder_config(path: str | Path) -> EncoderConfig:
    """Read an encoder YAML: either the bare fields or under a top-level ``encoder:`` key."""
    data = load_yaml(path)
    if "encoder" in data:
        data = data["encoder"]
    return from_dict(EncoderConfig, data, where=f"{path}")


__all__ = [
    "ANNEncoder",
    "AttentionConfig",
    "EncoderConfig",
    "NeuronConfig",
    "PaddingMask",
    "SpikingEncoder",
    "SpikingEncoderLayer",
    "build_encoder",
    "load_encoder_config",
    "make_pad_mask",
]
