"""Kaldi data-dir utilities: validate, fix, subset, combine and their CLI."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf
from _helpers import shared_data
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spikespeech.data import Utterance, write_kaldi_dir
from spikespeech.data import datadir as dd
from spikespeech.data.datadir import (
    DataDirError,
    combine_data_dirs,
    fix_data_dir,
    main,
    subset_data_dir,
    validate_data_dir,
)
from spikespeech.data.fsdd import prepare_fsdd

FILES = ("wav.scp", "text", "utt2spk", "spk2utt")


# ----------------------------------------------------------------------------- helpers


def _wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    """A real (silent) PCM wav file, so that durations can be read from its header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(round(seconds * rate), dtype=np.int16), rate, subtype="PCM_16")
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _make_dir(directory: Path, utts: list[tuple[str, str, str]], audio: dict[str, str] | None = None) -> Path:
    """A valid plain data dir of ``(utt, speaker, text)`` with audio files written in ``audio/``."""
    audio = audio or {}
    rows = []
    for utt, spk, text in utts:
        spec = audio.get(utt) or str(_wav(directory.parent / "audio" / f"{utt}.wav", 0.25))
        rows.append(Utterance(utt, spk, spec, text))
    return write_kaldi_dir(rows, directory)


UTTS = [("a-1", "a", "one"), ("a-2", "a", "two two"), ("b-1", "b", "three")]


@pytest.fixture
def good(tmp_path) -> Path:
    return _make_dir(tmp_path / "good", UTTS)


def _segmented_dir(directory: Path, rec_seconds: float = 1.0) -> Path:
    """Two recordings cut into three segments, with a per-utterance and a per-speaker table."""
    directory.mkdir(parents=True)
    r1 = _wav(directory.parent / "audio" / "r1.wav", rec_seconds)
    r2 = _wav(directory.parent / "audio" / "r2.wav", rec_seconds)
    _write(directory / "wav.scp", [f"r1 {r1}", f"r2 {r2}"])
    _write(directory / "segments", ["s-1 r1 0 0.5", "s-2 r1 0.5 1.0", "t-1 r2 0.1 0.9"])
    _write(directory / "text", ["s-1 yes", "s-2 no", "t-1 yes no"])
    _write(directory / "utt2spk", ["s-1 s", "s-2 s", "t-1 t"])
    _write(directory / "spk2utt", ["s s-1 s-2", "t t-1"])
    _write(directory / "utt2dur", ["s-1 0.5", "s-2 0.5", "t-1 0.8"])
    _write(directory / "spk2gender", ["s f", "t m"])
    return directory


def _problems(directory: Path, **kwargs) -> list[str]:
    with pytest.raises(DataDirError) as exc:
        validate_data_dir(directory, **kwargs)
    return exc.value.problems


# ----------------------------------------------------------------------------- validate


def test_real_fsdd_dirs_validate(tmp_path):
    dirs = prepare_fsdd(shared_data("fsdd"), tmp_path, speakers=["george", "theo"])
    train = validate_data_dir(dirs["train"])
    assert (train.utterances, train.speakers, train.recordings) == (900, 2, 900)
    assert not train.has_segments and train.warnings == () and train.extra_files == ()
    test = validate_data_dir(dirs["test"])
    assert (test.utterances, test.speakers) == (100, 2)
    assert str(test) == f"{dirs['test']}: 100 utterances, 2 speakers"


def test_valid_segmented_dir(tmp_path):
    d = _segmented_dir(tmp_path / "seg")
    summary = validate_data_dir(d)
    assert (summary.utterances, summary.speakers, summary.recordings) == (3, 2, 2)
    assert summary.has_segments and summary.extra_files == ("spk2gender", "utt2dur")


def _drop_line(name, index):
    def mutate(d):
        lines = _lines(d / name)
        del lines[index]
        _write(d / name, lines)
    return mutate


def _edit(name, index, new):
    def mutate(d):
        lines = _lines(d / name)
        lines[index] = new
        _write(d / name, lines)
    return mutate


