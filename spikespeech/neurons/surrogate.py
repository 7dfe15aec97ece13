"""Surrogate gradients for the Heaviside spike function.

Forward is always the exact step ``H(x) = 1[x >= 0]``; backward uses the derivative
of a smooth stand-in whose sharpness is set by ``alpha``. The three shapes and their
``alpha`` conventions follow SpikingJelly, so published hyper-parameters carry over.
"""

from __future__ import annotations

import math

import torch


class _ATan(torch.autograd.Function):
    # g(x) = atan(pi/2 * alpha * x) / pi + 1/2
    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        a = ctx.alpha
        return grad * (a / 2) / (1 + (math.pi / 2 * a * x).square()), None


class _Sigmoid(torch.autograd.Function):
    # g(x) = sigmoid(alpha * x)
    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        sg = torch.sigmoid(ctx.alpha * x)
        return grad * ctx.alpha * sg * (1 - sg), None


class _Triangle(torch.autograd.Function):
    # g'(x) = max(0, alpha - alpha^2 |x|): a triangle of height alpha and half-width 1/alpha
    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        a = ctx.alpha
        return grad * (a - a * a * x.abs()).clamp_min(0), None


_SURROGATES = {"atan": (_ATan, 2.0), "sigmoid": (_Sigmoid, 4.0), "triangle": (_Triangle, 1.0)}
SURROGATE_NAMES = tuple(_SURROGATES)


def _surrogate(name: str):
    try:
        return _SURROGATES[name]
    except KeyError:
        raise ValueError(
            f"surrogate: unknown surrogate {name!r}; choose one of {', '.join(SURROGATE_NAMES)}"
        ) from None


def heaviside(x: torch.Tensor, surrogate: str = "atan", alpha: float | None = None) -> torch.Tensor:
    """Spike ``1[x >= 0]`` with the surrogate gradient ``surrogate`` of slope ``alpha``."""
    fn, default = _surrogate(surrogate)
    return fn.apply(x, default if alpha is None else float(alpha))
