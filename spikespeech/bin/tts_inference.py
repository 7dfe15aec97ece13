"""``python -m spikespeech.bin.tts_inference``: ESPnet's ``tts_inference``, strict loading.

Same arguments as ``espnet2.bin.tts_inference``; models are built and loaded as
:class:`spikespeech.espnet.text2speech.Text2Speech` says (strict weights-only loading, our
vocoders, ``--speed_control_alpha`` reaching SpikeVoice). ``--vocoder_file`` takes a HiFi-GAN
trained by ``spikespeech.bin.vocoder_train`` (its output dir or ``generator.pth``).
"""

from __future__ import annotations

from spikespeech.espnet.text2speech import Text2Speech, espnet_inference

espnet_inference.Text2Speech = Text2Speech  # the script's ``inference()`` builds this name
get_parser = espnet_inference.get_parser
main = espnet_inference.main

__all__ = ["Text2Speech", "get_parser", "main"]

if __name__ == "__main__":
    main()
