"""TTS scoring: mel-cepstrum and MCD, DTW, F0 RMSE / V/UV, PocketSphinx intelligibility, the CLI.

Real speech comes from the shared LJ Speech subset and Kathleen corpus; "synthesized" audio is
made from it with WORLD (pyworld) so that the expected scores are known.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from _helpers import shared_data
from scipy.signal import resample_poly

from spikespeech.recipe import tts_score as T

REPO = Path(__file__).resolve().parents[2]
# pyworld 0.3.5 imports pkg_resources on import; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:pkg_resources is deprecated:DeprecationWarning")


def _clip(corpus: str, name: str) -> tuple[np.ndarray, int]:
    folder = "wavs" if corpus == "ljspeech_subset" else "flac"
    path = shared_data(corpus) / folder / name
    x, fs = sf.read(path, dtype="float64")
    return x, fs


def _world(x: np.ndarray, fs: int, f0_factor: float = 1.0, stretch: float = 1.0) -> np.ndarray:
    """WORLD resynthesis of ``x``: F0 scaled by ``f0_factor``, time stretched by ``stretch``."""
    import pyworld

    f0, sp = T.world_features(x, fs)
    ap = pyworld.d4c(x, f0, np.arange(len(f0)) * T.FRAME_PERIOD_MS / 1000, fs)
    idx = np.minimum(np.round(np.arange(int(len(f0) * stretch)) / stretch).astype(int), len(f0) - 1)
    return pyworld.synthesize(np.ascontiguousarray(f0[idx] * f0_factor), np.ascontiguousarray(sp[idx]),
                              np.ascontiguousarray(ap[idx]), fs, T.FRAME_PERIOD_MS)


# ---- mel-cepstrum -----------------------------------------------------------------------------------

def _freqt_sptk(c1: np.ndarray, order: int, alpha: float) -> np.ndarray:
    """SPTK freqt.c, transcribed scalar by scalar: the reference for the matrix form."""
    b = 1 - alpha * alpha
    g = [0.0] * (order + 1)
    for i in range(len(c1) - 1, -1, -1):
        d = list(g)
        g[0] = c1[i] + alpha * d[0]
        g[1] = b * d[0] + alpha * d[1]
        for j in range(2, order + 1):
            g[j] = d[j - 1] + alpha * (d[j] - g[j - 1])
    return np.array(g)


def test_freqt_matrix_matches_the_sptk_recursion():
    rng = np.random.default_rng(0)
    c = rng.standard_normal(40)
    for alpha in (0.0, 0.41, 0.554, -0.3):
        assert np.allclose(T._freqt_matrix(40, 24, alpha) @ c, _freqt_sptk(c, 24, alpha), atol=1e-12)
    assert np.allclose(T._freqt_matrix(40, 24, 0.0) @ c, c[:25])  # alpha 0: plain truncation


def test_mcep_alpha_is_the_mel_fit():
    assert [T.mcep_alpha(fs) for fs in (8000, 16000, 22050, 24000, 44100, 48000)] == [
        0.312, 0.41, 0.454, 0.466, 0.544, 0.554]


def test_mel_cepstrum_represents_the_envelope():
    """mcep → log spectrum at the warped frequencies gives the WORLD envelope back (SPTK convention):
    exactly in the limit of high order; at order 24 the warping spends the coefficients on the
    low frequencies, which it then fits better than an unwarped cepstrum of the same order."""
    x, fs = _clip("ljspeech_subset", "LJ001-0002.wav")
    _, sp = T.world_features(x, fs)
    level = np.log(sp).mean(axis=1)
    sp = np.maximum(sp[level > level.max() - 8], 1e-9)  # speech frames, clear of the floor
    alpha, log_sp, quarter = T.mcep_alpha(fs), np.log(sp), sp.shape[1] // 4

    def error_db(order: int, a: float, bins=slice(None)) -> float:
        rebuilt = T.mcep_to_log_power(T.sp_to_mcep(sp, order, a), sp.shape[1], a)
        return float(np.mean(np.abs(rebuilt - log_sp)[:, bins]) * 10 / math.log(10))

    assert error_db(400, alpha) < 0.05  # measured 0.016 dB
    assert error_db(60, alpha) < error_db(24, alpha) < 4.0  # 1.3 and 3.2 dB
    assert error_db(24, alpha, slice(quarter)) < 0.6 * error_db(24, 0.0, slice(quarter))  # 0.8 vs 1.9 dB
    mc = T.sp_to_mcep(sp, 24, alpha)
    assert np.allclose(mc[:, 0], T.sp_to_mcep(sp * math.e ** 2, 24, alpha)[:, 0] - 1.0)  # c0 = ½·log gain
    assert np.allclose(mc[:, 1:], T.sp_to_mcep(sp * 7.0, 24, alpha)[:, 1:])  # gain only moves c0


# ---- DTW ------------------------------------------------------------------------------------------

def _dtw_cost_naive(a, b) -> float:
    n, m = len(a), len(b)
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            acc[i, j] = np.linalg.norm(a[i - 1] - b[j - 1]) + min(acc[i - 1, j - 1], acc[i - 1, j],
                                                                   acc[i, j - 1])
    return acc[n, m]


def test_dtw_finds_the_optimal_monotonic_path():
    a = np.array([[0.0], [1.0], [2.0]])
    b = np.array([[0.0], [0.0], [1.0], [2.0], [2.0]])
    assert [p.tolist() for p in T.dtw(a, b)] == [[0, 0, 1, 2, 2], [0, 1, 2, 3, 4]]
    rng = np.random.default_rng(1)
    for n, m in ((7, 13), (13, 7), (1, 5), (9, 9)):
        a, b = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
        pa, pb = T.dtw(a, b)
        assert pa[0] == pb[0] == 0 and pa[-1] == n - 1 and pb[-1] == m - 1
        steps = set(zip(np.diff(pa).tolist(), np.diff(pb).tolist(), strict=True))
        assert steps <= {(1, 0), (0, 1), (1, 1)}
        cost = np.linalg.norm(a[pa] - b[pb], axis=1).sum()
        assert cost == pytest.approx(_dtw_cost_naive(a, b))
    with pytest.raises(ValueError, match="empty"):
        T.dtw(np.zeros((0, 3)), np.zeros((4, 3)))


# ---- MCD ------------------------------------------------------------------------------------------

def test_mcd_of_identical_audio_is_zero_and_grows_with_noise():
    x, fs = _clip("ljspeech_subset", "LJ001-0002.wav")
    same = T.score_pair(x, x.copy(), fs)
    assert same.mcd_db == 0.0 and same.f0.rmse_hz == 0.0 and same.f0.vuv_errors == 0
    assert same.f0.voiced_pairs > 100 and same.rate == 22050 and same.alpha == 0.454
    harvest = T.score_pair(x, x, fs, f0_method="harvest", alpha=0.45, order=34)
    assert harvest.mcd_db == 0.0 and harvest.f0.rmse_cents == 0.0 and harvest.alpha == 0.45
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(len(x))
    mcds = [T.score_pair(x, x + level * noise, fs).mcd_db for level in (0.0003, 0.003, 0.03)]
    assert 0 < mcds[0] < mcds[1] < mcds[2] and mcds[2] > 10


def test_dtw_makes_a_time_stretched_copy_close():
    x, fs = _clip("ljspeech_subset", "LJ001-0002.wav")
    baseline = T.score_pair(x, _world(x, fs), fs).mcd_db  # WORLD resynthesis alone
    stretched = _world(x, fs, stretch=1.2)
    assert len(stretched) > 1.15 * len(x)
    score = T.score_pair(x, stretched, fs)
    assert score.frames_syn > 1.15 * score.frames_ref
    assert score.mcd_db < baseline + 0.5 and score.mcd_db < 4.0
    # without DTW (frame by frame, cut to the shorter length) the same pair is far apart
    alpha = T.mcep_alpha(fs)
    mx = T.sp_to_mcep(T.world_features(x, fs)[1], 24, alpha)
    ms = T.sp_to_mcep(T.world_features(stretched, fs)[1], 24, alpha)
    n = min(len(mx), len(ms))
    assert T.mcd_db(mx, ms, (np.arange(n), np.arange(n))) > 2 * score.mcd_db
    other, _ = _clip("ljspeech_subset", "LJ001-0010.wav")  # a different sentence
    assert T.score_pair(x, other, fs).mcd_db > 2.5 * score.mcd_db


# ---- F0 -------------------------------------------------------------------------------------------

def _sweep(fs: int, seconds: float, f_start: float, f_end: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(int(fs * seconds)) / fs
    f = f_start * (f_end / f_start) ** (t / seconds)  # exponential sweep
    return 0.3 * np.sin(2 * np.pi * np.cumsum(f) / fs), f


def test_f0_rmse_of_a_sweep_pitched_up_a_semitone():
    fs, semitone = 16000, 2 ** (1 / 12)
    x, _ = _sweep(fs, 2.0, 120, 240)
    y, _ = _sweep(fs, 2.0, 120 * semitone, 240 * semitone)
    f0_x, _ = T.world_features(x, fs)
    f0_y, _ = T.world_features(y, fs)
    frames = np.arange(len(f0_x))
    errors = T.f0_errors(f0_x, f0_y, (frames, frames))  # frame by frame: the time axes are the same
    expected_hz = math.sqrt(np.mean(((semitone - 1) * 120 * 2 ** (frames * 0.005 / 2.0)) ** 2))
    assert errors.rmse_cents == pytest.approx(100, abs=5)
    assert errors.rmse_hz == pytest.approx(expected_hz, rel=0.1)
    assert errors.vuv_errors <= 2 and errors.voiced_pairs >= len(frames) - 2
    assert T.f0_errors(f0_x, f0_x, (frames, frames)).rmse_cents == 0.0


def test_f0_rmse_of_real_speech_pitched_up_after_dtw():
    """WORLD resynthesis of a real clip with F0 × 2^(k/12): after DTW the cents RMSE grows as the
    root sum of squares of the k·100 cents shift and the resynthesis' own F0 error."""
    x, fs = _clip("kathleen", "arctic_a0001.flac")
    base = T.score_pair(x, _world(x, fs), fs).f0
    for semitones in (1, 2):
        shifted = T.score_pair(x, _world(x, fs, f0_factor=2 ** (semitones / 12)), fs).f0
        assert math.sqrt(shifted.rmse_cents ** 2 - base.rmse_cents ** 2) == pytest.approx(100 * semitones,
                                                                                          rel=0.15)
        assert shifted.vuv_error < 0.1 and shifted.voiced_pairs > 200


