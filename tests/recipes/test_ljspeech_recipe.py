"""The TTS recipe template (recipes/tts.sh) end to end on the shared LJSpeech subset
(egs/ljspeech/tts1, CI-sized), then ``spikespeech synthesize`` on the packed model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import soundfile as sf
from _helpers import shared_data
from test_recipes import REPO, recipe_copy, run_recipe


def _ok(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 0, f"recipe failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return out.stdout


def test_tts_template_rejects_bad_options_in_one_line(tmp_path):
    recipe = recipe_copy(tmp_path, "ljspeech", task="tts1")
    for args, message in ((["--language", "fr"], "--language must be en or zh"),
                          (["--fs", "16000"], "differs from --fs 16000"),
                          (["--use_sid", "yes"], "--use_sid must be true or false")):
        out = run_recipe(recipe, *args, timeout=120)
        assert out.returncode == 2 and message in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_ljspeech_recipe_all_stages_then_synthesize(tmp_path):
    recipe = recipe_copy(tmp_path, "ljspeech", task="tts1")
    data = ["--local_data_opts", f"--data_dir {shared_data('ljspeech_subset')}"]
    log = _ok(run_recipe(recipe, *data, "--tts_args", "--max_epoch 2", timeout=2400))
    for stage in range(1, 11):
        assert f"stage {stage} (" in log
    dump = recipe / "dump" / "raw"
    assert len((dump / "test" / "text").read_text().splitlines()) == 2
    # phoneme text for training, the transcript kept beside it for scoring
    phones = (dump / "train" / "text").read_text().splitlines()[0].split()[1:]
    assert "|" in phones and any("ˈ" in p for p in phones)
    words = (dump / "test" / "text.words").read_text()
    assert any(c.isupper() for c in words) or "," in words
    exp = recipe / "exp" / "tts_train_spikevoice_small"
    decode = next(exp.glob("decode_*"))
    wavs = sorted((decode / "test" / "wav").glob("*.wav"))
    assert len(wavs) == 2 and all(sf.info(w).samplerate == 22050 for w in wavs)
    scores = json.loads((decode / "test" / "score" / "scores.json").read_text())
    assert scores["n_scored"] == 2 and scores["mcd_db"] > 0 and scores["asr"] == "pocketsphinx"
    energy = json.loads((decode / "test" / "energy.json").read_text())
    assert energy["firing_rate"] is not None and 0 < energy["firing_rate"] < 1
    assert energy["ann_to_snn_ratio"] > 0
    results = (recipe / "exp" / "RESULTS.md").read_text()
    assert "MCD dB" in results and "tts_train_spikevoice_small" in results
    info = json.loads((exp / "model_info.json").read_text())
    assert info["epochs"] == 2 and info["encoder"] == "spikevoice (spiking)"
    assert "2epoch results" in (exp / "train.log").read_text()  # the experiment keeps its own log

    # a rerun skips every finished stage
    rerun = _ok(run_recipe(recipe, *data, "--tts_args", "--max_epoch 2", timeout=600))
    assert rerun.count("finished before with these options, skipped") == 10
    # a retrained model (same options, e.g. --continue_training) is decoded again
    model = (exp / "valid.postnet_l1.ave.pth").resolve()
    os.utime(model, (model.stat().st_atime, model.stat().st_mtime + 10))
    again = _ok(run_recipe(recipe, *data, "--tts_args", "--max_epoch 2", "--stage", "6", "--stop_stage", "8",
                           timeout=600))
    assert "stage 6 (train): finished before" in again and "stage 8: decode" in again

    out = tmp_path / "hello.wav"
    proc = subprocess.run(
        [sys.executable, "-m", "spikespeech.cli.main", "synthesize", "Hello there, 2 dogs.",
         "--model", str(exp / "model.zip"), "-o", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    info = sf.info(out)
    assert info.samplerate == 22050 and info.frames > 0
