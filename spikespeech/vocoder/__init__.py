"""Vocoders for the TTS pipeline: log-mel (ESPnet ``fbank`` features) → waveform.

* :class:`MelSpec` — ESPnet ``LogMelFbank`` analysis settings and an exact re-implementation.
* :class:`GriffinLimVocoder` — mel pseudo-inverse + NNLS refinement + fast Griffin-Lim (torch).
* :class:`HiFiGANVocoder` — a HiFi-GAN generator trained by ``spikespeech.bin.vocoder_train``.
* :func:`load_vocoder` — ``None`` / ``"griffin_lim[:opts]"`` / a vocoder dir or zip → vocoder,
  checked against the TTS model's :class:`MelSpec` (:func:`mel_spec_of_model`).

Importing this package does not import ESPnet (only :func:`mel_spec_of_model`, building a
HiFi-GAN and training do, from ``espnet2.gan_tts`` and ``espnet2.tts.feats_extract``).
"""

from .griffin_lim import GriffinLimVocoder, griffin_lim, mel_to_linear
from .hifigan import HiFiGANVocoder, build_discriminator, build_generator
from .loading import Vocoder, VocoderError, load_vocoder, mel_spec_of_config, mel_spec_of_model
from .mel import MelSpec

__all__ = [
    "GriffinLimVocoder",
    "HiFiGANVocoder",
    "MelSpec",
    "Vocoder",
    "VocoderError",
    "build_discriminator",
    "build_generator",
    "griffin_lim",
    "load_vocoder",
    "mel_spec_of_config",
    "mel_spec_of_model",
    "mel_to_linear",
]
