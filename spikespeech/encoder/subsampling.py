"""A spike-driven convolutional front-end: only its first layer sees real values.

ESPnet's ``Conv2dSubsampling`` (``Conv2d → ReLU → Conv2d → ReLU → Linear``) is real-valued
throughout; on the ``librispeech`` config it is about half of the ANN's MACs, which caps the
energy ratio of any encoder behind it. Here every layer after the first takes spikes, as every
SNN must encode its input once (the first layer is the encoding layer)::

    x (B, L, F) features → Conv2d_1 (real input: MACs) → BN → SN
                         → [Conv2d_k (spikes: ACs) → BN → SN] for k = 2..n
                         → Linear (spikes: ACs) → (B, L', C) currents for the encoder

The kernels and strides are those of ESPnet's subsampling of the same name (our choice: the
same shapes, so the spiking and real front-ends differ only in their activations). Neurons
run time-first over ``T`` steps (the input current is the same at every step); an IMLS
neuron (``T = 1``) reads its threshold statistic over the channels of each (frame, bin)
position. BatchNorm statistics skip padded frames; output lengths are exact
(:meth:`SpikingConvSubsampling.output_lengths`), so valid outputs never depend on padding.
"""

from __future__ import annotations

import torch
from torch import nn

from ..layers import MaskedBatchNorm
from ..neurons.config import NeuronConfig, build_neuron

# input_layer -> (kernel, stride) of each Conv2d, as ESPnet's Conv2dSubsampling{,2,6,8}
LAYOUTS: dict[str, tuple[tuple[int, int], ...]] = {
    "conv2d": ((3, 2), (3, 2)),
    "conv2d2": ((3, 2), (3, 1)),
    "conv2d6": ((3, 2), (5, 3)),
    "conv2d8": ((3, 2), (3, 2), (3, 2)),
}


def _conv_length(length: torch.Tensor | int, kernel: int, stride: int):
    return (length - kernel) // stride + 1


class SpikingConvSubsampling(nn.Module):
    """``(B, L, F)`` features + lengths → ``(B, L', C)`` currents and ``L'`` lengths."""

    def __init__(self, idim: int, odim: int, layout: str, neuron: NeuronConfig,
                 time_steps: int = 1) -> None:
        super().__init__()
        if layout not in LAYOUTS:
            raise ValueError(f"spiking subsampling: unknown layout {layout!r}; choose {', '.join(LAYOUTS)}")
        self.layout, self.time_steps = layout, time_steps
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.neurons = nn.ModuleList()
        channels, freq = 1, idim
        for kernel, stride in LAYOUTS[layout]:  # bias-free: BN follows
            self.convs.append(nn.Conv2d(channels, odim, kernel, stride, bias=False))
            self.norms.append(MaskedBatchNorm(odim))
            self.neurons.append(build_neuron(neuron))
            channels, freq = odim, _conv_length(freq, kernel, stride)  # frequency strided as time
        if freq < 1:
            raise ValueError(f"spiking subsampling {layout}: {idim} feature bins are too few")
        self.out = nn.Linear(odim * freq, odim)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Exact frames out for ``lengths`` frames in (0 when too short)."""
        for kernel, stride in LAYOUTS[self.layout]:
            lengths = _conv_length(lengths, kernel, stride)
        return lengths.clamp_min(0)

    def min_frames(self) -> int:
        """The fewest input frames that give one output frame."""
        frames = 1
        for kernel, stride in reversed(LAYOUTS[self.layout]):
            frames = (frames - 1) * stride + kernel
        return frames

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x``: ``(B, L, F)``, ``lengths``: ``(B,)`` → ``(B, L', C)``, ``(B,)``."""
        h = x.unsqueeze(1)  # (B, 1, L, F)
        frames = lengths
        spikes = None
        for conv, norm, neuron in zip(self.convs, self.norms, self.neurons, strict=True):
            if spikes is None:  # the encoding layer: real input, computed once for all steps
                current = conv(h).permute(0, 2, 3, 1)  # (B, L1, F1, C)
                current = current.unsqueeze(0).expand(self.time_steps, *current.shape)
            else:  # spikes (T, B, L, F, C) → per step (T*B, C, L, F)
                T, B = spikes.shape[:2]
                current = conv(spikes.flatten(0, 1).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
                current = current.unflatten(0, (T, B))
            frames = _conv_length(frames, conv.kernel_size[0], conv.stride[0]).clamp_min(0)
            valid = torch.arange(current.shape[2], device=x.device) < frames[:, None]  # (B, L)
            current = norm(current, valid[None, :, :, None])
            spikes = neuron(current) * valid[None, :, :, None, None].to(current.dtype)
        T, B, L, F, C = spikes.shape
        out = self.out(spikes.permute(0, 1, 2, 4, 3).reshape(T, B, L, C * F))  # (T, B, L, C)
        return out.mean(0), frames  # the encoder takes one current per frame (B, L', C)
