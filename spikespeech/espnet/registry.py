"""Registration of our classes into ESPnet's ``ClassChoices`` registries."""

from __future__ import annotations

from .encoder import IMLSpikeformerEncoder

ENCODERS = {"iml_spikeformer": IMLSpikeformerEncoder}


def register() -> None:
    """Add our encoders to ESPnet's ASR encoder choices (safe to call repeatedly)."""
    from espnet2.tasks import asr

    for name, cls in ENCODERS.items():
        existing = asr.encoder_choices.classes.get(name)
        if existing is not None and existing is not cls:
            raise RuntimeError(f"ESPnet encoder name {name!r} is already taken by {existing}")
        asr.encoder_choices.classes[name] = cls
