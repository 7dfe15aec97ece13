"""Configuration of the spiking attention decoder (YAML ``decoder_conf`` in ESPnet configs).

We know of no published spiking ASR decoder of IML-Spikeformer's kind that we could check
against: the paper's decoder is not described in what we can read, so every choice below is our
guess, named and commented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..attention.config import AttentionConfig
from ..encoder.config import raise_first_failure, stack_checks
from ..neurons.config import NeuronConfig

SELF_ATTENTIONS = ("hd_repssa", "ssa")  # the forms with a causal incremental step


@dataclass
class DecoderAttentionConfig(AttentionConfig):
    """The decoder's self-attention: :class:`AttentionConfig` with the decoder's defaults."""

    # Guess: no temporal branch in the decoder's projections. The tokens carry an absolute
    # position code, so the branch is not needed for order, and without it each decoding step
    # projects only the newest token (with k > 0 a step recomputes the k - 1 tokens before it,
    # which the energy meter would count).
    rep_kernel: int = 0


@dataclass
class DecoderConfig:
    layers: int = 6
    d_model: int = 256
    ffn_dim: int = 2048
    dropout: float = 0.1
    time_steps: int = 1  # T: 1 for IMLS, 4 for binary LIF
    # Guess: as the encoder's default, the output layer reads the last neuron's spikes
    # averaged over T, so the vocabulary projection is spike-driven too; "membrane" gives it
    # the BN'd membrane stream (real-valued) instead.
    output: Literal["spikes", "membrane"] = "spikes"
    neuron: NeuronConfig = field(default_factory=NeuronConfig)
    # causal self-attention over the tokens so far: hd_repssa (with the causal hierarchical
    # decay mask) or ssa; the decay schedule runs over the decoder's layers
    attention: DecoderAttentionConfig = field(default_factory=DecoderAttentionConfig)
    # Cross-attention SN((Q K^T) V · scale) over the encoder frames, with linear+BN projections
    # and no decay mask (a token's index and a frame's index are not comparable distances).
    # Guess: "sqrt_frames" divides by sqrt(valid frames) so the current's size does not grow
    # with the utterance's length (it matters for fixed-threshold neurons; the adaptive IMLS
    # threshold is scale-invariant); "none" keeps Spikformer's plain d_head**-0.5 scale.
    cross_normalize: Literal["sqrt_frames", "none"] = "sqrt_frames"

    def __post_init__(self) -> None:
        raise_first_failure("DecoderConfig", [
            *stack_checks(self),
            (self.attention.type in SELF_ATTENTIONS,
             f"attention.type must be one of {', '.join(SELF_ATTENTIONS)} (causal, incremental); "
             f"got {self.attention.type!r}"),
            (self.attention.temporal == "none",
             f"attention.temporal must be 'none' in the decoder (got {self.attention.temporal!r})"),
        ])
