"""`spikespeech transcribe` / `synthesize` / `pack` and the Python API on bad input (issue 14):
arguments, inputs and output paths are checked before any model loads, in one line; outputs
in the format asked for; ids that say which file they were; progress bars that stay out of
the transcripts' way; truncated WAVs reported.

Uses the randomly initialised tiny packs of _tiny_packs.py (``packed``, ``packed_tiny_model``):
behaviour, not accuracy.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from spikespeech.audio import AudioError, expand_inputs, load_audio, wav_shortfall
from spikespeech.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _tone(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def _wav_bytes(samples: np.ndarray, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


# ---- checked before any model loads (items 1, 10, 12, 13) -----------------------------------
# run in a fresh interpreter: ESPnet must never be imported, and each call must be quick
_FAST_FAILS = """
import contextlib, io, json, sys, time
from spikespeech.cli.main import main
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
    results.append([code, err.getvalue(), time.perf_counter() - start])
print(json.dumps({"results": results, "espnet": "espnet2" in sys.modules}))
"""


def test_bad_arguments_fail_at_once_without_loading_a_model(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    (tmp_path / "existing_dir.wav").mkdir()
    lines = tmp_path / "lines.txt"
    lines.write_text("Hello.\n")
    ok_out = str(tmp_path / "out.wav")
    cases = [
        (["synthesize", "--text-file", str(lines), "-o", "/proc/out.wav"],
         "/proc/out.wav: cannot be written"),
        (["synthesize", "hi", "-o", f"{afile}/out.wav"], f"{afile} is a file, not a directory"),
        (["synthesize", "hi", "-o", str(tmp_path / "existing_dir.wav")], "existing_dir.wav: is a directory"),
        (["synthesize", "hi", "-o", str(tmp_path / "out.mp3")], "out.mp3: cannot write .mp3 audio"),
        (["synthesize", "hi", "-o", f"{afile}/outdir"], f"{afile} is a file, not a directory"),
        (["synthesize", "hi", "-o", ok_out, "--speed", "100"], "speed must be between 0.5 and 2.0 (got 100)"),
        (["synthesize", "hi", "-o", ok_out, "--speed", "0.1"], "speed must be between 0.5 and 2.0 (got 0.1)"),
        (["synthesize", "hi", "-o", ok_out, "--speed", "inf"], "speed must be between 0.5 and 2.0 (got inf)"),
        (["synthesize", "hi", "-o", ok_out, "--speed", "nan"], "speed must be between 0.5 and 2.0 (got nan)"),
        (["synthesize", "hi", "-o", ok_out, "--speaker", "two words"], "must be one word"),
        (["synthesize", "hi", "-o", ok_out, "--sample-rate", "1"], "between 8000 and 192000"),
        (["synthesize", "hi", "-o", ok_out, "--vocoder", str(tmp_path / "nope")], "--vocoder"),
        (["synthesize", "--text-file", str(tmp_path / "none.txt"), "-o", ok_out], "none.txt: no such file"),
        (["synthesize", "hi", "-o", ok_out, "--model", str(tmp_path / "m.zip")], "m.zip: model not found"),
        (["transcribe", str(tmp_path / "a.wav"), str(tmp_path / "b.wav")],
         "none of the 2 inputs can be transcribed"),
        (["transcribe", "--chunk-seconds", "inf", str(tmp_path / "a.wav")], "must be a finite number"),
        (["pack", "--asr-config", "c.yaml", "--model", "m.pth", "-o", "/proc/out.zip"],
         "/proc/out.zip: cannot be written"),
        (["pack", "--asr-config", "c.yaml", "--model", "m.pth", "-o", f"{afile}/out.zip"],
         f"{afile} is a file, not a directory"),
    ]
    proc = subprocess.run([sys.executable, "-c", _FAST_FAILS, json.dumps([argv for argv, _ in cases])],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    for (argv, needle), (code, err, seconds) in zip(cases, report["results"], strict=True):
        assert code == 2, (argv, err)
        assert needle in err.splitlines()[-1], (argv, err)
        assert "Traceback" not in err
        assert seconds < 3.0, (argv, seconds)
    assert not report["espnet"]  # no model was loaded, nor its libraries imported
    assert not (tmp_path / "out.mp3").exists() and afile.is_file()


def test_no_existing_input_fails_before_loading(tmp_path, capsys, monkeypatch):
    class NoLoading:
        def __init__(self, *args, **kwargs):
            raise AssertionError("the model was loaded")

    monkeypatch.setattr("spikespeech.inference.transcriber.Transcriber", NoLoading)
    missing = tmp_path / "missing.wav"
    assert main(["transcribe", str(missing)]) == 2  # nothing to transcribe: no model loaded
    err = capsys.readouterr().err.splitlines()
    assert err == [f"spikespeech transcribe: error: {missing}: no such file"]  # one input, one line


def test_speed_range_has_one_home(packed_tiny_model):
    from spikespeech import speaking_rate
    from spikespeech.demo import callbacks
    from spikespeech.inference.synthesizer import MAX_SPEED, MIN_SPEED, Synthesizer

    assert (callbacks.MIN_SPEED, callbacks.MAX_SPEED) == (MIN_SPEED, MAX_SPEED) == (
        speaking_rate.MIN_SPEED, speaking_rate.MAX_SPEED)
    with Synthesizer(packed_tiny_model) as synthesizer:  # the API refuses it as the CLI does
        for speed in (100.0, float("inf")):
            with pytest.raises(ValueError, match="speed must be between 0.5 and 2.0"):
                synthesizer.synthesize("Hello.", speed=speed)


# ---- truncated WAVs (item 11) ----------------------------------------------------------------
def test_truncated_wav_is_reported_with_both_durations(tmp_path):
    data = _wav_bytes(_tone(1.0))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: 44 + 16000])  # header + 0.5 s of 16-bit samples
    with pytest.raises(AudioError) as exc:
        load_audio(cut, 16000)
    assert str(exc.value) == f"{cut}: truncated WAV (header says 1.00 s, file holds 0.50 s)"

    whole = tmp_path / "whole.wav"
    whole.write_bytes(data + b"LIST\x04\x00\x00\x00abcd")  # a trailing chunk is no truncation
    assert wav_shortfall(whole) is None and len(load_audio(whole, 16000)) == 16000
    streamed = bytearray(data)
    streamed[40:44] = struct.pack("<I", 0xFFFFFFFF)  # "length unknown", as pipes write it
    (tmp_path / "streamed.wav").write_bytes(bytes(streamed))
    assert wav_shortfall(tmp_path / "streamed.wav") is None


def test_transcribe_cli_reports_a_truncated_wav(packed, tmp_path, capsys):
    good = tmp_path / "good.wav"
    sf.write(good, _tone(0.6), 16000)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(_wav_bytes(_tone(1.0))[:20000])
    assert main(["transcribe", "--model", str(packed), "--beam-size", "1", str(good), str(cut)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("good\t") and "cut" not in out
    assert f"{cut}: truncated WAV (header says 1.00 s, file holds 0.62 s)" in err


# ---- output formats (item 13) ----------------------------------------------------------------
def test_synthesize_writes_flac_and_refuses_other_audio_extensions(packed_tiny_model, tmp_path, capsys):
    out = tmp_path / "hello.flac"
    assert main(["synthesize", "Hello.", "--model", str(packed_tiny_model), "-o", str(out)]) == 0
    info = sf.info(out)
    assert out.is_file() and info.format == "FLAC" and info.frames > 0
    for name in ("x.mp3", "x.ogg", "x.opus"):
        assert main(["synthesize", "Hello.", "--model", str(packed_tiny_model), "-o",
                     str(tmp_path / name)]) == 2
        assert "cannot write" in capsys.readouterr().err
        assert not (tmp_path / name).exists()


def test_synthesize_reports_an_unwritable_numbered_file_and_goes_on(packed_tiny_model, tmp_path, capsys):
    lines = tmp_path / "lines.txt"
    lines.write_text("One.\nTwo.\n")
    outdir = tmp_path / "out"
    (outdir / "0001.wav").mkdir(parents=True)  # a folder where the first file should go
    assert main(["synthesize", "--text-file", str(lines), "--model", str(packed_tiny_model),
                 "-o", str(outdir)]) == 1
    err = capsys.readouterr().err
    assert "0001.wav: not written" in err and "Traceback" not in err
    assert sf.info(outdir / "0002.wav").frames > 0


# ---- ids that say which file (item 14) -------------------------------------------------------
def test_same_stem_in_different_folders_gets_ids_from_the_path(tmp_path):
    for folder in ("one", "two", "two/deeper"):
        (tmp_path / "x" / folder).mkdir(parents=True)
        sf.write(tmp_path / "x" / folder / "digit.wav", _tone(0.1), 16000)
    sf.write(tmp_path / "x" / "one" / "digit.flac", _tone(0.1), 16000)
    sf.write(tmp_path / "solo.wav", _tone(0.1), 16000)
    inputs, errors = expand_inputs([str(tmp_path / "x"), str(tmp_path / "solo.wav")])
    assert not errors
    ids = {str(i.path.relative_to(tmp_path)): i.utt_id for i in inputs}
    assert ids == {"x/one/digit.flac": "one-digit.flac", "x/one/digit.wav": "one-digit.wav",
                   "x/two/deeper/digit.wav": "two-deeper-digit", "x/two/digit.wav": "two-digit",
                   "solo.wav": "solo"}


def test_explicit_ids_are_kept(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        sf.write(tmp_path / folder / "digit.wav", _tone(0.1), 16000)
    scp = tmp_path / "wav.scp"
    scp.write_text(f"digit {tmp_path / 'one/digit.wav'}\ndigit {tmp_path / 'two/digit.wav'}\n")
    inputs, _ = expand_inputs([str(scp)])
    assert [i.utt_id for i in inputs] == ["digit", "digit-2"]  # a repeated Kaldi id stays visible


# ---- progress bars (item 15) -----------------------------------------------------------------
class _Terminal(io.StringIO):
    """A stream that says it is a terminal, so that tqdm draws its bar."""

    def isatty(self) -> bool:
        return True


def _screen(text: str) -> list[str]:
    """The rows a terminal shows for ``text``: a carriage return goes back to column 0."""
    rows = []
    for raw in text.split("\n"):
        row: list[str] = []
        col = 0
        for ch in raw:
            if ch == "\r":
                col = 0
                continue
            row[col:col + 1] = [ch]
            col += 1
        rows.append("".join(row).rstrip(" "))  # a transcript may be empty: keep its tab
    return rows


def test_transcripts_are_never_printed_onto_the_progress_bar(packed, tmp_path, monkeypatch):
    for folder in ("one", "two"):
        for stem in ("digit", "other"):
            (tmp_path / folder).mkdir(exist_ok=True)
            sf.write(tmp_path / folder / f"{stem}.wav", _tone(0.6), 16000)
    terminal = _Terminal()  # stdout and stderr on one screen, as in a shell
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["transcribe", "--model", str(packed), "--beam-size", "1", str(tmp_path)]) == 0
    rows = _screen(terminal.getvalue())
    transcripts = [row for row in rows if "\t" in row]
    assert sorted(row.split("\t")[0] for row in transcripts) == [
        "one-digit", "one-other", "two-digit", "two-other"]  # each row starts with its id
    assert "4/4" in rows[-2] or "4/4" in rows[-1]  # the bar was drawn, and completed


def test_synthesize_shows_progress_for_many_lines(packed_tiny_model, tmp_path, monkeypatch):
    lines = tmp_path / "lines.txt"
    lines.write_text("One.\nTwo.\nThree.\nFour.\n")
    for extra, shown in (([], True), (["--no-progress"], False)):
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(["synthesize", "--text-file", str(lines), "--model", str(packed_tiny_model),
                     "-o", str(tmp_path / f"out{len(extra)}"), *extra]) == 0
        assert ("4/4" in terminal.getvalue()) is shown


def test_synthesize_shows_progress_over_the_sentences_of_a_long_text(packed_tiny_model, tmp_path,
                                                                     monkeypatch):
    text = "One. Two. Three. Four. Five."
    for extra, shown in (([], True), (["--no-progress"], False)):
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(["synthesize", text, "--model", str(packed_tiny_model),
                     "-o", str(tmp_path / f"long{len(extra)}.wav"), *extra]) == 0
        drawn = terminal.getvalue()  # the bar is drawn at once; later refreshes are throttled
        assert ("0/5 [" in drawn and "sentence/s" in drawn) is shown


# ---- the Python API (item 16) ----------------------------------------------------------------
def test_transcriber_takes_a_path_or_mono_float_samples(packed, tmp_path):
    from spikespeech.inference.transcriber import Transcriber

    clip = tmp_path / "clip.wav"
    sf.write(clip, _tone(0.6, 8000), 8000)  # another rate: resampled on loading
    with Transcriber(packed, beam_size=1) as transcriber:
        for audio in (str(clip), clip):
            assert transcriber.transcribe(audio).duration_s == pytest.approx(0.6, abs=0.01)
        samples = _tone(0.6, transcriber.sample_rate)
        assert isinstance(transcriber.transcribe(samples.astype(np.float64)).text, str)
        bad = {
            "1-D mono samples, got an array of shape (9600, 2)": np.stack([samples, samples], axis=1),
            "float samples in [-1, 1], got int16": (samples * 32767).astype(np.int16),
            "audio is empty": np.zeros(0, dtype=np.float32),
            "NaN or infinite": np.full(9600, np.nan, dtype=np.float32),
            "a file path or a 1-D float numpy array, got list": samples.tolist(),
            f"{tmp_path / 'none.wav'}: no such file": str(tmp_path / "none.wav"),
        }
        for problem, audio in bad.items():
            with pytest.raises(ValueError) as exc:
                transcriber.transcribe(audio)
            assert problem in str(exc.value) and "\n" not in str(exc.value)


def test_cli_warning_handling_does_not_outlive_the_command(tmp_path):
    # main() shows warnings as one line while it runs; afterwards the caller's own apply again
    import warnings

    from spikespeech.cli.main import main

    before = warnings.showwarning
    filters = list(warnings.filters)
    assert main(["transcribe", str(tmp_path / "missing.wav")]) != 0
    assert warnings.showwarning is before and warnings.filters == filters


def test_user_errors_are_one_line_and_bugs_keep_their_traceback(monkeypatch, capsys, tmp_path):
    from spikespeech.cli import transcribe
    from spikespeech.cli.main import main
    from spikespeech.errors import SpikespeechError

    def fails_with(exc):
        def run(args):
            raise exc
        return run

    monkeypatch.setattr(transcribe, "run", fails_with(SpikespeechError("x.wav: not audio")))
    assert main(["transcribe", "x.wav"]) == 2
    assert capsys.readouterr().err == "spikespeech transcribe: error: x.wav: not audio\n"
    monkeypatch.setattr(transcribe, "run", fails_with(PermissionError(13, "Permission denied", "/out")))
    assert main(["transcribe", "x.wav"]) == 1
    assert capsys.readouterr().err == "spikespeech transcribe: error: /out: Permission denied\n"
    # a plain ValueError is not a message for the user but a bug: it propagates with its traceback
    monkeypatch.setattr(transcribe, "run", fails_with(ValueError("shapes (3,) and (4,) differ")))
    with pytest.raises(ValueError, match="shapes"):
        main(["transcribe", "x.wav"])
