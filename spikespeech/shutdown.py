"""Clean shutdown on SIGTERM: the same path as Ctrl-C, so ``finally`` blocks and context
managers run (temporary files removed, outputs left complete) instead of the process dying
where it stands."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM; handled wherever Ctrl-C is."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``); the
    previous handler is restored after it. Outside the main thread signals are left alone."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: Python only lets that one handle signals
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
