"""The demo's private output directory: the only place it writes files.

Synthesized audio is written here (gradio then copies what it serves into its own cache);
inputs are only ever read. The directory is removed by :meth:`Workspace.close`, which also
runs at interpreter exit.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import numpy as np


class Workspace:
    """A fresh ``spikespeech-demo-*`` temporary directory (mode 0700) holding the newest
    ``keep`` output files; older ones are deleted as new ones arrive, so a long-running demo
    does not fill the disk."""

    def __init__(self, keep: int = 64) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="spikespeech-demo-")).resolve()
        self.keep = keep
        self._files: list[Path] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def write_wav(self, wav: np.ndarray, rate: int, stem: str = "speech") -> Path:
        """Mono float ``wav`` (samples,) in [-1, 1] → a new 16-bit PCM wav here; its path."""
        from ..audio.write import write_audio

        if not self.root.is_dir():
            raise RuntimeError("the demo's output directory is closed")
        path = self.root / f"{stem}-{uuid.uuid4().hex[:12]}.wav"
        write_audio(path, wav, rate, "wav")
        with self._lock:
            self._files.append(path)
            old, self._files = self._files[: -self.keep], self._files[-self.keep:]
        for stale in old:
            stale.unlink(missing_ok=True)
        return path

    def owns(self, path: str | Path) -> bool:
        """Whether ``path`` lies inside this workspace."""
        return Path(path).resolve().is_relative_to(self.root)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.close)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
