"""Write audio files: 16-bit PCM, atomically (a temporary sibling renamed into place)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_write

AUDIO_FORMATS = {"wav": "WAV", "flac": "FLAC"}  # our format names → soundfile container names


def write_audio(path: str | Path, samples: np.ndarray, rate: int, audio_format: str = "wav") -> int:
    """Write mono ``samples`` (float, [-1, 1]; clipped) as 16-bit PCM ``audio_format`` (a key of
    :data:`AUDIO_FORMATS`) via a temporary file + rename, so ``path`` is never half-written;
    returns the frames written."""
    import soundfile as sf

    pcm = np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)
    atomic_write(path, lambda tmp: sf.write(tmp, pcm, rate, format=AUDIO_FORMATS[audio_format],
                                            subtype="PCM_16"))
    return int(pcm.shape[0])
