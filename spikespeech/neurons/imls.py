"""Input-aware multi-level spike (IMLS) neuron, after IML-Spikeformer (Song et al.).

One time step stands for ``D`` binary steps: the neuron emits an integer spike count

    s = clip(round(u / theta), 0, D)

where the threshold ``theta`` adapts to the input token::

    theta = alpha * stat(u)        (threshold="adaptive")
    theta = alpha                  (threshold="fixed", I-LIF-style ablation)

``stat`` is a per-token statistic over the feature (last) axis and ``alpha`` a learnable
scale. Gradients: straight-through inside ``[0, D]`` (zero outside), the exact chain rule
through ``u / theta`` for ``alpha`` (LSQ-style, optionally scaled by ``1/sqrt(C * D)`` as in
LSQ), and through ``stat(u)`` unless ``detach_statistic``.

We have neither the paper's full text nor its code, so these details are ours; each guess
is a constructor option (see
:class:`spikespeech.neurons.config.NeuronConfig` for the defaults and why).
"""

from __future__ import annotations

import math

import torch

from ..tensor_cache import cached_from
from .base import SpikingNeuron

STATISTICS = ("mean_abs", "rms", "max_abs")


# stat(u) = _token_norm(u) / normaliser(C)
_STAT_NORMALISER = {"mean_abs": float, "rms": math.sqrt, "max_abs": lambda c: 1.0}


def _token_norm(u: torch.Tensor, kind: str) -> torch.Tensor:
    """Unnormalised per-token statistic, ``(..., 1)``: L1 sum, L2 norm or max of ``|u|``.

    ``abs().sum()`` measured 1.5-3x faster than ``linalg.vector_norm`` on this CPU build, at
    both training and single-utterance sizes, despite its temporary.
    """
    if kind == "mean_abs":
        return u.abs().sum(-1, keepdim=True)
    if kind == "rms":
        return u.square().sum(-1, keepdim=True).sqrt_()
    return u.abs().amax(-1, keepdim=True)


