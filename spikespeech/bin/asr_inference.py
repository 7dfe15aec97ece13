"""``python -m spikespeech.bin.asr_inference``: ESPnet's ``asr_inference``, strict loading.

Same arguments as ``espnet2.bin.asr_inference``. Models are built with our encoders
registered, and checkpoints are loaded weights-only with strict key matching (ESPnet's own
loader ignores missing and unexpected keys).
"""

from __future__ import annotations

# isort: off
# first: registers our classes and imports ESPnet without its import-time downloads
from spikespeech.espnet import StrictASRTask
import espnet2.bin.asr_inference as _espnet_inference

# isort: on

# Speech2Text looks ``ASRTask`` up in its module globals when it builds the model.
_espnet_inference.ASRTask = StrictASRTask

Speech2Text = _espnet_inference.Speech2Text
get_parser = _espnet_inference.get_parser
main = _espnet_inference.main

__all__ = ["Speech2Text", "get_parser", "main"]

if __name__ == "__main__":
    main()
