"""Scoring stage of the TTS recipe: MCD, F0 RMSE, V/UV error and ASR intelligibility of synthesized speech.

    python -m spikespeech.recipe.tts_score --ref_scp data/test/wav.scp \\
        --syn_dir exp/tts/decode/test/wav --text data/test/text \\
        --out_dir exp/tts/decode/test/score [--asr pocketsphinx|whisper|whisper,pocketsphinx|none] \\
        [--whisper_model base|tiny.en]

Every utterance of ``--ref_scp`` (a Kaldi ``wav.scp`` of plain audio paths; relative paths are
relative to the current dir) is compared with ``SYN_DIR/<utt id>.wav``. Sentences nobody recorded
(no ``--ref_scp``) are scored for intelligibility only: every sentence of ``--text``. MCD definitions differ
between papers; what is computed here, exactly:

* analysis: the reference is read at its own rate fs; the synthesized WAV is mixed to mono and
  resampled to fs (torchaudio's windowed sinc, as all audio the package reads). WORLD (pyworld)
  at 5 ms frames: F0 by DIO refined by StoneMask (71-800 Hz; ``--f0_method harvest`` for
  Harvest), spectral envelope by CheapTrick (pyworld's FFT size for fs);
* mel-cepstrum: the envelope (a power spectrum, floored at 1e-12 so that digital silence stays
  finite) → real cepstrum of its natural log, c0 halved → SPTK's all-pass frequency warping
  (``freqt``) to order M = 24 with α = the warping that best fits the mel scale at fs
  (pysptk's ``mcepalpha`` search: 0.410 at 16 kHz, 0.454 at 22.05 kHz, 0.466 at 24 kHz, 0.554
  at 48 kHz). This equals pysptk ``sp2mc``: log|H(ω)| = Σ_m c_m cos(m·ω̃(ω)), SPTK's convention;
* DTW over frames of c1..c24 (c0, the frame energy, is left out), Euclidean frame distance,
  steps (1,0), (0,1), (1,1) with equal weight, no band or slope constraint, no silence removal;
* MCD of an utterance (dB) = mean over the DTW path of (10 / ln 10) · sqrt(2 · Σ_{m=1..24}
  (c_m − c'_m)²); the reported MCD is the mean (and std) over utterances;
* F0, on the same path: RMSE over pairs voiced in both (F0 > 0), in Hz and in cents (1200 ·
  log2(F0_syn / F0_ref)); V/UV error = share of path pairs whose voicing decisions differ. The
  totals pool the pairs of all utterances;
* intelligibility (``--asr``, English only; a comma-separated list of recognizers, each run on
  the synthesized and the reference audio at 16 kHz mono): ``pocketsphinx`` is CMU PocketSphinx
  with its bundled en-us acoustic model, language model and dictionary (16-bit input; the front
  end is reset for each utterance, so results do not depend on the order); ``whisper`` is
  OpenAI's Whisper run by faster-whisper on CPU (``--whisper_model base`` or ``tiny.en``,
  weights from the optional extra ``whisper``, nothing downloaded; float32, English, beam 5,
  temperature 0 without fallback, no VAD; see :mod:`.whisper_asr`). Transcripts of
  ``--text`` and hypotheses are normalised alike: numbers spelled out
  (:func:`spikespeech.text.numbers.verbalize`: "20th" → twentieth, "1984" → nineteen eighty
  four, "$3.50" → three dollars and fifty cents), lower case, accents dropped, every character
  other than a-z and an apostrophe inside a word becomes a space (hyphens split words).
  ASR-WER (jiwer, pooled over utterances) of the synthesized audio, of the reference audio,
  and their ratio (synthesized / reference; ``null`` when the reference WER is 0) are reported
  for each recognizer (``asr_systems``); the first one listed also fills the top-level
  ``asr_wer_*`` keys.

Writes ``OUT_DIR/scores.json`` (totals, settings, these definitions and one entry per scored
utterance) and ``OUT_DIR/result.md`` (a summary), each atomically. A synthesized (or reference)
file that is missing or unreadable is listed on stderr, one line each, and in ``scores.json``
(``missing``); the others are still scored. Exit status: 0, 1 if any utterance could not be
scored, 2 on bad input (unreadable lists, a ``segments`` file, piped ``wav.scp`` entries).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_text
from ..errors import SpikespeechError
from ..text.numbers import verbalize
from .whisper_asr import MODELS as WHISPER_MODELS  # importing it needs no extra

PROG = "python -m spikespeech.recipe.tts_score"
FRAME_PERIOD_MS = 5.0
MCEP_ORDER = 24
SP_FLOOR = 1e-12
F0_METHODS = ("dio", "harvest")
ASR_CHOICES = ("pocketsphinx", "whisper", "none")
ASR_RATE = 16000
MCD_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


class TTSScoreError(SpikespeechError):
    """Inputs cannot be scored at all (message names the input and the problem); exit status 2."""


# ----------------------------------------------------------------------------- mel-cepstrum
# Not pysptk: it ships no wheels (1.0.1 is an sdist needing Cython and a C compiler at install,
# checked 2026-12-04), and the two SPTK steps needed (mcepalpha, freqt) are a few numpy lines.


@functools.lru_cache(maxsize=16)
def mcep_alpha(fs: int) -> float:
    """The all-pass constant whose frequency warping best fits the mel scale at ``fs`` (least
    squares over 1,000 points of 0..π, α on a 0.001 grid; the search of pysptk's ``mcepalpha``)."""
    omega = np.linspace(0.0, np.pi, 1000)
    step = fs / 2.0 / 1000
    mel = np.log1p(step * np.arange(1000) / 1000.0)
    mel /= mel[-1]
    best, best_error = 0.0, np.inf
    for alpha in np.arange(0.0, 1.0, 0.001):
        num = (1 - alpha * alpha) * np.sin(omega)
        den = (1 + alpha * alpha) * np.cos(omega) - 2 * alpha
        warped = np.arctan2(num, den) / np.pi  # in [0, 1]: the warped frequency of each point
        error = np.mean((mel - warped) ** 2)
        if error < best_error:
            best, best_error = float(alpha), error
    return round(best, 3)


def warped_frequency(omega: np.ndarray, alpha: float) -> np.ndarray:
    """ω̃(ω) of the first-order all-pass z̃⁻¹ = (z⁻¹ − α) / (1 − α z⁻¹)."""
    return omega + 2 * np.arctan(alpha * np.sin(omega) / (1 - alpha * np.cos(omega)))


@functools.lru_cache(maxsize=16)
def _freqt_matrix(n_in: int, order: int, alpha: float) -> np.ndarray:
    """SPTK ``freqt`` (cepstrum of order ``n_in - 1`` → warped cepstrum of ``order``) as the
    (order + 1, n_in) matrix of this linear map: the recursion run on every unit impulse at once."""
    b = 1 - alpha * alpha
    g = np.zeros((order + 1, n_in))
    for i in range(n_in - 1, -1, -1):
        d = g.copy()
        g[0] = alpha * d[0]
        g[0, i] += 1.0  # the impulse c_in[i] enters at c_out[0]
        if order >= 1:
            g[1] = b * d[0] + alpha * d[1]
        for j in range(2, order + 1):
            g[j] = d[j - 1] + alpha * (d[j] - g[j - 1])
    g.flags.writeable = False
    return g


def sp_to_mcep(sp: np.ndarray, order: int = MCEP_ORDER, alpha: float = 0.41) -> np.ndarray:
    """Power spectral envelopes (frames × (fft/2 + 1)) → mel-cepstra (frames × (order + 1)), as
    pysptk ``sp2mc``: log spectrum → real cepstrum (c0 halved) → all-pass warping."""
    sp = np.atleast_2d(np.asarray(sp, dtype=np.float64))
    cep = np.fft.irfft(np.log(np.maximum(sp, SP_FLOOR)), axis=-1)[:, : sp.shape[1]]
    cep[:, 0] /= 2.0
    return cep @ _freqt_matrix(sp.shape[1], order, float(alpha)).T


def mcep_to_log_power(mcep: np.ndarray, n_bins: int, alpha: float) -> np.ndarray:
    """The natural-log power spectrum (frames × n_bins over 0..π) a mel-cepstrum stands for."""
    omega = warped_frequency(np.linspace(0.0, np.pi, n_bins), alpha)
    basis = np.cos(np.outer(np.arange(mcep.shape[-1]), omega))
    return 2.0 * np.atleast_2d(mcep) @ basis


# ----------------------------------------------------------------------------- alignment and errors


def dtw(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost alignment of the frame sequences ``a`` (n × d) and ``b`` (m × d): Euclidean
    frame distance, steps (1,0), (0,1), (1,1) of equal weight, from (0,0) to (n-1, m-1)
    (``librosa.sequence.dtw``'s defaults). Returns the aligned index arrays."""
    import librosa

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("dtw: empty sequence")
    _, path = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean")
    path = path[::-1]  # librosa gives it end first
    return path[:, 0].copy(), path[:, 1].copy()


def mcd_db(mcep_ref: np.ndarray, mcep_syn: np.ndarray, path: tuple[np.ndarray, np.ndarray]) -> float:
    """Mean over ``path`` of (10/ln10)·sqrt(2·Σ_{m≥1}(c_m − c'_m)²); c0 is left out."""
    diff = mcep_ref[path[0], 1:] - mcep_syn[path[1], 1:]
    return float(np.mean(MCD_SCALE * np.sqrt((diff ** 2).sum(axis=1))))


@dataclass(frozen=True)
class F0Errors:
    """F0 comparison over an alignment path."""

    path_length: int
    voiced_pairs: int  # pairs voiced in both
    rmse_hz: float | None  # None without voiced pairs
    rmse_cents: float | None
    vuv_errors: int  # pairs whose voicing differs

    @property
    def vuv_error(self) -> float:
        return self.vuv_errors / self.path_length


def f0_errors(f0_ref: np.ndarray, f0_syn: np.ndarray, path: tuple[np.ndarray, np.ndarray]) -> F0Errors:
    """F0 RMSE (Hz, cents) over the pairs of ``path`` voiced in both, and the V/UV disagreements."""
    ref, syn = np.asarray(f0_ref)[path[0]], np.asarray(f0_syn)[path[1]]
    voiced_ref, voiced_syn = ref > 0, syn > 0
    both = voiced_ref & voiced_syn
    n = int(both.sum())
    rmse_hz = float(np.sqrt(np.mean((syn[both] - ref[both]) ** 2))) if n else None
    rmse_cents = float(np.sqrt(np.mean((1200 * np.log2(syn[both] / ref[both])) ** 2))) if n else None
    return F0Errors(len(ref), n, rmse_hz, rmse_cents, int((voiced_ref != voiced_syn).sum()))


# ----------------------------------------------------------------------------- WORLD analysis


def world_features(x: np.ndarray, fs: int, f0_method: str = "dio") -> tuple[np.ndarray, np.ndarray]:
    """F0 (Hz, 0 = unvoiced) and CheapTrick power envelope of ``x`` at 5 ms frames."""
    import pyworld

    if f0_method not in F0_METHODS:
        raise ValueError(f"unknown F0 method {f0_method!r} (choose {' or '.join(F0_METHODS)})")
    x = np.ascontiguousarray(x, dtype=np.float64)
    if f0_method == "dio":
        f0, times = pyworld.dio(x, fs, frame_period=FRAME_PERIOD_MS)
        f0 = pyworld.stonemask(x, f0, times, fs)
    else:
        f0, times = pyworld.harvest(x, fs, frame_period=FRAME_PERIOD_MS)
    return f0, pyworld.cheaptrick(x, f0, times, fs)


@dataclass(frozen=True)
class PairScore:
    """Spectral and F0 scores of one synthesized utterance against its reference."""

    mcd_db: float
    f0: F0Errors
    frames_ref: int
    frames_syn: int
    rate: int
    alpha: float

    def as_dict(self) -> dict:
        return {"mcd_db": self.mcd_db, "f0_rmse_hz": self.f0.rmse_hz, "f0_rmse_cents": self.f0.rmse_cents,
                "vuv_error": self.f0.vuv_error, "voiced_pairs": self.f0.voiced_pairs,
                "vuv_errors": self.f0.vuv_errors, "path_length": self.f0.path_length,
                "frames_ref": self.frames_ref, "frames_syn": self.frames_syn, "rate": self.rate,
                "mcep_alpha": self.alpha}


def score_pair(ref: np.ndarray, syn: np.ndarray, fs: int, *, order: int = MCEP_ORDER,
               alpha: float | None = None, f0_method: str = "dio") -> PairScore:
    """MCD (after DTW on c1..c_order) and F0 errors (on the same path) of ``syn`` against ``ref``,
    both sampled at ``fs``; ``alpha`` defaults to :func:`mcep_alpha` of ``fs``."""
    alpha = mcep_alpha(fs) if alpha is None else float(alpha)
    f0_ref, sp_ref = world_features(ref, fs, f0_method)
    f0_syn, sp_syn = world_features(syn, fs, f0_method)
    mc_ref, mc_syn = sp_to_mcep(sp_ref, order, alpha), sp_to_mcep(sp_syn, order, alpha)
    path = dtw(mc_ref[:, 1:], mc_syn[:, 1:])
    return PairScore(mcd_db(mc_ref, mc_syn, path), f0_errors(f0_ref, f0_syn, path), len(mc_ref), len(mc_syn),
                     fs, alpha)


# ----------------------------------------------------------------------------- intelligibility


def normalize_text(text: str) -> str:
    """Numbers spelled out (``spikespeech.text.numbers.verbalize``), lower case, accents dropped
    (é → e); everything but a-z and word-internal apostrophes becomes a space."""
    text = verbalize(text.replace("\u2019", "'"))
    text = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    text = re.sub(r"[^a-z']+", " ", text)
    return " ".join(w.strip("'") for w in text.split() if w.strip("'"))


class PocketSphinxASR:
    """CMU PocketSphinx with its bundled en-us models; one decoder reused across utterances, each
    decoded independently of the others."""

    name = label = "pocketsphinx"

    def __init__(self):
        try:
            from pocketsphinx import Decoder
        except ImportError as error:
            raise TTSScoreError(f"--asr pocketsphinx: cannot import pocketsphinx ({error})") from None
        try:
            self._decoder = Decoder(loglevel="FATAL")
        except (RuntimeError, ValueError) as error:
            raise TTSScoreError(f"--asr pocketsphinx: cannot load its en-us model ({error})") from None

    def __call__(self, samples: np.ndarray) -> str:
        """The normalised transcript of 16 kHz mono float samples in [-1, 1]."""
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
        # a fresh front end per utterance: its noise estimate and cepstral mean otherwise carry
        # over, and the same audio would be recognized differently depending on what came before
        self._decoder.reinit_feat()
        self._decoder.start_utt()
        self._decoder.process_raw(pcm.tobytes(), full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return normalize_text(re.sub(r"\(\d+\)", "", hyp.hypstr)) if hyp is not None else ""


class WhisperRecognizer:
    """:class:`.whisper_asr.WhisperASR` (optional extra ``whisper``) with normalised output."""

    name = "whisper"

    def __init__(self, model: str = "base"):
        from .whisper_asr import WhisperASR, WhisperError

        try:
            self._asr = WhisperASR(model)
        except WhisperError as error:
            raise TTSScoreError(str(error)) from None
        self.label = self._asr.name

    def __call__(self, samples: np.ndarray) -> str:
        """The normalised transcript of 16 kHz mono float samples in [-1, 1]."""
        return normalize_text(self._asr(samples))


def parse_asr(value: str) -> tuple[str, ...]:
    """``--asr``: a comma-separated list of recognizers (first = the headline WER), or ``none``."""
    names = tuple(name.strip() for name in value.split(","))
    unknown = next((n for n in names if n not in ASR_CHOICES), None)
    if unknown is not None:
        raise TTSScoreError(f"unknown --asr {unknown!r} (choose from {', '.join(ASR_CHOICES)}, "
                            f"comma-separated)")
    if len(set(names)) != len(names) or ("none" in names and len(names) > 1):
        raise TTSScoreError(f"--asr {value}: each recognizer at most once, and none alone")
    return () if names == ("none",) else names


def make_recognizers(names: tuple[str, ...], whisper_model: str = "base") -> dict:
    """{name: callable(16 kHz samples) -> normalised transcript} for the ``--asr`` names."""
    if whisper_model not in WHISPER_MODELS:
        raise TTSScoreError(f"unknown --whisper_model {whisper_model!r} "
                            f"(choose {' or '.join(WHISPER_MODELS)})")
    return {name: PocketSphinxASR() if name == "pocketsphinx" else WhisperRecognizer(whisper_model)
            for name in names}


def word_error_rate(refs: list[str], hyps: list[str]) -> float | None:
    """Pooled WER (errors / reference words) of normalised texts; None without reference words."""
    import jiwer

    pairs = [(r, h) for r, h in zip(refs, hyps, strict=True) if r]
    if not pairs:
        return None
    out = jiwer.process_words([r for r, _ in pairs], [h for _, h in pairs])
    n_ref = out.hits + out.substitutions + out.deletions
    return (out.substitutions + out.deletions + out.insertions) / n_ref


# ----------------------------------------------------------------------------- inputs


def _table(path: Path, what: str) -> dict[str, str]:
    """A Kaldi table (``text`` or ``wav.scp``) as {utt id: rest of the line}, non-empty."""
    from .score import ScoreError, read_text

    try:
        table = read_text(path)
    except ScoreError as exc:
        raise TTSScoreError(str(exc)) from None
    if what == "wav.scp":
        missing = next((utt for utt, value in table.items() if not value), None)
        if missing is not None:
            raise TTSScoreError(f"{path}: {missing}: expected '<utt id> <audio path>'")
    if not table:
        raise TTSScoreError(f"{path}: no utterances")
    return table


def read_wav_scp(path: str | Path) -> dict[str, Path]:
    """A ``wav.scp`` of plain audio paths as {utt id: path}; pipes and segments are refused."""
    from ..audio.recording import ark_offset, pipe_command

    path = Path(path)
    if (path.parent / "segments").is_file():
        raise TTSScoreError(f"{path.parent / 'segments'}: data dirs with segments are not supported "
                            f"(dump the audio per utterance first: python -m spikespeech.recipe.dump)")
    table = _table(path, "wav.scp")
    for utt, value in table.items():
        if pipe_command(value) is not None or ark_offset(value) is not None:
            raise TTSScoreError(f"{path}: entry {utt!r} is a pipe or an ark offset, not an audio file "
                                f"(dump the audio first: python -m spikespeech.recipe.dump)")
    return {utt: Path(value) for utt, value in table.items()}


def _read_reference(path: Path) -> tuple[np.ndarray, int]:
    """Mono float64 samples of a reference file at its own rate (any format :func:`load_audio` reads)."""
    import soundfile as sf

    from ..audio.io import load_audio

    try:
        rate = int(sf.info(str(path)).samplerate)
    except Exception:  # not a libsndfile format (or unreadable): load_audio decides, at 16 kHz
        rate = ASR_RATE
    return load_audio(path, rate).astype(np.float64), rate


def _read_synthesized(path: Path, rate: int) -> np.ndarray:
    """Mono float64 samples of a synthesized WAV at ``rate``. Read by libsndfile only: a broken file
    is reported at once, without the slow decoder fallbacks that references get."""
    import soundfile as sf

    from ..audio.io import AudioError

    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    try:
        samples, file_rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as error:
        reason = " ".join(str(error).split()).split(": ")[-1][:120]
        raise AudioError(f"{path}: not a readable audio file ({reason})") from None
    samples = samples.mean(axis=1)
    if samples.size == 0 or not np.isfinite(samples).all():
        raise AudioError(f"{path}: {'no audio samples' if samples.size == 0 else 'NaN or infinite samples'}")
    return _resample(samples, file_rate, rate)


def _resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``x`` (float64) from ``rate`` to ``target`` Hz with the package's one resampler."""
    from ..audio.io import resample

    return x if rate == target else resample(x, rate, target)


# ----------------------------------------------------------------------------- scoring a test set


def score_dir(ref_scp: str | Path | None, syn_dir: str | Path, text: str | Path | None = None, *,
              asr: str = "pocketsphinx", whisper_model: str = "base", order: int = MCEP_ORDER,
              alpha: float | None = None, f0_method: str = "dio", log=None) -> dict:
    """Score every utterance of ``ref_scp`` against ``syn_dir/<utt>.wav``: the ``scores.json``
    content. ``asr``: see :func:`parse_asr`. ``log`` (a callable) receives one line per
    utterance that could not be scored. Without ``ref_scp`` (sentences nobody recorded) every
    sentence of ``text`` is scored for intelligibility only: no MCD, F0 or reference WER."""
    from ..audio.io import AudioError

    names = parse_asr(asr)
    if f0_method not in F0_METHODS:
        raise TTSScoreError(f"unknown --f0_method {f0_method!r} (choose {' or '.join(F0_METHODS)})")
    if order < 1:
        raise TTSScoreError(f"--mcep_order must be at least 1, not {order}")
    if alpha is not None and not -1.0 < alpha < 1.0:
        raise TTSScoreError(f"--mcep_alpha must lie in (-1, 1), not {alpha}")
    if ref_scp is None and not (names and text is not None):
        raise TTSScoreError("without --ref_scp there is only intelligibility to score: give --text and --asr")
    syn_dir = Path(syn_dir)
    refs = None if ref_scp is None else read_wav_scp(Path(ref_scp))
    if not syn_dir.is_dir():
        raise TTSScoreError(f"{syn_dir}: synthesized-audio dir not found")
    texts: dict[str, str] = {}
    recognizers: dict = {}
    if names:
        if text is None:
            raise TTSScoreError(f"--asr {asr} needs --text (the sentences that were synthesized)")
        texts = _table(Path(text), "text")
        refs = refs if refs is not None else dict.fromkeys(texts)  # no reference audio
        lacking = sorted(set(refs) - set(texts))
        if lacking:
            raise TTSScoreError(f"{text}: no sentence for {len(lacking)} utterance(s) of {ref_scp} "
                                f"(e.g. {lacking[0]})")
        cjk = next((u for u in sorted(refs) if _CJK.search(texts[u])), None)
        if cjk is not None:
            raise TTSScoreError(f"{text}: {cjk} is not English; --asr {asr} scores English only "
                                f"(use --asr none)")
        recognizers = make_recognizers(names, whisper_model)
    seconds = dict.fromkeys(recognizers, 0.0)  # recognition time per recognizer
    missing: dict[str, str] = {}
    utterances: dict[str, dict] = {}
    for utt in sorted(refs):
        try:
            ref, fs = _read_reference(refs[utt]) if refs[utt] is not None else (None, ASR_RATE)
            syn = _read_synthesized(syn_dir / f"{utt}.wav", fs)
        except AudioError as error:
            missing[utt] = str(error)
            if log is not None:
                log(f"{utt}: {error}")
            continue
        try:
            entry = {} if ref is None else score_pair(ref, syn, fs, order=order, alpha=alpha,
                                                      f0_method=f0_method).as_dict()
        except (ValueError, RuntimeError) as error:  # WORLD refusing a degenerate signal
            missing[utt] = f"{syn_dir / utt}.wav: cannot be analysed ({' '.join(str(error).split())[:120]})"
            if log is not None:
                log(f"{utt}: {missing[utt]}")
            continue
        if recognizers:
            entry["text"] = normalize_text(texts[utt])
            audio = {"syn": _resample(syn, fs, ASR_RATE)}
            if ref is not None:
                audio["ref"] = _resample(ref, fs, ASR_RATE)
            entry["asr_hyps"] = {}
            for name, recognize in recognizers.items():
                start = time.perf_counter()
                entry["asr_hyps"][name] = {side: recognize(x) for side, x in audio.items()}
                seconds[name] += time.perf_counter() - start
            first = entry["asr_hyps"][names[0]]
            entry["asr_ref"], entry["asr_syn"] = first.get("ref"), first["syn"]
            entry["asr_wer_ref"] = (None if ref is None
                                    else word_error_rate([entry["text"]], [entry["asr_ref"]]))
            entry["asr_wer_syn"] = word_error_rate([entry["text"]], [entry["asr_syn"]])
        utterances[utt] = entry
    recognized = {name: sum(len(u["asr_hyps"][name]) for u in utterances.values()) for name in recognizers}
    systems = {name: {"label": recognize.label,
                      **_asr_totals(list(utterances.values()), name),
                      "seconds_per_audio": seconds[name] / recognized[name] if utterances else None}
               for name, recognize in recognizers.items()}
    first = systems[names[0]] if names else dict.fromkeys(("wer_syn", "wer_ref", "wer_ratio"))
    return {**_totals(utterances), "asr": names[0] if names else "none", "asr_wer_syn": first["wer_syn"],
            "asr_wer_ref": first["wer_ref"], "asr_wer_ratio": first["wer_ratio"], "asr_systems": systems,
            "n_utterances": len(refs), "n_scored": len(utterances),
            "n_missing": len(missing), "missing": missing,
            "settings": {"frame_period_ms": FRAME_PERIOD_MS, "mcep_order": order,
                         "mcep_alpha": "mel fit at the reference rate" if alpha is None else alpha,
                         "f0_method": f0_method, "sp_floor": SP_FLOOR, "asr": ",".join(names) or "none",
                         **({"whisper_model": whisper_model} if "whisper" in names else {})},
            "definitions": dict(DEFINITIONS), "ref_scp": None if ref_scp is None else str(ref_scp),
            "syn_dir": str(syn_dir),
            "text": None if text is None else str(text), "utterances": utterances}


DEFINITIONS = {
    "mcd_db": "mean over utterances of the mean over the DTW path of (10/ln10)*sqrt(2*sum_{m=1..M} "
              "(c_m-c'_m)^2); c = mel-cepstrum (SPTK sp2mc convention) of the WORLD CheapTrick envelope, "
              "order M, all-pass constant fit to the mel scale; DTW on c1..cM, Euclidean; silence kept",
    "f0_rmse_hz": "RMSE of F0 (WORLD, settings.f0_method, 5 ms) over DTW-aligned frame pairs voiced in "
                  "both, pooled over utterances",
    "f0_rmse_cents": "the same in cents: 1200*log2(F0_syn/F0_ref)",
    "vuv_error": "share of DTW-aligned frame pairs whose voiced/unvoiced decisions differ, pooled",
    "asr_wer": "WER (jiwer, pooled) against --text of the first recognizer of settings.asr (pocketsphinx: "
               "CMU en-us models; whisper: faster-whisper, settings.whisper_model, float32, English, beam 5, "
               "temperature 0, no VAD); both sides with numbers spelled out, lower-cased, all but a-z and "
               "word-internal apostrophes turned into spaces",
    "asr_systems": "the same WERs and ratio for every recognizer of settings.asr, and its mean seconds "
                   "per recognized audio file",
    "asr_wer_ratio": "asr_wer_syn / asr_wer_ref (null when asr_wer_ref is 0)",
}


def _asr_totals(rows: list[dict], name: str) -> dict:
    """Pooled WERs of recognizer ``name`` over scored utterances, and their ratio."""
    refs = [r["text"] for r in rows]
    out = {f"wer_{side}": word_error_rate(refs, [r["asr_hyps"][name][side] for r in rows])
           if rows and all(side in r["asr_hyps"][name] for r in rows) else None
           for side in ("syn", "ref")}
    has_ratio = out["wer_syn"] is not None and bool(out["wer_ref"])
    out["wer_ratio"] = out["wer_syn"] / out["wer_ref"] if has_ratio else None
    return out


def _totals(utterances: dict[str, dict]) -> dict:
    rows = [r for r in utterances.values() if "mcd_db" in r]  # those with a reference
    mcds = [r["mcd_db"] for r in rows]
    voiced = sum(r["voiced_pairs"] for r in rows)
    path = sum(r["path_length"] for r in rows)

    def pooled(key: str) -> float | None:
        if not voiced:
            return None
        return math.sqrt(sum(r["voiced_pairs"] * r[key] ** 2 for r in rows if r["voiced_pairs"]) / voiced)

    out = {"mcd_db": float(np.mean(mcds)) if rows else None,
           "mcd_db_std": float(np.std(mcds)) if rows else None,
           "f0_rmse_hz": pooled("f0_rmse_hz"), "f0_rmse_cents": pooled("f0_rmse_cents"),
           "vuv_error": sum(r["vuv_errors"] for r in rows) / path if path else None}
    return out


# ----------------------------------------------------------------------------- reports


def _fmt(value, scale: float = 1.0, digits: int = 2) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def format_result_md(scores: dict) -> str:
    """The ``result.md`` summary of a ``scores.json`` content."""
    s = scores
    alpha = s["settings"]["mcep_alpha"]
    alphas = sorted({u["mcep_alpha"] for u in s["utterances"].values() if "mcep_alpha" in u})
    alpha_text = ", ".join(f"{a:g}" for a in alphas) if isinstance(alpha, str) else f"{alpha:g}"
    lines = [
        f"# TTS scores: {s['syn_dir']}", "",
        (f"Reference: `{s['ref_scp']}`" if s["ref_scp"] else
         f"No reference audio (sentences of `{s['text']}`): intelligibility only")
        + f"; {s['n_scored']} of {s['n_utterances']} utterances scored"
        + (f", {s['n_missing']} missing or unreadable: {', '.join(sorted(s['missing'])[:10])}"
           + (" …" if s["n_missing"] > 10 else "") if s["n_missing"] else "") + ".", "",
        "| metric | value |", "|---|---|",
        f"| MCD (dB; DTW, c1-c{s['settings']['mcep_order']}, alpha {alpha_text or '-'}) | "
        f"{_fmt(s['mcd_db'])} ± {_fmt(s['mcd_db_std'])} |",
        f"| F0 RMSE (Hz) | {_fmt(s['f0_rmse_hz'])} |",
        f"| F0 RMSE (cents) | {_fmt(s['f0_rmse_cents'], digits=1)} |",
        f"| V/UV error (%) | {_fmt(s['vuv_error'], 100)} |",
    ]
    for system in s.get("asr_systems", {}).values():
        label = system["label"]
        lines += [f"| ASR-WER synthesized (%, {label}) | {_fmt(system['wer_syn'], 100)} |",
                  f"| ASR-WER reference (%, {label}) | {_fmt(system['wer_ref'], 100)} |",
                  f"| ASR-WER ratio synthesized / reference ({label}) | {_fmt(system['wer_ratio'])} |"]
    lines += ["", "What is computed:", ""]
    lines += [f"* `{key}`: {text}" for key, text in s["definitions"].items()
              if s["asr"] != "none" or not key.startswith("asr")]
    return "\n".join(lines) + "\n"


def score_to_dir(ref_scp: str | Path, syn_dir: str | Path, out_dir: str | Path,
                 text: str | Path | None = None, **options) -> dict:
    """:func:`score_dir`, then write ``scores.json`` and ``result.md`` to ``out_dir`` atomically."""
    scores = score_dir(ref_scp, syn_dir, text, **options)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "scores.json", json.dumps(scores, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out_dir / "result.md", format_result_md(scores))
    return scores


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status (1 when utterances are missing, 2 on bad input)."""
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--ref_scp", type=Path, default=None,
                   help="reference wav.scp (plain audio paths); without it, every sentence of --text is "
                        "scored for intelligibility (--asr) only")
    p.add_argument("--syn_dir", type=Path, required=True, help="dir of synthesized <utt id>.wav files")
    p.add_argument("--text", type=Path, default=None, help="Kaldi text of the sentences (for --asr)")
    p.add_argument("--out_dir", type=Path, required=True, help="dir for scores.json and result.md")
    p.add_argument("--asr", default="pocketsphinx",
                   help="recognizers for the intelligibility WER, comma-separated, the first one headlined: "
                        "pocketsphinx, whisper (optional extra: uv sync --extra whisper), e.g. "
                        "whisper,pocketsphinx; none for other languages (default: pocketsphinx)")
    p.add_argument("--whisper_model", "--whisper-model", choices=WHISPER_MODELS, default="base",
                   help="Whisper model for --asr whisper (default: base; tiny.en is ≈ 2× faster)")
    p.add_argument("--f0_method", choices=F0_METHODS, default="dio", help="WORLD F0 estimator (default: dio)")
    p.add_argument("--mcep_order", type=int, default=MCEP_ORDER, help="mel-cepstrum order M (default: 24)")
    p.add_argument("--mcep_alpha", type=float, default=None,
                   help="all-pass constant (default: the mel-scale fit at the reference's rate)")
    args = p.parse_args(argv)

    def log(line: str) -> None:
        print(f"tts_score: missing: {line}", file=sys.stderr)

    try:
        scores = score_to_dir(args.ref_scp, args.syn_dir, args.out_dir, args.text, asr=args.asr,
                              whisper_model=args.whisper_model,
                              order=args.mcep_order, alpha=args.mcep_alpha, f0_method=args.f0_method, log=log)
    except TTSScoreError as exc:
        print(f"tts_score: error: {exc}", file=sys.stderr)
        return 2
    summary = (f"tts_score: {scores['n_scored']} of {scores['n_utterances']} utterances: "
               f"MCD {_fmt(scores['mcd_db'])} dB, F0 RMSE {_fmt(scores['f0_rmse_hz'])} Hz "
               f"({_fmt(scores['f0_rmse_cents'], digits=1)} cents), "
               f"V/UV error {_fmt(scores['vuv_error'], 100)}%")
    for system in scores["asr_systems"].values():
        summary += (f", ASR-WER ({system['label']}) synthesized {_fmt(system['wer_syn'], 100)}% / reference "
                    f"{_fmt(system['wer_ref'], 100)}% (ratio {_fmt(system['wer_ratio'])})")
    print(f"{summary} -> {args.out_dir}")
    if scores["n_missing"]:
        print(f"tts_score: error: {scores['n_missing']} of {scores['n_utterances']} utterances missing or "
              f"unreadable (listed above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
