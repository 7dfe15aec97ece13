"""Streaming recognition: encode audio chunk by chunk as it arrives, with a bounded look-back,
and run the CTC search over each chunk's frames at once (WeNet's chunk-wise decoding).

Each step encodes the window ``[end - chunk - look-back, end)`` of the audio received so far and
keeps the encoder frames that are new; the IMLS neuron carries no state from step to step, and
the hierarchical decay mask makes far frames weigh little, so a few seconds of look-back stand
in for the whole past. The newest frames of a chunk lack the right context a non-causal model
was trained with: that, and the look-back limit, are the accuracy cost of streaming, measured
in ``bench/asr_rtf.py``. Memory stays bounded by the window (plus the current segment's encoder
frames, kept for attention rescoring). The CTC prefix beam search is torchaudio's ``ctc_decoder`` fed
incrementally (``decode_step``), which gives the same n-best as one call over all frames.
A run of blank frames after speech (WeNet's endpoint rule) ends a segment: its search is
finished (and rescored) and a new one starts, while the encoder keeps its look-back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..decoding_modes import (
    DEFAULT_ENDPOINT_SECONDS,
    DEFAULT_LOOKBACK_SECONDS,
    DEFAULT_STREAM_CHUNK_SECONDS,
)
from ..errors import SpikespeechError
from .decoding import (
    BLANK,
    DecodingOptions,
    Hypothesis,
    attention_rescoring,
    beam_decoder,
    encode,
)


def samples_per_encoder_frame(asr_model: torch.nn.Module, rate: int) -> int:
    """Input samples per encoder output frame (STFT hop × subsampling), measured on the model:
    window starts on multiples of it keep the frames of a window aligned with the utterance's."""
    lengths = (2 * rate, 4 * rate)
    device = next(asr_model.parameters()).device
    with torch.no_grad():
        frames = [encode(asr_model, torch.zeros(n, device=device)).size(1) for n in lengths]
    step, extra = divmod(lengths[1] - lengths[0], frames[1] - frames[0])
    if extra:
        raise SpikespeechError(f"the encoder's frame rate is not a whole number of samples "
                         f"({lengths[1] - lengths[0]} samples gave {frames[1] - frames[0]} frames)")
    return step


@dataclass(frozen=True)
class StreamSegment:
    """A finished utterance of a stream: encoder frames ``[start, end)``, its n-best."""

    start: int
    end: int
    nbest: list[Hypothesis]


class _Search:
    """The CTC search over one segment's frames, fed chunk by chunk."""

    def __init__(self, model: torch.nn.Module, options: DecodingOptions, start: int) -> None:
        self.model, self.options, self.start, self.frames = model, options, start, 0
        self.kept: list[torch.Tensor] = []  # encoder frames, for attention rescoring
        self.greedy: list[int] = []
        self.greedy_score = 0.0  # log-prob of the best alignment
        self.last_best = -1  # the best token of the last frame: repeats merge across chunks
        self.beam = None
        if options.mode != "ctc_greedy":
            self.beam = beam_decoder(model.ctc.ctc_lo.out_features, options.beam_size)
            self.beam.decode_begin()

    def feed(self, encoder_out: torch.Tensor, log_probs: torch.Tensor) -> None:
        """``encoder_out`` (1, frames, dim) and its CTC ``log_probs`` (frames, vocab)."""
        self.frames += log_probs.size(0)
        if self.options.mode == "attention_rescoring":
            self.kept.append(encoder_out)
        if self.beam is not None:
            self.beam.decode_step(log_probs.detach().to("cpu", torch.float32).contiguous())
            return
        self.greedy_score += float(log_probs.max(-1).values.sum())
        for token in log_probs.argmax(-1).tolist():
            if token != self.last_best and token != BLANK:
                self.greedy.append(token)
            self.last_best = token

    def best(self) -> tuple[int, ...]:
        if self.beam is None:
            return tuple(self.greedy)
        best = self.beam.get_final_hypothesis() if self.frames else []
        return tuple(int(t) for t in best[0].tokens) if best else ()

    def finish(self) -> StreamSegment:
        if self.beam is None:
            nbest = [Hypothesis(tuple(self.greedy), self.greedy_score)]
        else:
            self.beam.decode_end()
            nbest = [Hypothesis(tuple(int(t) for t in r.tokens), float(r.score))
                     for r in self.beam.get_final_hypothesis()] or [Hypothesis((), 0.0)]
            if self.options.mode == "attention_rescoring" and self.kept:
                nbest = attention_rescoring(self.model.decoder, torch.cat(self.kept, 1), nbest,
                                            self.model.sos, self.model.eos, self.options.ctc_weight)
        return StreamSegment(self.start, self.start + self.frames, nbest)


