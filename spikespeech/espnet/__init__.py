"""ESPnet adapters: our encoder, decoder and TTS model as ESPnet classes, strict loading, decoding modes.

Importing this package imports nothing of ESPnet. :func:`register` (idempotent) adds
``iml_spikeformer`` to ``espnet2.tasks.asr.encoder_choices`` and ``decoder_choices``, and ``spikevoice`` to
``espnet2.tasks.tts.tts_choices``, importing ESPnet's tasks offline (seconds); entry points that
launch ESPnet training call it at import, which also covers the worker processes ESPnet spawns
for multi-GPU training (they re-import the launching module). The names below are imported on
first use.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "ESPnetSpikeVoice": ".tts",
    "IMLSpikeformerDecoder": ".decoder",
    "IMLSpikeformerEncoder": ".encoder",
    "StrictASRTask": ".strict",
    "StrictTTSTask": ".strict",
    "load_state_dict_strict": ".weights",
    "register": ".registry",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)
