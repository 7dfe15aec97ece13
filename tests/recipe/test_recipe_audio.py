"""Recipe audio stages: dump (decode/resample/segments/pipes), speed perturbation, length filter."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from fractions import Fraction
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as AF
from _helpers import shared_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikespeech.audio.recording import recording_duration
from spikespeech.audio.write import write_audio
from spikespeech.recipe import dump, perturb
from spikespeech.recipe import filter as lenfilter
from spikespeech.recipe.audio_dir import AudioEntry, parse_rate, write_audio_dir
from spikespeech.recipe.dump import dump_data_dir
from spikespeech.recipe.filter import filter_data_dir
from spikespeech.recipe.perturb import perturb_samples, speed_perturb

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
AN4_SPH = "downloads/an4/wav/an4_clstk/fash/an251-fash-b.sph"


# ----------------------------------------------------------------------------- helpers


def write_src(directory: Path, rows: list[tuple[str, str, str, str | None]],
              segments: list[str] | None = None) -> Path:
    """A Kaldi source dir from (utt, spk, wav.scp value, text or None) rows (+ segments lines)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "wav.scp").write_text("".join(f"{u} {a}\n" for u, _, a, _ in rows))
    (directory / "text").write_text("".join(f"{u} {t}\n" for u, _, _, t in rows if t is not None))
    (directory / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s, _, _ in rows))
    if segments is not None:
        (directory / "segments").write_text("".join(line + "\n" for line in segments))
    return directory


def table(path: Path) -> dict[str, str]:
    """A Kaldi table as {key: rest of line}."""
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        out[key] = value
    return out


def pcm(path: str | Path) -> np.ndarray:
    return sf.read(str(path), dtype="int16")[0]


def assert_consistent_dir(directory: Path, fs: int) -> dict[str, str]:
    """The dir's tables share one sorted key set, spk2utt inverts utt2spk, lengths match the files."""
    wav = table(directory / "wav.scp")
    keys = list(wav)
    assert keys == sorted(keys)
    for name in ("text", "utt2spk", "utt2num_samples"):
        assert list(table(directory / name)) == keys, name
    utt2spk = table(directory / "utt2spk")
    spk2utt = {s: ids.split() for s, ids in table(directory / "spk2utt").items()}
    assert sorted(u for ids in spk2utt.values() for u in ids) == keys
    assert all(utt2spk[u] == s for s, ids in spk2utt.items() for u in ids)
    assert all(u.startswith(utt2spk[u]) for u in keys)
    assert (directory / "fs").read_text() == f"{fs}\n"
    for utt, n in table(directory / "utt2num_samples").items():
        info = sf.info(wav[utt])
        assert Path(wav[utt]).is_absolute()
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (fs, 1, int(n), "PCM_16")
    return wav


@pytest.fixture(scope="module")
def fsdd() -> Path:
    return shared_data("fsdd") / "recordings"


@pytest.fixture(scope="module")
def kathleen() -> Path:
    return shared_data("kathleen") / "flac"


def fsdd_rows(fsdd: Path, speakers=("george", "jackson"), digits=range(3), take=0):
    return [(f"{s}-{d}-{take:02d}", s, str(fsdd / f"{d}_{s}_{take}.wav"), f"digit {d}")
            for s in speakers for d in digits]


# ----------------------------------------------------------------------------- dump


def test_parse_rate():
    assert [parse_rate(v) for v in ("16000", "16k", "8K", "22.05k", " 44100 ")] == [16000, 16000, 8000, 22050,
                                                                                   44100]
    for bad in ("0", "-8k", "16.5", "abc", "k", "nan"):
        with pytest.raises(ValueError, match="sampling rate|Hz"):
            parse_rate(bad)