def _insert(name, index, new):
    def mutate(d):
        lines = _lines(d / name)
        lines.insert(index, new)
        _write(d / name, lines)
    return mutate


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda d: (d / "utt2spk").unlink(), "utt2spk: missing required file"),
        (_drop_line("text", 1), "text: utterance 'a-2' is missing (it is in wav.scp utt2spk)"),
        (_insert("text", 1, "a-1 one"), "text:2: duplicate utterance id 'a-1' (first on line 1)"),
        (_insert("wav.scp", 3, "a-0 /x.wav"),
         "wav.scp:4: not sorted: 'a-0' after 'b-1' (C-locale byte order)"),
        (_edit("text", 1, "a-2"), "text:2: empty transcript for 'a-2'"),
        (_edit("text", 1, "a-2    "), "text:2: empty transcript for 'a-2'"),
        (_edit("spk2utt", 0, "a a-1"),
         "spk2utt:1: utterances of speaker 'a' do not match utt2spk (missing 'a-2')"),
        (_edit("spk2utt", 1, "b b-1 a-2"),
         "spk2utt:2: utterances of speaker 'b' do not match utt2spk (extra 'a-2')"),
        (_drop_line("spk2utt", 1), "spk2utt: speaker 'b' of utt2spk is missing"),
        (_insert("spk2utt", 2, "c c-1"), "spk2utt:3: speaker 'c' is not in utt2spk"),
        (_edit("utt2spk", 2, "b-1 b extra"), "utt2spk:3: speaker id of 'b-1' is not one word: 'b extra'"),
        (_insert("text", 3, ""), "text:4: empty line"),
    ],
    ids=["missing-file", "missing-id", "duplicate", "unsorted", "empty-text", "blank-text", "spk2utt-missing",
         "spk2utt-extra", "spk2utt-no-speaker", "spk2utt-unknown", "two-word-speaker", "blank-line"],
)
def test_each_malformation_is_one_line_naming_the_file(good, mutate, expected):
    mutate(good)
    problems = _problems(good, check_audio=False)
    assert f"{good}/{expected}" in problems
    assert all("\n" not in p and p.startswith(str(good)) for p in problems)


def test_single_problem_message_is_exactly_that_line(good):
    _insert("text", 1, "a-1 one")(good)
    with pytest.raises(DataDirError) as exc:
        validate_data_dir(good)
    assert str(exc.value) == f"{good}/text:2: duplicate utterance id 'a-1' (first on line 1)"
    assert isinstance(exc.value, ValueError)


def test_malformed_line_without_value(good):
    _edit("utt2spk", 1, "a-2")(good)
    problems = _problems(good)
    assert problems == [
        f"{good}/utt2spk:2: malformed line 'a-2', expected '<id> <value>'",
        f"{good}/utt2spk: utterance 'a-2' is missing (it is in wav.scp text)",
        f"{good}/spk2utt:1: utterances of speaker 'a' do not match utt2spk (extra 'a-2')",
    ]


def test_sorting_is_c_locale_byte_order(tmp_path):
    # Upper case sorts before lower case in C locale; a "natural" a-before-B order is unsorted.
    d = _make_dir(tmp_path / "d", [("B-1", "B", "x"), ("a-1", "a", "y")])
    assert _lines(d / "text") == ["B-1 x", "a-1 y"]
    validate_data_dir(d)
    _write(d / "text", ["a-1 y", "B-1 x"])
    assert _problems(d) == [f"{d}/text:2: not sorted: 'B-1' after 'a-1' (C-locale byte order)"]


def test_missing_audio_only_for_plain_paths_and_only_when_asked(good, tmp_path):
    missing = tmp_path / "audio" / "a-2.wav"
    missing.unlink()
    assert _problems(good) == [f"{good}/wav.scp:2: audio file not found: {missing}"]
    assert validate_data_dir(good, check_audio=False).utterances == 3
    _edit("wav.scp", 1, f"a-2 sox {missing} -t wav - |")(good)  # commands are not run
    assert validate_data_dir(good).utterances == 3


MALFORMED_SEGMENT = "malformed segment, expected '<utt-id> <recording-id> <start> <end>'"


@pytest.mark.parametrize(
    "line,expected",
    [
        ("s-2 r1 0.5 0.5", "segments:2: start 0.5 >= end 0.5 for 's-2'"),
        ("s-2 r1 0.7 0.6", "segments:2: start 0.7 >= end 0.6 for 's-2'"),
        ("s-2 r1 -0.1 0.6", "segments:2: negative start time -0.1 for 's-2'"),
        ("s-2 r9 0.1 0.6", "segments:2: unknown recording 'r9' (not in wav.scp) for 's-2'"),
        ("s-2 r1 0.1", f"segments:2: {MALFORMED_SEGMENT} for 's-2'"),
        ("s-2 r1 zero 1", f"segments:2: {MALFORMED_SEGMENT} for 's-2'"),
        ("s-2 r1 0 inf", f"segments:2: {MALFORMED_SEGMENT} for 's-2'"),
    ],
)
def test_bad_segments(tmp_path, line, expected):
    d = _segmented_dir(tmp_path / "seg")
    _edit("segments", 1, line)(d)
    assert f"{d}/{expected}" in _problems(d)