class CTCStream:
    """Audio decoded as it arrives: :meth:`accept` (any amount, any number of times) returns the
    best tokens of the current segment so far; :attr:`segments` holds the segments a pause has
    ended (n-best rescored by the attention decoder in mode ``attention_rescoring``);
    :meth:`finish` ends the last one and returns them all.

    ``options.mode``: ``ctc_greedy``, ``ctc_prefix_beam`` or ``attention_rescoring``.
    ``min_samples``: the shortest window the model can encode. ``endpoint_seconds``: blank
    frames after speech that end a segment (``None``: one segment).
    """

    def __init__(self, asr_model: torch.nn.Module, options: DecodingOptions, rate: int,
                 chunk_seconds: float = DEFAULT_STREAM_CHUNK_SECONDS,
                 lookback_seconds: float = DEFAULT_LOOKBACK_SECONDS, min_samples: int = 1,
                 frame_samples: int | None = None,
                 endpoint_seconds: float | None = DEFAULT_ENDPOINT_SECONDS) -> None:
        if options.mode == "attention":
            raise SpikespeechError("mode 'attention' cannot stream (ESPnet's joint search needs the whole "
                             "utterance); use ctc_greedy, ctc_prefix_beam or attention_rescoring")
        if chunk_seconds <= 0 or lookback_seconds < 0:
            raise SpikespeechError(f"chunk must be > 0 s and look-back >= 0 s (got {chunk_seconds}, "
                             f"{lookback_seconds})")
        self.model, self.options, self.rate = asr_model, options, rate
        self._device = next(asr_model.parameters()).device  # audio is buffered on the CPU
        self.frame = frame_samples or samples_per_encoder_frame(asr_model, rate)
        # whole frames, so that every window starts on a frame boundary; no shorter than the
        # model's shortest input, so that every chunk can be encoded
        frames = max(round(chunk_seconds * rate / self.frame), -(-min_samples // self.frame), 1)
        self.chunk = frames * self.frame
        self.lookback = round(lookback_seconds * rate / self.frame) * self.frame
        self.min_samples = min_samples
        self.endpoint_frames = None if endpoint_seconds is None else max(
            1, round(endpoint_seconds * rate / self.frame))
        self.segments: list[StreamSegment] = []
        self._audio = torch.zeros(0)  # the samples that a later window can still need
        self._audio_start = 0  # absolute index of self._audio[0]
        self._received = 0
        self._encoded_to = 0  # absolute end of the last window encoded
        self._frames_out = 0  # encoder frames emitted so far
        self._search = _Search(asr_model, options, 0)
        self._trailing_blanks = 0  # blank frames since the search's last non-blank one
        self._heard = False  # the current search has seen a non-blank best token
        self._finished = False

    @torch.no_grad()
    def accept(self, samples) -> tuple[int, ...]:
        """Take ``samples`` (1-D float, the model's rate); decode every whole chunk now
        available; return the best token ids of the current segment so far."""
        if self._finished:
            raise SpikespeechError("this stream is finished; start a new one")
        samples = torch.as_tensor(np.asarray(samples, dtype=np.float32))
        self._audio = torch.cat([self._audio, samples])
        self._received += len(samples)
        while self._received - self._encoded_to >= self.chunk:
            self._step(self._encoded_to + self.chunk)
        return self._search.best()

    @torch.no_grad()
    def finish(self) -> list[StreamSegment]:
        """Decode what is left and end the search: every segment, in order (silence after the
        last pause gives none)."""
        if not self._finished:
            # a tail shorter than the model's shortest input holds nothing decodable
            if self._received > self._encoded_to and self._received >= self.min_samples:
                self._step(self._received)
            if self._search.frames and (self._heard or not self.segments):
                self.segments.append(self._search.finish())
            self._finished = True
        return self.segments

    def _step(self, end: int) -> None:
        start = max(0, end - self.chunk - self.lookback) // self.frame * self.frame
        if end - start < self.min_samples:  # a short last piece: widen it into the look-back
            start = max(0, end - self.min_samples) // self.frame * self.frame
        # the window's frames start at start / frame: no later than the first frame still to emit
        # (subsampling loses a few frames at a window's edges)
        start = min(start, self._frames_out * self.frame)
        window = self._audio[start - self._audio_start:end - self._audio_start]
        encoder_out = encode(self.model, window.to(self._device))
        new = encoder_out[:, self._frames_out - start // self.frame:]
        self._encoded_to = end
        # drop audio no later window needs (memory stays flat with length): a later window ends
        # after this one, so it starts no earlier than this one's start
        if start > self._audio_start:
            self._audio = self._audio[start - self._audio_start:]
            self._audio_start = start
        if new.size(1) == 0:
            return
        self._frames_out += new.size(1)
        log_probs = self.model.ctc.log_softmax(new)[0]
        fed = 0
        for i, token in enumerate(log_probs.argmax(-1).tolist()):
            self._trailing_blanks = self._trailing_blanks + 1 if token == BLANK else 0
            self._heard = self._heard or token != BLANK
            if self._heard and self.endpoint_frames is not None \
                    and self._trailing_blanks >= self.endpoint_frames:  # a pause: the segment ends
                self._search.feed(new[:, fed:i + 1], log_probs[fed:i + 1])
                self.segments.append(self._search.finish())
                fed = i + 1
                self._search = _Search(self.model, self.options, self._frames_out - new.size(1) + fed)
                self._heard, self._trailing_blanks = False, 0
        if fed < new.size(1):
            self._search.feed(new[:, fed:], log_probs[fed:])
