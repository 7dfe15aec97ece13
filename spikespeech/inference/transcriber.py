"""Decode audio with a packed ESPnet ASR model (strict loading) in one of the decoding modes of
:mod:`spikespeech.espnet.decoding`: the CTC-based modes through
:class:`~spikespeech.espnet.light_speech2text.LightSpeech2Text` (starts in seconds), mode
``attention`` through ESPnet's ``Speech2Text``."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..audio import load_audio
from ..audio.segment import speech_segments
from ..decoding_modes import DEFAULT_CHUNK_SECONDS, DEFAULT_LOOKBACK_SECONDS, DEFAULT_STREAM_CHUNK_SECONDS
from ..energy import EnergyMeter, ScopedEnergyReport
from ..errors import SpikespeechError
from ..espnet.decoding import DEFAULT_MODE, DecodingOptions
from ..espnet.energy_scopes import WHOLE_MODEL, asr_scoped_report
from ..espnet.light_speech2text import LightSpeech2Text, NoDecoderError, token_text
from ..espnet.streaming import CTCStream, samples_per_encoder_frame
from ..layers import fold_for_inference
from .pack import LoadedModel, PackError, invalid_pack, open_pack


@dataclass(frozen=True)
class Segment:
    """Text of the audio from ``start_s`` to ``end_s`` (seconds from the start of the input)."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class StreamLatency:
    """How a streamed transcript kept up, with audio arriving in real time ``chunk_s`` at a time
    (each chunk decoded once it has fully arrived, after the chunk before it): ``mean_s`` /
    ``max_s``: from a chunk's arrival to its partial result; ``final_s``: from the end of the
    audio to the final result (rescoring included); ``partials``: ``(audio seconds, text)``
    each time the partial text changed."""

    chunk_s: float
    lookback_s: float
    mean_s: float
    max_s: float
    final_s: float
    partials: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class Transcript:
    """``text``: the segments' texts joined by spaces; ``segments``: where each came from (silence
    between them was not decoded); ``decode_s``: decoding time, model loading excluded;
    ``energy`` (when asked for): the whole ASR model's, metered during this decode, split into
    front-end, encoder blocks, decoder (per output token too) and CTC head
    (:data:`~spikespeech.espnet.energy_scopes.ASR_SCOPES`)."""

    text: str
    duration_s: float
    decode_s: float
    energy: ScopedEnergyReport | None = None
    segments: list[Segment] = field(default_factory=list)
    latency: StreamLatency | None = None  # streamed transcripts only

    @property
    def chunks(self) -> int:
        return len(self.segments)

    @property
    def rtf(self) -> float:
        return self.decode_s / self.duration_s if self.duration_s else 0.0