# ---- intelligibility ------------------------------------------------------------------------------

def test_normalize_text():
    assert T.normalize_text("Typhoid -- did I tell you.") == "typhoid did i tell you"
    assert T.normalize_text("Dig in, you're sure good,' was Daylight's answer.") == (
        "dig in you're sure good was daylight's answer")
    assert T.normalize_text("Forty-two, 'quoted' ÉTÉ’s") == "forty two quoted ete's"
    # numbers spelled out the way a recognizer that writes words would (PocketSphinx) or Whisper's digits
    assert T.normalize_text("On the 20th, 42 men paid $3.50 in 1984.") == (
        "on the twentieth forty two men paid three dollars and fifty cents in nineteen eighty four")
    assert T.normalize_text("It's 20%, Mr. Brown!") == T.normalize_text("it's twenty percent mr brown")
    assert T.normalize_text("100,000 men; 2.5 miles") == "one hundred thousand men two point five miles"


KATHLEEN_CLIPS = [f"arctic_b{n:04d}" for n in range(490, 496)]  # the first 6 test prompts, as they come


@pytest.mark.slow
def test_pocketsphinx_recognizes_real_kathleen_speech():
    """Measured WER of these 6 clips 0.28 (16 of 57 words), of all 50 test prompts 0.27 and of
    50 prompts spread over the corpus 0.30; the bound leaves room for other builds of the model."""
    from spikespeech.audio.io import load_audio

    data = shared_data("kathleen")
    texts = dict(line.split("|")[::2] for line in (data / "metadata.csv").read_text().splitlines() if line)
    audio = {c: load_audio(data / "flac" / f"{c}.flac", 16000).astype(np.float64) for c in KATHLEEN_CLIPS}
    asr = T.PocketSphinxASR()
    refs = [T.normalize_text(texts[c]) for c in KATHLEEN_CLIPS]
    hyps = [asr(audio[c]) for c in KATHLEEN_CLIPS]
    assert T.word_error_rate(refs, hyps) <= 0.4, list(zip(refs, hyps, strict=True))
    assert "jerusalem" in hyps[4].split() and "psychology" in hyps[2].split()
    assert asr(audio[KATHLEEN_CLIPS[0]]) == hyps[0]  # the same audio, the same words, whatever came before


