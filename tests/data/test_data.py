"""Kaldi data dirs: atomic sorted writes, read-back, and one-line errors."""

from __future__ import annotations

import kaldiio
import pytest

from spikespeech.data import Utterance, kaldi, read_kaldi_dir, write_kaldi_dir
from spikespeech.errors import SpikespeechError


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


# ----------------------------------------------------------------------------- the one table reader


def test_table_reader_lines_and_values(tmp_path):
    path = tmp_path / "text"
    path.write_bytes("\ufeffu1 one  two \r\n\n  \nu2\tthree\x0cfour\nu3\nu4 five\u2028six".encode())
    assert kaldi.table_entries(path) == [
        kaldi.Entry(1, "u1", "one  two"), kaldi.Entry(4, "u2", "three\x0cfour"), kaldi.Entry(5, "u3", ""),
        kaldi.Entry(6, "u4", "five\u2028six")]  # split at "\n" only, as Kaldi does
    assert kaldi.read_table(path) == {e.key: e.value for e in kaldi.table_entries(path)}
    assert kaldi.read_lines(path)[0] == "\ufeffu1 one  two \r"  # raw, for the data-dir validator


def test_table_reader_errors_are_one_line_with_file_and_line(tmp_path):
    path = tmp_path / "wav.scp"
    path.write_text("a /x.wav\nb /y.wav\n\na /z.wav\n")
    message = r"^\S+wav\.scp:4: duplicate utterance id 'a' \(first on line 1\)$"
    with pytest.raises(SpikespeechError, match=message):
        kaldi.read_table(path, ids="utterance id")
    path.write_bytes(b"a 1\nb \xff\n")
    with pytest.raises(SpikespeechError, match=r"^\S+wav\.scp: not valid UTF-8 \(byte 6\)$"):
        kaldi.read_table(path)
    with pytest.raises(SpikespeechError, match=r"^\S+nope: id list not found$"):
        kaldi.read_table(tmp_path / "nope", "id list")


@pytest.mark.parametrize("value, expected", [
    ("rec 0.5 1.25", kaldi.Segment("rec", 0.5, 1.25)),
    ("rec 0 -1", kaldi.Segment("rec", 0.0, -1.0)),
    ("rec 0.5", "expected 'utt rec start end'"),
    ("rec zero 1", "'zero' '1' are not seconds"),
    ("rec 0 inf", "'0' 'inf' are not finite seconds"),
])
def test_parse_segment(value, expected):
    if isinstance(expected, str):
        with pytest.raises(SpikespeechError, match=expected):
            kaldi.parse_segment(value)
    else:
        assert kaldi.parse_segment(value) == expected


def test_segment_problem():
    assert kaldi.segment_problem(kaldi.Segment("r", 0.0, -1.0)) is None
    assert kaldi.segment_problem(kaldi.Segment("r", -0.1, 1.0)) == "negative start time -0.1"
    assert kaldi.segment_problem(kaldi.Segment("r", 0.5, 0.5)) == "start 0.5 >= end 0.5"


def test_library_table_limits(tmp_path):
    """Why kaldi.py keeps its own reader (its comment): if this fails, re-measure and switch."""
    from espnet2.fileio.read_text import read_2columns_text

    blank, bom = tmp_path / "blank", tmp_path / "bom"
    blank.write_text("a 1\n\nb 2\n")
    bom.write_bytes("\ufeffa 1\n".encode())
    with pytest.raises(ValueError, match="not enough values to unpack"):
        read_2columns_text(blank)
    assert list(read_2columns_text(bom)) == ["\ufeffa"]
    with pytest.raises(ValueError, match="Invalid line"):
        dict(kaldiio.load_scp(str(blank)))
