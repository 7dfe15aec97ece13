"""Per-module caches of tensors derived from a parameter (inference-time precomputation)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def cached_from(module: nn.Module, source: torch.Tensor, key: tuple,
                build: Callable[[], torch.Tensor], max_entries: int = 8) -> torch.Tensor:
    """``build()``, cached on ``module`` until ``source`` changes.

    Keyed on ``source``'s device, dtype, storage and version counter, so an optimizer step,
    ``load_state_dict`` or moving the module invalidates the entry. The cache is a plain
    attribute dict: never saved in the state dict, and dropped when it grows past
    ``max_entries``.
    """
    full_key = key + (source.device, source.dtype, source.data_ptr(), source._version)
    cache = module.__dict__.setdefault("_tensor_cache", {})
    if full_key not in cache:
        if len(cache) >= max_entries:
            cache.clear()
        cache[full_key] = build()
    return cache[full_key]