def test_word_error_rate_pools_and_skips_empty_references():
    assert T.word_error_rate(["a b c d", "e f"], ["a x c d", ""]) == pytest.approx(3 / 6)
    assert T.word_error_rate(["", "a"], ["b", "a"]) == 0.0
    assert T.word_error_rate([""], ["b"]) is None


# ---- command line ---------------------------------------------------------------------------------

@pytest.fixture
def test_set(tmp_path):
    """data/test of 4 Kathleen prompts; syn/ holds a bit-exact copy of the first, a 22.05 kHz
    copy of the second, nothing for the third and a corrupt file for the fourth."""
    data = shared_data("kathleen")
    clips = ["arctic_a0002", "arctic_a0003", "arctic_a0004", "arctic_a0005"]
    texts = dict(line.split("|")[::2] for line in (data / "metadata.csv").read_text().splitlines() if line)
    d = tmp_path / "data" / "test"
    d.mkdir(parents=True)
    (d / "wav.scp").write_text("".join(f"kathleen-{c} {data / 'flac' / c}.flac\n" for c in clips))
    (d / "text").write_text("".join(f"kathleen-{c} {texts[c]}\n" for c in clips))
    syn = tmp_path / "syn"
    syn.mkdir()
    x, fs = sf.read(data / "flac" / f"{clips[0]}.flac", dtype="int16")
    sf.write(syn / f"kathleen-{clips[0]}.wav", x, fs, subtype="PCM_16")
    y, fs = sf.read(data / "flac" / f"{clips[1]}.flac", dtype="float64")
    sf.write(syn / f"kathleen-{clips[1]}.wav", resample_poly(y, 441, 320), 22050, subtype="PCM_16")
    (syn / f"kathleen-{clips[3]}.wav").write_bytes(b"RIFF not really a wav")
    return d, syn


