"""Reading a recording named by a Kaldi ``wav.scp`` value (rxspecifier: a file path, a ``cmd |``
pipe or ``file.ark:offset``), its duration, and cutting a ``segments`` span out of it."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .io import AudioError, load_audio, mono_at_rate

MAX_SEGMENT_OVERSHOOT_SEC = 0.5  # as Kaldi's extract-segments: longer overshoots are errors
# Ours: kaldiio's ark-path parser is private and takes an existing file named "a:1" for an offset.
_ARK_OFFSET = re.compile(r"(.+):\d+(\[[^\]]*\])?")


def pipe_command(spec: str) -> str | None:
    """The command of a Kaldi pipe entry (``cmd |``), or None for a file path."""
    spec = spec.strip()
    return spec[:-1].strip() if spec.endswith("|") else None


def ark_offset(spec: str) -> Path | None:
    """The archive of a ``file.ark:offset`` entry (a file of that whole name wins), else None."""
    spec = spec.strip()
    match = _ARK_OFFSET.fullmatch(spec)
    if match is None or pipe_command(spec) is not None or Path(spec).exists():
        return None
    return Path(match.group(1))


def recording_file(spec: str) -> Path | None:
    """The file a ``wav.scp`` value reads (the archive of an ark offset), or None for a command
    (``... |``) or stdin (``-``)."""
    spec = spec.strip()
    if pipe_command(spec) is not None or spec == "-":
        return None
    return ark_offset(spec) or Path(spec)


def read_recording(spec: str, fs: int) -> np.ndarray:
    """Mono float32 audio at ``fs`` from a ``wav.scp`` value (file path, ``cmd |`` or ark offset)."""
    command = pipe_command(spec)
    if command is not None:
        return _read_pipe(spec, command, fs)
    if ark_offset(spec) is not None:
        rate, samples = _load_ark(spec.strip())
        return mono_at_rate(samples, rate, fs, spec.strip())
    # Not kaldiio: it reads 8/16-bit WAV and FLAC only (float WAV: ValueError; test_kaldiio_audio_limits).
    return load_audio(spec.strip(), fs)


def _read_pipe(spec: str, command: str, fs: int) -> np.ndarray:
    # Not kaldiio: it ignores the exit status and stderr and cannot decode SPHERE (test_kaldiio_audio_limits).
    if not command:
        raise AudioError(f"{spec!r}: empty pipe command")
    proc = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {lines[-1][:120]}" if lines else ""
        raise AudioError(f"`{command}`: exited with status {proc.returncode}{detail}")
    if not proc.stdout:
        raise AudioError(f"`{command}`: wrote no audio to stdout")
    with tempfile.TemporaryDirectory(prefix="spikespeech-pipe-") as folder:
        path = Path(folder) / "stdout"
        path.write_bytes(proc.stdout)
        try:
            return load_audio(path, fs)
        except AudioError as error:
            raise AudioError(str(error).replace(str(path), f"output of `{command}`")) from None


def _load_ark(spec: str) -> tuple[int, np.ndarray]:
    """``(rate, samples)`` of audio stored in a Kaldi archive (as ``wav-copy`` or
    ``kaldiio.save_ark`` write it), read by kaldiio."""
    import kaldiio

    archive = ark_offset(spec)
    if archive is not None and not archive.is_file():
        raise AudioError(f"{archive}: no such file")
    try:
        loaded = kaldiio.load_mat(spec)
    except Exception as error:  # kaldiio raises ValueError, RuntimeError, AssertionError, OSError...
        reason = " ".join(str(error).split())[:120] or type(error).__name__
        raise AudioError(f"{spec}: not readable from the archive ({reason})") from None
    if not isinstance(loaded, tuple):
        raise AudioError(f"{spec}: holds a {np.shape(loaded)} matrix, not audio")
    return int(loaded[0]), np.asarray(loaded[1])


def recording_duration(spec: str) -> float:
    """Seconds of audio in a ``wav.scp`` value: a file's header (soundfile), or an ark offset's
    samples (kaldiio). A command is a ValueError: it is not run."""
    command = pipe_command(spec)
    if command is not None:
        raise ValueError(f"`{command}`: the duration of a command's audio is unknown")
    spec = spec.strip()
    if ark_offset(spec) is not None:
        try:
            rate, samples = _load_ark(spec)
        except AudioError as error:
            raise ValueError(f"cannot read the duration of {spec} ({error})") from None
        return samples.shape[0] / rate
    import soundfile  # only needed here

    try:
        return float(soundfile.info(spec).duration)
    except Exception as e:  # soundfile raises its own LibsndfileError (or TypeError) for bad files
        raise ValueError(f"cannot read the duration of {spec} ({e})") from None


def cut_segment(audio: np.ndarray, fs: int, start: float, end: float | None) -> np.ndarray:
    """Samples ``round(start*fs) .. round(end*fs)`` (``end`` None: to the end).

    An end up to :data:`MAX_SEGMENT_OVERSHOOT_SEC` past the recording is clipped (as Kaldi does).
    """
    total = audio.shape[0]
    first = int(round(start * fs))
    last = total if end is None else int(round(end * fs))
    span = f"segment {start:g}-{'end' if end is None else f'{end:g}'} s"
    if last > total:
        if last - total > MAX_SEGMENT_OVERSHOOT_SEC * fs:
            raise AudioError(f"{span} ends past the recording ({total / fs:.3f} s)")
        last = total
    if first >= last:
        raise AudioError(f"{span} holds no samples (recording is {total / fs:.3f} s)")
    return audio[first:last]
