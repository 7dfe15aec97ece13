"""Attention configuration (YAML ``attention:`` block)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class DecayConfig:
    """Hierarchical decay mask (HDM): ``M_h[i, j] = gamma_h ** |i - j|``.

    ``gamma = 1 - 2 ** -e``: the exponent ``e`` is about log2 of the attention range in
    frames. With ``schedule: layerwise`` layer ``l`` of ``N`` centres its heads on
    ``e_l = lerp(e_min, e_max, l / (N - 1))`` (lower layers local, upper layers global) and
    spreads them by ``head_spread`` around it; ``uniform`` gives every layer the same
    RetNet-style head spread over ``[e_min, e_max]``; ``none`` disables the mask (= RepSSA).
    """

    schedule: Literal["layerwise", "uniform", "none"] = "layerwise"
    # Guess: 2 → gamma 0.75 (≈4 frames, 160 ms after ×4 subsampling), 8 → 0.996 (≈10 s).
    exponent_range: tuple[float, float] = (2.0, 8.0)
    head_spread: float = 2.0
    # Guess: RetNet's 1/sqrt(row sum) keeps the magnitude of (QK^T ⊙ M)V independent of
    # the decay range, which matters for fixed-threshold neurons.
    normalize: Literal["sqrt_rowsum", "rowsum", "none"] = "sqrt_rowsum"
    learnable: bool = False  # learn e per head (initialised by the schedule)


@dataclass
class AttentionConfig:
    # hd_repssa: reparameterisable projections + spike attention with HDM (our reconstruction
    # of IML-Spikeformer's attention from its description, not from its code);
    # ssa: Spikformer (QK^T)V*s; sdsa: spike-driven Q ⊙ SN(sum K⊙V) over tokens;
    # sdsa_steps: the same form over the T steps of each token; stsa: our one-module
    # reconstruction of SpikeVoice's STSA (the spikevoice_sd variant).
    type: Literal["hd_repssa", "ssa", "sdsa", "sdsa_steps", "stsa"] = "hd_repssa"
    # "sdsa_steps": a second, complete attention sub-layer (own Q/K/V, BN, neurons, output
    # projection) over the T steps runs before this one, as in the SpikeVoice authors' public
    # STSA (WKX933/spikevoice_huawei at 10cce8e: Layers.py:21-48, temporal then token module).
    temporal: Literal["none", "sdsa_steps"] = "none"
    # sdsa_steps only: the axis its neurons integrate along. The public code (10cce8e
    # SubLayers.py:63-68, Modules.py:35) runs them on token-first tensors, so their membranes
    # carry over tokens ("tokens"); "steps" integrates along T like every other neuron.
    temporal_neuron_axis: Literal["tokens", "steps"] = "tokens"
    heads: int = 4
    # None = 1/sqrt(d_head). Irrelevant for adaptive IMLS (scale-invariant), matters for LIF.
    scale: float | None = None
    # hd_repssa only. Guess: the multi-branch training form is linear+BN plus a depthwise
    # temporal conv of this kernel +BN (0 = linear+BN only). The conv also gives the
    # otherwise position-free attention its sense of order.
    rep_kernel: int = 3
    decay: DecayConfig = field(default_factory=DecayConfig)  # hd_repssa only
    # stsa only. Guess: the temporal branch mixes step t with steps <= t, so the model still
    # runs step by step in time like any SNN.
    temporal_causal: bool = True
