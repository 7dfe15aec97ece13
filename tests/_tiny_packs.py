"""Tiny randomly initialised ASR and TTS packs (and their exp dirs) shared by the tests.

Import the fixtures into a test module (``from _tiny_packs import exp_dir, packed``): pytest
finds fixtures among a module's attributes. They check behaviour (errors, formats, files,
endpoints), not accuracy.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

# isort: off
from espnet2.tasks.asr import ASRTask  # imported offline, our classes registered: conftest.py
from espnet2.tasks.tts import TTSTask

# isort: on
from spikespeech.inference.pack import pack_asr_model, pack_tts_model
from spikespeech.text import Frontend

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exp_dir(tmp_path_factory):
    """An ESPnet-style exp dir of a random tiny model: config.yaml + weights + stats."""
    work = tmp_path_factory.mktemp("exp")
    tokens = ["<blank>", "<unk>", "a", "b", "c", "<sos/eos>"]
    (work / "tokens.txt").write_text("\n".join(tokens) + "\n")
    np.savez(work / "feats_stats.npz", count=np.array(100.0), sum=np.zeros(80),
             sum_square=np.full(80, 100.0))
    args = ASRTask.get_parser().parse_args([
        "--config", str(ROOT / "spikespeech/conf/asr/tiny.yaml"), "--token_list",
        str(work / "tokens.txt"), "--token_type", "char", "--normalize", "global_mvn",
        "--normalize_conf",
        f"stats_file={work / 'feats_stats.npz'}",
    ])
    torch.manual_seed(0)
    model = ASRTask.build_model(args)
    torch.save(model.state_dict(), work / "model.pth")
    config = vars(args).copy()
    config["token_list"] = tokens
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    return work


@pytest.fixture(scope="module")
def packed(exp_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "model.zip"
    card = exp_dir / "CARD.md"
    card.write_text("# tiny test model\n")
    return pack_asr_model(exp_dir / "config.yaml", exp_dir / "model.pth", out, card=card)


FS = 22050
MEL = {"fs": FS, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "n_mels": 80, "fmin": 80,
       "fmax": 7600}


def tiny_tts_conf() -> dict:
    conf = yaml.safe_load((ROOT / "spikespeech/conf/tts/small.yaml").read_text())
    for stack in ("encoder", "decoder"):
        conf[stack] = dict(conf[stack], layers=1, d_model=32, ffn_dim=64)
    conf["postnet"] = dict(conf["postnet"], layers=2, channels=32)
    for name in ("duration", "pitch", "energy"):
        conf["variance"][name] = dict(conf["variance"][name], channels=32)
    return conf


def tts_token_list() -> list[str]:
    return ["<blank>", "<unk>", *Frontend("en").symbols(), "<sos/eos>"]


def tts_args(tmp_path: Path, normalize: bool = False, **tts_conf) -> argparse.Namespace:
    config = {
        "token_list": tts_token_list(), "token_type": "phn", "g2p": "none", "cleaner": "none",
        "feats_extract": "fbank", "feats_extract_conf": MEL,
        "pitch_extract": "dio", "pitch_extract_conf": {
            "fs": FS, "n_fft": 1024, "hop_length": 256, "f0max": 400, "f0min": 80,
            "reduction_factor": 1, "use_token_averaged_f0": False},
        "energy_extract": "energy", "energy_extract_conf": {
            "fs": FS, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "reduction_factor": 1,
            "use_token_averaged_energy": False},
        "normalize": None, "pitch_normalize": None, "energy_normalize": None,
        "tts": "spikevoice", "tts_conf": {**tiny_tts_conf(), **tts_conf},
    }
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    parser = TTSTask.get_parser()
    args = parser.parse_args(["--config", str(path), "--output_dir", str(tmp_path / "exp")])
    return args


@pytest.fixture(scope="module")
def packed_tiny_model(tmp_path_factory):
    """An untrained tiny SpikeVoice saved as ESPnet writes a trained one, then packed."""
    tmp = tmp_path_factory.mktemp("tts_pack")
    torch.manual_seed(0)
    args = tts_args(tmp)
    model = TTSTask.build_model(args)
    exp = tmp / "exp"
    exp.mkdir(exist_ok=True)
    torch.save(model.state_dict(), exp / "model.pth")
    with (exp / "config.yaml").open("w", encoding="utf-8") as f:
        yaml.safe_dump(vars(args), f)
    return pack_tts_model(exp / "config.yaml", exp / "model.pth", tmp / "tts.zip", language="en")
