"""ESPnet tasks with strict, weights-only checkpoint loading (:mod:`.weights`).

Importing this module imports ESPnet's ASR and TTS tasks (offline, seconds); building a model
registers our classes first (:func:`~spikespeech.espnet.registry.register`).
"""

from __future__ import annotations

from .offline import import_espnet_task
from .registry import register
from .weights import load_state_dict_strict

ASRTask = import_espnet_task("asr").ASRTask
TTSTask = import_espnet_task("tts").TTSTask


class _StrictLoading:
    """Mixin for an ESPnet task: ``build_model_from_file`` loads weights strictly and weights-only."""

    @classmethod
    def build_model_from_file(cls, config_file=None, model_file=None, device="cpu"):
        register()  # a config may name our encoder or TTS model
        model, args = super().build_model_from_file(config_file, None, device)
        if model_file is not None:
            load_state_dict_strict(model, model_file, "cpu" if device == "mps" else device)
        return model, args


class StrictASRTask(_StrictLoading, ASRTask):
    """``ASRTask`` whose ``build_model_from_file`` loads weights strictly and weights-only."""


class StrictTTSTask(_StrictLoading, TTSTask):
    """``TTSTask`` with strict weights-only loading and our vocoders.

    ``build_vocoder_from_file`` gives our fast torch Griffin-Lim when no vocoder file is
    named (ESPnet's default is librosa's, several times slower), and loads our HiFi-GAN
    (a ``spikespeech.bin.vocoder_train`` output dir) otherwise; either way the vocoder's
    mel analysis is checked against the TTS model's ``feats_extract``.
    """

    @classmethod
    def build_vocoder_from_file(cls, vocoder_config_file=None, vocoder_file=None, model=None,
                                device="cpu"):
        from ..vocoder import load_vocoder, mel_spec_of_model

        spec = None if vocoder_file is None else str(vocoder_file)
        return load_vocoder(spec, mel_spec_of_model(model), config=vocoder_config_file).to(device)
