"""``Synthesizer.speaker_id``: names, numeric ids and the one-line error for an unknown name
(the table of a multi-speaker pack's ``spk2sid``, without ``<unk>``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from spikespeech.errors import SpikespeechError
from spikespeech.inference.synthesizer import Synthesizer


def _speaker_id(speakers: dict[str, int], name: str | None):
    return Synthesizer.speaker_id(SimpleNamespace(speakers=speakers), name)


def test_names_ids_and_the_default_speaker():
    table = {"kathleen": 1, "teacher": 2}
    assert _speaker_id(table, None) == 1  # the first name of spk2sid, as the pack's default
    assert _speaker_id(table, "teacher") == 2
    assert _speaker_id(table, "2") == 2
    assert _speaker_id({}, None) is None


def test_unknown_speaker_lists_the_known_ones():
    with pytest.raises(SpikespeechError) as err:
        _speaker_id({"kathleen": 1, "teacher": 2}, "nobody")
    assert str(err.value) == "--speaker nobody: unknown speaker (known: kathleen, teacher)"
    many = {f"p{i}": i for i in range(1, 13)}
    with pytest.raises(SpikespeechError, match=r"known: p1, p2, .*, p10…\)$"):
        _speaker_id(many, "nobody")
    with pytest.raises(SpikespeechError, match="single speaker"):
        _speaker_id({}, "kathleen")
