"""``python -m spikespeech.bin.tts_inference``: ESPnet's ``tts_inference``, strict loading.

Same arguments as ``espnet2.bin.tts_inference``; models are built and loaded as
:class:`spikespeech.espnet.text2speech.Text2Speech` says (strict weights-only loading, our
vocoders, ``--speed_control_alpha`` reaching SpikeVoice). ``--vocoder_file`` takes a HiFi-GAN
trained by ``spikespeech.bin.vocoder_train`` (its output dir or ``generator.pth``).
"""

from __future__ import annotations

from spikespeech.espnet.scoped import swapped
from spikespeech.espnet.text2speech import Text2Speech, espnet_inference

get_parser = espnet_inference.get_parser


def main(cmd=None) -> None:
    # ESPnet's main() -> inference() builds the module-global Text2Speech
    with swapped(espnet_inference, "Text2Speech", Text2Speech):
        espnet_inference.main(cmd)


__all__ = ["Text2Speech", "get_parser", "main"]

if __name__ == "__main__":
    main()
