"""WeNet-style decoding modes over any ESPnet ASR model (CTC greedy, CTC prefix beam,
attention rescoring), next to ESPnet's own joint CTC/attention beam search (``attention``).

The modes use only the model's own pieces (``asr_model.encode``, ``asr_model.ctc.log_softmax``,
``asr_model.decoder.forward``), so they work for every ESPnet ASR model we pack. Conventions
follow WeNet's ``wenet/transformer/asr_model.py``: the CTC score of a hypothesis is its prefix
beam search log-probability, and attention rescoring ranks the n-best by
``decoder log-prob (with <eos>) + ctc_weight * CTC score``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import torch

from ..decoding_modes import DEFAULT_MODE, MODES

__all__ = ["DEFAULT_MODE", "MODES", "DecodingOptions", "Hypothesis", "attention_rescoring",
           "ctc_decode", "ctc_greedy_search", "ctc_prefix_beam_search", "decoder_log_probs", "encode"]

BLANK = 0  # ESPnet's <blank> is token 0


@dataclass(frozen=True)
class DecodingOptions:
    """``mode``: one of :data:`MODES`; ``beam_size``: prefix beam (CTC modes) or joint beam
    (``attention``); ``ctc_weight``: weight of the CTC score in ``attention_rescoring`` and in
    ESPnet's joint decoding."""

    mode: str = DEFAULT_MODE
    beam_size: int = 10
    ctc_weight: float = 0.3

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"decoding mode {self.mode!r} is unknown; choose one of {', '.join(MODES)}")
        if self.beam_size < 1:
            raise ValueError(f"beam size must be at least 1, got {self.beam_size}")
        if not 0.0 <= self.ctc_weight <= 1.0:
            raise ValueError(f"CTC weight must be in 0..1, got {self.ctc_weight}")


@dataclass(frozen=True)
class Hypothesis:
    """Token ids (no blanks, no <sos/eos>) and their log-domain score."""

    tokens: tuple[int, ...]
    score: float


def ctc_greedy_search(log_probs: torch.Tensor, blank: int = BLANK) -> list[int]:
    """Best token per frame of ``log_probs`` (frames, vocab), repeats merged, blanks dropped."""
    best = torch.unique_consecutive(log_probs.argmax(dim=-1))
    return [int(token) for token in best if int(token) != blank]


def ctc_prefix_beam_search(log_probs: torch.Tensor, beam_size: int,
                           blank: int = BLANK) -> list[Hypothesis]:
    """CTC prefix beam search over ``log_probs`` (frames, vocab); the n-best, best first, each
    scored by its CTC log-probability (summed over the alignments the beam kept).

    Written here: torchaudio's ``ctc_decoder`` does not import in our build (it needs the
    flashlight-text package, not installed) and pyctcdecode is not installed either.
    """
    # prefix -> (log p ending in blank, log p ending in its last token), as in WeNet
    beam: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -math.inf)}
    top = min(beam_size, log_probs.size(-1))
    for frame in log_probs:
        values, indices = frame.topk(top)  # only the frame's likeliest tokens can extend a prefix
        extended: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [-math.inf, -math.inf])
        for p, token in zip(values.tolist(), indices.tolist(), strict=True):
            for prefix, (p_blank, p_token) in beam.items():
                if token == blank:
                    extended[prefix][0] = _logsumexp(extended[prefix][0], p_blank + p, p_token + p)
                    continue
                longer = extended[prefix + (token,)]
                if prefix and prefix[-1] == token:
                    # a repeat merges into the prefix unless a blank separated the two
                    extended[prefix][1] = _logsumexp(extended[prefix][1], p_token + p)
                    longer[1] = _logsumexp(longer[1], p_blank + p)
                else:
                    longer[1] = _logsumexp(longer[1], p_blank + p, p_token + p)
        ranked = sorted(extended.items(), key=lambda item: _logsumexp(*item[1]), reverse=True)
        beam = {prefix: (scores[0], scores[1]) for prefix, scores in ranked[:beam_size]}
    return [Hypothesis(prefix, _logsumexp(*scores)) for prefix, scores in beam.items()]


