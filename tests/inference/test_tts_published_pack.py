"""The shipped TTS pack (trained on the spikevoice_sd variant's small config) still loads and
synthesizes exactly as before SpikeVoice-as-published was added.

Pinned values: printed by the code at commit 66c9751 (before the published variant) for the
same sentence, with ``Synthesizer(spikespeech/models/kathleen_tts.zip)`` on CPU; the mel
checksum was bit-identical after the change (sha256 of the float32 mel, first 16 hex digits
5b52a59b1d385743, on this machine).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("espnet2")

from spikespeech.inference.synthesizer import Synthesizer  # noqa: E402
from spikespeech.models import default_model  # noqa: E402

SENTENCE = "The birch canoe slid on the smooth planks."


def test_shipped_tts_pack_synthesizes_as_before():
    out = Synthesizer(default_model("tts")).synthesize(SENTENCE)
    (mel,) = out.mels
    assert mel.shape == (159, 80)
    assert float(mel.astype(np.float64).sum()) == pytest.approx(-31965.3828125, rel=1e-5)
    assert out.wav.shape == (40704,)
