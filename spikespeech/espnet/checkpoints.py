"""Crash-safe checkpoint writing for ESPnet's trainer.

ESPnet's trainer writes ``checkpoint.pth`` and ``{epoch}epoch.pth`` with ``torch.save``
straight to the final path: a process killed during the write (``kill -9``, OOM killer,
node loss) leaves a truncated ``checkpoint.pth``, and ``--resume true`` then fails on it.
:func:`install_atomic_torch_save` makes ``torch.save`` to a file path write a temporary
file beside it and ``os.replace`` it into place, so a path always holds either the
previous complete file or the new one. Installed by our training entry points only: ESPnet's
trainer offers no hook for how it writes (``espnet2/train/trainer.py`` calls ``torch.save``
itself), so no narrower mechanism exists, and those processes exist to run that trainer.
"""

from __future__ import annotations

import os

import torch

from ..atomic import atomic_write

_original_save = torch.save


def _atomic_save(obj, f, *args, **kwargs):
    if not isinstance(f, (str, os.PathLike)):  # file objects/buffers: the caller's business
        return _original_save(obj, f, *args, **kwargs)
    atomic_write(f, lambda tmp: _original_save(obj, tmp, *args, **kwargs))


def install_atomic_torch_save() -> None:
    """Make ``torch.save(obj, path)`` atomic in this process (idempotent)."""
    torch.save = _atomic_save
