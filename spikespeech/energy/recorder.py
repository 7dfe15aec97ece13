"""Record one spiking neuron's output spikes, for pictures (spike rasters).

Pure torch: a forward hook on one :class:`~spikespeech.neurons.SpikingNeuron` copies its
output on every call while the recorder is active, and is removed afterwards::

    with SpikeRecorder(model) as recorder:   # the default neuron, see default_neuron_name
        model(x)
    raster = recorder.raster()                # (neurons, frames) float32

The neurons of the encoder/decoder stacks are time-first and channels-last,
``(T, B, L, C)`` (``T = 1`` for IMLS with counts ``0..D``, ``T = 4`` binary LIF in
SpikeVoice). A raster shows one utterance (batch item) as ``(C, L)``: each cell is the
neuron's spike count in that frame **summed over the T time steps**, so a binary-LIF cell
ranges over ``0..T`` and an IMLS cell over ``0..D``. Summing (rather than concatenating
the steps along the frame axis) keeps the frame axis aligned with the input frames and the
mel spectrogram, and shows multi-level and multi-step activity the same way: as intensity.
"""

from __future__ import annotations

import re

import numpy as np
import torch
from torch import nn

from ..neurons import SpikingNeuron

_BLOCK = re.compile(r"^(?P<stack>(?:.*\.)?layers)\.(?P<index>\d+)\.")


def neuron_names(model: nn.Module) -> list[str]:
    """Names (as in ``model.named_modules()``) of every spiking neuron in ``model``."""
    return [name for name, module in model.named_modules() if isinstance(module, SpikingNeuron)]


def default_neuron_name(model: nn.Module) -> str:
    """The first neuron of the middle block of the last ``layers`` stack.

    In the ASR encoder that is ``encoder.layers.{N//2}.pre_attn_neuron``; in SpikeVoice the
    mel decoder's middle block (its frames are mel frames). Models without numbered blocks
    get their middle neuron.
    """
    names = neuron_names(model)
    if not names:
        raise ValueError(f"{type(model).__name__}: has no spiking neurons to record")
    blocks: dict[str, list[int]] = {}
    for name in names:
        match = _BLOCK.match(name)
        if match:
            blocks.setdefault(match["stack"], []).append(int(match["index"]))
    if not blocks:
        return names[len(names) // 2]
    stack, indices = list(blocks.items())[-1]  # module order: the last stack defined
    ordered = sorted(set(indices))
    prefix = f"{stack}.{ordered[len(ordered) // 2]}."
    return next(name for name in names if name.startswith(prefix))


class SpikeRecorder:
    """Capture the output of neuron ``name`` of ``model`` on each forward call.

    ``records`` holds one detached CPU copy per call, in the neuron's own layout
    (e.g. ``(T, B, L, C)``). Only this neuron of this model is hooked; the hook is removed
    by :meth:`stop` (or leaving the ``with`` block), even if the forward pass raised.
    """

    def __init__(self, model: nn.Module, name: str | None = None) -> None:
        self.name = default_neuron_name(model) if name is None else name
        modules = dict(model.named_modules())
        if self.name not in modules:
            raise ValueError(f"{type(model).__name__}: no module named {self.name!r}")
        if not isinstance(modules[self.name], SpikingNeuron):
            raise ValueError(f"{self.name!r} is a {type(modules[self.name]).__name__}, not a spiking neuron")
        self.neuron: SpikingNeuron = modules[self.name]
        self.records: list[torch.Tensor] = []
        self._handle = None

    def __enter__(self) -> SpikeRecorder:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if self._handle is None:
            self._handle = self.neuron.register_forward_hook(self._on_forward)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    @property
    def active(self) -> bool:
        return self._handle is not None

    def _on_forward(self, module, inputs, output) -> None:
        self.records.append(output.detach().to("cpu", torch.float32, copy=True))

    @property
    def max_level(self) -> int:
        """Largest spike count one cell of :meth:`raster` can hold (``levels × T``)."""
        steps = self.records[0].shape[0] if self.records and self.records[0].dim() == 4 else 1
        return int(getattr(self.neuron, "max_level", 1)) * steps

    def raster(self, batch_index: int = 0) -> np.ndarray:
        """``(neurons, frames)`` float32: item ``batch_index`` of every recorded call, the
        calls joined along the frame axis (chunks of long audio, sentences of a text).
        Empty ``(0, 0)`` if nothing was recorded."""
        parts = [to_raster(spikes, batch_index) for spikes in self.records]
        parts = [p for p in parts if p.size]
        if not parts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(parts, axis=1)


def to_raster(spikes: torch.Tensor, batch_index: int = 0) -> np.ndarray:
    """One neuron output → ``(C, L)`` float32 counts (channels-last layouts).

    ``(T, B, L, C)``: summed over ``T``; ``(B, L, C)``: item ``batch_index``; ``(L, C)``: as is.
    """
    if spikes.dim() == 4:
        spikes = spikes.sum(0)
    if spikes.dim() == 3:
        spikes = spikes[batch_index]
    if spikes.dim() != 2:
        raise ValueError(f"to_raster: expected (T, B, L, C), (B, L, C) or (L, C), got {tuple(spikes.shape)}")
    return spikes.detach().to("cpu", torch.float32).T.contiguous().numpy()
