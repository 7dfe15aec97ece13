"""Expand CLI audio arguments: files, directories (recursive), Kaldi ``wav.scp``, ``-``."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..data.kaldi import numbered_lines
from ..errors import SpikespeechError
from .recording import pipe_command

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".sph", ".m4a", ".aiff", ".aif", ".au"}


@dataclass(frozen=True)
class AudioInput:
    utt_id: str
    path: Path
    named: bool = False  # the id was given ('id path' in a wav.scp or on stdin), not the file's stem


def expand_inputs(args: Iterable[str], stdin=None) -> tuple[list[AudioInput], list[str]]:
    """Return (inputs, errors). Errors are one-line messages for arguments that name nothing.

    ``-`` reads one path (or ``id path`` pair) per line from ``stdin``; a file named
    ``*.scp`` is a Kaldi ``wav.scp`` (``id path`` lines); a directory contributes its audio
    files recursively, in sorted order. Ids default to the file stem; files with the same stem
    in different folders get the path below their common folder instead, ``/`` written ``-``
    (``one/digit.wav``, ``two/digit.wav`` → ``one-digit``, ``two-digit``), so an id says which
    file it was. An id still repeated (the same file twice, a repeated wav.scp id) gets ``-2``, ``-3``…
    """
    inputs: list[AudioInput] = []
    errors: list[str] = []
    for arg in args:
        if arg == "-":
            stream = stdin if stdin is not None else sys.stdin
            inputs.extend(_from_list(enumerate(stream.read().splitlines(), 1), "<stdin>", errors))
            continue
        path = Path(arg)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                errors.append(f"{path}: directory contains no audio files")
            inputs.extend(AudioInput(p.stem, p) for p in found)
        elif path.suffix == ".scp" and path.is_file():
            try:
                lines = numbered_lines(path)
            except SpikespeechError as error:
                errors.append(str(error))
                continue
            inputs.extend(_from_list(lines, str(path), errors, require_ids=True))
        else:
            inputs.append(AudioInput(path.stem, path))  # missing files are reported per file
    return _unique(inputs), errors


def _from_list(lines, source, errors, require_ids=False):
    # Not read_table: a list may also hold bare paths (spaces allowed) and # comments, as stdin does.
    # relative paths are relative to the working directory, as in Kaldi/ESPnet recipes
    out = []
    for number, raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and not Path(line).exists():
            utt, spec, named = *parts, True
        elif require_ids:
            errors.append(f"{source}:{number}: expected 'utterance-id path'")
            continue
        else:
            utt, spec, named = Path(line).stem, line, False
        if pipe_command(spec) is not None:
            errors.append(f"{source}:{number}: piped commands are not supported, give a file path")
            continue
        out.append(AudioInput(utt, Path(spec), named))
    return out


def _unique(inputs: list[AudioInput]) -> list[AudioInput]:
    stems: dict[str, set[Path]] = defaultdict(set)
    for item in inputs:
        if not item.named:
            stems[item.utt_id].add(Path(os.path.abspath(item.path)))
    from_paths: dict[Path, str] = {}
    for paths in stems.values():
        if len(paths) > 1:
            from_paths.update(_ids_below_common_folder(paths))
    counts: dict[str, int] = {}
    out = []
    for item in inputs:
        utt_id = item.utt_id if item.named else from_paths.get(Path(os.path.abspath(item.path)), item.utt_id)
        n = counts.get(utt_id, 0)
        counts[utt_id] = n + 1
        out.append(AudioInput(utt_id if n == 0 else f"{utt_id}-{n + 1}", item.path, item.named))
    return out


def _ids_below_common_folder(paths: set[Path]) -> dict[Path, str]:
    """Distinct paths of one stem → their path below the common folder, ``-``-joined, without
    the extension unless only the extension tells them apart (``a.wav``, ``a.flac``)."""
    common = Path(os.path.commonpath([str(p) for p in paths]))
    relative = {p: p.relative_to(common) for p in paths}
    ids = {p: "-".join(rel.with_suffix("").parts) for p, rel in relative.items()}
    repeated = {i for i in ids.values() if list(ids.values()).count(i) > 1}
    return {p: "-".join(relative[p].parts) if i in repeated else i for p, i in ids.items()}
