"""Configuration of the shared spiking encoder.

We found no public code of IML-Spikeformer to check against (unverified: the repo cannot
say). Every detail that its paper, as we know it, leaves open is a named field below, with
our guess as the default and a comment saying why. YAML files map 1:1 onto
these dataclasses (see ``spikespeech/conf/encoder/*.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..attention.config import AttentionConfig
from ..config import ConfigError
from ..neurons.config import NeuronConfig


@dataclass
class EncoderConfig:
    layers: int = 6
    d_model: int = 256
    ffn_dim: int = 1024
    ffn_kernels: tuple[int, int] = (1, 1)  # SpikeVoice/FastSpeech2 use (9, 1)
    dropout: float = 0.1
    causal: bool = False
    time_steps: int = 1  # T: 1 for IMLS, 4 for binary LIF (SpikeVoice)
    # Guess: "spikes" reads the output out as the last neuron's spikes averaged over T, so the
    # heads (CTC, decoder, mel linear) are spike-driven too; "membrane" gives the BN'd stream
    # (with block: post_norm the stream is LayerNorm'd already: no extra BN either way).
    output: Literal["spikes", "membrane"] = "spikes"
    # "membrane": x = x + Sub(SN(x)) on the membrane stream, then BN (+ SN) at the output
    # (spike-driven, our design). "post_norm": x = LayerNorm(x + Sub(SN(x))) with padded
    # frames zeroed after every sub-layer, and no BN in the attention output projection or
    # the FFN (biased linear/conv layers instead): the SpikeVoice authors' public block
    # (WKX933/spikevoice_huawei at 10cce8e: SubLayers.py:79-81 and 118-127, Layers.py:29-54).
    block: Literal["membrane", "post_norm"] = "membrane"
    # Learnable (T, d) vectors added to the T copies of the input, so the steps differ
    # (zero-initialised, as the public SpikeVoice code's time_embed: Models.py:73, 109-112).
    time_embedding: bool = False
    neuron: NeuronConfig = field(default_factory=NeuronConfig)
    attention: AttentionConfig = field(default_factory=AttentionConfig)

    def __post_init__(self) -> None:
        raise_first_failure("EncoderConfig", [
            *stack_checks(self),
            (len(self.ffn_kernels) == 2, f"ffn_kernels needs 2 values (got {self.ffn_kernels})"),
        ])

    @property
    def d_head(self) -> int:
        return self.d_model // self.attention.heads


def stack_checks(cfg) -> list[tuple[bool, str]]:
    """``(ok, message)`` checks every spiking stack's config passes (the encoder's and the
    decoder's: both have layers, d_model, ffn_dim, time_steps, dropout, neuron, attention)."""
    lo, hi = cfg.attention.decay.exponent_range
    return [
        (cfg.layers >= 1, f"layers must be >= 1 (got {cfg.layers})"),
        (cfg.d_model >= 1, f"d_model must be >= 1 (got {cfg.d_model})"),
        (cfg.ffn_dim >= 1, f"ffn_dim must be >= 1 (got {cfg.ffn_dim})"),
        (cfg.time_steps >= 1, f"time_steps must be >= 1 (got {cfg.time_steps})"),
        (0.0 <= cfg.dropout < 1.0, f"dropout must be in [0, 1) (got {cfg.dropout})"),
        (cfg.attention.heads >= 1, f"attention.heads must be >= 1 (got {cfg.attention.heads})"),
        (cfg.d_model % max(cfg.attention.heads, 1) == 0,
         f"d_model {cfg.d_model} is not divisible by attention.heads {cfg.attention.heads}"),
        (cfg.attention.rep_kernel >= 0,
         f"attention.rep_kernel must be >= 0 (got {cfg.attention.rep_kernel})"),
        (cfg.neuron.levels >= 1, f"neuron.levels must be >= 1 (got {cfg.neuron.levels})"),
        (0 < lo <= hi, f"attention.decay.exponent_range must satisfy 0 < lo <= hi "
                       f"(got {cfg.attention.decay.exponent_range})"),
    ]


def raise_first_failure(owner: str, checks: list[tuple[bool, str]]) -> None:
    """``ConfigError("<owner>: <message>")`` for the first failed check of ``checks``."""
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"{owner}: {message}")
