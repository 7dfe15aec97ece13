"""Synthesize speech with a packed SpikeVoice model (ESPnet's Text2Speech, strict loading).

Text → offline frontend (normalisation, phonemes) → sentences → SpikeVoice mel → vocoder
(Griffin-Lim, or the pack's / a given HiFi-GAN). Long texts are split at sentence
boundaries and joined with a short pause, so memory stays bounded.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..energy import EnergyMeter, ScopedEnergyReport, split_scopes
from ..errors import SpikespeechError
from ..layers import fold_for_inference
from ..speaking_rate import MAX_SPEED, MIN_SPEED, check_speed  # noqa: F401  (the API's range)
from ..tts.energy_scopes import ACOUSTIC_MODEL, SPIKEVOICE_SCOPES
from .pack import LoadedModel, PackError, invalid_pack, open_pack

SENTENCE_PAUSE_S = 0.2  # silence between the sentences of one text


@dataclass
class Synthesis:
    """One synthesized text: ``wav`` (samples,) float32 at ``sample_rate``."""

    wav: np.ndarray
    sample_rate: int
    synth_s: float
    sentences: int
    mels: list[np.ndarray] = field(default_factory=list)  # (frames, n_mels) per sentence
    phonemes: list[str] = field(default_factory=list)
    # the acoustic model's (no vocoder), split into SPIKEVOICE_SCOPES
    energy: ScopedEnergyReport | None = None

    @property
    def duration_s(self) -> float:
        return len(self.wav) / self.sample_rate

    @property
    def rtf(self) -> float:
        return self.synth_s / self.duration_s if self.duration_s else 0.0


class Synthesizer(LoadedModel):
    """Load a packed TTS model once (``model=None``: the shipped default voice); :meth:`synthesize`
    one text at a time.

    ``vocoder``: ``None`` = the pack's HiFi-GAN if it has one, else Griffin-Lim;
    ``"griffin_lim"`` forces Griffin-Lim; a path loads a HiFi-GAN dir from
    ``spikespeech.bin.vocoder_train``.
    """

    def __init__(self, model: str | Path | None = None, device: str = "cpu", vocoder: str | None = None,
                 max_sentence_chars: int = 300) -> None:
        if model is None:
            from ..models import default_model

            model = default_model("tts")
        if device == "cuda" and not torch.cuda.is_available():
            raise SpikespeechError("--device cuda: no CUDA device is available")
        self.max_sentence_chars = max_sentence_chars
        self.pack = open_pack(model, task="tts")
        try:
            self._load(model, device, vocoder)
        except (PackError, MemoryError, torch.OutOfMemoryError):
            raise
        except Exception as exc:  # whatever ESPnet raises on a bad config or weights
            from ..vocoder import VocoderError

            if isinstance(exc, VocoderError) and vocoder not in (None, "griffin_lim"):
                raise  # the --vocoder given is at fault, not the pack
            raise invalid_pack(model, exc) from None

    def _load(self, model, device: str, vocoder: str | None) -> None:
        from ..espnet.text2speech import Text2Speech  # imports ESPnet: seconds
        from ..text import Frontend

        vocoder_file = vocoder_config = None
        if vocoder is None and self.pack.file("vocoder.pth") is not None:
            vocoder_file, vocoder_config = self.pack.file("vocoder.pth"), self.pack.file("vocoder.yaml")
        elif vocoder not in (None, "griffin_lim"):
            vocoder_file = vocoder
        self.text2speech = Text2Speech(
            train_config=str(self.pack.config), model_file=str(self.pack.model),
            vocoder_file=None if vocoder_file is None else str(vocoder_file),
            vocoder_config=None if vocoder_config is None else str(vocoder_config),
            device=device,
        )
        # inference form: BN and training branches folded
        self.acoustic = fold_for_inference(self.text2speech.tts.model, inplace=True)
        self.sample_rate = int(self.text2speech.fs)
        self.frontend = Frontend(self.pack.meta.get("language", "en"))
        self.tokens = set(self.text2speech.preprocess_fn.token_id_converter.token_list)
        self.speakers = _read_spk2sid(self.pack.file("spk2sid"))
        if self.text2speech.use_sids and not self.speakers:
            raise PackError(f"{model}: multi-speaker model without a spk2sid table")
        self._warm_up()

    def _warm_up(self) -> None:
        # the first call pays one-off allocation/dispatch costs; keep them out of RTFs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.synthesize("a" if self.frontend.language == "en" else "啊", speaker=None)

    def speaker_id(self, speaker: str | None) -> int | None:
        """Speaker name (or numeric id) → the model's sid; ``None`` for one-speaker models."""
        if not self.speakers:
            if speaker is not None:
                raise SpikespeechError(f"--speaker {speaker}: this model has a single speaker")
            return None
        if speaker is None:
            return next(iter(self.speakers.values()))
        if speaker in self.speakers:
            return self.speakers[speaker]
        if speaker.isdigit() and int(speaker) in self.speakers.values():
            return int(speaker)
        names = ", ".join(list(self.speakers)[:10]) + ("…" if len(self.speakers) > 10 else "")
        raise SpikespeechError(f"--speaker {speaker}: unknown speaker (known: {names})")

    def phonemes(self, text: str) -> list[str]:
        """``text`` → one phoneme string per sentence (tokens the model knows)."""
        from ..text import FrontendError, split_sentences

        sentences = []
        for sentence in split_sentences(text, max_chars=self.max_sentence_chars):
            try:
                tokens = self.frontend(sentence)
            except FrontendError as exc:  # e.g. a sentence of symbols only
                warnings.warn(f"skipped a sentence: {exc}", stacklevel=2)
                continue  # the whole text is checked below
            unknown = sorted({t for t in tokens if t not in self.tokens})
            if unknown:
                warnings.warn(f"dropped phonemes the model was not trained on: {' '.join(unknown)}",
                              stacklevel=2)
                tokens = [t for t in tokens if t in self.tokens]
            if tokens:
                sentences.append(" ".join(tokens))
        if not sentences:
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise SpikespeechError(f"text {shown!r}: nothing to say after text normalisation")
        return sentences

    @torch.no_grad()
    def synthesize(self, text: str, speed: float = 1.0, speaker: str | None = None,
                   energy: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> Synthesis:
        """``text`` → speech. ``speed`` > 1 speaks faster (durations divided by it), within
        :data:`MIN_SPEED` … :data:`MAX_SPEED`. ``progress(done, total)``, if given, is called
        with the sentences synthesized so far and the text's sentence count, before the first
        sentence and after each (a long text takes a while)."""
        check_speed(speed)
        start = time.perf_counter()
        sentences = self.phonemes(text)
        report = progress or (lambda done, total: None)
        report(0, len(sentences))
        sid = self.speaker_id(speaker)
        meter = EnergyMeter(self.acoustic, scope=ACOUSTIC_MODEL) if energy else None
        pieces, mels = [], []
        pause = np.zeros(int(SENTENCE_PAUSE_S * self.sample_rate), dtype=np.float32)
        if meter is not None:
            meter.start()
        try:
            for i, phonemes in enumerate(sentences):
                out = self.text2speech(
                    phonemes, decode_conf={"alpha": 1.0 / speed},
                    sids=None if sid is None else np.array([sid]),
                )
                if i:
                    pieces.append(pause)
                pieces.append(out["wav"].detach().cpu().float().numpy().reshape(-1))
                mels.append(out["feat_gen_denorm" if "feat_gen_denorm" in out else "feat_gen"]
                            .detach().cpu().numpy())
                report(i + 1, len(sentences))
        finally:
            if meter is not None:
                meter.stop()
        wav = np.clip(np.concatenate(pieces), -1.0, 1.0).astype(np.float32)
        return Synthesis(wav=wav, sample_rate=self.sample_rate, synth_s=time.perf_counter() - start,
                         sentences=len(sentences), mels=mels, phonemes=sentences,
                         energy=None if meter is None else
                         split_scopes(meter.report(), SPIKEVOICE_SCOPES))


def _read_spk2sid(path: Path | None) -> dict[str, int]:
    if path is None:
        return {}
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            name, sid = line.split()
            if name != "<unk>":  # ESPnet's id for unseen speakers: its embedding is never trained
                table[name] = int(sid)
    return table
