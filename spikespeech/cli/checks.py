"""Checks the sub-commands run before any model loads (loading takes seconds), so that a bad
argument fails at once rather than after the work. Each raises ``ValueError`` with one line
naming the argument (``main`` prints it, exit code 2)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import SpikespeechError


def check_output_path(path: str | Path, directory: bool = False) -> None:
    """Raise unless ``path`` can be written: as a file (default), or as a directory (existing or
    created with its parents). Probes by creating and removing a temporary entry where the
    output will go, which also catches read-only and pseudo file systems (``/proc``) that
    permission bits (always granted to root) do not show."""
    path = Path(path)
    if path.is_dir() and not directory:
        raise SpikespeechError(f"{path}: is a directory (give a file name)")
    if path.exists() and directory and not path.is_dir():
        raise SpikespeechError(f"{path}: exists and is not a directory")
    target = path if directory and path.is_dir() else path.parent
    ancestor = target
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise SpikespeechError(f"{path}: cannot be created ({ancestor} is a file, not a directory)")
    try:
        if ancestor == target:  # the name itself as atomic writes will use it (too long?)
            fd, probe = tempfile.mkstemp(dir=ancestor, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        else:  # folders to create: can the first one be?
            os.rmdir(tempfile.mkdtemp(dir=ancestor, prefix=".spikespeech-probe."))
    except OSError as exc:
        raise SpikespeechError(f"{path}: cannot be written ({exc.strerror} in {ancestor})") from None


def model_path(model: str | None, task: str) -> Path:
    """``--model``, or the shipped default model of ``task`` (``asr``/``tts``), checked to exist."""
    from ..models import MissingDefaultModel, resolve_model

    try:
        path = resolve_model(model, task)
    except MissingDefaultModel as exc:
        raise SpikespeechError(str(exc)) from None
    if not path.exists():
        raise SpikespeechError(f"{path}: model not found")
    return path
