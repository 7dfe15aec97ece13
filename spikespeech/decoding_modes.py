"""Names and defaults of ASR decoding (implemented in :mod:`spikespeech.espnet.decoding`).

Kept apart from that module so the command line can offer them without importing ESPnet,
which takes seconds.
"""

from __future__ import annotations

MODES = ("ctc_greedy", "ctc_prefix_beam", "attention_rescoring", "attention")
# measured on the shipped model (README "Decoding modes"): as accurate as "attention", several times faster
DEFAULT_MODE = "attention_rescoring"
# longest segment decoded at once; WeNet's CTC endpoint rule 3 ends an utterance at 20 s
# (runtime/core/decoder/ctc_endpoint.h); 15 s is our guess, within the "a few s to ~15 s"
DEFAULT_CHUNK_SECONDS = 15.0
# streaming (spikespeech.espnet.streaming): WeNet's usual chunk, 16 frames of 40 ms
DEFAULT_STREAM_CHUNK_SECONDS = 0.64
# past audio re-encoded as context each step; our guess, its cost measured by bench/asr_rtf.py
DEFAULT_LOOKBACK_SECONDS = 2.0
# WeNet's endpoint rule 2: after 0.5 s of trailing blank frames, once something was decoded,
# the utterance is over
DEFAULT_ENDPOINT_SECONDS = 0.5