def test_dump_fsdd_8k_to_16k_keeps_duration_and_signal(tmp_path, fsdd):
    rows = fsdd_rows(fsdd)
    src = write_src(tmp_path / "src", rows)
    report = dump_data_dir(src, tmp_path / "dump", 16000)
    assert (report.written, report.reused, report.skipped) == (6, 0, {})
    wav = assert_consistent_dir(tmp_path / "dump", 16000)
    assert table(tmp_path / "dump" / "text") == {u: t for u, _, _, t in rows}
    assert table(tmp_path / "dump" / "spk2utt") == {
        "george": "george-0-00 george-1-00 george-2-00", "jackson": "jackson-0-00 jackson-1-00 jackson-2-00"}
    lengths = {u: int(n) for u, n in table(tmp_path / "dump" / "utt2num_samples").items()}
    for utt, _, path, _ in rows:
        assert wav[utt] == str((tmp_path / "dump" / "data" / f"{utt}.wav").resolve())
        original, rate = sf.read(path, dtype="float32")
        assert rate == 8000
        assert abs(lengths[utt] - 2 * len(original)) <= 2  # one sample per resample ratio
        dumped = sf.read(wav[utt], dtype="float32")[0]
        back = AF.resample(torch.from_numpy(dumped), 16000, 8000).numpy()[: len(original)]
        assert np.corrcoef(back, original)[0, 1] > 0.99
        rms = np.sqrt(np.mean(original ** 2))
        assert np.sqrt(np.mean((back - original) ** 2)) < 0.1 * rms
        assert 0.8 < np.abs(dumped).max() / np.abs(original).max() < 1.25
    assert report.total_samples == sum(lengths.values())
    assert report.hours == pytest.approx(sum(lengths.values()) / 16000 / 3600)
    assert sorted(p.name for p in (tmp_path / "dump" / "data").iterdir()) == [f"{u}.wav" for u, *_ in rows]


