"""Shared helpers for the spikespeech tests (imported as ``from _helpers import ...``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from torch import nn

from spikespeech.layers import MaskedBatchNorm, fold_for_inference


def randomize_bn_affine(model: nn.Module, seed: int = 0, bias_mean: float = 0.5) -> None:
    """Random BN affine parameters (weight in [0.5, 1.5), bias ~ N(bias_mean, 0.5^2)).

    The positive bias mean keeps untrained binary-LIF networks from going silent.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in [m for m in model.modules() if isinstance(m, (MaskedBatchNorm, nn.BatchNorm1d))]:
            n = bn.num_features
            bn.weight.copy_(0.5 + torch.rand(n, generator=g, dtype=bn.weight.dtype))
            bn.bias.copy_(bias_mean + 0.5 * torch.randn(n, generator=g, dtype=bn.bias.dtype))


def folded_keep_dtype(module: nn.Module) -> nn.Module:
    """``fold_for_inference(module)`` (a folded copy), cast to the module's dtype.

    ``fold_batchnorm`` keeps the dtype (``test_attention.py::test_folding_keeps_dtype`` checks
    it), so the cast is a no-op kept as a guard for the other tests.
    """
    dtype = next(module.parameters()).dtype
    return fold_for_inference(module).to(dtype)


def random_spikes(shape, levels: int, generator: torch.Generator | None = None,
                  dtype=torch.float64) -> torch.Tensor:
    """Integer spike counts in ``0..levels`` (0/1 for ``levels=1``)."""
    return torch.randint(0, levels + 1, shape, generator=generator).to(dtype)


def is_spike_tensor(x: torch.Tensor, levels: int) -> bool:
    """Non-negative integer values no larger than ``levels``."""
    return bool(
        x.numel() > 0
        and torch.equal(x, x.round())
        and x.min() >= 0
        and x.max() <= levels
    )


# Real speech for tests lives beside the checkout (../shared/data), as in CI.
SHARED_DATA = Path(
    os.environ.get("SPIKESPEECH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def shared_data(name: str) -> Path:
    """``SHARED_DATA / name``; skipped when missing locally, but a failure under CI."""
    path = SHARED_DATA / name
    if not path.is_dir():
        message = f"{path}: shared test data missing (set SPIKESPEECH_SHARED_DATA)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
