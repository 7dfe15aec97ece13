"""IML-Spikeformer as an ESPnet ``AbsEncoder`` (``encoder: iml_spikeformer``)."""

from __future__ import annotations

from typing import Any

import torch
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask
from espnet.nets.pytorch_backend.transformer.embedding import PositionalEncoding
from espnet.nets.pytorch_backend.transformer.subsampling import (
    Conv2dSubsampling,
    Conv2dSubsampling2,
    Conv2dSubsampling6,
    Conv2dSubsampling8,
    TooShortUttError,
    check_short_utt,
)
from espnet2.asr.encoder.abs_encoder import AbsEncoder

from ..config import ConfigError, from_dict
from ..encoder import EncoderConfig, SpikingEncoder
from ..encoder.subsampling import LAYOUTS, SpikingConvSubsampling

SUBSAMPLING = {
    "conv2d": Conv2dSubsampling,
    "conv2d2": Conv2dSubsampling2,
    "conv2d6": Conv2dSubsampling6,
    "conv2d8": Conv2dSubsampling8,
}
SPIKING_PREFIX = "spiking_"  # input_layer spiking_conv2d etc.: the spike-driven front-end
INPUT_LAYERS = (*SUBSAMPLING, *(SPIKING_PREFIX + name for name in LAYOUTS))


class IMLSpikeformerEncoder(AbsEncoder):
    """Conv subsampling + the shared spiking encoder.

    ``input_layer``: ESPnet's real-valued ``Conv2dSubsampling`` (``conv2d``, ``conv2d2``,
    ``conv2d6``, ``conv2d8``: every layer MACs), or the spike-driven front-end of the same
    shape (``spiking_conv2d`` …, :class:`~spikespeech.encoder.subsampling.SpikingConvSubsampling`:
    only its first conv sees real values; its neurons are the encoder's).

    Arguments use ESPnet's transformer names (``output_size``, ``attention_heads``,
    ``linear_units``, ``num_blocks``, ``dropout_rate``, ``input_layer``) so configs read like
    ESPnet's; the spiking options come as the ``neuron:`` and ``attention:`` mappings of
    :class:`spikespeech.encoder.EncoderConfig`.

    Input ``(B, T, input_size)`` features and lengths; output ``(B, T', output_size)`` with
    ``T'`` the subsampled lengths (``T' = ((T - 1) // 2 - 1) // 2`` for ``conv2d``).
    """

    def __init__(
        self,
        input_size: int,
        output_size: int = 256,
        attention_heads: int = 4,
        linear_units: int = 1024,
        num_blocks: int = 6,
        dropout_rate: float = 0.1,
        positional_dropout_rate: float = 0.1,
        input_layer: str = "conv2d",
        # Guess: a sinusoidal position code on the real-valued subsampled features (ESPnet's
        # default). HD-RepSSA's temporal conv and symmetric decay do not tell left from right
        # on their own at the first layer; the code costs nothing at inference (one add).
        pos_enc: str = "abs",
        time_steps: int = 1,
        causal: bool = False,
        ffn_kernels: tuple[int, int] | list[int] = (1, 1),
        output: str = "spikes",
        neuron: dict[str, Any] | None = None,
        attention: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        attention = attention_with_heads(attention, attention_heads, where="encoder_conf")
        self.config = from_dict(
            EncoderConfig,
            {
                "layers": num_blocks, "d_model": output_size, "ffn_dim": linear_units,
                "ffn_kernels": list(ffn_kernels), "dropout": dropout_rate, "causal": causal,
                "time_steps": time_steps, "output": output, "neuron": neuron or {},
                "attention": attention,
            },
            where="encoder_conf",
        )
        if input_layer not in INPUT_LAYERS:
            raise ConfigError(
                f"encoder_conf.input_layer: unknown {input_layer!r}; "
                f"choose one of {', '.join(INPUT_LAYERS)}"
            )
        if pos_enc not in ("abs", "none"):
            raise ConfigError(f"encoder_conf.pos_enc: must be 'abs' or 'none' (got {pos_enc!r})")
        position = (
            PositionalEncoding(output_size, positional_dropout_rate)
            if pos_enc == "abs" else torch.nn.Dropout(positional_dropout_rate)
        )
        if input_layer.startswith(SPIKING_PREFIX):
            self.embed = SpikingConvSubsampling(input_size, output_size, input_layer[len(SPIKING_PREFIX):],
                                                self.config.neuron, time_steps)
            self.position = position
        else:
            self.embed = SUBSAMPLING[input_layer](input_size, output_size, dropout_rate, position)
        self.encoder = SpikingEncoder(self.config)
        self._output_size = output_size

    def output_size(self) -> int:
        return self._output_size

    def forward(
        self,
        xs_pad: torch.Tensor,
        ilens: torch.Tensor,
        prev_states: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, None]:
        limit = self.min_frames()
        if xs_pad.size(1) < limit:  # ESPnet's own error, which its decoding skips with a warning
            raise TooShortUttError(
                f"IMLSpikeformerEncoder: input has {xs_pad.size(1)} frames; its subsampling needs "
                f"at least {limit}", xs_pad.size(1), limit)
        if isinstance(self.embed, SpikingConvSubsampling):
            xs, olens = self.embed(xs_pad, ilens)
            return self.encoder(self.position(xs), olens), olens, None
        masks = (~make_pad_mask(ilens, maxlen=xs_pad.size(1)))[:, None, :].to(xs_pad.device)
        xs, _ = self.embed(xs_pad, masks)
        olens = self.subsampled_lengths(ilens)
        return self.encoder(xs, olens), olens, None

    def min_frames(self) -> int:
        """The fewest input frames its subsampling turns into one output frame."""
        return min_input_frames(self)

    def subsampled_lengths(self, ilens: torch.Tensor) -> torch.Tensor:
        """Exact output lengths of the conv subsampling (time is axis 2 of its Conv2d input).

        ESPnet strides the padding mask instead, which over-counts padded sequences (57 of
        100 frames → 15, but 13 when alone): frames computed partly from padding would then
        count as valid and batches would not be padding-invariant.
        """
        if isinstance(self.embed, SpikingConvSubsampling):
            return self.embed.output_lengths(ilens)
        lengths = ilens.clone()
        for conv in (m for m in self.embed.conv if isinstance(m, torch.nn.Conv2d)):
            k, s, p, d = conv.kernel_size[0], conv.stride[0], conv.padding[0], conv.dilation[0]
            lengths = torch.div(lengths + 2 * p - d * (k - 1) - 1, s, rounding_mode="floor") + 1
        return lengths.clamp_min(0)


def attention_with_heads(attention: dict[str, Any] | None, heads: int, where: str) -> dict[str, Any]:
    """A config's ``attention:`` mapping with ``heads`` from ESPnet's ``attention_heads``; a
    ``ConfigError`` if the mapping names another number."""
    attention = dict(attention or {})
    if "heads" in attention and attention["heads"] != heads:
        raise ConfigError(f"{where}: attention.heads={attention['heads']} contradicts "
                          f"attention_heads={heads}; set only attention_heads")
    attention["heads"] = heads
    return attention


def min_input_frames(encoder: torch.nn.Module) -> int:
    """The fewest feature frames an ESPnet-style encoder (ours or ESPnet's) can encode: what
    its subsampling needs (ESPnet's ``check_short_utt``), 1 without one."""
    embed = getattr(encoder, "embed", None)
    if isinstance(embed, SpikingConvSubsampling):
        return embed.min_frames()
    if embed is None:
        return 1
    short, frames = check_short_utt(embed, 0)
    return frames if short else 1
