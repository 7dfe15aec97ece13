"""Load audio as mono float32 at a target rate, with one-line errors naming the file."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np

from ..errors import SpikespeechError


class AudioError(SpikespeechError):
    """An input file is unreadable, empty or not valid audio (message names the file)."""


def load_audio(path: str | Path, target_rate: int) -> np.ndarray:
    """Read ``path`` (wav, flac, ogg, sph via soundfile; mp3 and others via librosa),
    mix to mono, resample to ``target_rate``; returns float32 samples in [-1, 1]."""
    path = Path(path)
    check_audio_file(path)
    cut = wav_shortfall(path)
    if cut is not None:
        raise AudioError(f"{path}: truncated WAV (header says {cut[0]:.2f} s, file holds {cut[1]:.2f} s)")
    samples, rate = _read(path)
    return mono_at_rate(samples, rate, target_rate, str(path))


def mono_at_rate(samples: np.ndarray, rate: int, target_rate: int, source: str) -> np.ndarray:
    """Decoded samples (``(time,)`` or ``(time, channel)``; float in [-1, 1], or 8/16/32-bit PCM
    integers) as mono float32 at ``target_rate``; empty or non-finite audio is an
    :class:`AudioError` naming ``source``."""
    if samples.dtype.kind in "iu":  # PCM as integers: unsigned 8-bit is offset by 128, as in WAV
        bits = 8 * samples.dtype.itemsize
        offset = 2 ** (bits - 1) if samples.dtype.kind == "u" else 0
        samples = (samples.astype(np.float64) - offset) / 2 ** (bits - 1)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if samples.size == 0:
        raise AudioError(f"{source}: contains no audio samples")
    if not np.isfinite(samples).all():
        raise AudioError(f"{source}: contains NaN or infinite samples")
    samples = samples.astype(np.float32, copy=False)
    if rate != target_rate:
        samples = resample(samples, rate, target_rate)
    return np.ascontiguousarray(samples, dtype=np.float32)


def check_audio_file(path: str | Path) -> None:
    """Raise :class:`AudioError` if ``path`` is missing, a directory or empty (cheap: no decoding),
    so that callers can reject inputs before loading a model."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")


def wav_shortfall(path: str | Path) -> tuple[float, float] | None:
    """``(seconds the header declares, seconds present)`` for a RIFF/WAVE file whose data chunk
    is cut short (an interrupted copy or download), else ``None``.

    libsndfile silently reads what is there; this compares the data chunk's declared size with
    the bytes after it. Sizes 0 and 0xFFFFFFFF mean "unknown" (streamed WAVs) and pass."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        byte_rate = 0
        while True:
            header = f.read(8)
            if len(header) < 8:
                return None
            chunk, length = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"data":
                present = size - f.tell()
                if length in (0, 0xFFFFFFFF) or length <= present or not byte_rate:
                    return None
                return length / byte_rate, present / byte_rate
            skip = length + length % 2  # chunks are word-aligned
            if chunk == b"fmt ":
                body = f.read(length)
                byte_rate = struct.unpack_from("<I", body, 8)[0] if len(body) >= 12 else 0
                skip -= len(body)
            f.seek(skip, 1)


def _read(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    try:
        samples, rate = sf.read(str(path), dtype="float32", always_2d=False)
        return samples, int(rate)
    except sf.LibsndfileError as sf_error:
        soundfile_problem = str(sf_error)
    except RuntimeError as sf_error:  # older soundfile raises RuntimeError
        soundfile_problem = str(sf_error)
    try:  # formats libsndfile lacks (mp3 on old builds, m4a…): librosa's audioread path
        import librosa

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            samples, rate = librosa.load(str(path), sr=None, mono=False)
    except Exception:
        raise AudioError(f"{path}: not a readable audio file ({_short(soundfile_problem)})") from None
    samples = samples.T if samples.ndim == 2 else samples  # librosa is channels-first
    return samples.astype(np.float32), int(rate)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Mono float samples from ``rate`` to ``target`` Hz (torchaudio's windowed sinc)."""
    import torch
    import torchaudio.functional as AF

    with torch.no_grad():
        return AF.resample(torch.from_numpy(samples), rate, target).numpy()


def _short(message: str) -> str:
    message = " ".join(message.split())
    if message.startswith("Error opening "):  # libsndfile repeats the path; keep the reason
        message = message.split(": ", 1)[-1]
    return message[:120]
