"""Training survives ``kill -9`` (resume from the last checkpoint) and NaN/inf losses.

Through our ESPnet entry point on real FSDD speech with the tiny config.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from _helpers import shared_data

from spikespeech.data.fsdd import DIGIT_WORDS, prepare_fsdd
from spikespeech.espnet.checkpoints import _atomic_save

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "spikespeech" / "conf" / "asr" / "tiny.yaml"
FRONTEND = ["--frontend_conf", "fs=8000", "--frontend_conf", "n_fft=256", "--frontend_conf",
            "win_length=200", "--frontend_conf", "hop_length=80", "--frontend_conf", "n_mels=40"]


def test_atomic_save_keeps_the_previous_file_when_a_write_fails(tmp_path):
    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    path = tmp_path / "checkpoint.pth"
    _atomic_save({"epoch": 1}, path)
    with pytest.raises(RuntimeError, match="boom"):
        _atomic_save({"epoch": 2, "bad": Unpicklable()}, path)
    assert torch.load(path) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pth"]  # no temp file left


def _common(data: Path, train: str = "train") -> list[str]:
    return ["--use_preprocessor", "true", "--token_type", "char", "--token_list", "tokens.txt",
            "--config", str(TINY), *FRONTEND, "--ngpu", "0", "--num_workers", "0",
            "--train_data_path_and_name_and_type", f"{data / train}/wav.scp,speech,sound",
            "--train_data_path_and_name_and_type", f"{data / train}/text,text,text",
            "--valid_data_path_and_name_and_type", f"{data}/test/wav.scp,speech,sound",
            "--valid_data_path_and_name_and_type", f"{data}/test/text,text,text"]


def _train_args(data: Path, out: str, epochs: int, train: str = "train",
                shape: str = "stats/train/speech_shape"):
    return [sys.executable, "-m", "spikespeech.bin.asr_train", *_common(data, train),
            "--normalize", "global_mvn", "--normalize_conf", "stats_file=stats/train/feats_stats.npz",
            "--train_shape_file", shape, "--valid_shape_file", "stats/valid/speech_shape",
            "--fold_length", "80000", "--max_epoch", str(epochs), "--resume", "true",
            "--output_dir", out]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("robust")
    prepare_fsdd(shared_data("fsdd"), work / "data", speakers=["george", "jackson"],
                 train_takes=range(5, 25), test_takes=range(0, 2))
    chars = sorted(set("".join(DIGIT_WORDS)))
    (work / "tokens.txt").write_text("\n".join(["<blank>", "<unk>", *chars, "<sos/eos>"]) + "\n")
    out = subprocess.run(
        [sys.executable, "-m", "spikespeech.bin.asr_train", *_common(work / "data"),
         "--collect_stats", "true", "--normalize", "none", "--output_dir", "stats",
         "--train_shape_file", "data/train/wav.scp", "--valid_shape_file", "data/test/wav.scp"],
        cwd=work, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return work


@pytest.mark.slow
def test_kill_9_mid_training_then_rerun_resumes_and_finishes(workdir):
    cmd = _train_args(workdir / "data", "exp_kill", epochs=3)
    log = open(workdir / "kill.log", "w")
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    exp = workdir / "exp_kill"
    deadline = time.time() + 600
    while not (exp / "1epoch.pth").exists():  # wait for the first checkpoint
        assert proc.poll() is None, (workdir / "kill.log").read_text()[-3000:]
        assert time.time() < deadline, "no checkpoint after 10 minutes"
        time.sleep(0.2)
    time.sleep(1.0)  # into epoch 2
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (exp / "3epoch.pth").exists()
    state = torch.load(exp / "checkpoint.pth", map_location="cpu", weights_only=False)
    assert state["reporter"]["epoch"] >= 1  # a complete checkpoint, not a torn write

    again = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "The training was resumed using" in again.stderr
    assert (exp / "3epoch.pth").exists() and (exp / "valid.acc.best.pth").exists()
    # the resumed run started after the killed run's last finished epoch
    assert "1epoch results" not in again.stderr


@pytest.mark.slow
def test_nan_loss_skips_the_step_and_leaves_a_finite_model(workdir):
    data = workdir / "data"
    bad_dir = data / "train_nan"
    bad_dir.mkdir()
    clean = {line.split()[0]: line for line in (data / "train" / "wav.scp").read_text().splitlines()}
    samples = np.random.default_rng(0).normal(0, 0.1, 4000).astype(np.float32)
    samples[1000:1100] = np.nan
    nan_wav = workdir / "nan.wav"
    sf.write(nan_wav, samples, 8000, subtype="FLOAT")
    nan_id = "george-9-99"
    rows = {**clean, nan_id: f"{nan_id} {nan_wav}"}
    for name, extra in (("wav.scp", None), ("text", "nine"), ("utt2spk", "george")):
        src = {ln.split()[0]: ln for ln in (data / "train" / name).read_text().splitlines()}
        src[nan_id] = rows[nan_id] if extra is None else f"{nan_id} {extra}"
        (bad_dir / name).write_text("".join(src[k] + "\n" for k in sorted(src)))
    shape = workdir / "stats" / "train" / "speech_shape"
    shapes = shape.read_text() + f"{nan_id} 4000\n"
    (workdir / "nan_speech_shape").write_text(shapes)

    out = subprocess.run(_train_args(data, "exp_nan", epochs=2, train="train_nan",
                                     shape="nan_speech_shape"),
                         cwd=workdir, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "grad norm is nan" in out.stderr.lower()  # ESPnet skipped the step and said so
    for name in ("2epoch.pth", "valid.acc.best.pth"):
        state = torch.load(workdir / "exp_nan" / name, map_location="cpu")
        bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
        assert not bad, f"{name}: non-finite tensors {bad[:5]}"


@pytest.mark.slow
def test_two_process_data_parallel_training_via_torchrun(workdir):
    # the multi-node/multi-GPU path of recipes/asr.sh stage 8 (torch.distributed.run, one
    # process per device), on CPU with gloo: each worker is a fresh interpreter that must
    # register iml_spikeformer by importing our entry point
    cmd = _train_args(workdir / "data", "exp_ddp", epochs=1)
    cmd[1:3] = ["-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
                "--master_addr", "127.0.0.1", "--master_port", "29533", "-m", "spikespeech.bin.asr_train"]
    cmd += ["--multiprocessing_distributed", "false", "--dist_init_method", "env://",
            "--dist_backend", "gloo"]
    out = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "[vm:0/2]" in out.stderr.replace(f"[{os.uname().nodename}:", "[vm:")  # rank 0 of 2 logs
    assert (workdir / "exp_ddp" / "1epoch.pth").exists()


@pytest.mark.slow
def test_training_carried_to_another_dir_by_a_snapshot_ends_as_if_never_stopped(workdir):
    # recipe.train_snapshot: what a session saves when its machine may not come back; the
    # restored run must give the same weights as one uninterrupted run (ESPnet seeds each epoch)
    from spikespeech.recipe.train_snapshot import restore, save

    def train(out: str, epochs: int) -> str:
        run = subprocess.run(_train_args(workdir / "data", out, epochs=epochs), cwd=workdir,
                             capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stderr[-3000:]
        return run.stderr

    train("exp_whole", epochs=2)
    train("exp_first", epochs=1)
    cwd = os.getcwd()
    os.chdir(workdir)  # the config names the statistics relative to the recipe dir
    try:
        save(Path("exp_first"), Path("snapshot"))
        assert restore(Path("snapshot"), Path("exp_moved"))["stats_written"] == {}
    finally:
        os.chdir(cwd)
    log = train("exp_moved", epochs=2)
    assert "The training was resumed using" in log and "1epoch results" not in log
    whole = torch.load(workdir / "exp_whole" / "2epoch.pth", map_location="cpu")
    moved = torch.load(workdir / "exp_moved" / "2epoch.pth", map_location="cpu")
    assert whole.keys() == moved.keys()
    assert all(torch.equal(whole[k], moved[k]) for k in whole)
