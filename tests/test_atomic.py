"""Atomic writes (spikespeech.atomic): the file mode follows the umask without touching it."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from spikespeech.atomic import atomic_write_text, file_mode


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the umask from /proc")
def test_file_mode_reads_the_umask_without_setting_it(monkeypatch):
    saved = os.umask(0o027)
    os.umask(saved)
    try:
        os.umask(0o027)

        def refuse(mask):  # setting the umask races with threads creating files
            raise AssertionError("file_mode() changed the process umask")

        monkeypatch.setattr(os, "umask", refuse)
        assert file_mode() == 0o640
    finally:
        monkeypatch.undo()
        os.umask(saved)


def test_concurrent_writes_get_the_umask_mode(tmp_path: Path):
    saved = os.umask(0o022)
    try:
        def write(i: int) -> None:
            for j in range(20):
                atomic_write_text(tmp_path / f"{i}-{j}.txt", "x")

        threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        modes = {(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()}
        assert modes == {0o644} and len(list(tmp_path.iterdir())) == 80
    finally:
        os.umask(saved)
