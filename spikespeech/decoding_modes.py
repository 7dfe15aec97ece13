"""Names of the ASR decoding modes (implemented in :mod:`spikespeech.espnet.decoding`).

Kept apart from that module so the command line can offer them without importing ESPnet,
which takes seconds.
"""

from __future__ import annotations

MODES = ("ctc_greedy", "ctc_prefix_beam", "attention_rescoring", "attention")
# measured on the shipped model (README "Decoding modes"): as accurate as "attention", several times faster
DEFAULT_MODE = "attention_rescoring"
