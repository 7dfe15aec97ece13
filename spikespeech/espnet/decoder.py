"""The spiking attention decoder as an ESPnet ``AbsDecoder`` (``decoder: iml_spikeformer``)."""

from __future__ import annotations

from typing import Any

import torch
from espnet.nets.pytorch_backend.transformer.embedding import PositionalEncoding
from espnet.nets.scorer_interface import BatchScorerInterface
from espnet2.asr.decoder.abs_decoder import AbsDecoder

from ..config import ConfigError, from_dict
from ..decoder import DecoderConfig, DecoderState, SpikingDecoder, select_state, stack_states
from .encoder import attention_with_heads


class IMLSpikeformerDecoder(AbsDecoder, BatchScorerInterface):
    """Token embedding + position code, the spiking decoder stack, and the vocabulary projection.

    Arguments use the names of ESPnet's ``TransformerDecoder`` (``attention_heads``,
    ``linear_units``, ``num_blocks``, ``dropout_rate``, ``positional_dropout_rate``,
    ``input_layer: embed``, ``use_output_layer``); its width is the encoder's output size, as
    there. The spiking options come as ``time_steps``, ``output``, ``cross_normalize`` and the
    ``neuron:`` / ``attention:`` mappings of :class:`spikespeech.decoder.DecoderConfig`. The
    embedding (a lookup) gives the first layer its real-valued input, as every SNN must encode
    its input; every weight layer after it sees spikes.

    Beam search (ESPnet's ``BatchBeamSearch``) decodes incrementally: a hypothesis' state holds
    each layer's self-attention K/V spikes and the cross-attention's memory K/V, computed once
    per utterance; each step runs the layers on the newest token only. Its scores equal
    :meth:`forward`'s, position by position.
    """

    def __init__(
        self,
        vocab_size: int,
        encoder_output_size: int,
        attention_heads: int = 4,
        linear_units: int = 2048,
        num_blocks: int = 6,
        dropout_rate: float = 0.1,
        positional_dropout_rate: float = 0.1,
        input_layer: str = "embed",
        use_output_layer: bool = True,
        time_steps: int = 1,
        output: str = "spikes",
        cross_normalize: str = "sqrt_frames",
        neuron: dict[str, Any] | None = None,
        attention: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if input_layer != "embed":
            raise ConfigError(f"decoder_conf.input_layer: only 'embed' is supported (got {input_layer!r})")
        d = encoder_output_size
        attention = attention_with_heads(attention, attention_heads, where="decoder_conf")
        self.config = from_dict(
            DecoderConfig,
            {"layers": num_blocks, "d_model": d, "ffn_dim": linear_units, "dropout": dropout_rate,
             "time_steps": time_steps, "output": output, "cross_normalize": cross_normalize,
             "neuron": neuron or {}, "attention": attention},
            where="decoder_conf",
        )
        self.embed = torch.nn.Sequential(torch.nn.Embedding(vocab_size, d),
                                         PositionalEncoding(d, positional_dropout_rate))
        self.decoder = SpikingDecoder(self.config)
        self.output_layer = torch.nn.Linear(d, vocab_size) if use_output_layer else None

    def forward(self, hs_pad: torch.Tensor, hlens: torch.Tensor, ys_in_pad: torch.Tensor,
                ys_in_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``hs_pad`` ``(B, S, D)`` encoder output, ``hlens`` ``(B,)``; ``ys_in_pad`` ``(B, L)``
        token ids (``<sos>`` first), ``ys_in_lens`` ``(B,)`` → ``(logits (B, L, V), ys_in_lens)``."""
        x = self.decoder(self.embed(ys_in_pad), ys_in_lens, hs_pad, hlens)
        return self._project(x), ys_in_lens

    def forward_one_step(self, tgt: torch.Tensor, tgt_mask: torch.Tensor | None, memory: torch.Tensor,
                         memory_mask: torch.Tensor | None = None, *,
                         cache: DecoderState | None = None) -> tuple[torch.Tensor, DecoderState]:
        """The next token's log-probabilities ``(B, V)`` after the prefixes ``tgt`` ``(B, L)``,
        with the state of the first ``L - 1`` tokens (``cache``; None: the state before the first
        token, computed from ``memory`` ``(B, S, D)`` and ``memory_mask`` ``(B, 1, S)``).
        ``tgt_mask`` is unused: the decoder is causal by construction."""
        if cache is None:
            lengths = None if memory_mask is None else memory_mask.reshape(memory.shape[0], -1).sum(-1)
            cache = self.decoder.init_state(memory, lengths)
        y, cache = self.decoder.step(self.embed(tgt)[:, -1:], cache)
        return torch.log_softmax(self._project(y[:, 0]), dim=-1), cache

    def score(self, ys: torch.Tensor, state: DecoderState | None, x: torch.Tensor):
        """ESPnet ``ScorerInterface``: one hypothesis ``ys`` ``(L,)`` over ``x`` ``(S, D)``."""
        logp, state = self.forward_one_step(ys[None], None, x[None], cache=state)
        return logp[0], state

    def batch_score(self, ys: torch.Tensor, states: list[DecoderState | None],
                    xs: torch.Tensor) -> tuple[torch.Tensor, list[DecoderState]]:
        """ESPnet ``BatchScorerInterface``: hypotheses ``ys`` ``(n, L)`` over ``xs`` ``(n, S, D)``
        with their states → ``(log-probabilities (n, V), each hypothesis' next state)``."""
        batch = None if states[0] is None else stack_states(states)
        logp, state = self.forward_one_step(ys, None, xs, cache=batch)
        return logp, [select_state(state, i) for i in range(len(ys))]

    def _project(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.output_layer is None else self.output_layer(x)

