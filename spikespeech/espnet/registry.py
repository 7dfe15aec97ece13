"""Registration of our classes into ESPnet's ``ClassChoices`` registries."""

from __future__ import annotations

from ._offline import import_espnet_task
from .encoder import IMLSpikeformerEncoder
from .tts import ESPnetSpikeVoice

ENCODERS = {"iml_spikeformer": IMLSpikeformerEncoder}  # espnet2.tasks.asr.encoder_choices
TTS_MODELS = {"spikevoice": ESPnetSpikeVoice}  # espnet2.tasks.tts.tts_choices


def register() -> None:
    """Add our encoders and TTS models to ESPnet's choices (safe to call repeatedly)."""
    _add(import_espnet_task("asr").encoder_choices, ENCODERS, "encoder")
    _add(import_espnet_task("tts").tts_choices, TTS_MODELS, "tts")


def _add(choices, classes: dict, what: str) -> None:
    for name, cls in classes.items():
        existing = choices.classes.get(name)
        if existing is not None and existing is not cls:
            raise RuntimeError(f"ESPnet {what} name {name!r} is already taken by {existing}")
        choices.classes[name] = cls