def decoder_log_probs(decoder: torch.nn.Module, encoder_out: torch.Tensor,
                      hypotheses: list[tuple[int, ...]], sos: int, eos: int) -> torch.Tensor:
    """Log-probability the attention decoder gives each hypothesis (its tokens, then <eos>),
    all scored in one batched teacher-forced pass over ``encoder_out`` (1, frames, dim)."""
    count = len(hypotheses)
    lengths = torch.tensor([len(h) + 1 for h in hypotheses], device=encoder_out.device)
    width = int(lengths.max())
    inputs = torch.full((count, width), eos, dtype=torch.long, device=encoder_out.device)
    targets = torch.full((count, width), eos, dtype=torch.long, device=encoder_out.device)
    for row, tokens in enumerate(hypotheses):
        sequence = torch.tensor(tokens, dtype=torch.long)
        inputs[row, 0] = sos
        inputs[row, 1:len(tokens) + 1] = sequence
        targets[row, :len(tokens)] = sequence  # followed by <eos>, already there
    memory = encoder_out.expand(count, -1, -1)
    memory_lengths = torch.full((count,), encoder_out.size(1), dtype=torch.long, device=encoder_out.device)
    logits = decoder(memory, memory_lengths, inputs, lengths)[0]
    token_log_probs = logits.log_softmax(dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    valid = torch.arange(width, device=encoder_out.device)[None, :] < lengths[:, None]
    return (token_log_probs * valid).sum(dim=-1)


def attention_rescoring(decoder: torch.nn.Module, encoder_out: torch.Tensor,
                        hypotheses: list[Hypothesis], sos: int, eos: int,
                        ctc_weight: float) -> list[Hypothesis]:
    """``hypotheses`` (CTC-scored) rescored: decoder log-prob + ``ctc_weight`` × CTC score, best first."""
    attention = decoder_log_probs(decoder, encoder_out, [h.tokens for h in hypotheses], sos, eos)
    rescored = [Hypothesis(h.tokens, float(a) + ctc_weight * h.score)
                for h, a in zip(hypotheses, attention.tolist(), strict=True)]
    return sorted(rescored, key=lambda h: h.score, reverse=True)


def encode(asr_model: torch.nn.Module, speech: torch.Tensor) -> torch.Tensor:
    """Encoder output (1, frames, dim) of one utterance of samples ``speech`` (1-D)."""
    speech = speech.unsqueeze(0)
    lengths = torch.tensor([speech.size(1)], dtype=torch.long, device=speech.device)
    encoder_out, _ = asr_model.encode(speech, lengths)
    if isinstance(encoder_out, tuple):  # models with intermediate CTC also return those outputs
        encoder_out = encoder_out[0]
    return encoder_out


def ctc_decode(asr_model: torch.nn.Module, speech: torch.Tensor,
               options: DecodingOptions) -> list[int]:
    """Token ids of the best hypothesis for one utterance in a CTC-based mode (not ``attention``)."""
    if options.mode == "attention":
        raise ValueError("mode 'attention' is ESPnet's joint beam search (Speech2Text), not a CTC mode")
    encoder_out = encode(asr_model, speech)
    log_probs = asr_model.ctc.log_softmax(encoder_out)[0]
    if options.mode == "ctc_greedy":
        return ctc_greedy_search(log_probs)
    hypotheses = ctc_prefix_beam_search(log_probs, options.beam_size)
    if options.mode == "attention_rescoring":
        hypotheses = attention_rescoring(asr_model.decoder, encoder_out, hypotheses,
                                         asr_model.sos, asr_model.eos, options.ctc_weight)
    return list(hypotheses[0].tokens)


def _logsumexp(*values: float) -> float:
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))
