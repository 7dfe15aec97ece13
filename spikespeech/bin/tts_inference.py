"""``python -m spikespeech.bin.tts_inference``: ESPnet's ``tts_inference``, strict loading.

Same arguments as ``espnet2.bin.tts_inference``. Models are built with ``tts: spikevoice``
registered and loaded weights-only with strict key matching; ``--speed_control_alpha``
reaches SpikeVoice (ESPnet passes it only to its own FastSpeech models); without
``--vocoder_file`` waveforms come from our torch Griffin-Lim, and ``--vocoder_file`` takes a
HiFi-GAN trained by ``spikespeech.bin.vocoder_train`` (its output dir or ``generator.pth``).
"""

from __future__ import annotations

# isort: off
# first: registers our classes and imports ESPnet without its import-time downloads
from spikespeech.espnet import ESPnetSpikeVoice, StrictTTSTask
import espnet2.bin.tts_inference as _espnet_inference

# isort: on

# Text2Speech looks ``TTSTask`` up in its module globals when it builds model and vocoder.
_espnet_inference.TTSTask = StrictTTSTask


class Text2Speech(_espnet_inference.Text2Speech):
    def __init__(self, *args, speed_control_alpha: float = 1.0, **kwargs) -> None:
        super().__init__(*args, speed_control_alpha=speed_control_alpha, **kwargs)
        if isinstance(self.tts, ESPnetSpikeVoice):
            self.decode_conf.update(alpha=speed_control_alpha)


_espnet_inference.Text2Speech = Text2Speech  # the script's ``inference()`` builds this name
get_parser = _espnet_inference.get_parser
main = _espnet_inference.main

__all__ = ["Text2Speech", "get_parser", "main"]

if __name__ == "__main__":
    main()