def _token_statistic(u: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-token statistic over the last axis, ``(..., 1)``."""
    return _token_norm(u, kind).div_(_STAT_NORMALISER[kind](u.shape[-1]))


def _add_statistic_grad(g_u: torch.Tensor, u: torch.Tensor, m: torch.Tensor, kind: str,
                        g_m: torch.Tensor, buf: torch.Tensor) -> None:
    """``g_u += d stat/d u * g_m`` in place (``g_m``: ``(..., 1)``; ``buf``: scratch like ``u``)."""
    if kind == "mean_abs":
        g_u.add_(torch.sign(u, out=buf).mul_(g_m / u.shape[-1]))
    elif kind == "rms":
        g_u.add_(torch.mul(u, g_m / (u.shape[-1] * m.clamp_min(1e-12)), out=buf))
    else:  # max_abs: the gradient goes to the (first) arg-max element
        idx = u.abs().argmax(-1, keepdim=True)
        g_u.scatter_add_(-1, idx, g_m * u.gather(-1, idx).sign())


class _IMLSFunction(torch.autograd.Function):
    # Written for speed on CPU, where every fresh full-size tensor costs page faults: the
    # forward allocates only its output, the backward two full-size buffers, and all other
    # steps are in-place float ops (bool masks take slow kernels).
    @staticmethod
    def forward(ctx, u, alpha, levels, statistic, eps, detach_stat, dequant, alpha_grad_scale):
        alpha_c = alpha.clamp_min(1e-4)
        m = None if statistic is None else _token_statistic(u, statistic)
        theta = alpha_c if m is None else alpha_c * m.clamp_min(eps)
        # clamp before rounding: no -0.0 counts
        s = torch.div(u, theta).clamp_(0, levels).round_()
        ctx.save_for_backward(u, alpha_c, m, s if dequant else None)
        ctx.cfg = (levels, statistic, eps, detach_stat, dequant, alpha_grad_scale)
        return s.mul(theta) if dequant else s

    @staticmethod
    def backward(ctx, g):
        u, alpha_c, m, s = ctx.saved_tensors
        levels, statistic, eps, detach_stat, dequant, alpha_grad_scale = ctx.cfg
        theta = alpha_c if m is None else alpha_c * m.clamp_min(eps)
        inv_theta = theta.reciprocal()
        x = u * inv_theta  # buffer 1
        # straight-through inside [0, D]: in_range = 1 - sign(|clamp(x) - x|), then * g
        g_x = x.clamp(0, levels)  # buffer 2
        g_x.sub_(x).abs_().sign_().neg_().add_(1.0)
        if dequant:  # out = s * theta: d out/d s = theta, and theta's direct term sum(g * s)
            g_theta_direct = torch.linalg.vecdot(g, s, dim=-1).unsqueeze(-1)
            g_x.mul_(g).mul_(theta)
        else:
            g_x.mul_(g)
        # d x/d theta = -x / theta; buffer 1 (x) is no longer needed afterwards
        g_theta = x.mul_(g_x).sum(-1, keepdim=True).mul_(-inv_theta)
        if dequant:
            g_theta = g_theta + g_theta_direct
        g_u = g_x.mul_(inv_theta)
        if m is None:
            g_alpha = g_theta.sum()
        else:
            g_alpha = (g_theta * m.clamp_min(eps)).sum()
            if not detach_stat:
                g_m = g_theta * alpha_c * (m > eps)
                _add_statistic_grad(g_u, u, m, statistic, g_m, buf=x)
        g_alpha = (g_alpha * alpha_grad_scale).reshape(alpha_c.shape)
        return g_u, g_alpha, None, None, None, None, None, None


class IMLSNeuron(SpikingNeuron):
    """Input-aware multi-level spiking neuron.

    Input ``(T, B, ..., C)`` membrane potentials (``T`` is usually 1); output the same shape
    holding integer spike counts in ``0..levels`` (``output="count"``), or counts times the
    threshold (``output="dequant"``, the LSQ form, for ablations). Each time step is one
    independent multi-level step: the ``D`` virtual binary sub-steps happen inside it, so no
    membrane is carried between calls (there is no state to reset).
    """

    def __init__(
        self,
        levels: int = 4,
        threshold: str = "adaptive",
        statistic: str = "mean_abs",
        init_scale: float = 1.0,
        learnable_scale: bool = True,
        lsq_grad_scale: bool = True,
        detach_statistic: bool = False,
        output: str = "count",
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if int(levels) < 1:
            raise ValueError(f"IMLSNeuron: levels must be >= 1 (got {levels})")
        if threshold not in ("adaptive", "fixed"):
            raise ValueError(f"IMLSNeuron: threshold must be 'adaptive' or 'fixed' (got {threshold!r})")
        if threshold == "adaptive" and statistic not in STATISTICS:
            raise ValueError(
                f"IMLSNeuron: unknown statistic {statistic!r}; choose one of {', '.join(STATISTICS)}"
            )
        if output not in ("count", "dequant"):
            raise ValueError(f"IMLSNeuron: output must be 'count' or 'dequant' (got {output!r})")
        if init_scale <= 0:
            raise ValueError(f"IMLSNeuron: init_scale must be > 0 (got {init_scale})")
        self.levels = int(levels)
        self.threshold = threshold
        self.statistic = statistic if threshold == "adaptive" else None
        self.lsq_grad_scale = lsq_grad_scale
        self.detach_statistic = detach_statistic
        self.output = output
        self.eps = float(eps)
        scale = torch.tensor([float(init_scale)])
        if learnable_scale:
            self.scale = torch.nn.Parameter(scale)
        else:
            self.register_buffer("scale", scale)

    @property
    def max_level(self) -> int:
        return self.levels

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """``u``: ``(T, B, ..., C)`` → spike counts of the same shape."""
        if self.scale.numel() > 1:  # stacked inference form, see stacked()
            if torch.is_grad_enabled() and u.requires_grad:
                raise RuntimeError("IMLSNeuron: a stacked neuron is inference-only (no gradients)")
            return self._infer(u)
        if not torch.is_grad_enabled() or not (u.requires_grad or self.scale.requires_grad):
            return self._infer(u)  # same maths, without autograd bookkeeping
        g = 1.0 / math.sqrt(u.shape[-1] * self.levels) if self.lsq_grad_scale else 1.0
        return _IMLSFunction.apply(
            u, self.scale, self.levels, self.statistic, self.eps,
            self.detach_statistic, self.output == "dequant", g,
        )

    @classmethod
    def stacked(cls, neurons: list[IMLSNeuron]) -> IMLSNeuron:
        """One inference-only neuron standing for ``neurons`` (same config, own scales) on
        input ``(..., S, C)``: slice ``i`` is thresholded with neuron ``i``'s scale."""
        first = neurons[0]
        keys = ("levels", "threshold", "statistic", "output", "eps")
        if any(tuple(getattr(n, k) for k in keys) != tuple(getattr(first, k) for k in keys)
               for n in neurons):
            raise ValueError("IMLSNeuron.stacked: neurons must share their configuration")
        new = cls(levels=first.levels, threshold=first.threshold,
                  statistic=first.statistic or "mean_abs", output=first.output, eps=first.eps,
                  learnable_scale=False)
        new.scale = torch.stack([n.scale.detach().reshape(()) for n in neurons]).reshape(-1, 1)
        return new.to(first.scale.device)

    def theta(self, u: torch.Tensor) -> torch.Tensor:
        """The threshold this neuron applies to ``u`` ``(..., C)``: ``theta = alpha * max(stat(u),
        eps)``, ``(..., 1)`` (``adaptive``), or the clamped scale alone (``fixed``: ``(1,)``, or
        ``(S, 1)`` for a stacked neuron)."""
        # stat's normaliser n (C, sqrt C or 1) moved into a cached alpha / n: one reduction,
        # one clamp, one multiply on (..., 1), and no Python-scalar operands (each costs a
        # conversion kernel at these small sizes)
        if self.statistic is None:
            return self._cached_scale(1.0)
        n = _STAT_NORMALISER[self.statistic](u.shape[-1])
        return _token_norm(u, self.statistic).clamp_min_(self.eps * n).mul_(self._cached_scale(n))

    def _infer(self, u: torch.Tensor) -> torch.Tensor:
        theta = self.theta(u)
        s = torch.div(u, theta).clamp_(0, self.levels).round_()
        return s.mul_(theta) if self.output == "dequant" else s

    def _cached_scale(self, n: float) -> torch.Tensor:
        """``clamp(alpha, 1e-4) / n``, recomputed only when the scale parameter changes."""
        return cached_from(self, self.scale, (n,), lambda: self.scale.detach().clamp_min(1e-4) / n)

    def extra_repr(self) -> str:
        stat = f", statistic={self.statistic}" if self.statistic else ""
        return f"levels={self.levels}, threshold={self.threshold}{stat}, output={self.output}"
