"""End to end through ESPnet's own trainer and decoder, via our entry points, on real speech.

FSDD digits (3 speakers, 12 takes each for training, 2 held-out takes each for testing):
collect stats → train the tiny IML-Spikeformer config → decode with strict loading.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import shared_data

from spikespeech.data.fsdd import DIGIT_WORDS, prepare_fsdd

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "spikespeech" / "conf" / "asr" / "tiny.yaml"
FRONTEND = ["--frontend_conf", "fs=8000", "--frontend_conf", "n_fft=256", "--frontend_conf",
            "win_length=200", "--frontend_conf", "hop_length=80", "--frontend_conf", "n_mels=40"]

pytestmark = pytest.mark.slow


def _run(module: str, *args: str, cwd: Path) -> str:
    out = subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, f"{module} failed:\n{out.stderr[-3000:]}"
    return out.stderr + out.stdout


def _data_args(split: str, prefix: str, data: Path) -> list[str]:
    return [f"--{prefix}_data_path_and_name_and_type", f"{data / split}/wav.scp,speech,sound",
            f"--{prefix}_data_path_and_name_and_type", f"{data / split}/text,text,text"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp("asr")
    dirs = prepare_fsdd(shared_data("fsdd"), work / "data", speakers=["george", "jackson", "lucas"],
                        train_takes=range(5, 17), test_takes=range(0, 2))
    chars = sorted(set("".join(DIGIT_WORDS)))
    (work / "tokens.txt").write_text("\n".join(["<blank>", "<unk>", *chars, "<sos/eos>"]) + "\n")
    common = ["--use_preprocessor", "true", "--token_type", "char", "--token_list", "tokens.txt",
              "--config", str(TINY), *FRONTEND, "--ngpu", "0", "--num_workers", "0",
              *_data_args("train", "train", dirs["train"].parent),
              *_data_args("test", "valid", dirs["train"].parent)]
    _run("spikespeech.bin.asr_train", *common, "--collect_stats", "true", "--normalize", "none",
         "--output_dir", "stats", "--train_shape_file", "data/train/wav.scp",
         "--valid_shape_file", "data/test/wav.scp", cwd=work)
    log = _run("spikespeech.bin.asr_train", *common, "--normalize", "global_mvn",
               "--normalize_conf", "stats_file=stats/train/feats_stats.npz",
               "--train_shape_file", "stats/train/speech_shape",
               "--valid_shape_file", "stats/valid/speech_shape", "--fold_length", "80000",
               "--max_epoch", "12", "--output_dir", "exp", cwd=work)
    return work, log


def test_training_loss_falls(trained):
    _, log = trained
    losses = [float(m) for m in re.findall(r"epoch results: \[train\].*? loss=([0-9.]+)", log)]
    assert len(losses) == 12
    assert losses[-1] < 0.25 * losses[0], losses
    assert (trained[0] / "exp" / "valid.acc.best.pth").is_file()


@pytest.fixture(scope="module")
def decoded(trained):
    work, _ = trained
    _run("spikespeech.bin.asr_inference", "--asr_train_config", "exp/config.yaml",
         "--asr_model_file", "exp/valid.acc.best.pth", "--output_dir", "decode",
         "--data_path_and_name_and_type", "data/test/wav.scp,speech,sound",
         "--key_file", "data/test/wav.scp", "--ngpu", "0", "--beam_size", "4",
         "--ctc_weight", "0.3", "--batch_size", "1", cwd=work)
    hyps = {}
    for line in (work / "decode/1best_recog/text").read_text().splitlines():
        key, _, text = line.partition(" ")
        hyps[key] = text.strip()
    return hyps


def test_decoding_is_well_formed_and_mostly_right(trained, decoded):
    work, _ = trained
    refs = dict(line.split(" ", 1) for line in (work / "data/test/text").read_text().splitlines())
    assert set(decoded) == set(refs)
    alphabet = set("".join(DIGIT_WORDS)) | {" "}
    assert all(set(h) <= alphabet for h in decoded.values())
    errors = sum(decoded[k] != refs[k].strip() for k in refs)
    assert errors / len(refs) <= 0.2, {k: (refs[k], decoded[k]) for k in refs if decoded[k] != refs[k]}


@pytest.fixture(scope="module")
def packed_model(trained):
    work, _ = trained
    _run("spikespeech.cli.main", "pack", "--asr-config", "exp/config.yaml", "--model",
         "exp/valid.acc.best.pth", "-o", "fsdd_tiny.zip", cwd=work)
    return work / "fsdd_tiny.zip"


def test_pack_then_transcribe_reproduces_espnet_decoding(trained, decoded, packed_model):
    """``--mode attention`` is ESPnet's joint beam search: the same hypotheses as ESPnet's own
    decoding of the trained checkpoint."""
    work, _ = trained
    out = subprocess.run(
        [sys.executable, "-m", "spikespeech.cli.main", "transcribe", "--model", str(packed_model),
         "--mode", "attention", "--beam-size", "4", "--ctc-weight", "0.3", "data/test/wav.scp"],
        cwd=work, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split("\t", 1) for line in out.stdout.splitlines())
    assert lines == decoded


def test_ten_minute_file_is_decoded_in_chunks(trained, packed_model, tmp_path):
    """600 s of digits with pauses, decoded on the default path (mode and beam). The model knows
    isolated digits only, so chunks of at most 1.2 s must be cut in the pauses (quietest points)
    for the words to come out right; decoding stays well under a tenth of real time."""
    import jiwer
    import numpy as np
    import soundfile as sf

    work, _ = trained
    clips, words = [], []
    for line in (work / "data/test/wav.scp").read_text().splitlines():
        utt, path = line.split(" ", 1)
        clips.append(sf.read(path, dtype="float32")[0])
        words.append(DIGIT_WORDS[int(utt.split("-")[1])])
    gap = np.zeros(4000, dtype=np.float32)  # 0.5 s of silence at 8 kHz
    audio, ref = [], []
    while sum(len(a) for a in audio) < 600 * 8000:
        for clip, word in zip(clips, words, strict=True):
            audio += [clip, gap]
            ref.append(word)
    sf.write(tmp_path / "long.wav", np.concatenate(audio), 8000)
    out = subprocess.run(
        [sys.executable, "-m", "spikespeech.cli.main", "transcribe", "--model", str(packed_model),
         "--chunk-seconds", "1.2", "--format", "json",
         str(tmp_path / "long.wav")],
        capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    record = json.loads(out.stdout)
    assert record["duration_s"] >= 600 and record["chunks"] >= 500
    assert jiwer.wer(" ".join(ref), record["text"]) <= 0.3  # 0.13 measured (attention mode: 0.05)
    assert record["rtf"] <= 0.1  # issue 15's bar for a 10-minute file; 0.011 measured


def test_inference_refuses_a_mismatched_checkpoint(trained, tmp_path):
    """Our entry point loads strictly: a checkpoint of another config is an error, not noise."""
    import torch

    work, _ = trained
    state = torch.load(work / "exp/valid.acc.best.pth", weights_only=True)
    state.pop(next(k for k in state if k.startswith("encoder.encoder.layers.1.")))
    torch.save(state, tmp_path / "broken.pth")
    out = subprocess.run(
        [sys.executable, "-m", "spikespeech.bin.asr_inference", "--asr_train_config",
         "exp/config.yaml", "--asr_model_file", str(tmp_path / "broken.pth"), "--output_dir",
         str(tmp_path / "dec"), "--data_path_and_name_and_type", "data/test/wav.scp,speech,sound",
         "--ngpu", "0"],
        cwd=work, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode != 0
    assert "checkpoint does not match the model config: missing keys" in out.stderr
