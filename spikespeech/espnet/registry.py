"""Registration of our classes into ESPnet's ``ClassChoices`` registries."""

from __future__ import annotations

import importlib

from .offline import import_espnet_task

# name in ESPnet's registry: (module here, class); imported when registering
ENCODERS = {"iml_spikeformer": (".encoder", "IMLSpikeformerEncoder")}  # espnet2.tasks.asr.encoder_choices
TTS_MODELS = {"spikevoice": (".tts", "ESPnetSpikeVoice")}  # espnet2.tasks.tts.tts_choices
DECODERS = {"iml_spikeformer": (".decoder", "IMLSpikeformerDecoder")}  # espnet2.tasks.asr.decoder_choices


def register() -> None:
    """Add our encoder, decoder and TTS model to ESPnet's choices, importing ESPnet's ASR and TTS tasks
    offline first (seconds, once). Safe to call repeatedly."""
    _add(import_espnet_task("asr").encoder_choices, ENCODERS, "encoder")
    _add(import_espnet_task("asr").decoder_choices, DECODERS, "decoder")
    _add(import_espnet_task("tts").tts_choices, TTS_MODELS, "tts")


def _add(choices, classes: dict, what: str) -> None:
    for name, (module, attribute) in classes.items():
        cls = getattr(importlib.import_module(module, __package__), attribute)
        existing = choices.classes.get(name)
        if existing is not None and existing is not cls:
            raise RuntimeError(f"ESPnet {what} name {name!r} is already taken by {existing}")
        choices.classes[name] = cls
