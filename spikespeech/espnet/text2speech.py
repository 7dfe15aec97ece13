"""ESPnet's ``Text2Speech`` with strict loading, our vocoders and SpikeVoice's speed control.

Models are built with ``tts: spikevoice`` registered and loaded weights-only with strict key
matching; ``speed_control_alpha`` reaches SpikeVoice (ESPnet passes it only to its own
FastSpeech models); without a vocoder file waveforms come from our torch Griffin-Lim, and a
vocoder file may be a HiFi-GAN trained by ``spikespeech.bin.vocoder_train``.
"""

from __future__ import annotations

# isort: off
# first: imports ESPnet without its import-time downloads
from .strict import StrictTTSTask
import espnet2.bin.tts_inference as espnet_inference

# isort: on
from .scoped import swapped
from .tts import ESPnetSpikeVoice


class Text2Speech(espnet_inference.Text2Speech):
    def __init__(self, *args, speed_control_alpha: float = 1.0, **kwargs) -> None:
        # ESPnet's Text2Speech looks ``TTSTask`` up in its module globals to build model and vocoder
        with swapped(espnet_inference, "TTSTask", StrictTTSTask):
            super().__init__(*args, speed_control_alpha=speed_control_alpha, **kwargs)
        if isinstance(self.tts, ESPnetSpikeVoice):
            self.decode_conf.update(alpha=speed_control_alpha)