def test_segment_end_minus_one_means_to_the_end(tmp_path):
    d = _segmented_dir(tmp_path / "seg")
    _edit("segments", 1, "s-2 r1 0.7 -1")(d)  # Kaldi's convention
    assert validate_data_dir(d).utterances == 3


def test_segment_checks_cover_recording_tables(tmp_path):
    d = _segmented_dir(tmp_path / "seg")
    _write(d / "reco2dur", ["r1 1.0", "r3 2.0"])
    assert _problems(d) == [
        f"{d}/reco2dur: recording 'r2' of wav.scp is missing",
        f"{d}/reco2dur:2: unknown recording 'r3' (not in wav.scp)",
    ]
    _write(d / "reco2dur", ["r1 1.0", "r2 1.0"])
    _write(d / "spk2gender", ["s f"])
    assert _problems(d) == [f"{d}/spk2gender: speaker 't' of utt2spk is missing"]


def test_unused_recording_and_missing_prefix_are_only_warnings(tmp_path):
    d = _segmented_dir(tmp_path / "seg")
    r3 = _wav(tmp_path / "audio" / "r3.wav", 0.5)
    _write(d / "wav.scp", [*_lines(d / "wav.scp"), f"r3 {r3}"])
    _write(d / "utt2spk", ["s-1 s", "s-2 s", "t-1 s"])
    _write(d / "spk2utt", ["s s-1 s-2 t-1"])
    _write(d / "spk2gender", ["s f"])
    summary = validate_data_dir(d)
    assert summary.speakers == 1 and len(summary.warnings) == 2
    assert summary.warnings[0].startswith(
        f"{d}/utt2spk: 1 utterance id(s) do not start with their speaker id (e.g. 't-1' of 's')")
    assert summary.warnings[1] == (
        f"{d}/wav.scp: 1 recording(s) used by no segment ('r3'); fix_data_dir drops them")


def test_extra_per_utterance_table_must_cover_the_same_utterances(good):
    _write(good / "utt2num_samples", ["a-1 2000", "b-1 2000", "c-1 9"])
    problems = _problems(good)
    assert f"{good}/utt2num_samples: utterance 'a-2' is missing (it is in wav.scp text utt2spk)" in problems
    assert f"{good}/wav.scp: utterance 'c-1' is missing (it is in utt2num_samples)" in problems


def test_max_problems_truncates_with_a_count(good):
    _write(good / "text", [])
    with pytest.raises(DataDirError) as exc:
        validate_data_dir(good, max_problems=2)
    assert len(exc.value.problems) == 3
    assert exc.value.lines()[-1] == "and 1 more"
    assert str(exc.value).endswith("; and 1 more") and "\n" not in str(exc.value)


def test_not_a_directory(tmp_path):
    with pytest.raises(DataDirError, match="not a directory"):
        validate_data_dir(tmp_path / "nope")


def test_non_utf8_and_dos_line_endings(good):
    (good / "text").write_bytes(b"a-1 one\r\na-2 two\nb-1 \xff\n")
    problems = _problems(good)
    assert problems[0] == f"{good}/text: not valid UTF-8 (byte 21)"
    (good / "text").write_bytes(b"a-1 one\r\na-2 two\nb-1 three\n")
    assert _problems(good) == [f"{good}/text:1: DOS line ending (carriage return)"]


# ----------------------------------------------------------------------------- fix


