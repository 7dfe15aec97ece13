"""Expand CLI audio arguments: files, directories (recursive), Kaldi ``wav.scp``, ``-``."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".sph", ".m4a", ".aiff", ".aif", ".au"}


@dataclass(frozen=True)
class AudioInput:
    utt_id: str
    path: Path


def expand_inputs(args: Iterable[str], stdin=None) -> tuple[list[AudioInput], list[str]]:
    """Return (inputs, errors). Errors are one-line messages for arguments that name nothing.

    ``-`` reads one path (or ``id path`` pair) per line from ``stdin``; a file named
    ``*.scp`` is a Kaldi ``wav.scp`` (``id path`` lines); a directory contributes its audio
    files recursively, in sorted order. Ids default to the file stem, made unique.
    """
    inputs: list[AudioInput] = []
    errors: list[str] = []
    for arg in args:
        if arg == "-":
            stream = stdin if stdin is not None else sys.stdin
            inputs.extend(_from_list(stream.read().splitlines(), "<stdin>", errors))
            continue
        path = Path(arg)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                errors.append(f"{path}: directory contains no audio files")
            inputs.extend(AudioInput(p.stem, p) for p in found)
        elif path.suffix == ".scp" and path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            inputs.extend(_from_list(lines, str(path), errors, require_ids=True))
        else:
            inputs.append(AudioInput(path.stem, path))  # missing files are reported per file
    return _unique(inputs), errors


def _from_list(lines, source, errors, require_ids=False):
    # relative paths are relative to the working directory, as in Kaldi/ESPnet recipes
    out = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and not Path(line).exists():
            utt, spec = parts
        elif require_ids:
            errors.append(f"{source}:{number}: expected 'utterance-id path'")
            continue
        else:
            utt, spec = Path(line).stem, line
        if spec.endswith("|"):
            errors.append(f"{source}:{number}: piped commands are not supported, give a file path")
            continue
        out.append(AudioInput(utt, Path(spec)))
    return out


def _unique(inputs: list[AudioInput]) -> list[AudioInput]:
    counts: dict[str, int] = {}
    out = []
    for item in inputs:
        n = counts.get(item.utt_id, 0)
        counts[item.utt_id] = n + 1
        out.append(item if n == 0 else AudioInput(f"{item.utt_id}-{n + 1}", item.path))
    return out
