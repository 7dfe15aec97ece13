"""Audio input: robust loading (any rate, any channel count) and input expansion."""

from .inputs import AudioInput, expand_inputs
from .io import AudioError, load_audio, resample

__all__ = ["AudioError", "AudioInput", "expand_inputs", "load_audio", "resample"]
