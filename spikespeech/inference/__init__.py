"""The public inference API and the pack format.

    from spikespeech import Synthesizer, Transcriber

    with Transcriber() as asr:                      # the shipped model; or Transcriber("my.zip")
        print(asr.transcribe("speech.wav").text)    # a path, or float samples at asr.sample_rate
    with Synthesizer() as tts:
        speech = tts.synthesize("Hello there.")     # speech.wav: float32 at speech.sample_rate

ESPnet is imported only when a model is built (:mod:`spikespeech.espnet` holds the adapters).
"""

from __future__ import annotations

from .pack import PackError, UnpackedModel, open_pack, pack_asr_model, pack_tts_model
from .synthesizer import Synthesis, Synthesizer
from .transcriber import Segment, Transcriber, Transcript

__all__ = ["PackError", "Segment", "Synthesis", "Synthesizer", "Transcriber", "Transcript",
           "UnpackedModel", "open_pack", "pack_asr_model", "pack_tts_model"]