def test_fix_repairs_a_broken_dir_with_a_backup(good, tmp_path):
    c1 = _wav(tmp_path / "audio" / "c-1.wav", 0.25)
    _write(good / "wav.scp", [*reversed(_lines(good / "wav.scp")), f"c-1 {c1}", f"c-1 {c1}"])
    _write(good / "text", ["a-1 one", "a-2", "b-1 three", "c-1 four", "", "d-1 five"])
    _write(good / "utt2spk", ["c-1 c", "b-1 b", "a-2 a", "a-1 a", "d-1 d"])
    _write(good / "utt2dur", ["a-1 0.25", "a-2 0.25", "b-1 0.25", "c-1 0.25"])
    (good / "spk2utt").unlink()
    before = {p.name: p.read_bytes() for p in good.iterdir() if p.is_file()}

    report = fix_data_dir(good)

    summary = validate_data_dir(good)
    assert (summary.utterances, summary.speakers) == (3, 3)
    assert _lines(good / "text") == ["a-1 one", "b-1 three", "c-1 four"]
    assert _lines(good / "spk2utt") == ["a a-1", "b b-1", "c c-1"]
    assert _lines(good / "utt2dur") == ["a-1 0.25", "b-1 0.25", "c-1 0.25"]
    assert report.dropped == {"empty transcript": 1, "not in wav.scp": 1}
    assert report.dropped_utterances == {"a-2": "empty transcript", "d-1": "not in wav.scp"}
    assert (report.utterances_before, report.utterances_after) == (4 + 1, 3)
    assert report.removed_lines == {"wav.scp": 1, "text": 1}
    assert set(report.resorted) == {"wav.scp", "utt2spk"}
    assert report.backup_dir == good / ".backup"
    assert {p.name: p.read_bytes() for p in report.backup_dir.iterdir()} == before
    assert "kept 3 of 5 utterances (dropped: 1 empty transcript, 1 not in wav.scp)" in str(report)
    assert not [p for p in good.iterdir() if p.name.startswith(".") and p.name != ".backup"]


def test_fix_refuses_conflicting_duplicates_and_changes_nothing(good):
    _write(good / "text", ["a-1 one", "a-1 uno", "a-2 two two", "b-1 three"])
    before = {p.name: p.read_bytes() for p in good.iterdir()}
    with pytest.raises(DataDirError) as exc:
        fix_data_dir(good)
    assert str(exc.value) == f"{good}/text:2: duplicate utterance id 'a-1' with a different value than line 1"
    assert {p.name: p.read_bytes() for p in good.iterdir()} == before  # no backup dir either


def test_fix_drops_bad_segments_and_unused_recordings(tmp_path):
    d = _segmented_dir(tmp_path / "seg")
    _write(d / "segments", ["s-1 r1 0 0.5", "s-2 r1 0.5 0.4", "t-1 r2 -1 0.9"])
    report = fix_data_dir(d)
    assert report.dropped == {"bad segment": 2} and report.recordings_dropped == 1
    assert _lines(d / "wav.scp")[0].startswith("r1 ") and len(_lines(d / "wav.scp")) == 1
    assert _lines(d / "spk2gender") == ["s f"]
    assert validate_data_dir(d).utterances == 1


def test_fix_drops_speakers_missing_from_speaker_tables(tmp_path):
    d = _segmented_dir(tmp_path / "seg")
    _write(d / "spk2gender", ["s f"])
    assert fix_data_dir(d).dropped_utterances == {"t-1": "speaker not in spk2gender"}
    assert validate_data_dir(d).speakers == 1


def test_fix_is_idempotent(good):
    first = fix_data_dir(good)
    files = {n: (good / n).read_bytes() for n in FILES}
    second = fix_data_dir(good)
    assert first.dropped == second.dropped == {} and second.resorted == () and second.removed_lines == {}
    assert {n: (good / n).read_bytes() for n in FILES} == files


def test_fix_refuses_to_empty_a_dir(good):
    _write(good / "text", ["a-1", "a-2", "b-1"])
    message = r"no utterances would be left \(3 empty transcript\); nothing changed"
    with pytest.raises(DataDirError, match=message):
        fix_data_dir(good)
    assert not (good / ".backup").exists()


def test_fix_missing_required_file(good):
    (good / "text").unlink()
    with pytest.raises(DataDirError, match=r"text: missing required file$"):
        fix_data_dir(good)


_CORRUPTION = st.tuples(
    st.sampled_from(["drop", "dup", "empty-text", "blank", "shuffle"]),
    st.sampled_from(FILES),
    st.integers(0, 1000),
)


def _corrupt(d: Path, ops, rng) -> None:
    for op, name, k in ops:
        lines = _lines(d / name)
        if not lines:
            continue
        i = k % len(lines)
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "empty-text" and name == "text" and lines[i].strip():
            lines[i] = lines[i].split()[0]
        elif op == "blank":
            lines.insert(i, "   ")
        elif op == "shuffle":
            lines = [lines[j] for j in rng.permutation(len(lines))]
        _write(d / name, lines)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_CORRUPTION, max_size=6), shuffle_seed=st.integers(0, 2**16))
