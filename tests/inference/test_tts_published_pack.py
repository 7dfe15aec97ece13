"""The shipped default TTS pack (``kathleen_distilled_tts.zip``) still loads and synthesizes as
it did when it was packed: a change to the model code, the text frontend or Griffin-Lim that
moves these values changes what users hear.

Pinned values: printed by ``Synthesizer(default_model("tts"))`` on CPU for the same sentence
when the pack was shipped (2026-12-05, this repository's 2-core machine; sum of the float32
mel in float64). The former default ``kathleen_tts.zip`` was pinned the same way until then.
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
    assert mel.shape == (151, 80)
    assert float(mel.astype(np.float64).sum()) == pytest.approx(-29524.68479204178, rel=1e-5)
    assert out.wav.shape == (38656,) and out.sample_rate == 16000
