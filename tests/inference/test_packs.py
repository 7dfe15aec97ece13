"""Model packs that are malformed, hostile or interrupted: one-line errors, nothing read from
outside the pack, bounded unpacking, nothing left behind (issue 14).

Uses the tiny random packs of _tiny_packs.py (``packed``: ASR, ``packed_tiny_model``: TTS);
the autouse ``_pack_cache`` fixture of conftest.py points the pack cache at a temp dir.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

pytest.importorskip("espnet2")

from spikespeech import atomic  # noqa: E402
from spikespeech.atomic import atomic_write_text  # noqa: E402
from spikespeech.cli.main import main  # noqa: E402
from spikespeech.inference import pack as packing  # noqa: E402
from spikespeech.inference.pack import PackError, cache_dir, open_pack  # noqa: E402
from spikespeech.layers import fold_for_inference  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes | None] | None = None,
             add: dict[str, bytes] | None = None) -> Path:
    """A copy of the zip ``src`` with members replaced (``None``: dropped) or added."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename not in replace:
                zout.writestr(item.filename, zin.read(item))
            elif replace[item.filename] is not None:
                zout.writestr(item.filename, replace[item.filename])
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def _member(pack: Path, name: str) -> bytes:
    with zipfile.ZipFile(pack) as zf:
        return zf.read(name)


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _reshaped_weights(pack: Path) -> bytes:
    state = torch.load(io.BytesIO(_member(pack, "model.pth")), weights_only=True)
    key = next(k for k, v in state.items() if v.ndim == 2)
    state[key] = torch.zeros(state[key].shape[0] + 1, state[key].shape[1])
    return _saved(state)