def test_dump_flac_output_downsampled(tmp_path, kathleen):
    rows = [(f"kathleen-{n}", "kathleen", str(kathleen / f"arctic_a000{n}.flac"), "arctic") for n in (1, 2)]
    report = dump_data_dir(write_src(tmp_path / "src", rows), tmp_path / "dump", 8000, audio_format="flac")
    assert report.written == 2
    wav = assert_consistent_dir(tmp_path / "dump", 8000)
    for utt, _, path, _ in rows:
        assert wav[utt].endswith(f"/data/{utt}.flac")
        assert sf.info(wav[utt]).format == "FLAC"
        original, rate = sf.read(path, dtype="float32")
        assert rate == 16000
        dumped = sf.read(wav[utt], dtype="float32")[0]
        assert abs(len(dumped) - len(original) / 2) <= 1
        half = len(original) // 2  # independent reference: ideal (brick-wall) FFT resampling
        reference = np.fft.irfft(np.fft.rfft(original)[: half // 2 + 1], half) / 2
        n = min(len(reference), len(dumped))
        assert np.corrcoef(reference[:n], dumped[:n])[0, 1] > 0.99


def test_dump_cli_skips_bad_entries_and_writes_the_rest(tmp_path, fsdd, capsys):
    good = fsdd_rows(fsdd, speakers=("george",), digits=(0, 1))
    (tmp_path / "notes.wav").write_text("this is a text file, not audio\n")
    (tmp_path / "zero.wav").write_bytes(b"")
    sf.write(str(tmp_path / "header.wav"), np.zeros(0, dtype=np.int16), 8000, subtype="PCM_16")
    sf.write(str(tmp_path / "nan.wav"), np.array([0.1, np.nan, 0.2] * 100, dtype=np.float32), 8000,
             subtype="FLOAT")
    bad = {
        "bad-text": (str(tmp_path / "notes.wav"), "not a readable audio file"),
        "bad-missing": (str(tmp_path / "missing.wav"), "no such file"),
        "bad-zero": (str(tmp_path / "zero.wav"), "empty file (0 bytes)"),
        "bad-header": (str(tmp_path / "header.wav"), "contains no audio samples"),
        "bad-nan": (str(tmp_path / "nan.wav"), "NaN"),
        "bad-pipe": ("echo oops >&2; false |", "exited with status 1: oops"),
    }
    rows = good + [(u, "bad", spec, "words") for u, (spec, _) in bad.items()]
    rows.append(("bad-notext", "bad", good[0][2], None))
    src = write_src(tmp_path / "src", rows)
    assert dump.main(["--fs", "16000", str(src), str(tmp_path / "dump")]) == 0
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 7
    problems = {line.split(": ", 2)[1].removeprefix("skipping "): line for line in lines}
    for utt, (_, problem) in bad.items():
        assert problems[utt].startswith(f"dump: skipping {utt}: ") and problem in problems[utt]
    assert "no transcript" in problems["bad-notext"]
    assert "2 written" in out and "7 skipped" in out and "hours" in out
    wav = assert_consistent_dir(tmp_path / "dump", 16000)
    assert list(wav) == [u for u, *_ in good]
    assert sorted(os.listdir(tmp_path / "dump" / "data")) == [f"{u}.wav" for u, *_ in good]


def test_dump_exit_1_when_nothing_could_be_written(tmp_path, capsys):
    rows = [("a-1", "a", str(tmp_path / "none.wav"), "x"), ("a-2", "a", "false |", "y")]
    src = write_src(tmp_path / "src", rows)
    assert dump.main(["--fs", "16k", str(src), str(tmp_path / "dump")]) == 1
    err = capsys.readouterr().err
    assert "dump: skipping a-1:" in err and "dump: skipping a-2:" in err
    assert "dump: error:" in err and "no utterance could be dumped (2 skipped)" in err
    assert not (tmp_path / "dump" / "wav.scp").exists()


@pytest.mark.parametrize("argv", [
    ["--fs", "0", "SRC", "DST"],
    ["--fs", "abc", "SRC", "DST"],
    ["SRC", "DST"],  # --fs is required
    ["--fs", "16000", "--audio_format", "mp3", "SRC", "DST"],
    ["--fs", "16000", "--nj", "0", "SRC", "DST"],
    ["--fs", "16000", "MISSING", "DST"],
    ["--fs", "16000", "SRC", "SRC"],
    ["--fs", "16000", "SRC"],
])
def test_dump_usage_errors_exit_2(tmp_path, argv, capsys):
    src = write_src(tmp_path / "src", [("a-1", "a", "/x.wav", "x")])
    names = {"SRC": str(src), "DST": str(tmp_path / "dst"), "MISSING": str(tmp_path / "nope")}
    with pytest.raises(SystemExit) as exit_info:
        dump.main([names.get(a, a) for a in argv])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "dst" / "wav.scp").exists()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_dump_segments_cut_exact_samples(kathleen, data):
    path = kathleen / "arctic_a0001.flac"
    original = pcm(path)
    fs = 16000
    duration = len(original) / fs
    starts = data.draw(st.lists(st.integers(0, int(duration * 100) - 2), min_size=1, max_size=4))
    segments, expected = [], {}
    for i, start_cs in enumerate(starts):
        end_cs = data.draw(st.integers(start_cs + 1, int(duration * 100)), label=f"end{i}")
        start, end = start_cs / 100, end_cs / 100
        utt = f"rec-{i:02d}"
        segments.append(f"{utt} rec {start:.2f} {end:.2f}")
        expected[utt] = original[round(start * fs): round(end * fs)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = write_src(tmp / "src", [("rec", "rec", str(path), "one recording")], segments)
        (src / "text").write_text("".join(f"{u} words\n" for u in expected))
        (src / "utt2spk").write_text("".join(f"{u} rec\n" for u in expected))
        report = dump_data_dir(src, tmp / "dump", fs)
        assert report.written == len(expected) and not report.skipped
        wav = assert_consistent_dir(tmp / "dump", fs)
        for utt, samples in expected.items():
            np.testing.assert_array_equal(pcm(wav[utt]), samples)


def test_dump_segments_with_resampling_and_bad_bounds(tmp_path, fsdd, capsys):
    path = fsdd / "3_jackson_5.wav"
    n8 = sf.info(str(path)).frames
    seconds = n8 / 8000
    segments = {
        "rec-a": (0.0, 0.1), "rec-b": (0.05, 0.2), "rec-c": (0.1, -1),
        "rec-d": (0.0, seconds + 0.3),   # small overshoot: clipped to the end
        "rec-e": (0.0, seconds + 2.0),   # large overshoot: skipped
        "rec-f": (seconds + 0.1, seconds + 0.2),  # starts after the end: skipped
        "rec-g": (0.2, 0.1),             # end before start: skipped
    }
    src = write_src(tmp_path / "src", [("rec", "rec", str(path), "x")],
                    [f"{u} rec {s} {e}" for u, (s, e) in segments.items()])
    (src / "text").write_text("".join(f"{u} three\n" for u in segments))
    (src / "utt2spk").write_text("".join(f"{u} rec\n" for u in segments))
    report = dump_data_dir(src, tmp_path / "dump", 16000)
    assert sorted(report.skipped) == ["rec-e", "rec-f", "rec-g"]
    assert "ends past the recording" in report.skipped["rec-e"]
    assert "holds no samples" in report.skipped["rec-f"]
    assert "start 0.2 >= end 0.1" in report.skipped["rec-g"]
    assert capsys.readouterr().err.count("dump: skipping rec-") == 3
    lengths = {u: int(n) for u, n in table(tmp_path / "dump" / "utt2num_samples").items()}
    total = 2 * n8  # 8 kHz -> 16 kHz
    assert lengths == {"rec-a": 1600, "rec-b": 2400, "rec-c": total - 1600, "rec-d": total}
    whole = pcm(tmp_path / "dump" / "data" / "rec-d.wav")
    np.testing.assert_array_equal(pcm(tmp_path / "dump" / "data" / "rec-b.wav"), whole[800:3200])
    with pytest.raises(ValueError, match=r"segments:1: expected 'utt rec start end'"):
        (src / "segments").write_text("rec-a rec 0.0\n")
        dump_data_dir(src, tmp_path / "dump2", 16000)


def test_dump_pipe_entries(tmp_path, fsdd):
    mini_an4 = shared_data("mini_an4") / "downloads.tar.gz"
    wav = fsdd / "7_theo_9.wav"
    rows = [
        ("theo-file", "theo", str(wav), "seven"),
        ("theo-pipe", "theo", f"cat {wav} |", "seven"),
        ("fash-sph", "fash", f"tar -xzOf {mini_an4} {AN4_SPH} |", "an four"),
    ]
    report = dump_data_dir(write_src(tmp_path / "src", rows), tmp_path / "dump", 16000)
    assert report.written == 3 and not report.skipped
    data = tmp_path / "dump" / "data"
    np.testing.assert_array_equal(pcm(data / "theo-pipe.wav"), pcm(data / "theo-file.wav"))
    with tarfile.open(mini_an4) as archive:
        archive.extract(AN4_SPH, tmp_path, filter="data")
    np.testing.assert_array_equal(pcm(data / "fash-sph.wav"), pcm(tmp_path / AN4_SPH))
    assert table(tmp_path / "dump" / "utt2num_samples")["fash-sph"] == "16000"


def test_dump_ark_offset_entries_read_by_kaldiio(tmp_path, fsdd):
    wav = fsdd / "7_theo_9.wav"
    samples, rate = sf.read(str(wav), dtype="int16")
    kaldiio.save_ark(str(tmp_path / "a.ark"), {"theo-a": (rate, samples), "theo-b": (rate, samples[:800])},
                     scp=str(tmp_path / "a.scp"))
    offsets = table(tmp_path / "a.scp")
    gone = tmp_path / "gone.ark"
    rows = [("theo-a", "theo", offsets["theo-a"], "seven"), ("theo-b", "theo", offsets["theo-b"], "seven"),
            ("theo-file", "theo", str(wav), "seven"), ("theo-gone", "theo", f"{gone}:12", "x")]
    report = dump_data_dir(write_src(tmp_path / "src", rows), tmp_path / "dump", 16000)
    assert report.written == 3 and report.skipped == {"theo-gone": f"{gone}: no such file"}
    data = tmp_path / "dump" / "data"
    np.testing.assert_array_equal(pcm(data / "theo-a.wav"), pcm(data / "theo-file.wav"))
    assert table(tmp_path / "dump" / "utt2num_samples")["theo-b"] == "1600"
    assert recording_duration(offsets["theo-b"]) == 0.1
    assert recording_duration(str(wav)) == len(samples) / rate


def test_kaldiio_audio_limits(tmp_path, fsdd):
    """Why audio/recording.py reads pipes and files itself (its comments); re-measure if this fails."""
    wav = fsdd / "7_theo_9.wav"
    assert kaldiio.load_mat(f"cat {wav}; exit 3 |")[1].size  # a failed command's exit status is ignored
    with pytest.raises(AssertionError):  # and its stderr is not captured
        kaldiio.load_mat("echo oops >&2; false |")
    sf.write(str(tmp_path / "float.wav"), np.zeros(100, np.float32), 8000, subtype="FLOAT")
    with pytest.raises(ValueError, match="bytes_per_sample"):
        kaldiio.load_mat(str(tmp_path / "float.wav"))
    mini_an4 = shared_data("mini_an4") / "downloads.tar.gz"
    with pytest.raises(RuntimeError, match="NIST"):
        kaldiio.load_mat(f"tar -xzOf {mini_an4} {AN4_SPH} |")


def test_dump_nj2_cli_matches_nj1(tmp_path, fsdd):
    rows = fsdd_rows(fsdd, speakers=("george", "lucas", "nicolas", "yweweler"), digits=(4, 8), take=3)
    rows.append(("zz-missing", "zz", str(tmp_path / "gone.wav"), "gone"))
    src = write_src(tmp_path / "src", rows)
    log = io.StringIO()
    one = dump_data_dir(src, tmp_path / "nj1", 16000, log=log)
    assert log.getvalue().startswith("dump: skipping zz-missing: ")
    proc = subprocess.run([PYTHON, "-m", "spikespeech.recipe.dump", "--fs", "16000", "--nj", "2",
                           str(src), str(tmp_path / "nj2")], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    missing = f"dump: skipping zz-missing: {tmp_path / 'gone.wav'}: no such file"
    assert proc.stderr.strip().splitlines() == [missing]
    assert f"{one.written} written" in proc.stdout and "1 skipped" in proc.stdout
    wav1 = assert_consistent_dir(tmp_path / "nj1", 16000)
    wav2 = assert_consistent_dir(tmp_path / "nj2", 16000)
    assert list(wav1) == list(wav2) == [u for u, *_ in rows[:-1]]
    for name in ("text", "utt2spk", "spk2utt", "utt2num_samples", "fs"):
        assert (tmp_path / "nj1" / name).read_text() == (tmp_path / "nj2" / name).read_text()
    for utt in wav1:
        assert Path(wav1[utt]).read_bytes() == Path(wav2[utt]).read_bytes()


def test_dump_rerun_keeps_up_to_date_files_and_resumes(tmp_path, fsdd):
    rows = []
    for name in ("0_yweweler_1", "1_yweweler_1", "2_yweweler_1", "3_yweweler_1"):
        shutil.copy(fsdd / f"{name}.wav", tmp_path / f"{name}.wav")
        digit = name[0]
        rows.append((f"yweweler-{digit}", "yweweler", str(tmp_path / f"{name}.wav"), digit))
    src = write_src(tmp_path / "src", rows)
    dst = tmp_path / "dump"
    dump_data_dir(src, dst, 16000)
    files = {u: dst / "data" / f"{u}.wav" for u, *_ in rows}
    first = {u: (p.stat().st_mtime_ns, p.read_bytes()) for u, p in files.items()}
    tables = {n: (dst / n).read_text() for n in ("wav.scp", "utt2num_samples", "text")}

    again = dump_data_dir(src, dst, 16000)
    assert (again.written, again.reused) == (4, 4)
    assert {u: (p.stat().st_mtime_ns, p.read_bytes()) for u, p in files.items()} == first
    assert {n: (dst / n).read_text() for n in tables} == tables

    # a crash mid-write of yweweler-0: no output, a half temp file left behind
    files["yweweler-0"].unlink()
    leftover = dst / "data" / ".yweweler-0.wav.k3j2h1.tmp"
    leftover.write_bytes(first["yweweler-0"][1][:500])
    files["yweweler-1"].write_bytes(first["yweweler-1"][1][:30])  # a damaged output
    future = files["yweweler-2"].stat().st_mtime + 100  # the source changed after the dump
    os.utime(rows[2][2], (future, future))
    third = dump_data_dir(src, dst, 16000)
    assert (third.written, third.reused) == (4, 1)
    assert not leftover.exists()
    assert files["yweweler-3"].stat().st_mtime_ns == first["yweweler-3"][0]
    assert files["yweweler-2"].stat().st_mtime_ns != first["yweweler-2"][0]
    for u in ("yweweler-0", "yweweler-1", "yweweler-2"):
        assert files[u].read_bytes() == first[u][1]
    assert {n: (dst / n).read_text() for n in tables} == tables
    assert sorted(p.name for p in (dst / "data").iterdir()) == sorted(p.name for p in files.values())


def test_interrupted_audio_write_leaves_no_file(tmp_path, monkeypatch):
    def crash(path, data, samplerate, **kwargs):
        Path(path).write_bytes(b"RIFF half")
        raise KeyboardInterrupt

    monkeypatch.setattr(sf, "write", crash)
    target = tmp_path / "utt.wav"
    with pytest.raises(KeyboardInterrupt):
        write_audio(target, np.zeros(100, dtype=np.float32), 16000, "wav")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- perturb


def test_perturb_cli_ids_durations_and_combined_dir(tmp_path, fsdd, capsys):
    rows = fsdd_rows(fsdd, speakers=("theo", "nicolas"), digits=(5, 9), take=2)
    dump_data_dir(write_src(tmp_path / "src", rows), tmp_path / "dump", 16000)
    assert perturb.main(["--factors", "0.9", "1.0", "1.1", str(tmp_path / "dump"), str(tmp_path / "sp")]) == 0
    assert "12 utterances for factors 0.9 1 1.1" in capsys.readouterr().out
    wav = assert_consistent_dir(tmp_path / "sp", 16000)
    source = table(tmp_path / "dump" / "wav.scp")
    src_len = {u: int(n) for u, n in table(tmp_path / "dump" / "utt2num_samples").items()}
    lengths = {u: int(n) for u, n in table(tmp_path / "sp" / "utt2num_samples").items()}
    utt2spk, text = table(tmp_path / "sp" / "utt2spk"), table(tmp_path / "sp" / "text")
    assert set(wav) == {f"{p}{u}" for u, *_ in rows for p in ("", "sp0.9-", "sp1.1-")}
    for utt, spk, _, words in rows:
        assert wav[utt] == source[utt] and lengths[utt] == src_len[utt]
        original = sf.read(source[utt], dtype="float32")[0]
        for f in (0.9, 1.1):
            new = f"sp{f}-{utt}"
            assert utt2spk[new] == f"sp{f}-{spk}" and text[new] == words
            assert wav[new] == str((tmp_path / "sp" / "data" / f"{new}.wav").resolve())
            assert abs(lengths[new] - src_len[utt] / f) <= 1
            # content: resampling by the inverse ratio gives the original signal back
            ratio = Fraction(f).limit_denominator(100)
            perturbed = torch.from_numpy(sf.read(wav[new], dtype="float32")[0])
            restored = AF.resample(perturbed, ratio.denominator, ratio.numerator).numpy()
            n = min(len(restored), len(original))
            assert abs(len(restored) - len(original)) <= 2
            assert np.corrcoef(restored[:n], original[:n])[0, 1] > 0.99
    # reversed argument order works too, and a second run reuses the files
    before = {u: Path(p).stat().st_mtime_ns for u, p in wav.items()}
    assert perturb.main([str(tmp_path / "dump"), str(tmp_path / "sp"), "--factors", "1.1", "0.9", "1"]) == 0
    assert {u: Path(p).stat().st_mtime_ns for u, p in table(tmp_path / "sp" / "wav.scp").items()} == before


@settings(max_examples=25, deadline=None)
@given(factor_pct=st.integers(50, 200), f0=st.sampled_from([220.0, 300.0, 450.0]))
def test_perturb_samples_scales_duration_and_pitch(factor_pct, f0):
    factor, fs, n = factor_pct / 100, 8000, 4000
    x = (0.5 * np.sin(2 * np.pi * f0 * np.arange(n) / fs)).astype(np.float32)
    y = perturb_samples(x, factor)
    assert abs(len(y) - n / factor) <= 1
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    peak = np.argmax(spectrum) * fs / len(y)
    assert abs(peak - f0 * factor) <= fs / len(y) + 1e-6
    core = y[len(y) // 4: 3 * len(y) // 4]  # away from the edges the sine keeps its amplitude
    assert 0.45 < np.abs(core).max() < 0.55


def test_perturb_skips_unreadable_and_rejects_non_dumped_dirs(tmp_path, fsdd, capsys):
    rows = fsdd_rows(fsdd, speakers=("lucas",), digits=(1, 2))
    dump_dir = tmp_path / "dump"
    dump_data_dir(write_src(tmp_path / "src", rows), dump_dir, 8000)
    Path(table(dump_dir / "wav.scp")["lucas-2-00"]).unlink()
    report = speed_perturb(dump_dir, tmp_path / "sp", factors=[1.0, 1.2])
    assert report.written == 2 and list(report.skipped) == ["lucas-2-00"]
    assert "no such file" in capsys.readouterr().err
    assert list(assert_consistent_dir(tmp_path / "sp", 8000)) == ["lucas-1-00", "sp1.2-lucas-1-00"]

    (dump_dir / "wav.scp").write_text(f"lucas-1-00 cat {rows[0][2]} |\n")
    assert perturb.main(["--factors", "0.9", str(dump_dir), str(tmp_path / "sp2")]) == 1
    assert "is a pipe; run the dump stage first" in capsys.readouterr().err
    (dump_dir / "fs").unlink()
    assert perturb.main(["--factors", "0.9", str(dump_dir), str(tmp_path / "sp2")]) == 1
    assert f"{dump_dir / 'fs'}: file not found" in capsys.readouterr().err


@pytest.mark.parametrize("factors", [["0"], ["abc"], ["1.23456"], ["0.9", "0.90"], ["9"], []])
def test_perturb_bad_factors_exit_2(tmp_path, factors, capsys):
    src = write_src(tmp_path / "src", [("a-1", "a", "/x.wav", "x")])
    with pytest.raises(SystemExit) as exit_info:
        perturb.main(["--factors", *factors, str(src), str(tmp_path / "dst")])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


# ----------------------------------------------------------------------------- filter


def synthetic_dir(directory: Path, fs: int, items: dict[str, tuple[int, str]]) -> Path:
    """A dumped-looking dir (no audio needed by the filter) from {utt: (num_samples, text)}."""
    entries = [AudioEntry(u, u.split("-")[0], f"/audio/{u}.wav", t, n) for u, (n, t) in items.items()]
    return write_audio_dir(entries, directory, fs)


def test_filter_cli_drops_by_reason(tmp_path, capsys):
    fs = 16000
    src = synthetic_dir(tmp_path / "src", fs, {
        "a-ok": (fs, "hello"),
        "a-short": (fs // 20, "hi"),            # 0.05 s
        "b-long": (25 * fs, "a long one"),     # 25 s
        "b-empty": (fs, ""),
        "c-wordy": (fs // 2, "x" * 30),        # 30 chars in 0.5 s > 0.5 * 40
        "c-fine": (fs // 2, "y" * 20),         # 20 chars in 0.5 s = 0.5 * 40: kept
        "c-nolen": (fs, "lost length"),
    })
    (src / "utt2num_samples").write_text(
        "".join(line + "\n" for line in (src / "utt2num_samples").read_text().splitlines()
                if not line.startswith("c-nolen")))
    assert lenfilter.main(["--max_text_ratio", "40", str(src), str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert ("kept 2 of 7 utterances; dropped: no length 1, empty text 1, too short 1, too long 1, "
            "text too long 1") in out
    dst = tmp_path / "out"
    assert table(dst / "wav.scp") == {"a-ok": "/audio/a-ok.wav", "c-fine": "/audio/c-fine.wav"}
    assert table(dst / "utt2num_samples") == {"a-ok": str(fs), "c-fine": str(fs // 2)}
    assert table(dst / "spk2utt") == {"a": "a-ok", "c": "c-fine"}
    assert table(dst / "text") == {"a-ok": "hello", "c-fine": "y" * 20}
    assert (dst / "fs").read_text() == "16000\n"
    # defaults (0.1 .. 20 s, no ratio): only the length reasons and the empty text apply
    report = filter_data_dir(src, tmp_path / "out2")
    assert report.kept == 3 and report.dropped["text too long"] == []
    assert report.dropped["too long"] == ["b-long"] and report.dropped["empty text"] == ["b-empty"]


@settings(max_examples=40, deadline=None)
@given(
    items=st.dictionaries(st.from_regex(r"[a-c]-[0-9]{1,3}", fullmatch=True),
                          st.tuples(st.integers(1, 48000), st.text("ab ", max_size=25)),
                          min_size=1, max_size=12),
    min_sec=st.floats(0, 1), span=st.floats(0.01, 3), ratio=st.one_of(st.none(), st.floats(1, 60)),
)
def test_filter_keeps_exactly_the_valid_utterances(items, min_sec, span, ratio):
    fs, max_sec = 8000, min_sec + span
    expected = sorted(u for u, (n, t) in items.items() if t.strip() and min_sec <= n / fs <= max_sec
                      and (ratio is None or len(t.strip()) <= n / fs * ratio))
    with tempfile.TemporaryDirectory() as tmp:
        src = synthetic_dir(Path(tmp) / "src", fs, items)
        if not expected:
            with pytest.raises(ValueError, match="no utterance left after filtering"):
                filter_data_dir(src, Path(tmp) / "dst", min_sec, max_sec, ratio)
            assert not (Path(tmp) / "dst" / "wav.scp").exists()
            return
        report = filter_data_dir(src, Path(tmp) / "dst", min_sec, max_sec, ratio)
        assert report.kept == len(expected) and report.total == len(items)
        assert list(table(Path(tmp) / "dst" / "wav.scp")) == expected
        assert list(table(Path(tmp) / "dst" / "utt2num_samples")) == expected
        assert sorted(u for ids in report.dropped.values() for u in ids) == sorted(set(items) - set(expected))


def test_filter_errors(tmp_path, capsys):
    src = synthetic_dir(tmp_path / "src", 16000, {"a-1": (16000, "one"), "a-2": (800, "two")})
    assert lenfilter.main(["--min_sec", "2", str(src), str(tmp_path / "out")]) == 1
    assert "no utterance left after filtering" in capsys.readouterr().err
    for bad in (["--min_sec", "3", "--max_sec", "2"], ["--max_text_ratio", "0"], ["--min_sec", "-1"]):
        with pytest.raises(SystemExit) as exit_info:
            lenfilter.main([*bad, str(src), str(tmp_path / "out")])
        assert exit_info.value.code == 2
    (src / "utt2num_samples").unlink()
    proc = subprocess.run([PYTHON, "-m", "spikespeech.recipe.filter", str(src), str(tmp_path / "out")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"filter: error: {src / 'utt2num_samples'}: file not found "
                                   "(lengths are needed: run the dump stage first)")
    assert not (tmp_path / "out" / "wav.scp").exists()
