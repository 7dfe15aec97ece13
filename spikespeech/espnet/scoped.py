"""Temporarily replace a module global of ESPnet's, for one call.

ESPnet's ``Speech2Text`` / ``Text2Speech`` look their task class up in their module's globals
(``ASRTask.build_model_from_file``) and ``inference()`` builds the module-global
``Speech2Text``: there is no argument to pass ours. Swapping the global for the duration of
one call, under a lock, keeps the rest of the process (another library using ESPnet's own
classes afterwards) unaffected; a thread using those ESPnet names *during* our call would see
ours, which no other mechanism avoids.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from types import ModuleType

_LOCK = threading.RLock()


@contextlib.contextmanager
def swapped(module: ModuleType, name: str, value) -> Iterator[None]:
    """``module.name`` is ``value`` inside the ``with`` block, its own value again after it."""
    with _LOCK:
        saved = getattr(module, name)
        setattr(module, name, value)
        try:
            yield
        finally:
            setattr(module, name, saved)
