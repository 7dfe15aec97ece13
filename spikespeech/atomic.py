"""Atomic file writes: a temporary sibling, then ``os.replace`` onto the target, so a path
always holds either its previous complete content or the new one (never a half-written file,
whatever kills the process). New files get the mode a plain ``open()`` would give them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def file_mode() -> int:
    """The mode ``open()`` gives new files under the current umask (0644 under umask 022)."""
    mask = os.umask(0o022)  # os.umask can only read the mask by setting it
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | Path, write: Callable[[str], None], suffix: str = ".tmp") -> None:
    """``write(tmp_path)`` fills a temporary file beside ``path``, which then replaces ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
