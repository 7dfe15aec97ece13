"""Neuron configuration (YAML ``neuron:`` block)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class NeuronConfig:
    type: Literal["imls", "lif"] = "imls"

    # --- IMLS (input-aware multi-level spike) ---
    levels: int = 4  # D: our guess (as the T = 4 of LIF baselines); one step stands for D binary steps
    threshold: Literal["adaptive", "fixed"] = "adaptive"  # "fixed" = I-LIF-style ablation
    # Guess: mean |u| over the channels of a token. Cheap, robust to outliers, and makes the
    # spike count invariant to the token's scale (what "input-aware" buys over I-LIF).
    statistic: Literal["mean_abs", "rms", "max_abs"] = "mean_abs"
    # Guess: theta = 1.0 * mean|u|; for Gaussian u, D * theta ≈ 3.2 sigma covers the range.
    init_scale: float = 1.0
    learnable_scale: bool = True
    lsq_grad_scale: bool = True  # LSQ's 1/sqrt(C * D) step-size gradient scale
    # Guess: keep the gradient through the statistic (it acts like a normalisation layer,
    # and detaching it biases the gradient of a scale-invariant function).
    detach_statistic: bool = False
    # Guess: emit integer counts (pure spikes). "dequant" multiplies by theta (LSQ form).
    output: Literal["count", "dequant"] = "count"

    # --- binary LIF (SpikingJelly conventions) ---
    tau: float = 2.0
    v_threshold: float = 1.0
    v_reset: float = 0.0
    reset: Literal["hard", "soft"] = "hard"
    surrogate: Literal["atan", "sigmoid", "triangle"] = "atan"
    alpha: float | None = None  # surrogate slope; None = SpikingJelly default for the shape
    detach_reset: bool = True
    decay_input: bool = True


def build_neuron(cfg: NeuronConfig, stateful: bool = False):
    """Instantiate the neuron described by ``cfg``; ``stateful`` (LIF only: the IMLS neuron
    carries nothing between calls) keeps the membrane between calls."""
    from .imls import IMLSNeuron
    from .lif import MultiStepLIF

    if cfg.type == "imls":
        return IMLSNeuron(
            levels=cfg.levels, threshold=cfg.threshold, statistic=cfg.statistic,
            init_scale=cfg.init_scale, learnable_scale=cfg.learnable_scale,
            lsq_grad_scale=cfg.lsq_grad_scale, detach_statistic=cfg.detach_statistic,
            output=cfg.output,
        )
    return MultiStepLIF(
        tau=cfg.tau, v_threshold=cfg.v_threshold, v_reset=cfg.v_reset, reset=cfg.reset,
        surrogate=cfg.surrogate, alpha=cfg.alpha, detach_reset=cfg.detach_reset,
        decay_input=cfg.decay_input, stateful=stateful,
    )