def _bad_crc(src: Path, dst: Path) -> Path:
    """``src`` with tokens.txt stored uncompressed and one of its bytes flipped."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            method = zipfile.ZIP_STORED if item.filename == "tokens.txt" else zipfile.ZIP_DEFLATED
            zout.writestr(item.filename, zin.read(item), compress_type=method)
    data = bytearray(dst.read_bytes())
    with zipfile.ZipFile(dst) as zf:
        info = zf.getinfo("tokens.txt")
    start = info.header_offset
    name_len, extra_len = (int.from_bytes(data[start + i:start + i + 2], "little") for i in (26, 28))
    data[start + 30 + name_len + extra_len] ^= 0xFF  # the first byte of the member's data
    dst.write_bytes(bytes(data))
    return dst


class _Malicious:
    """Unpickling this runs a shell command (creates the file named ``marker``)."""

    marker = "/tmp/spikespeech-test-pwned"

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


# name → how to spoil a pack: {member: new bytes or None to drop}
_SPOILED = {
    "missing tokens": {"tokens.txt": None},
    "weights a list": {"model.pth": _saved([1, 2, 3])},
    "weights not a checkpoint": {"model.pth": b"token_list: [a, b]\n"},
    "pickled objects": {"model.pth": _saved({"x": argparse.Namespace(a=1)})},
    "malicious pickle": {"model.pth": _saved({"x": _Malicious()})},
    "config invalid": {"config.yaml": b"token_list: [a, b\n"},
    "config a list": {"config.yaml": b"- a\n- b\n"},
    "config python tag": {"config.yaml": b"!!python/object/apply:os.system ['echo pwned']\n"},
    "meta a list": {"meta.yaml": b"- task\n- asr\n"},
}


def _one_line_error(capsys, pack: Path) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"{pack}: not a valid pack: " in lines[0], err
    return lines[0]


@pytest.fixture
def wav(tmp_path) -> Path:
    path = tmp_path / "a.wav"
    sf.write(path, 0.1 * np.sin(np.arange(16000) / 10), 16000)
    return path


# ---- malformed packs: one line, exit 2 --------------------------------------------------------
@pytest.mark.parametrize("case", [*_SPOILED, "wrong shape", "bad crc"])
def test_malformed_asr_pack_is_one_line(case, packed, wav, tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    if case == "bad crc":
        _bad_crc(packed, bad)
    else:
        _rewrite(packed, bad, _SPOILED.get(case) or {"model.pth": _reshaped_weights(packed)})
    assert main(["transcribe", str(wav), "--model", str(bad)]) == 2
    line = _one_line_error(capsys, bad)
    if case in ("pickled objects", "malicious pickle"):
        assert "model.pth: holds objects that are not weights" in line
        assert "weights_only" not in line and not Path(_Malicious.marker).exists()
    if case == "wrong shape":
        assert "wrong shapes" in line
    assert str(cache_dir()) not in line  # the user's zip is named, not the cache's copy


@pytest.mark.parametrize("case", ["weights a list", "pickled objects", "config a list",
                                  "meta a list", "wrong shape"])
def test_malformed_tts_pack_is_one_line(case, packed_tiny_model, tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    replace = _SPOILED.get(case) or {"model.pth": _reshaped_weights(packed_tiny_model)}
    _rewrite(packed_tiny_model, bad, replace)
    assert main(["synthesize", "hello", "--model", str(bad), "-o", str(tmp_path / "o.wav")]) == 2
    _one_line_error(capsys, bad)
    assert not (tmp_path / "o.wav").exists()


def test_malformed_directory_pack_is_one_line(packed, wav, tmp_path, capsys):
    directory = tmp_path / "dir_pack"
    with zipfile.ZipFile(packed) as zf:
        zf.extractall(directory)
    (directory / "model.pth").write_bytes(_saved({"x": argparse.Namespace(a=1)}))
    assert main(["transcribe", str(wav), "--model", str(directory)]) == 2
    assert "holds objects that are not weights" in _one_line_error(capsys, directory)


# ---- every path inside the pack ---------------------------------------------------------------
def test_missing_stats_is_an_error_not_a_lookup_in_the_cwd(packed, wav, tmp_path, monkeypatch,
                                                           capsys):
    bad = _rewrite(packed, tmp_path / "bad.zip", {"feats_stats.npz": None})
    work = tmp_path / "work"
    work.mkdir()
    (work / "feats_stats.npz").write_bytes(_member(packed, "feats_stats.npz"))
    config = yaml.safe_load(_member(packed, "config.yaml"))
    assert config["normalize_conf"]["stats_file"] == "feats_stats.npz"  # relative in the pack
    monkeypatch.chdir(work)
    assert main(["transcribe", str(wav), "--model", str(bad)]) == 2
    assert _one_line_error(capsys, bad).endswith("missing feats_stats.npz")


def test_opened_config_names_only_files_inside_the_pack(packed):
    unpacked = open_pack(packed)
    config = yaml.safe_load(unpacked.config.read_text())
    for path in (config["token_list"], config["normalize_conf"]["stats_file"], unpacked.model):
        assert Path(path).is_file() and Path(path).parent == unpacked.root


# ---- zip bombs ---------------------------------------------------------------------------------
def test_unknown_members_are_not_extracted(packed, tmp_path):
    # 64 MiB of zeros deflate to ~64 KiB: a small zip that would fill the disk if extracted
    big = _rewrite(packed, tmp_path / "big.zip", add={"junk.bin": bytes(64 << 20)})
    assert big.stat().st_size < packed.stat().st_size + (1 << 20)
    unpacked = open_pack(big)
    assert sorted(p.name for p in unpacked.root.iterdir()) == sorted(
        [*zipfile.ZipFile(packed).namelist(), packing.RESOLVED])


def test_unpacked_size_is_capped_before_extracting(packed, tmp_path, monkeypatch):
    with zipfile.ZipFile(packed) as zf:
        total = sum(i.file_size for i in zf.infolist())
    monkeypatch.setenv("SPIKESPEECH_CACHE_DIR", str(tmp_path / "cache"))  # not unpacked yet
    monkeypatch.setattr(packing, "MAX_UNPACKED_BYTES", total - 1)
    extracted = []
    monkeypatch.setattr(packing, "_extract_member", lambda *a: extracted.append(a) or 0)
    with pytest.raises(PackError, match=r"model.zip: not a valid pack: its files unpack to .* "
                                        r"over the .* limit"):
        open_pack(packed)
    assert extracted == []  # refused from the zip's directory, before any byte is written


def test_lying_sizes_are_caught_while_extracting(packed, tmp_path):
    liar = tmp_path / "liar.zip"
    shutil.copyfile(packed, liar)
    data = bytearray(liar.read_bytes())
    with zipfile.ZipFile(liar) as zf:
        info = zf.getinfo("model.pth")
    # the central directory's uncompressed size (offset 24 of its entry) claims 10 bytes
    central = next(i for i in range(len(data)) if data[i:i + 4] == b"PK\x01\x02"
                   and data[i + 46:i + 46 + len(b"model.pth")] == b"model.pth")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    liar.write_bytes(bytes(data))
    assert info.file_size > 10
    with pytest.raises(PackError, match="liar.zip: not a valid pack: "):
        open_pack(liar)
    assert list(cache_dir().glob(".*")) == []  # the partial unpack is gone


def test_member_count_is_capped(packed, tmp_path):
    crowded = _rewrite(packed, tmp_path / "crowded.zip",
                       add={f"x{i}": b"" for i in range(packing.MAX_MEMBERS)})
    with pytest.raises(PackError, match=r"not a valid pack: \d+ entries"):
        open_pack(crowded)


# ---- pack validation ---------------------------------------------------------------------------
@pytest.mark.parametrize("task", ["asr", "tts"])
def test_pack_refuses_weights_that_do_not_load(task, exp_dir, packed_tiny_model, tmp_path,
                                               capsys):
    if task == "asr":
        config, flag = exp_dir / "config.yaml", "--asr-config"
    else:
        config, flag = packed_tiny_model.parent / "exp" / "config.yaml", "--tts-config"
    other = exp_dir / "model.pth" if task == "tts" else packed_tiny_model.parent / "exp/model.pth"
    for weights in (config, other):  # a YAML given as weights; another model's weights
        out = tmp_path / "out" / "m.zip"
        assert main(["pack", flag, str(config), "--model", str(weights), "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert "the model does not load" in err and f"{out} not written" in err
        assert list(out.parent.iterdir()) == []  # no pack, no temp dir


# ---- cache -------------------------------------------------------------------------------------
def test_cache_is_reused_and_bounded(packed, tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESPEECH_CACHE_DIR", str(tmp_path / "cache"))
    first = open_pack(packed)
    stamp = first.model.stat().st_mtime_ns
    again = open_pack(packed)
    assert again.root == first.root and again.model.stat().st_mtime_ns == stamp  # not re-unpacked
    assert first.root.parent == tmp_path / "cache" / "packs"
    monkeypatch.setattr(packing, "KEEP_CACHED_PACKS", 2)
    copies = []
    for i in range(3):
        copy = _rewrite(packed, tmp_path / f"copy{i}.zip", add={f"extra{i}": b"x"})  # other hash
        copies.append(open_pack(copy).root)
        time.sleep(0.01)
    entries = sorted(p for p in cache_dir().iterdir())
    assert entries == sorted(copies[-2:])


def test_unwritable_cache_falls_back_to_a_private_temp_dir(packed, tmp_path, monkeypatch):
    if os.getuid() == 0:
        monkeypatch.setenv("SPIKESPEECH_CACHE_DIR", "/proc/no-such-dir")  # root writes anywhere
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        monkeypatch.setenv("SPIKESPEECH_CACHE_DIR", str(locked))
    monkeypatch.setattr(packing.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    unpacked = open_pack(packed)
    assert unpacked.root.parent == tmp_path / "tmp" / f"spikespeech-{os.getuid()}" / "packs"


# ---- interrupted runs --------------------------------------------------------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_open_removes_what_a_killed_unpack_left(packed):
    cache = cache_dir()
    dead = cache / f".{'0' * 64}.{_dead_pid()}.abcd1234.tmp"
    (dead / "sub").mkdir(parents=True)
    alive = cache / f".{'1' * 64}.{os.getpid()}.abcd1234.tmp"
    alive.mkdir()
    open_pack(packed)
    assert not dead.exists() and alive.exists()
    alive.rmdir()


def test_atomic_write_removes_what_a_killed_writer_left(tmp_path):
    target = tmp_path / "out.txt"
    dead = tmp_path / f".out.txt.{_dead_pid()}.abcd1234.tmp"
    alive = tmp_path / f".out.txt.{os.getpid()}.abcd1234.tmp"
    for path in (dead, alive):
        path.write_text("partial")
    atomic_write_text(target, "done")
    assert target.read_text() == "done" and not dead.exists() and alive.exists()
    assert atomic.temp_prefix("out.txt") == f".out.txt.{os.getpid()}."


def test_sigterm_runs_cleanups_and_exits_143(monkeypatch, capsys):
    import spikespeech.cli.transcribe as transcribe

    events = []

    def run(args):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(2)  # the handler interrupts this
            events.append("not interrupted")
        finally:
            events.append("cleaned up")

    def outer(signum, frame):  # what was there before main: it must get it back after
        events.append("outer handler")

    monkeypatch.setattr(transcribe, "run", run)
    previous = signal.signal(signal.SIGTERM, outer)
    try:
        assert main(["transcribe", "x.wav"]) == 143
        assert signal.getsignal(signal.SIGTERM) is outer
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert events == ["cleaned up"]
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_sigterm_stops_transcribe_cleanly(packed, tmp_path):
    """A SIGTERMed ``spikespeech transcribe`` runs its cleanups: exit 143, no traceback, no
    temp files (the pack is opened before any file is decoded)."""
    audio = tmp_path / "audio"
    audio.mkdir()
    one = 0.1 * np.sin(np.arange(32000) / 10)
    for i in range(200):  # slow enough to be still running when the signal comes
        sf.write(audio / f"{i:03d}.wav", one, 16000)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [sys.executable, "-m", "spikespeech.cli.main", "transcribe", str(audio), "--model",
         str(packed), "--beam-size", "1", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout.readline()  # one file done: the model is loaded
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err, err
    assert list(tmp.iterdir()) == []
    assert list(cache_dir().glob(".*")) == []


def test_espnets_own_unpack_loads_our_packs(packed, packed_tiny_model, tmp_path):
    """meta.yaml carries ESPnet's pack index: ESPnet's unpack() + Speech2Text / Text2Speech load
    a spikespeech pack as they load one of ESPnet's model zoo (our classes registered)."""
    from espnet2.bin.asr_inference import Speech2Text
    from espnet2.bin.tts_inference import Text2Speech
    from espnet2.main_funcs.pack_funcs import unpack

    from spikespeech.inference import Transcriber

    kwargs = unpack(packed, tmp_path / "asr")
    assert set(kwargs) == {"asr_train_config", "asr_model_file"}
    speech2text = Speech2Text(**kwargs, beam_size=3, ctc_weight=0.4, lm_weight=0.0, nbest=1)
    fold_for_inference(speech2text.asr_model.encoder, inplace=True)
    audio = np.random.default_rng(2).uniform(-0.3, 0.3, 12000).astype(np.float32)
    with Transcriber(packed, mode="attention", beam_size=3, ctc_weight=0.4) as ours, torch.no_grad():
        assert speech2text(torch.from_numpy(audio))[0][0].strip() == ours.transcribe(audio).text
    kwargs = unpack(packed_tiny_model, tmp_path / "tts")
    assert set(kwargs) == {"train_config", "model_file"}
    text2speech = Text2Speech(**kwargs)
    state = torch.load(kwargs["model_file"], weights_only=True)
    assert all(torch.equal(v, text2speech.model.state_dict()[k]) for k, v in state.items())