def test_fix_property_any_corruption_gives_a_valid_dir(ops, shuffle_seed):
    """Whatever lines are dropped, repeated, blanked or shuffled, fix gives a valid dir that keeps
    exactly the utterances with a line in wav.scp, text and utt2spk and a non-empty transcript."""
    utts = [(f"{s}-{i}", s, f"word{i}") for s in ("a", "b", "c") for i in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        d = _make_dir(Path(tmp) / "d", utts, audio={u: f"cat {u}.wav |" for u, _, _ in utts})
        _corrupt(d, ops, np.random.default_rng(shuffle_seed))
        # what is left, from the corrupted files themselves
        values = {name: {} for name in FILES[:3]}
        conflict = False
        for name, table in values.items():
            for key, *rest in (line.split(None, 1) for line in _lines(d / name) if line.strip()):
                value = rest[0].strip() if rest else ""
                conflict |= table.setdefault(key, value) != value
        expected = set.intersection(*(set(t) for t in values.values()))
        expected = {u for u in expected if values["text"][u]}
        if conflict or not expected:
            with pytest.raises(DataDirError, match="with a different value|no utterances would be left"):
                fix_data_dir(d)
            return
        report = fix_data_dir(d)
        validate_data_dir(d, check_audio=False)
        assert report.utterances_after == len(expected)
        assert {tuple(line.split(None, 1)) for line in _lines(d / "text")} == {
            (u, t) for u, _, t in utts if u in expected}


# ----------------------------------------------------------------------------- subset


@pytest.fixture
def fsdd_test(tmp_path) -> Path:
    return prepare_fsdd(shared_data("fsdd"), tmp_path / "fsdd", speakers=["jackson", "lucas"])["test"]


def _ids(d: Path) -> list[str]:
    return [line.split()[0] for line in _lines(d / "utt2spk")]


def test_subset_selectors_on_real_data(fsdd_test, tmp_path):
    all_ids = _ids(fsdd_test)
    assert len(all_ids) == 100
    assert _ids(Path(subset_data_dir(fsdd_test, tmp_path / "first", first=7).path)) == all_ids[:7]
    assert _ids(tmp_path / "first") == all_ids[:7]
    subset_data_dir(fsdd_test, tmp_path / "last", last=5)
    assert _ids(tmp_path / "last") == all_ids[-5:]
    summary = subset_data_dir(fsdd_test, tmp_path / "spk", spk_list=["lucas"])
    assert (summary.utterances, summary.speakers) == (50, 1)
    assert all(u.startswith("lucas-") for u in _ids(tmp_path / "spk"))
    _write(tmp_path / "list", ["jackson-3-02", "lucas-9-04 extra words are ignored", ""])
    subset_data_dir(fsdd_test, tmp_path / "list-out", utt_list=tmp_path / "list")
    assert _ids(tmp_path / "list-out") == ["jackson-3-02", "lucas-9-04"]
    assert _lines(tmp_path / "list-out" / "spk2utt") == ["jackson jackson-3-02", "lucas lucas-9-04"]
    validate_data_dir(tmp_path / "list-out")  # audio paths still resolve


def test_subset_random_is_seeded(good, tmp_path):
    utts = [(f"s-{i:02d}", "s", "x") for i in range(30)]
    src = _make_dir(tmp_path / "src", utts, audio={u: f"cat {u} |" for u, _, _ in utts})
    picks = []
    for name, seed in (("r1", 1), ("r2", 1), ("r3", 2)):
        subset_data_dir(src, tmp_path / name, random=10, seed=seed)
        picks.append(_ids(tmp_path / name))
    assert picks[0] == picks[1] != picks[2]
    assert len(picks[0]) == 10 and picks[0] == sorted(picks[0]) and picks[0] != _ids(src)[:10]


def test_subset_keeps_only_used_recordings_and_extras(tmp_path):
    d = _segmented_dir(tmp_path / "seg")
    summary = subset_data_dir(d, tmp_path / "out", utt_list=["t-1"])
    out = tmp_path / "out"
    assert (summary.recordings, summary.has_segments) == (1, True)
    assert [line.split()[0] for line in _lines(out / "wav.scp")] == ["r2"]
    assert _lines(out / "utt2dur") == ["t-1 0.8"] and _lines(out / "spk2gender") == ["t m"]
    assert _lines(out / "segments") == ["t-1 r2 0.1 0.9"]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"first": 0}, "first=0 selects no utterances"),
        ({"last": 4}, "last=4 asks for more than the 3 utterances there"),
        ({"random": 99}, "random=99 asks for more than the 3 utterances there"),
        ({"utt_list": ["a-1", "zz-9"]}, "utt_list names 1 utterance\\(s\\) not in the data dir: 'zz-9'"),
        ({"spk_list": ["q"]}, "spk_list names 1 speaker\\(s\\) not in the data dir: 'q'"),
        ({"utt_list": []}, "utt_list is empty"),
    ],
)
def test_subset_errors(good, tmp_path, kwargs, message):
    with pytest.raises(DataDirError, match=message):
        subset_data_dir(good, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio", "good"]  # no temp dir left


def test_subset_needs_exactly_one_selector(good, tmp_path):
    with pytest.raises(ValueError, match=r"exactly one of .* \(got none\)"):
        subset_data_dir(good, tmp_path / "out")
    with pytest.raises(ValueError, match=r"\(got first, last\)"):
        subset_data_dir(good, tmp_path / "out", first=1, last=1)


def test_subset_refuses_invalid_source_and_existing_destination(good, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("x")
    with pytest.raises(DataDirError, match="already exists and is not empty"):
        subset_data_dir(good, tmp_path / "out", first=1)
    assert subset_data_dir(good, tmp_path / "out", first=1, overwrite=True).utterances == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FILES)
    _insert("text", 1, "a-1 one")(good)
    with pytest.raises(DataDirError, match="text:2: duplicate utterance id"):
        subset_data_dir(good, tmp_path / "out2", first=1)


def test_subset_never_leaves_a_half_written_dir(good, tmp_path, monkeypatch):
    def broken_write(directory, tables):
        (directory / "wav.scp").write_text("half\n")
        raise OSError("disk full")

    monkeypatch.setattr(dd, "_write_tables", broken_write)
    with pytest.raises(OSError, match="disk full"):
        subset_data_dir(good, tmp_path / "out", first=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio", "good"]


# ----------------------------------------------------------------------------- combine


def test_combine_two_real_fsdd_dirs(tmp_path):
    root = shared_data("fsdd")
    a = prepare_fsdd(root, tmp_path / "a", speakers=["george"])["test"]
    b = prepare_fsdd(root, tmp_path / "b", speakers=["theo"])["test"]
    summary = combine_data_dirs(tmp_path / "ab", [a, b])
    assert (summary.utterances, summary.speakers) == (100, 2)
    validate_data_dir(tmp_path / "ab")
    assert _lines(tmp_path / "ab" / "text") == sorted(_lines(a / "text") + _lines(b / "text"))


def test_combine_duplicate_utterances_name_both_sources(good, tmp_path):
    other = _make_dir(tmp_path / "x" / "other", [("b-1", "b", "again"), ("c-1", "c", "new")])
    with pytest.raises(DataDirError) as exc:
        combine_data_dirs(tmp_path / "out", [good, other])
    assert str(exc.value) == f"{other}: duplicate utterance id 'b-1' (also in {good})"
    assert not (tmp_path / "out").exists()
    with pytest.raises(DataDirError, match="given more than once"):
        combine_data_dirs(tmp_path / "out", [good, good])


def test_combine_shared_speakers_and_conflicting_recordings(tmp_path):
    s1 = _segmented_dir(tmp_path / "one" / "d")
    s2 = tmp_path / "two"
    subset_data_dir(s1, s2, utt_list=["s-2"])
    s1_only = tmp_path / "one-only"
    subset_data_dir(s1, s1_only, utt_list=["s-1", "t-1"])
    summary = combine_data_dirs(tmp_path / "out", [s1_only, s2])  # r1 and speaker s in both: same values
    assert (summary.utterances, summary.recordings) == (3, 2)
    assert _lines(tmp_path / "out" / "spk2utt") == ["s s-1 s-2", "t t-1"]
    _write(s2 / "spk2gender", ["s m"])
    with pytest.raises(DataDirError, match=r"two/spk2gender: speaker 's' differs from .*one-only/spk2gender"):
        combine_data_dirs(tmp_path / "out2", [s1_only, s2])


def test_combine_mixed_segments_gives_whole_file_segments(fsdd_test, tmp_path):
    seg = _segmented_dir(tmp_path / "seg")
    summary = combine_data_dirs(tmp_path / "out", [fsdd_test, seg])
    out = tmp_path / "out"
    assert summary.has_segments and summary.utterances == 103 and summary.recordings == 102
    segments = dict(line.split(None, 1) for line in _lines(out / "segments"))
    wav = dict(line.split(None, 1) for line in _lines(out / "wav.scp"))
    rec, start, end = segments["jackson-0-00"].split()
    assert (rec, float(start)) == ("jackson-0-00", 0.0)
    assert float(end) == pytest.approx(sf.info(wav["jackson-0-00"]).duration, abs=1e-6)
    assert segments["s-2"] == "r1 0.5 1.0"
    # utt2dur and spk2gender are only in one source: left out, and said so
    assert summary.extra_files == ()
    assert summary.warnings[-1] == f"{out}: left out spk2gender utt2dur: not in every source"


def test_combine_mixed_segments_with_pipes_needs_utt2dur(tmp_path):
    plain = _make_dir(tmp_path / "plain", [("p-1", "p", "hi")], audio={"p-1": "sox p1.flac -t wav - |"})
    seg = _segmented_dir(tmp_path / "seg")
    message = r"plain/wav.scp: cannot give 'p-1' a whole-file segment: its audio is a command; add utt2dur"
    with pytest.raises(DataDirError, match=message):
        combine_data_dirs(tmp_path / "out", [plain, seg])
    _write(plain / "utt2dur", ["p-1 1.5"])
    summary = combine_data_dirs(tmp_path / "out", [plain, seg])
    assert "p-1 p-1 0 1.5" in _lines(tmp_path / "out" / "segments")
    assert summary.extra_files == ("utt2dur",)
    assert _lines(tmp_path / "out" / "utt2dur") == ["p-1 1.5", "s-1 0.5", "s-2 0.5", "t-1 0.8"]


def test_ark_offsets_check_their_archive_and_give_durations(tmp_path):
    rate = 8000
    ark = tmp_path / "audio.ark"
    audio = {"k-1": (rate, np.zeros(4000, np.int16)), "k-2": (rate, np.zeros(2000, np.int16))}
    kaldiio.save_ark(str(ark), audio, scp=str(tmp_path / "ark.scp"))
    offsets = dict(line.split() for line in _lines(tmp_path / "ark.scp"))
    plain = _make_dir(tmp_path / "plain", [("k-1", "k", "hi"), ("k-2", "k", "ho")], audio=offsets)
    assert validate_data_dir(plain).utterances == 2
    combine_data_dirs(tmp_path / "out", [plain, _segmented_dir(tmp_path / "seg")])
    assert _lines(tmp_path / "out" / "segments")[:2] == ["k-1 k-1 0 0.5", "k-2 k-2 0 0.25"]
    ark.unlink()
    assert _problems(plain) == [f"{plain}/wav.scp:{n}: audio file not found: {ark}" for n in (1, 2)]


_SPEAKERS = ["a", "b", "B", "é", "a_b"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    utts=st.lists(st.tuples(st.sampled_from(_SPEAKERS), st.integers(0, 40)), min_size=2, max_size=14,
                  unique=True),
    texts=st.lists(st.from_regex(r"[a-zé]{1,4}( [a-z]{1,4}){0,2}", fullmatch=True), min_size=14, max_size=14),
    mask=st.lists(st.booleans(), min_size=14, max_size=14),
)
def test_subset_then_combine_round_trips(utts, texts, mask):
    """Splitting a dir by an utterance list and its complement and combining gives it back byte for byte."""
    rows = [(f"{spk}-{n}", spk, texts[i]) for i, (spk, n) in enumerate(utts)]
    chosen = [u for (u, _, _), keep in zip(rows, mask, strict=False) if keep]
    assume(0 < len(chosen) < len(rows))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = _make_dir(tmp / "src", rows, audio={u: f"gen {u} |" for u, _, _ in rows})
        _write(src / "utt2dur", [f"{u} {len(u)}.5" for u in sorted(r[0] for r in rows)])
        validate_data_dir(src)
        first = subset_data_dir(src, tmp / "a", utt_list=chosen)
        rest = subset_data_dir(src, tmp / "b", utt_list=[r[0] for r in rows if r[0] not in chosen])
        assert first.utterances + rest.utterances == len(rows)
        combine_data_dirs(tmp / "ab", [tmp / "b", tmp / "a"])
        for name in (*FILES, "utt2dur"):
            assert (tmp / "ab" / name).read_bytes() == (src / name).read_bytes(), name


# ----------------------------------------------------------------------------- CLI


def test_cli_validate_exit_codes(good, capsys):
    assert main(["validate", str(good)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{good}: 3 utterances, 2 speakers\n" and err == ""

    _edit("text", 1, "a-2")(good)
    (good / "spk2utt").unlink()
    assert main(["validate", str(good), "--max-problems", "1"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"{good}/spk2utt: missing required file", "and 1 more",
                                f"datadir validate: {good}: 2 problem(s)"]

    assert main(["validate", str(good / "nope")]) == 2
    assert capsys.readouterr().err == f"datadir validate: error: {good}/nope: not a directory\n"


def test_cli_validate_audio_flag_and_warnings(good, tmp_path, capsys):
    (tmp_path / "audio" / "b-1.wav").unlink()
    assert main(["validate", str(good)]) == 1
    capsys.readouterr()
    assert main(["validate", str(good), "--no-audio-check"]) == 0
    _write(good / "utt2spk", ["a-1 a", "a-2 a", "b-1 x"])
    _write(good / "spk2utt", ["a a-1 a-2", "x b-1"])
    assert main(["validate", str(good), "--no-audio-check"]) == 0
    assert capsys.readouterr().err.startswith(f"datadir validate: warning: {good}/utt2spk: 1 utterance id(s)")


def test_cli_fix_subset_combine(good, tmp_path, capsys):
    _write(good / "text", ["b-1 three", "a-2 two two", "a-1 one"])
    assert main(["fix", str(good)]) == 0
    assert capsys.readouterr().out.startswith(f"{good}: kept 3 of 3 utterances, sorted text")
    assert main(["subset", str(good), str(tmp_path / "s"), "--random", "2", "--seed", "3"]) == 0
    speakers = validate_data_dir(tmp_path / "s").speakers
    assert capsys.readouterr().out == f"{tmp_path / 's'}: 2 utterances, {speakers} speakers\n"
    _write(tmp_path / "spk", ["b"])
    assert main(["subset", str(good), str(tmp_path / "b"), "--spk-list", str(tmp_path / "spk")]) == 0
    assert _ids(tmp_path / "b") == ["b-1"]
    capsys.readouterr()
    assert main(["combine", str(tmp_path / "c"), str(good), str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err == (f"datadir combine: error: {tmp_path / 'b'}: duplicate utterance id "
                                       f"'b-1' (also in {good})\n")
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["subset", "x", "y"],
         "datadir subset: error: one of the arguments --first --last --random --utt-list --spk-list"),
        (["subset", "x", "y", "--first", "1", "--last", "1"],
         "datadir subset: error: argument --last: not allowed with argument --first (see --help)"),
        (["frobnicate"],
         "datadir: error: argument {validate,fix,subset,combine}: invalid choice: 'frobnicate'"),
        (["combine", "out"],
         "datadir combine: error: the following arguments are required: SRC (see --help)"),
    ],
)
def test_cli_usage_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_cli_user_errors_exit_2_without_traceback(good, tmp_path, capsys):
    assert main(["subset", str(good), str(tmp_path / "o"), "--first", "9"]) == 2
    assert capsys.readouterr().err == (f"datadir subset: error: {good}: first=9 asks for more than the 3 "
                                       "utterances there\n")
    assert main(["subset", str(good), str(tmp_path / "o"), "--last", "1", "--seed", "2"]) == 2
    assert capsys.readouterr().err == "datadir subset: error: --seed only goes with --random\n"
    assert main(["subset", str(good), str(tmp_path / "o"), "--utt-list", str(tmp_path / "none")]) == 2
    assert "none: id list not found" in capsys.readouterr().err
    _write(good / "text", ["a-1 one", "a-1 uno", "a-2 two two", "b-1 three"])
    assert main(["fix", str(good)]) == 2
    assert capsys.readouterr().err == (f"datadir fix: error: {good}/text:2: duplicate utterance id 'a-1' "
                                       "with a different value than line 1\n")


def test_cli_runs_as_a_module(good):
    (good / "spk2utt").unlink()
    run = subprocess.run([sys.executable, "-m", "spikespeech.data.datadir", "validate", str(good)],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"{good}/spk2utt: missing required file",
                                       f"datadir validate: {good}: 1 problem(s)"]
    run = subprocess.run([sys.executable, "-m", "spikespeech.data.datadir", "fix", str(good)],
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stderr == ""
    assert (good / "spk2utt").read_text() == "a a-1 a-2\nb b-1\n"
