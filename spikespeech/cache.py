"""The user's spikespeech cache (unpacked packs, the joined Whisper model): one root for all.

``$SPIKESPEECH_CACHE_DIR/<kind>``, else ``$XDG_CACHE_HOME/spikespeech/<kind>`` (``~/.cache/...``);
if that cannot be written, a private (0700, ours alone) dir in the temp dir.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

CACHE_ENV = "SPIKESPEECH_CACHE_DIR"


def user_cache_dir(kind: str) -> Path | None:
    """The writable cache dir for ``kind`` (e.g. ``"packs"``), created; ``None`` if there is none."""
    candidates = []
    if os.environ.get(CACHE_ENV):
        candidates.append(Path(os.environ[CACHE_ENV]) / kind)
    else:
        home_cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        if os.path.isabs(home_cache):  # "~" stays relative when there is no home
            candidates.append(Path(home_cache) / "spikespeech" / kind)
    for candidate in candidates:
        if _writable(candidate):
            return candidate
    private = Path(tempfile.gettempdir()) / f"spikespeech-{os.getuid()}"
    if _writable(private) and _ours_alone(private) and _writable(private / kind) \
            and _ours_alone(private / kind):
        return private / kind
    return None


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def _ours_alone(directory: Path) -> bool:
    # the temp dir is shared with other users, who could have made the dir first
    info = directory.lstat()
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077
