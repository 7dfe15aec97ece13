"""Reading a recording named by a Kaldi ``wav.scp`` value (a file path or a ``cmd |`` pipe), and
cutting a ``segments`` span out of it."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .io import AudioError, load_audio

MAX_SEGMENT_OVERSHOOT_SEC = 0.5  # as Kaldi's extract-segments: longer overshoots are errors


def pipe_command(spec: str) -> str | None:
    """The command of a Kaldi pipe entry (``cmd |``), or None for a file path."""
    spec = spec.strip()
    return spec[:-1].strip() if spec.endswith("|") else None


def read_recording(spec: str, fs: int) -> np.ndarray:
    """Mono float32 audio at ``fs`` from a ``wav.scp`` value (file path or ``cmd |``)."""
    command = pipe_command(spec)
    if command is None:
        return load_audio(spec.strip(), fs)
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
