"""Audio input: robust loading (any rate, any channel count) and input expansion."""

from .inputs import AudioInput, expand_inputs
from .io import AudioError, check_audio_file, load_audio, resample, wav_shortfall

__all__ = ["AudioError", "AudioInput", "check_audio_file", "expand_inputs", "load_audio", "resample",
           "wav_shortfall"]
