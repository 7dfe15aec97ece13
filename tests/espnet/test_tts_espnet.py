"""SpikeVoice inside ESPnet: registry, TTSTask model building, training loss, strict loading,
TTS packs and ``spikespeech synthesize`` (on an untrained tiny model; the recipe test trains)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

# isort: off
from espnet2.tasks.tts import TTSTask, tts_choices  # offline, ours registered: conftest.py

# isort: on
from _helpers import shared_data
from _tiny_packs import FS, tts_args, tts_token_list

from spikespeech.cli.main import main as cli_main
from spikespeech.espnet import ESPnetSpikeVoice, StrictTTSTask
from spikespeech.inference.pack import PackError, open_pack
from spikespeech.text import Frontend

ROOT = Path(__file__).resolve().parents[2]
def _clip(n: int = 0) -> np.ndarray:
    wavs = sorted((shared_data("ljspeech_subset") / "wavs").glob("*.wav"))
    audio, rate = sf.read(wavs[n], dtype="float32")
    assert rate == FS
    return audio


def test_spikevoice_is_registered():
    assert tts_choices.get_class("spikevoice") is ESPnetSpikeVoice


def test_ttstask_builds_and_trains_one_step(tmp_path):
    model = TTSTask.build_model(tts_args(tmp_path))
    assert isinstance(model.tts, ESPnetSpikeVoice)
    frontend = Frontend("en")
    ids = {t: i for i, t in enumerate(tts_token_list())}
    texts = ["printing in the only sense", "with which we are at present concerned"]
    tokens = [torch.tensor([ids[t] for t in frontend(x)]) for x in texts]
    speech = [torch.from_numpy(_clip(i)[: FS * 2]) for i in range(2)]
    batch = {
        "text": torch.nn.utils.rnn.pad_sequence(tokens, batch_first=True),
        "text_lengths": torch.tensor([len(t) for t in tokens]),
        "speech": torch.nn.utils.rnn.pad_sequence(speech, batch_first=True),
        "speech_lengths": torch.tensor([len(s) for s in speech]),
    }
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    loss, stats, weight = model(**batch)
    assert torch.isfinite(loss) and int(weight) == 2
    for name in ("mel_l1", "postnet_l1", "duration_mse", "pitch_mse", "energy_mse", "forward_sum"):
        assert name in stats and torch.isfinite(stats[name])
    loss.backward()
    optim.step()
    model.eval()
    out = model.inference(text=tokens[0], use_teacher_forcing=False)
    assert out["feat_gen"].shape[1] == 80 and out["feat_gen"].shape[0] >= 1
    assert out["duration"].shape == tokens[0].shape
    # ESPnet's speed_control_alpha (> 1 slower) reaches the model as speed = 1 / alpha
    seen = {}
    real_infer = model.tts.model.infer

    def spy(tokens, speed=1.0, **kwargs):
        seen["speed"] = speed
        return real_infer(tokens, speed=speed, **kwargs)

    model.tts.model.infer = spy
    model.inference(text=tokens[0], use_teacher_forcing=False, alpha=2.0)
    assert seen["speed"] == pytest.approx(0.5)


def test_multi_speaker_options_reach_the_model(tmp_path):
    model = TTSTask.build_model(tts_args(tmp_path, spks=3))
    assert model.tts.spks == 3 and model.tts.model.config.num_speakers == 3


def test_unknown_tts_conf_key_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="tts_conf: unknown key"):
        TTSTask.build_model(tts_args(tmp_path, no_such_option=1))


def test_pack_round_trip_and_strict_loading(packed_tiny_model, tmp_path):
    unpacked = open_pack(packed_tiny_model, task="tts")
    assert unpacked.meta["task"] == "tts" and unpacked.meta["language"] == "en"
    assert unpacked.sample_rate == FS and unpacked.meta["vocoder"] == "griffin_lim"
    model, _ = StrictTTSTask.build_model_from_file(unpacked.config, unpacked.model)
    broken = {k: v for k, v in torch.load(unpacked.model).items() if "postnet" not in k}
    torch.save(broken, tmp_path / "broken.pth")
    with pytest.raises(ValueError, match="missing keys"):
        StrictTTSTask.build_model_from_file(unpacked.config, tmp_path / "broken.pth")
    with pytest.raises(PackError, match="not 'asr'"):
        open_pack(packed_tiny_model, task="asr")


def test_synthesize_cli_writes_wavs(packed_tiny_model, tmp_path, capsys):
    out = tmp_path / "hello.wav"
    assert cli_main(["synthesize", "Hello world. It costs $3.", "--model", str(packed_tiny_model),
                     "-o", str(out), "--verbose", "--energy"]) == 0
    audio, rate = sf.read(out)
    assert rate == FS and len(audio) > 0 and np.isfinite(audio).all()
    report = capsys.readouterr().err
    assert '"rtf"' in report and '"ann_to_snn_ratio"' in report
    assert [p.name for p in tmp_path.iterdir()] == ["hello.wav"]  # no temporary files left

    lines = tmp_path / "lines.txt"
    lines.write_text("First line.\n\n😀😀\nSecond line, slower.\n", encoding="utf-8")
    outdir = tmp_path / "numbered"
    assert cli_main(["synthesize", "--text-file", str(lines), "--model", str(packed_tiny_model),
                     "-o", str(outdir), "--sample-rate", "16000"]) == 1  # the emoji line fails
    err = capsys.readouterr().err
    assert "line 3" in err and "nothing to say" in err
    assert sorted(p.name for p in outdir.iterdir()) == ["0001.wav", "0004.wav"]
    assert sf.info(outdir / "0004.wav").samplerate == 16000


def test_synthesize_cli_errors(packed_tiny_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("spikespeech.models.HERE", tmp_path / "no_models")
    assert cli_main(["synthesize", "hi", "-o", str(tmp_path / "x.wav")]) == 2
    assert "the default TTS model is missing" in capsys.readouterr().err
    assert cli_main(["synthesize", "hi", "--model", str(tmp_path / "none.zip"),
                     "-o", str(tmp_path / "x.wav")]) == 2
    assert "model not found" in capsys.readouterr().err
    assert cli_main(["synthesize", "hi", "--model", str(packed_tiny_model), "--speaker", "bob",
                     "-o", str(tmp_path / "x.wav")]) == 2
    assert "single speaker" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


def test_synthesize_reads_stdin(packed_tiny_model, tmp_path):
    out = tmp_path / "stdin.wav"
    proc = subprocess.run(
        [sys.executable, "-m", "spikespeech.cli.main", "synthesize", "--model", str(packed_tiny_model),
         "-o", str(out)], input="Text from a pipe.\n", text=True, capture_output=True, cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert sf.info(out).samplerate == FS and sf.info(out).frames > 0