def _run(d: Path, syn: Path, out: Path, *args: str) -> int:
    return T.main(["--ref_scp", str(d / "wav.scp"), "--syn_dir", str(syn), "--out_dir", str(out), *args])


def test_cli_scores_what_is_there_and_lists_what_is_not(test_set, tmp_path, capsys):
    d, syn = test_set
    out = tmp_path / "score"
    assert _run(d, syn, out, "--asr", "none") == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    a4, a5 = "kathleen-arctic_a0004", "kathleen-arctic_a0005"
    assert err[0] == f"tts_score: missing: {a4}: {syn / a4}.wav: no such file"
    assert err[1] == (f"tts_score: missing: {a5}: {syn / a5}.wav: not a readable audio file "
                      f"(Format not recognised.)")
    assert err[2:] == ["tts_score: error: 2 of 4 utterances missing or unreadable (listed above)"]
    assert captured.out.startswith("tts_score: 2 of 4 utterances: MCD ") and "ASR" not in captured.out
    scores = json.loads((out / "scores.json").read_text())
    assert (scores["n_utterances"], scores["n_scored"], scores["n_missing"]) == (4, 2, 2)
    assert sorted(scores["missing"]) == [a4, a5]
    exact, resampled = (scores["utterances"][f"kathleen-arctic_a000{n}"] for n in (2, 3))
    assert exact["mcd_db"] == 0.0 and exact["f0_rmse_hz"] == 0.0 and exact["vuv_error"] == 0.0
    assert exact["rate"] == 16000 and exact["mcep_alpha"] == 0.41 and "asr_syn" not in exact
    assert 0 < resampled["mcd_db"] < 3.0  # 16 → 22.05 → 16 kHz: band-limited, otherwise the same
    assert scores["mcd_db"] == pytest.approx((exact["mcd_db"] + resampled["mcd_db"]) / 2)
    voiced = exact["voiced_pairs"] + resampled["voiced_pairs"]
    pooled = math.sqrt(resampled["voiced_pairs"] * resampled["f0_rmse_hz"] ** 2 / voiced)  # exact adds zeros
    assert scores["f0_rmse_hz"] == pytest.approx(pooled)
    assert scores["asr"] == "none" and scores["asr_wer_syn"] is None and scores["asr_wer_ratio"] is None
    assert set(scores["definitions"]) >= {"mcd_db", "f0_rmse_hz", "f0_rmse_cents", "vuv_error", "asr_wer"}
    md = (out / "result.md").read_text()
    assert f"2 of 4 utterances scored, 2 missing or unreadable: {a4}, {a5}." in md
    assert "| MCD (dB; DTW, c1-c24, alpha 0.41) |" in md and "ASR-WER" not in md
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    (syn / f"{a5}.wav").unlink()  # scoring only what exists: exit 0
    (d / "wav.scp").write_text("".join(line + "\n" for line in (d / "wav.scp").read_text().splitlines()[:2]))
    assert _run(d, syn, out, "--asr", "none") == 0
    assert json.loads((out / "scores.json").read_text())["n_missing"] == 0


