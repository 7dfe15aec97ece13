"""`spikespeech pack` / `transcribe`: packing, inputs, and the bad-input matrix.

Uses a randomly initialised tiny model (the ``exp_dir``/``packed`` fixtures of _tiny_packs.py):
these tests check behaviour (errors, formats, resampling, chunking), not accuracy (see
test_asr_e2e.py for a trained model).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

pytest.importorskip("espnet2")

from spikespeech.audio import AudioError, expand_inputs, load_audio  # noqa: E402
from spikespeech.cli.main import main  # noqa: E402
from spikespeech.inference.pack import PackError, open_pack  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    sf.write(path, samples, rate, subtype="PCM_16" if np.isfinite(samples).all() else "FLOAT")
    return path


def _tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return np.stack([x, 0.5 * x], axis=1) if channels == 2 else x


# ---- packing -------------------------------------------------------------------------------
def test_pack_contents_and_open(packed):
    with zipfile.ZipFile(packed) as zf:
        names = set(zf.namelist())
    assert {"meta.yaml", "config.yaml", "model.pth", "tokens.txt", "feats_stats.npz",
            "MODEL_CARD.md"} <= names
    unpacked = open_pack(packed)
    config = yaml.safe_load(unpacked.config.read_text())
    assert Path(config["token_list"]).is_file()
    assert Path(config["normalize_conf"]["stats_file"]).is_file()
    assert unpacked.sample_rate == 16000 and unpacked.card.startswith("# tiny")


def test_pack_cli_and_errors(exp_dir, tmp_path, capsys):
    out = tmp_path / "m.zip"
    assert main(["pack", "--asr-config", str(exp_dir / "config.yaml"), "--model",
                 str(exp_dir / "model.pth"), "-o", str(out)]) == 0
    assert zipfile.is_zipfile(out)
    assert main(["pack", "--asr-config", str(tmp_path / "nope.yaml"), "--model",
                 str(exp_dir / "model.pth"), "-o", str(tmp_path / "x.zip")]) == 2
    assert "nope.yaml: config file not found" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()


def test_open_pack_rejects_non_packs(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_text("hello")
    with pytest.raises(PackError, match="not a packed model"):
        open_pack(junk)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(PackError, match="missing meta.yaml, config.yaml, model.pth"):
        open_pack(empty)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../meta.yaml", "task: asr")
    with pytest.raises(PackError, match="unexpected entry"):
        open_pack(evil)


# ---- audio input ---------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_load_audio_resamples_any_rate(rate, tmp_path):
    path = _wav(tmp_path / f"t{rate}.wav", _tone(0.5, rate), rate)
    samples = load_audio(path, 16000)
    assert samples.dtype == np.float32 and abs(len(samples) - 8000) <= 2


def test_load_audio_stereo_is_mixed_to_mono(tmp_path):
    samples = load_audio(_wav(tmp_path / "s.wav", _tone(0.2, 16000, 2), 16000), 16000)
    assert samples.ndim == 1
    np.testing.assert_allclose(samples, 0.75 * _tone(0.2, 16000), atol=2e-4)


def test_load_audio_reads_sphere(tmp_path):
    path = tmp_path / "x.sph"
    sf.write(path, _tone(0.2, 16000), 16000, format="NIST", subtype="PCM_16")
    assert len(load_audio(path, 16000)) == 3200


@pytest.mark.parametrize(
    "make,problem",
    [
        (lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
        (lambda p: p.write_text("this is not audio, just text\n" * 20), "not a readable audio file"),
        (lambda p: p.write_bytes(_wav_bytes(_tone(1.0, 16000))[:30]), "not a readable audio file"),
        (lambda p: _wav(p, np.zeros(0), 16000), "contains no audio samples"),
        (lambda p: _wav(p, np.array([0.1, np.nan, 0.2] * 100), 16000), "NaN or infinite"),
    ],
    ids=["empty", "text-renamed", "truncated", "zero-samples", "nan"],
)
def test_load_audio_errors_name_the_file(make, problem, tmp_path):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError) as exc:
        load_audio(path, 16000)
    message = str(exc.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def _wav_bytes(samples: np.ndarray, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def test_expand_inputs(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    a = _wav(tmp_path / "d" / "a.wav", _tone(0.1, 8000), 8000)
    b = _wav(tmp_path / "d" / "sub" / "a.flac", _tone(0.1, 8000), 8000)
    (tmp_path / "d" / "notes.txt").write_text("x")
    scp = tmp_path / "wav.scp"
    scp.write_text(f"utt1 {a}\nbroken-line-without-path\n")
    (tmp_path / "empty").mkdir()
    inputs, errors = expand_inputs([str(tmp_path / "d"), str(scp), "-", str(tmp_path / "empty")],
                                   stdin=io.StringIO(f"{b}\n\n"))
    # same stem in two folders: ids from the path below the common folder; the same file twice: -2
    assert [(i.utt_id, i.path) for i in inputs] == [("a", a), ("sub-a", b), ("utt1", a), ("sub-a-2", b)]
    assert errors == [f"{scp}:2: expected 'utterance-id path'",
                      f"{tmp_path / 'empty'}: directory contains no audio files"]


# ---- the CLI on bad inputs -----------------------------------------------------------------
def test_transcribe_bad_input_matrix(packed, tmp_path, capsys):
    good = [
        _wav(tmp_path / "r8k.wav", _tone(0.6, 8000), 8000),
        _wav(tmp_path / "r22k.wav", _tone(0.6, 22050), 22050),
        _wav(tmp_path / "r44k.wav", _tone(0.6, 44100), 44100),
        _wav(tmp_path / "r48k.wav", _tone(0.6, 48000), 48000),
        _wav(tmp_path / "stereo.wav", _tone(0.6, 16000, 2), 16000),
    ]
    bad = {
        "empty.wav": lambda p: p.write_bytes(b""),
        "text.wav": lambda p: p.write_text("not audio\n" * 50),
        "truncated.wav": lambda p: p.write_bytes(_wav_bytes(_tone(1.0, 16000))[:30]),
        "zero.wav": lambda p: _wav(p, np.zeros(0), 16000),
        "nan.wav": lambda p: _wav(p, np.array([0.1, np.nan] * 800), 16000),
        "blip.wav": lambda p: _wav(p, _tone(0.02, 16000), 16000),  # too short for the model
    }
    for name, make in bad.items():
        make(tmp_path / name)
    args = [str(p) for p in good] + [str(tmp_path / n) for n in bad] + [str(tmp_path / "missing.wav")]
    code = main(["transcribe", "--model", str(packed), "--format", "json", "--beam-size", "1",
                 "--no-progress", *args])
    out, err = capsys.readouterr()
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == [p.stem for p in good]
    for r in records:
        assert set(r) >= {"id", "path", "text", "duration_s", "decode_s", "rtf"}
        assert r["duration_s"] == pytest.approx(0.6, abs=0.01)
    err_lines = [line for line in err.splitlines() if line.startswith("spikespeech transcribe:")]
    assert len(err_lines) == len(bad) + 1
    for name in [*bad, "missing.wav"]:
        assert any(str(tmp_path / name) in line for line in err_lines), name


def test_transcribe_text_format_energy_and_usage_errors(packed, tmp_path, capsys, monkeypatch):
    clip = _wav(tmp_path / "clip.wav", _tone(0.6, 16000), 16000)
    assert main(["transcribe", "--model", str(packed), "--beam-size", "1", str(clip)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("clip\t") and out.count("\n") == 1 and out.endswith("\n")
    assert main(["transcribe", "--model", str(packed), "--beam-size", "1", "--energy",
                 "--format", "json", str(clip)]) == 0
    energy = json.loads(capsys.readouterr().out)["energy"]
    assert energy["scope"] == "encoder" and 0 < energy["firing_rate"] < 1
    assert energy["ann_energy_uj"] > energy["energy_uj"] > 0

    monkeypatch.setattr("spikespeech.models.HERE", tmp_path / "no_models")
    assert main(["transcribe", str(clip)]) == 2
    assert "the default ASR model is missing" in capsys.readouterr().err
    assert main(["transcribe", "--model", str(tmp_path / "nope.zip"), str(clip)]) == 2
    assert "nope.zip: model not found" in capsys.readouterr().err


def test_beam_wider_than_the_vocabulary_is_capped(packed):
    from spikespeech.inference.transcriber import Transcriber

    for mode in ("attention", "attention_rescoring"):  # ESPnet's beam search alone fails on this
        with Transcriber(packed, beam_size=10_000, mode=mode) as transcriber:
            assert isinstance(transcriber.transcribe(_tone(0.6, transcriber.sample_rate)).text, str)
