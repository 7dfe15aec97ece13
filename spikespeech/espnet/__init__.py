"""ESPnet adapters: registering spikespeech models into ESPnet's registries.

Importing this package registers ``iml_spikeformer`` in ``espnet2.tasks.asr.encoder_choices``
and ``spikevoice`` in ``espnet2.tasks.tts.tts_choices`` (idempotent). ESPnet takes seconds to
import, so ``import spikespeech`` does not do this; entry points that launch ESPnet training
import it first, which also covers the worker processes ESPnet spawns for multi-GPU training
(they re-import the launching module).
"""

from __future__ import annotations

from ._offline import import_espnet_asr

import_espnet_asr()  # first, so that no ESPnet import can try to download

from .encoder import IMLSpikeformerEncoder  # noqa: E402
from .registry import register  # noqa: E402
from .strict import StrictASRTask, StrictTTSTask, load_state_dict_strict  # noqa: E402
from .tts import ESPnetSpikeVoice  # noqa: E402

register()

__all__ = ["ESPnetSpikeVoice", "IMLSpikeformerEncoder", "StrictASRTask", "StrictTTSTask",
           "load_state_dict_strict", "register"]
