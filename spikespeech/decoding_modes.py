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
