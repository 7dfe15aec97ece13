"""Surrogate gradients for the Heaviside spike function.

Forward is always the exact step ``H(x) = 1[x >= 0]``; backward uses the derivative ``g'(x)``
of a smooth stand-in whose sharpness is set by ``alpha``. One autograd function takes the
derivative as an object (:class:`Surrogate`), so a new shape is one small class. The three
shapes and their ``alpha`` conventions follow SpikingJelly, so published hyper-parameters
carry over.
"""

from __future__ import annotations

import math

import torch


class Surrogate:
    """A surrogate shape: :meth:`derivative` ``g'(x)`` at slope ``alpha``; ``default_alpha``
    is SpikingJelly's."""

    default_alpha: float = 1.0

    def derivative(self, x: torch.Tensor, alpha: float) -> torch.Tensor:
        raise NotImplementedError


class ATan(Surrogate):
    """``g(x) = atan(pi/2 * alpha * x) / pi + 1/2``."""

    default_alpha = 2.0

    def derivative(self, x: torch.Tensor, alpha: float) -> torch.Tensor:
        return (alpha / 2) / (1 + (math.pi / 2 * alpha * x).square())


class Sigmoid(Surrogate):
    """``g(x) = sigmoid(alpha * x)``."""

    default_alpha = 4.0

    def derivative(self, x: torch.Tensor, alpha: float) -> torch.Tensor:
        sg = torch.sigmoid(alpha * x)
        return alpha * sg * (1 - sg)


class Triangle(Surrogate):
    """``g'(x) = max(0, alpha - alpha^2 |x|)``: a triangle of height alpha, half-width 1/alpha."""

    default_alpha = 1.0

    def derivative(self, x: torch.Tensor, alpha: float) -> torch.Tensor:
        return (alpha - alpha * alpha * x.abs()).clamp_min(0)


SURROGATES: dict[str, Surrogate] = {"atan": ATan(), "sigmoid": Sigmoid(), "triangle": Triangle()}
SURROGATE_NAMES = tuple(SURROGATES)


class _Heaviside(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, surrogate: Surrogate, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.surrogate, ctx.alpha = surrogate, alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(x, ctx.alpha), None, None


def heaviside(x: torch.Tensor, surrogate: str | Surrogate = "atan",
              alpha: float | None = None) -> torch.Tensor:
    """Spike ``1[x >= 0]`` with the surrogate gradient ``surrogate`` (a name in
    :data:`SURROGATE_NAMES` or a :class:`Surrogate`) of slope ``alpha`` (default: its own)."""
    if not isinstance(surrogate, Surrogate):
        try:
            surrogate = SURROGATES[surrogate]
        except KeyError:
            raise ValueError(f"surrogate: unknown surrogate {surrogate!r}; choose one of "
                             f"{', '.join(SURROGATE_NAMES)}") from None
    return _Heaviside.apply(x, surrogate, surrogate.default_alpha if alpha is None else float(alpha))
