"""Keep the demo's resident memory bounded under load (glibc's allocator; a no-op elsewhere).

Measured with 20 concurrent requests per round (``tests/demo/test_demo_server_hardening.py``):
besides gradio's per-session state (bounded in ``app.launch_kwargs``), RSS kept growing because
every request runs on whichever of gradio's worker threads is free, and glibc gives threads
their own malloc arenas (up to 8 per core), each keeping the freed, fragmented remains of its
largest request (tensors and figures of a different size every time). Two arenas, and handing
free pages back to the OS after each request, keep it flat at a cost of milliseconds per
request.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)
MALLOC_ARENAS = 2


def _glibc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> None:
    """At most ``arenas`` malloc arenas for the threads created from now on (glibc only)."""
    if _LIBC is not None and not _LIBC.mallopt(M_ARENA_MAX, arenas):
        log.debug("mallopt(M_ARENA_MAX) refused")


def release_freed_memory() -> None:
    """Return free heap pages of every arena to the OS (glibc only): call after a request."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
