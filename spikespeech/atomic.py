"""Atomic file writes: a temporary sibling, then ``os.replace`` onto the target, so a path
always holds either its previous complete content or the new one (never a half-written file,
whatever kills the process). New files get the mode a plain ``open()`` would give them.

Temporary siblings are named ``.{name}.{pid}.XXXXXXXX.tmp``: a process killed by SIGKILL
cannot remove its own, so the next write into that directory removes those whose writer
(``pid``) is no longer alive."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

# ``.{name}.{pid}.{8 characters of tempfile's random names}.tmp``
_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp")
_swept: set[str] = set()  # directories already swept by this process


def file_mode() -> int:
    """The mode ``open()`` gives new files under the current umask (0644 under umask 022)."""
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read from /proc where Linux has it: ``os.umask`` can only read the mask
    by setting it, which would race with other threads creating files (the demo writes from
    worker threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # elsewhere: set and restore, serialised between our own writers
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()


def temp_prefix(name: str) -> str:
    """Prefix of this process's temporary siblings of ``name`` (for ``tempfile.mk*temp``,
    with ``suffix=".tmp"``): ``remove_stale_temps`` recognises them by it."""
    return f".{name}.{os.getpid()}."


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (owned by anyone) on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


def remove_stale_temps(directory: str | Path) -> list[Path]:
    """Remove the temporary files and dirs in ``directory`` (named by :func:`temp_prefix`)
    whose writer is dead, e.g. killed by SIGKILL mid-write; returns the removed paths."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None or pid_alive(int(match["pid"])):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:  # another process removed it first
            continue
        except OSError:  # not ours to remove (permissions): leave it
            continue
        removed.append(path)
    return removed


def atomic_write(path: str | Path, write: Callable[[str], None], suffix: str = ".tmp") -> None:
    """``write(tmp_path)`` fills a temporary file beside ``path``, which then replaces ``path``.

    Only temporary files with the default ``suffix`` are recognised as stale later."""
    path = Path(path)
    _sweep_once(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path.name), suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sweep_once(directory: Path) -> None:
    # once per directory and process: listing a directory of thousands of dumped files on
    # every write would make writing them quadratic
    key = os.path.abspath(directory)
    if key not in _swept:
        _swept.add(key)
        remove_stale_temps(directory)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
