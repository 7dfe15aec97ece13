"""Load audio as mono float32 at a target rate, with one-line errors naming the file."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np


class AudioError(ValueError):
    """An input file is unreadable, empty or not valid audio (message names the file)."""


def load_audio(path: str | Path, target_rate: int) -> np.ndarray:
    """Read ``path`` (wav, flac, ogg, sph via soundfile; mp3 and others via librosa),
    mix to mono, resample to ``target_rate``; returns float32 samples in [-1, 1]."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    samples, rate = _read(path)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if samples.size == 0:
        raise AudioError(f"{path}: contains no audio samples")
    if not np.isfinite(samples).all():
        raise AudioError(f"{path}: contains NaN or infinite samples")
    if rate != target_rate:
        samples = resample(samples, rate, target_rate)
    return np.ascontiguousarray(samples, dtype=np.float32)


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
