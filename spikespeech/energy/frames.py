"""Which elements of an activation belong to valid (unpadded) frames.

A padded batch must cost what its sequences cost on their own, so the meter weighs every
element by its frame validity. Stacks name the leading axes of their activations with a
*layout*: one letter per axis, ``B`` the batch axis, ``L`` a frame axis (a score matrix has
two), any other letter a free axis (``T`` steps, heads, channels); axes after the layout
are free. The spiking encoder's activations are ``TBL`` (``(T, B, L, C)``).
"""

from __future__ import annotations

import torch


def frame_validity(shape: torch.Size | tuple[int, ...], layout: str,
                   mask: torch.Tensor | None) -> torch.Tensor | None:
    """A 0/1 tensor broadcastable to ``shape``, 1 where every frame index is valid.

    ``mask``: ``(B, L)`` bool, True at valid frames; ``None`` (nothing padded) gives ``None``.
    Also ``None`` for an operand shared by the whole batch (size 1 on the batch axis, e.g. a
    decay mask): its partner in a product carries the validity. A frame axis of size 1 is a
    sum over tokens: always valid. Raises ``ValueError`` if ``shape`` does not fit ``layout``.
    """
    if mask is None:
        return None
    batch, frames = mask.shape
    b_axis = layout.find("B")
    l_axes = [i for i, letter in enumerate(layout) if letter == "L"]
    if b_axis < 0 or len(layout) > len(shape) or any(axis < b_axis for axis in l_axes):
        raise ValueError(f"frame layout {layout!r} does not fit an activation of shape {tuple(shape)}")
    if shape[b_axis] == 1 and batch > 1:
        return None
    bad = [axis for axis in l_axes if shape[axis] not in (1, frames)]
    if shape[b_axis] != batch or bad:
        raise ValueError(f"activation of shape {tuple(shape)} (layout {layout!r}) does not match "
                         f"the padding mask of shape {tuple(mask.shape)}")
    valid = torch.ones((1,) * len(shape), dtype=torch.float32, device=mask.device)
    for axis in l_axes:
        if shape[axis] == frames:
            view = [1] * len(shape)
            view[b_axis], view[axis] = batch, frames
            valid = valid * mask.to(torch.float32).view(view)
    return valid
