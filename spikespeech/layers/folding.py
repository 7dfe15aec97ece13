"""Inference folding as an explicit conversion (the "Rep" in RepVGG/RepSSA, BN folding).

A module that has a cheaper inference form implements ``folded() -> nn.Module``: a *new* module
with the same ``forward`` signature and the same eval-mode outputs (BN running statistics and
parallel training branches merged into the weights). :func:`fold_for_inference` swaps every such
module of a model for its folded form, outermost first (a folded module folds its own subtree),
so no module changes its attributes in place and the training model can stay untouched.
"""

from __future__ import annotations

import copy
from typing import Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class Foldable(Protocol):
    def folded(self) -> nn.Module:
        """A new module computing this one's eval-mode output in its inference form."""


@torch.no_grad()
def fold_for_inference(model: nn.Module, inplace: bool = False) -> nn.Module:
    """``model`` in eval mode with every :class:`Foldable` submodule replaced by its folded form.

    ``inplace=False`` (default) folds a deep copy and leaves ``model`` trainable and unchanged;
    ``inplace=True`` replaces the submodules of ``model`` itself (no second copy of the weights,
    for loaded inference models). Either way the returned model is for inference only: its BNs
    are folded with the running statistics, so training it further would be wrong.
    """
    model = (model if inplace else copy.deepcopy(model)).eval()
    if isinstance(model, Foldable):
        return model.folded().eval()
    _fold_children(model)
    return model


def _fold_children(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, Foldable):
            setattr(module, name, child.folded().eval())
        else:
            _fold_children(child)