class Transcriber(LoadedModel):
    """Load a packed model once (``model=None``: the shipped default); :meth:`transcribe` one
    utterance at a time.

    Audio longer than ``chunk_seconds`` is cut at pauses, and speech still longer at its quietest
    moments (:func:`~spikespeech.audio.segment.speech_segments`), so memory and time per segment
    stay bounded (attention is quadratic in length); the transcript has each segment's times.
    ``mode`` is one of :data:`~spikespeech.espnet.decoding.MODES` (``ValueError`` otherwise);
    ``beam_size`` and ``ctc_weight`` apply as :class:`~spikespeech.espnet.decoding.DecodingOptions` says.
    """

    def __init__(self, model: str | Path | None = None, device: str = "cpu", beam_size: int = 10,
                 ctc_weight: float = 0.3, chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
                 mode: str = DEFAULT_MODE) -> None:
        if model is None:
            from ..models import default_model

            model = default_model("asr")
        options = DecodingOptions(mode, beam_size, ctc_weight)  # ValueError before the model loads
        if device == "cuda" and not torch.cuda.is_available():
            raise SpikespeechError("--device cuda: no CUDA device is available")
        self.pack = open_pack(model)
        try:
            if options.mode == "attention":
                from ..espnet.speech2text import ModeSpeech2Text  # imports all of ESPnet's ASR task: seconds

                self._load(model, device, options, ModeSpeech2Text)
            else:
                self._load(model, device, options, LightSpeech2Text)
        except (PackError, MemoryError, torch.OutOfMemoryError):
            raise
        except NoDecoderError as exc:
            raise PackError(f"{model}: {exc}") from None
        except Exception as exc:  # whatever ESPnet raises on a bad config or weights
            raise invalid_pack(model, exc) from None
        self.chunk_seconds = chunk_seconds
        self._frame_samples: int | None = None  # measured on first streaming use

    def _load(self, model, device, options: DecodingOptions, speech2text_cls) -> None:
        self.sample_rate = self.pack.sample_rate
        # ESPnet's beam search fails ("selected index k out of range") on a beam wider than the
        # vocabulary, which small character models (digits, yes/no) can have
        vocabulary = (self.pack.root / "tokens.txt").read_text(encoding="utf-8").split()
        beam_size = max(1, min(options.beam_size, len(vocabulary)))
        self.speech2text = speech2text_cls(
            asr_train_config=str(self.pack.config), asr_model_file=str(self.pack.model),
            device=device, beam_size=beam_size, ctc_weight=options.ctc_weight, nbest=1,
            decoding_mode=options.mode,
        )
        if self.speech2text.tokenizer is None:
            raise PackError(f"{model}: its config has no token_type; tokens could not become text")
        # inference form: BN and training branches folded
        self.encoder = fold_for_inference(self.speech2text.asr_model.encoder, inplace=True)
        self.min_samples = _min_samples(self.speech2text.asr_model)
        self._warm_up()

    def _warm_up(self) -> None:
        # the first decode pays one-off allocation/dispatch costs; keep them out of RTFs
        with torch.no_grad():
            self._decode(np.zeros(self.sample_rate // 2, dtype=np.float32))

    @property
    def mode(self) -> str:
        return self.speech2text.options.mode

    def _decode(self, samples: np.ndarray) -> tuple[str, int]:
        """Text of one segment, decoded in :attr:`mode`, and its number of tokens."""
        results = self.speech2text(torch.from_numpy(samples))
        return (results[0][0], len(results[0][2])) if results else ("", 0)

    def _meter(self, energy: bool) -> EnergyMeter | None:
        """A meter on the whole ASR model (encoder, decoder, CTC head), started; None if not asked."""
        if not energy:
            return None
        meter = EnergyMeter(self.speech2text.asr_model, scope=WHOLE_MODEL)
        meter.start()
        return meter

    @torch.no_grad()
    def transcribe(self, audio: str | os.PathLike | np.ndarray, energy: bool = False) -> Transcript:
        """``audio``: a file path (any format :func:`~spikespeech.audio.load_audio` reads,
        resampled to :attr:`sample_rate`), or mono float samples at :attr:`sample_rate`.
        Raises ``ValueError`` (:class:`~spikespeech.audio.AudioError` for files) naming the problem."""
        samples = self._checked_samples(audio)
        start = time.perf_counter()
        spans = speech_segments(samples, self.sample_rate, self.chunk_seconds,
                                min_samples=self.min_samples)
        segments, tokens = [], 0
        meter = self._meter(energy)
        try:
            for span in spans:
                text, count = self._decode(samples[span.start:span.end])
                tokens += count
                segments.append(Segment(round(span.start / self.sample_rate, 3),
                                        round(span.end / self.sample_rate, 3), text.strip()))
        finally:
            if meter is not None:
                meter.stop()
        return Transcript(text=" ".join(s.text for s in segments if s.text),
                          duration_s=len(samples) / self.sample_rate,
                          decode_s=time.perf_counter() - start,
                          energy=None if meter is None else asr_scoped_report(meter.report(), tokens),
                          segments=segments)

    @torch.no_grad()
    def transcribe_stream(self, audio: str | os.PathLike | np.ndarray,
                          chunk_seconds: float = DEFAULT_STREAM_CHUNK_SECONDS,
                          lookback_seconds: float = DEFAULT_LOOKBACK_SECONDS,
                          energy: bool = False) -> Transcript:
        """``audio`` (as for :meth:`transcribe`) decoded as a stream: fed ``chunk_seconds`` at a
        time to a :class:`~spikespeech.espnet.streaming.CTCStream` (encoder windows of the chunk
        plus ``lookback_seconds``), as audio arriving in real time would be; a pause ends a
        segment (WeNet's endpoint rule), so memory stays flat. The transcript's
        :attr:`~Transcript.latency` says how it kept up. Not in mode ``attention``."""
        samples = self._checked_samples(audio)
        if self._frame_samples is None:
            self._frame_samples = samples_per_encoder_frame(self.speech2text.asr_model, self.sample_rate)

        stream = CTCStream(self.speech2text.asr_model, self.speech2text.options, self.sample_rate,
                           chunk_seconds, lookback_seconds, self.min_samples, self._frame_samples)
        meter = self._meter(energy)
        rate, total = self.sample_rate, len(samples)
        busy_until, latencies, partials, decode_s = 0.0, [], [], 0.0
        done: list[str] = []  # the texts of the segments a pause has ended
        try:
            for begin in range(0, total, stream.chunk):
                arrived = min(begin + stream.chunk, total) / rate
                tick = time.perf_counter()
                tokens = stream.accept(samples[begin:begin + stream.chunk])
                took = time.perf_counter() - tick
                decode_s += took
                busy_until = max(busy_until, arrived) + took
                latencies.append(busy_until - arrived)
                done += [self._text(seg.nbest[0].tokens) for seg in stream.segments[len(done):]]
                text = " ".join(t for t in (*done, self._text(tokens)) if t)
                if text != (partials[-1][1] if partials else ""):
                    partials.append((round(arrived, 3), text))
            tick = time.perf_counter()
            ended = stream.finish()
            took = time.perf_counter() - tick
        finally:
            if meter is not None:
                meter.stop()
        seconds = stream.frame / rate
        ends = [s.end * seconds for s in ended[:-1]] + [total / rate]  # the last one: the audio's end
        done += [self._text(seg.nbest[0].tokens) for seg in ended[len(done):]]
        segments = [Segment(round(s.start * seconds, 3), round(end, 3), text)
                    for s, end, text in zip(ended, ends, done, strict=True)]
        duration = total / rate
        latency = StreamLatency(stream.chunk / rate, stream.lookback / rate,
                                float(np.mean(latencies)), float(np.max(latencies)),
                                max(busy_until, duration) + took - duration, partials)
        energy_report = None
        if meter is not None:
            tokens = sum(len(segment.nbest[0].tokens) for segment in ended)
            energy_report = asr_scoped_report(meter.report(), tokens)
        return Transcript(text=" ".join(s.text for s in segments if s.text), duration_s=duration,
                          decode_s=decode_s + took, energy=energy_report, segments=segments,
                          latency=latency)

    def _text(self, token_ids) -> str:
        s2t = self.speech2text
        return (token_text(s2t.asr_model, s2t.converter, s2t.tokenizer, token_ids)[0] or "").strip()

    def _checked_samples(self, audio: str | os.PathLike | np.ndarray) -> np.ndarray:
        samples = _samples(audio, self.sample_rate)
        if len(samples) < self.min_samples:
            raise SpikespeechError(
                f"audio is too short ({len(samples) / self.sample_rate:.3f} s); the model needs "
                f"at least {self.min_samples / self.sample_rate:.3f} s"
            )
        return samples


def _samples(audio: str | os.PathLike | np.ndarray, rate: int) -> np.ndarray:
    """``audio`` as contiguous float32 mono samples at ``rate``, or a ``ValueError`` saying why not."""
    if isinstance(audio, (str, os.PathLike)):
        return load_audio(audio, rate)
    if not isinstance(audio, np.ndarray):
        raise SpikespeechError("audio must be a file path or a 1-D float numpy array, got "
                               f"{type(audio).__name__}")
    if audio.ndim != 1:
        raise SpikespeechError(f"audio must be 1-D mono samples, got an array of shape {audio.shape} "
                         "(mix the channels first)")
    if not np.issubdtype(audio.dtype, np.floating):
        raise SpikespeechError(f"audio must be float samples in [-1, 1], got {audio.dtype} "
                         "(divide integer PCM by its full scale, e.g. 32768 for int16)")
    if audio.size == 0:
        raise SpikespeechError("audio is empty (0 samples)")
    if not np.isfinite(audio).all():
        raise SpikespeechError("audio contains NaN or infinite samples")
    return np.ascontiguousarray(audio, dtype=np.float32)


def _min_samples(asr_model) -> int:
    """Shortest input the model can take: STFT reflect padding and the frames its encoder's
    subsampling needs."""
    from ..espnet.encoder import min_input_frames

    stft = getattr(getattr(asr_model, "frontend", None), "stft", None)
    if stft is None:
        return 1
    n_fft, hop = int(stft.n_fft), int(stft.hop_length)
    return max(n_fft // 2 + 1, min_input_frames(asr_model.encoder) * hop)
