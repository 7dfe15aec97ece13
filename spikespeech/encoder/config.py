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
        checks = [
            (self.layers >= 1, f"layers must be >= 1 (got {self.layers})"),
            (self.d_model >= 1, f"d_model must be >= 1 (got {self.d_model})"),
            (self.ffn_dim >= 1, f"ffn_dim must be >= 1 (got {self.ffn_dim})"),
            (self.time_steps >= 1, f"time_steps must be >= 1 (got {self.time_steps})"),
            (0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1) (got {self.dropout})"),
            (len(self.ffn_kernels) == 2, f"ffn_kernels needs 2 values (got {self.ffn_kernels})"),
            (self.attention.heads >= 1, f"attention.heads must be >= 1 (got {self.attention.heads})"),
            (self.d_model % max(self.attention.heads, 1) == 0,
             f"d_model {self.d_model} is not divisible by attention.heads {self.attention.heads}"),
            (self.attention.rep_kernel >= 0,
             f"attention.rep_kernel must be >= 0 (got {self.attention.rep_kernel})"),
            (self.neuron.levels >= 1, f"neuron.levels must be >= 1 (got {self.neuron.levels})"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"EncoderConfig: {message}")
        lo, hi = self.attention.decay.exponent_range
        if not 0 < lo <= hi:
            raise ConfigError(
                f"EncoderConfig: attention.decay.exponent_range must satisfy 0 < lo <= hi "
                f"(got {self.attention.decay.exponent_range})"
            )

    @property
    def d_head(self) -> int:
        return self.d_model // self.attention.heads