@pytest.mark.slow
def test_cli_with_pocketsphinx(test_set, tmp_path, capsys):
    d, syn = test_set
    out = tmp_path / "score"
    assert _run(d, syn, out, "--text", str(d / "text")) == 1  # pocketsphinx is the default
    assert "ASR-WER (pocketsphinx) synthesized" in capsys.readouterr().out
    scores = json.loads((out / "scores.json").read_text())
    exact = scores["utterances"]["kathleen-arctic_a0002"]
    assert exact["text"] == "not at this particular case tom apologized whittemore"
    assert exact["asr_syn"] == exact["asr_ref"] and exact["asr_wer_syn"] == exact["asr_wer_ref"]
    assert scores["asr"] == "pocketsphinx" and 0 < scores["asr_wer_ref"] < 0.5  # measured 7 of 19 words
    assert scores["asr_wer_ratio"] == pytest.approx(scores["asr_wer_syn"] / scores["asr_wer_ref"])
    assert "| ASR-WER reference (%, pocketsphinx) |" in (out / "result.md").read_text()


@pytest.mark.slow
def test_cli_scores_unrecorded_sentences_for_intelligibility_only(test_set, tmp_path, capsys):
    d, syn = test_set
    out = tmp_path / "score"
    (syn / "kathleen-arctic_a0005.wav").unlink()
    text = tmp_path / "text"
    text.write_text("".join(line + "\n" for line in (d / "text").read_text().splitlines()[:3]))
    args = ["--syn_dir", str(syn), "--out_dir", str(out), "--text", str(text), "--asr", "pocketsphinx"]
    assert T.main(args) == 1  # a0004 was not synthesized
    captured = capsys.readouterr()
    assert "tts_score: 2 of 3 utterances: MCD - dB" in captured.out
    assert "ASR-WER (pocketsphinx) synthesized" in captured.out and "reference -%" in captured.out
    scores = json.loads((out / "scores.json").read_text())
    assert scores["ref_scp"] is None and scores["mcd_db"] is None and scores["asr_wer_ref"] is None
    exact = scores["utterances"]["kathleen-arctic_a0002"]
    assert "mcd_db" not in exact and exact["asr_ref"] is None
    assert "No reference audio" in (out / "result.md").read_text()
    # the same recognizer on the same audio as with the reference: the same hypotheses
    assert _run(d, syn, tmp_path / "with_ref", "--text", str(d / "text")) == 1
    with_ref = json.loads((tmp_path / "with_ref" / "scores.json").read_text())["utterances"]
    for utt, entry in scores["utterances"].items():
        reference = with_ref[utt]
        assert (entry["asr_syn"], entry["asr_wer_syn"]) == (reference["asr_syn"], reference["asr_wer_syn"])


def test_cli_without_reference_needs_text_and_a_recognizer(test_set, tmp_path, capsys):
    d, syn = test_set
    assert T.main(["--syn_dir", str(syn), "--out_dir", str(tmp_path / "o"), "--asr", "none",
                   "--text", str(d / "text")]) == 2
    assert capsys.readouterr().err.strip() == ("tts_score: error: without --ref_scp there is only "
                                               "intelligibility to score: give --text and --asr")


def test_cli_bad_inputs_are_one_line_exit_2(test_set, tmp_path, capsys):
    d, syn = test_set
    out = tmp_path / "score"

    def error(*args: str) -> str:
        assert _run(d, syn, out, *args) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tts_score: error: ")
        return lines[0]

    assert "--asr pocketsphinx needs --text" in error()
    (tmp_path / "zh.txt").write_text("".join(f"{line.split()[0]} 卡尔普陪外孙玩滑梯\n"
                                             for line in (d / "wav.scp").read_text().splitlines()),
                                     encoding="utf-8")
    assert "kathleen-arctic_a0002 is not English; --asr pocketsphinx scores English only" in error(
        "--text", str(tmp_path / "zh.txt"))
    (tmp_path / "short.txt").write_text("kathleen-arctic_a0002 hello\n")
    assert "no sentence for 3 utterance(s)" in error("--text", str(tmp_path / "short.txt"))
    assert "synthesized-audio dir not found" in error("--syn_dir", str(tmp_path / "nowhere"), "--asr", "none")
    (d / "segments").write_text("kathleen-arctic_a0002 rec 0.0 1.0\n")
    assert "segments are not supported" in error("--asr", "none")
    (d / "segments").unlink()
    (d / "wav.scp").write_text("kathleen-arctic_a0002 sox x.flac -t wav - |\n")
    assert "is a pipe or an ark offset" in error("--asr", "none")
    assert not out.exists()


def test_module_runs_as_a_script(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    scp = tmp_path / "none.scp"
    out = subprocess.run([sys.executable, "-m", "spikespeech.recipe.tts_score", "--ref_scp", str(scp),
                          "--syn_dir", str(tmp_path), "--out_dir", str(tmp_path / "o"), "--asr", "none"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 2 and out.stderr.strip() == f"tts_score: error: {scp}: file not found"
