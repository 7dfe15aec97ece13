"""Kaldi data dirs: atomic sorted writes, read-back, and one-line errors."""

from __future__ import annotations

import pytest

from spikespeech.data import Utterance, read_kaldi_dir, write_kaldi_dir


def _utts():
    return [
        Utterance("spkB-002", "spkB", "/audio/b2.wav", "two"),
        Utterance("spkA-001", "spkA", "/audio/a1.wav", "one"),
        Utterance("spkB-001", "spkB", "/audio/b1.wav", "  three  "),
    ]


def test_write_then_read_round_trip(tmp_path):
    out = write_kaldi_dir(_utts(), tmp_path / "train")
    assert (out / "wav.scp").read_text().splitlines()[0] == "spkA-001 /audio/a1.wav"
    assert (out / "spk2utt").read_text() == "spkA spkA-001\nspkB spkB-001 spkB-002\n"
    assert (out / "text").read_text().splitlines()[1] == "spkB-001 three"
    back = read_kaldi_dir(out)
    assert [u.utt_id for u in back] == ["spkA-001", "spkB-001", "spkB-002"]
    assert back[2] == Utterance("spkB-002", "spkB", "/audio/b2.wav", "two")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


@pytest.mark.parametrize(
    "bad,message",
    [
        (Utterance("spkA-001", "spkA", "/x.wav", "dup"), "duplicate utterance id 'spkA-001'"),
        (Utterance("x-1", "spkZ", "/x.wav", "hi"), "must start with its speaker id 'spkZ'"),
        (Utterance("spkC-1", "spkC", "/x.wav", "   "), "empty text"),
    ],
)
def test_write_rejects_bad_utterances(tmp_path, bad, message):
    with pytest.raises(ValueError, match=message):
        write_kaldi_dir([*_utts(), bad], tmp_path / "d")
    assert not (tmp_path / "d" / "wav.scp").exists()  # nothing half-written


def test_read_errors_name_the_file(tmp_path):
    d = write_kaldi_dir(_utts(), tmp_path / "d")
    (d / "text").write_text("spkA-001 one\n")
    with pytest.raises(ValueError, match=r"text: no transcript for spkB-001, spkB-002"):
        read_kaldi_dir(d)
    (d / "wav.scp").write_text("a /x.wav\na /y.wav\n")
    with pytest.raises(ValueError, match=r"wav.scp:2: duplicate id 'a'"):
        read_kaldi_dir(d)
    with pytest.raises(ValueError, match="file not found"):
        read_kaldi_dir(tmp_path / "missing")
