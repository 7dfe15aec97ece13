"""Import ESPnet without its import-time network downloads.

``espnet2.tasks.asr`` imports ``g2p_en``, which calls ``nltk.download`` at import when its
corpora are missing. This project never downloads at run time, so during that first import
``nltk.download`` is a no-op that logs what it skipped (g2p_en only needs the corpora when
English G2P is used, which our pipelines do not do through g2p_en).
"""

from __future__ import annotations

import contextlib
import logging
import sys

log = logging.getLogger(__name__)


@contextlib.contextmanager
def no_nltk_downloads():
    try:
        import nltk
    except ImportError:  # nothing to guard
        yield
        return
    original = nltk.download

    def refuse(info_or_id=None, *args, **kwargs):
        log.debug("skipped nltk.download(%r): spikespeech never downloads at run time", info_or_id)
        return False

    nltk.download = refuse
    try:
        yield
    finally:
        nltk.download = original


def import_espnet_asr():
    """Import ``espnet2.tasks.asr`` (once) with downloads blocked; return the module."""
    if "espnet2.tasks.asr" not in sys.modules:
        with no_nltk_downloads():
            import espnet2.tasks.asr  # noqa: F401
    return sys.modules["espnet2.tasks.asr"]
