"""The Python API the README shows: ``from spikespeech import Transcriber, Synthesizer`` with the
shipped default models, paths and arrays in, text and audio out, energy on request."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("espnet2")

from _helpers import shared_data  # noqa: E402

import spikespeech  # noqa: E402
from spikespeech import Synthesizer, Transcriber  # noqa: E402
from spikespeech.inference import Transcriber as HomeTranscriber  # noqa: E402


def test_names_resolve_to_the_inference_home():
    assert Transcriber is HomeTranscriber
    assert set(spikespeech.__all__) >= {"Transcriber", "Synthesizer", "__version__"}
    with pytest.raises(AttributeError, match="no attribute 'Speech2Text'"):
        spikespeech.Speech2Text  # noqa: B018


def test_default_transcriber_takes_a_path_or_samples():
    wav = shared_data("fsdd") / "recordings" / "7_jackson_0.wav"
    with Transcriber() as asr:
        from_path = asr.transcribe(wav, energy=True)
        samples, rate = sf.read(wav, dtype="float32")
        assert rate == asr.sample_rate
        from_array = asr.transcribe(samples)
    assert from_path.text == from_array.text == "seven"
    assert from_path.energy is not None and from_array.energy is None
    assert from_path.rtf > 0


def test_default_synthesizer_gives_float_audio_and_its_rate():
    with Synthesizer() as tts:
        speech = tts.synthesize("Hello there.", energy=True)
    assert speech.wav.dtype == np.float32 and speech.wav.ndim == 1
    assert speech.sample_rate == 16000 and 0.3 < speech.duration_s < 5
    assert np.abs(speech.wav).max() > 0.01 and speech.energy is not None
