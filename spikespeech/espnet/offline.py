"""Import ESPnet without its import-time network downloads and console noise.

``espnet2.tasks.asr`` imports ``g2p_en``, which calls ``nltk.download`` at import when its
corpora are missing. This project never downloads at run time, so during that first import
``nltk.download`` is a no-op that logs what it skipped (g2p_en only needs the corpora when
English G2P is used, which our pipelines do not do through g2p_en). ESPnet also
``print``s a notice to stdout when flash-attn is missing, which would corrupt the output of
commands like ``spikespeech transcribe``: stdout is captured during the import and logged
at debug level, and a third-party module's SyntaxWarning is silenced.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import sys
import warnings

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


def import_quietly(name: str, block_downloads: bool = False):
    """Import module ``name`` (once) with its prints kept off stdout (logged at debug level) and,
    with ``block_downloads``, ``nltk.download`` refused (importing nltk costs seconds: only for
    the modules that reach g2p_en); return the module."""
    if name not in sys.modules:
        captured = io.StringIO()
        guard = no_nltk_downloads() if block_downloads else contextlib.nullcontext()
        with guard, contextlib.redirect_stdout(captured), warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=SyntaxWarning)
            import espnet.nets.pytorch_backend.transformer.attention  # noqa: F401  (prints)
            importlib.import_module(name)
        if captured.getvalue().strip():
            log.debug("ESPnet import printed: %s", captured.getvalue().strip())
    return sys.modules[name]


def import_espnet_task(task: str = "asr"):
    """Import ``espnet2.tasks.<task>`` (once) with downloads blocked; return the module."""
    return import_quietly(f"espnet2.tasks.{task}", block_downloads=True)
