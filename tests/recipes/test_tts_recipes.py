"""The corpus TTS recipes egs/csmsc/tts1 (Mandarin, one speaker, 24 kHz) and egs/vctk/tts1
(English, multi-speaker, 22.05 kHz) on layout-faithful miniatures of their corpora.

Each recipe runs in a copy of its directory under ``tmp_path`` (same relative layout, with
``recipes/`` linked), so tests never write into the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from _miniature_tts_corpora import CSMSC_TEXT, csmsc_corpus, vctk_zip

from spikespeech.config import from_dict
from spikespeech.text import Frontend
from spikespeech.tts import SpikeVoiceConfig

REPO = Path(__file__).resolve().parents[2]
CONFIGS = ("train_spikevoice_small.yaml", "train_spikevoice.yaml", "train_fastspeech2_ann_small.yaml")
# corpus -> (fs, n_fft, hop, win): CSMSC as ESPnet's csmsc/tts1, VCTK at LJSpeech's 22.05 kHz
STFT = {"csmsc": (24000, 2048, 300, 1200), "vctk": (22050, 1024, 256, 1024)}


def recipe_copy(tmp_path: Path, corpus: str) -> Path:
    """``tmp_path/egs/<corpus>/tts1``: the recipe's files, beside a link to ``recipes/``."""
    dest = tmp_path / "egs" / corpus / "tts1"
    shutil.copytree(REPO / "egs" / corpus / "tts1", dest, symlinks=False,
                    ignore=shutil.ignore_patterns("data", "dump", "exp", "downloads"))
    (tmp_path / "recipes").symlink_to(REPO / "recipes")
    return dest


def run_recipe(recipe: Path, *args: str, script: str = "run.sh", timeout: int = 900):
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(["bash", str(recipe / script), *args], cwd=recipe, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _ok(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 0, f"recipe failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return out.stdout


def _table(path: Path) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines() if line)


def _check_dump(recipe: Path, sets: dict[str, int], fs: int) -> None:
    """Every set dumped at ``fs`` with the expected number of utterances, none filtered out."""
    for name, n in sets.items():
        dump = recipe / "dump" / "raw" / name
        assert (dump / "fs").read_text().strip() == str(fs)
        wavs = _table(dump / "wav.scp")
        assert len(wavs) == n and len(_table(dump / "text")) == n, name
        lengths = _table(dump / "utt2num_samples")
        for utt, path in wavs.items():
            info = sf.info(path)
            assert info.samplerate == fs and info.channels == 1
            assert info.frames == int(lengths[utt])


# ---- configs and data preparation (fast) ---------------------------------------------------------

@pytest.mark.parametrize("corpus", sorted(STFT))
@pytest.mark.parametrize("name", CONFIGS)
def test_configs_match_ljspeech_but_for_the_stft(corpus, name):
    conf = yaml.safe_load((REPO / "egs" / corpus / "tts1" / "conf" / name).read_text())
    lj = yaml.safe_load((REPO / "egs" / "ljspeech" / "tts1" / "conf" / name).read_text())
    fs, n_fft, hop, win = STFT[corpus]
    assert conf["feats_extract"] == "fbank" and conf["feats_extract_conf"] == {
        "fs": fs, "n_fft": n_fft, "hop_length": hop, "win_length": win, "n_mels": 80, "fmin": 80,
        "fmax": 7600}
    assert conf["pitch_extract"] == "dio" and conf["pitch_extract_conf"] == {
        "fs": fs, "n_fft": n_fft, "hop_length": hop, "f0max": 400, "f0min": 80, "reduction_factor": 1,
        "use_token_averaged_f0": False}
    assert conf["energy_extract"] == "energy" and conf["energy_extract_conf"] == {
        "fs": fs, "n_fft": n_fft, "hop_length": hop, "win_length": win, "reduction_factor": 1,
        "use_token_averaged_energy": False}
    # everything else (normalisation, model, optimiser, batching) is LJSpeech's; the small
    # configs' epoch budget is the recipe's own (LJSpeech's is cut for its 32-clip subset)
    skip = {"feats_extract_conf", "pitch_extract_conf", "energy_extract_conf", "max_epoch"}
    assert {k: v for k, v in conf.items() if k not in skip} == {k: v for k, v in lj.items() if k not in skip}
    assert conf["normalize"] == conf["pitch_normalize"] == conf["energy_normalize"] == "global_mvn"
    model = from_dict(SpikeVoiceConfig, conf["tts_conf"], where=name)
    assert model.backbone == ("ann" if "fastspeech2_ann" in name else "spiking")
    assert model.num_speakers == 0  # VCTK: ESPnet's spks, from spk2sid (--use_sid true), sets it
    assert (model.encoder.d_model, model.decoder.layers) == ((128, 2) if "small" in name else (256, 6))


@pytest.mark.parametrize("corpus,options", [
    ("csmsc", ["--fs 24000", "--language zh", "--tts_config conf/train_spikevoice_small.yaml"]),
    ("vctk", ["--fs 22050", "--language en", "--use_sid true",
              "--tts_config conf/train_spikevoice_small.yaml"]),
])
def test_run_sh_sets_the_corpus_options(corpus, options):
    text = (REPO / "egs" / corpus / "tts1" / "run.sh").read_text()
    assert "exec ../../../recipes/tts.sh" in text and '"$@"' in text
    for option in options:
        assert option in text
    for script in ("run.sh", "local/data.sh"):
        path = REPO / "egs" / corpus / "tts1" / script
        assert os.access(path, os.X_OK)
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


def test_score_asr_takes_a_list_of_known_recognizers():
    """--score_asr whisper,pocketsphinx passes the option check; an unknown one is a one-line error."""
    recipe = REPO / "egs" / "kathleen" / "tts1"
    ok = subprocess.run(["./run.sh", "--score_asr", "whisper,pocketsphinx", "--stage", "99",
                         "--stop_stage", "99"], cwd=recipe, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(["./run.sh", "--score_asr", "whisper,wav2vec", "--stage", "99"], cwd=recipe,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines()[-1] == (
        "tts.sh: error: --score_asr: each recognizer must be pocketsphinx, whisper or none (got wav2vec)")


def test_a_stage_that_is_not_a_number_is_a_one_line_error():
    """Not seq's complaint followed by "all requested stages finished" and exit status 0."""
    recipe = REPO / "egs" / "kathleen" / "tts1"
    bad = subprocess.run(["./run.sh", "--stage", "abc"], cwd=recipe, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0 and "finished" not in bad.stdout
    assert bad.stderr.strip().splitlines() == [
        "tts.sh: error: --stage and --stop_stage must be stage numbers (got 'abc' and '100')"]


@pytest.mark.parametrize("corpus,where", [
    ("csmsc", "download BZNSYP.rar by hand from https://www.data-baker.com/data/index/TNtts/"),
    ("vctk", "https://datashare.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip"),
])
def test_missing_corpus_is_one_line_naming_downloads(tmp_path, corpus, where):
    recipe = recipe_copy(tmp_path, corpus)
    out = run_recipe(recipe, script="local/data.sh", timeout=120)
    err = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(err) == 1, out.stderr
    assert where in err[0] and "downloads" in err[0]
    assert not (recipe / "data").exists()


def test_energy_report_of_a_multi_speaker_model_uses_utt2sid(tmp_path, capsys):
    # recipes/tts.sh stage 9 runs it on the test set of a --use_sid true recipe (VCTK)
    # isort: off
    from spikespeech.espnet import register

    register()  # ESPnet imported offline, tts: spikevoice known
    from espnet2.tasks.tts import TTSTask

    # isort: on
    from spikespeech.recipe.energy import main as energy_main

    frontend = Frontend("en")
    conf = yaml.safe_load((REPO / "egs/vctk/tts1/conf/train_spikevoice_small.yaml").read_text())
    conf.update(token_list=["<blank>", "<unk>", *frontend.symbols(), "<sos/eos>"], token_type="phn",
                g2p="none", cleaner="none", normalize=None, pitch_normalize=None, energy_normalize=None)
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(conf), encoding="utf-8")
    args = TTSTask.get_parser().parse_args(["--config", str(tmp_path / "train.yaml"), "--tts_conf", "spks=3",
                                            "--output_dir", str(tmp_path / "exp")])
    model = TTSTask.build_model(args)
    assert model.tts.model.config.num_speakers == 3
    torch.save(model.state_dict(), tmp_path / "model.pth")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(vars(args)), encoding="utf-8")
    data = tmp_path / "test"
    data.mkdir()
    (data / "text").write_text(f"a_1 {' '.join(frontend('Hello there.'))}\n"
                               f"b_1 {' '.join(frontend('Good morning.'))}\n", encoding="utf-8")
    common = ["--tts_config", str(tmp_path / "config.yaml"), "--model_file", str(tmp_path / "model.pth"),
              "--data_dir", str(data), "--out", str(tmp_path / "energy.json")]
    assert energy_main(common) == 2  # no utt2sid: one line naming it
    assert "test/utt2sid: file not found" in capsys.readouterr().err
    (data / "utt2sid").write_text("a_1 1\n", encoding="utf-8")
    assert energy_main(common) == 2
    assert "utt2sid: no speaker id for b_1" in capsys.readouterr().err
    (data / "utt2sid").write_text("a_1 1\nb_1 2\n", encoding="utf-8")
    assert energy_main(common) == 0
    report = json.loads((tmp_path / "energy.json").read_text())
    assert report["utterances"] == 2 and report["mel_frames"] >= 2 and report["energy_uj_per_utt"] > 0


def test_cli_module_errors_are_one_line(tmp_path):
    # the recipes' stage 10 runs `python -m spikespeech.cli.main pack`: a user error there is one
    # line and exit status 2, as with the `spikespeech` command (not a CLIError traceback)
    out = subprocess.run([sys.executable, "-m", "spikespeech.cli.main", "synthesize", "hi", "--model",
                          str(tmp_path / "none.zip"), "-o", str(tmp_path / "x.wav")],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("spikespeech synthesize: error: ") and "model not found" in out.stderr


# ---- end to end (slow) --------------------------------------------------------------------------

@pytest.mark.slow
def test_csmsc_recipe_on_a_miniature_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    csmsc_corpus(corpus)  # 6 labelled 48 kHz clips (3.9-6.0 s: inside the default 0.5-15 s filter)
    recipe = recipe_copy(tmp_path, "csmsc")
    data = ["--local_data_opts", f"--data_dir {corpus} --n_dev 1 --n_test 1"]

    # stages 1-4: data, dump (48 -> 24 kHz), filter, Mandarin phonemes and token list
    log = _ok(run_recipe(recipe, *data, "--stop_stage", "4"))
    assert "kept 4 of 4 utterances" in log and "kept 1 of 1 utterances" in log
    _check_dump(recipe, {"train": 4, "dev": 1, "test": 1}, 24000)
    symbols = set(Frontend("zh").symbols())
    dump = recipe / "dump" / "raw"
    for name in ("train", "dev", "test"):
        words, phones = _table(dump / name / "text.words"), _table(dump / name / "text")
        assert words.keys() == phones.keys()
        for utt, text in words.items():
            assert text == CSMSC_TEXT[utt.removeprefix("csmsc-")]  # the Chinese kept for scoring
            tokens = phones[utt].split()
            assert set(tokens) <= symbols and tokens[-1] == "."
            assert any(re.fullmatch(r"[a-z]+[1-5]", t) for t in tokens)  # tonal finals
    # 也成为地方政府的眼中钉 (000002): initials and tonal finals as pypinyin spells them
    assert _table(dump / "train" / "text")["csmsc-000002"].startswith("ie3 ch eng2 uei2 d i4 f ang1")
    assert "ao4" in _table(dump / "train" / "text")["csmsc-000003"]  # 浩 h ao4
    tokens = (recipe / "data" / "token_list" / "phn_zh" / "tokens.txt").read_text().split()
    assert tokens[:2] == ["<blank>", "<unk>"] and tokens[-1] == "<sos/eos>"
    assert {"iao1", "ou4", "zh", "."} <= set(tokens) and len(tokens) == len(set(tokens))
    assert not (dump / "train" / "spk2sid").exists()  # one speaker: no speaker ids

    # stages 5-9: statistics, one epoch, Griffin-Lim decoding, MCD/F0 scoring (no Mandarin ASR)
    log = _ok(run_recipe(recipe, *data, "--stage", "5", "--stop_stage", "9", "--tts_args", "--max_epoch 1"))
    assert "stage 6 (train) done" in log and "synthesis uses Griffin-Lim" in log
    exp = recipe / "exp" / "tts_train_spikevoice_small"
    stats = next((recipe / "exp" / "stats").glob("tts_phn_zh_fs24000_*")) / "train"
    for name in ("feats_stats.npz", "pitch_stats.npz", "energy_stats.npz"):
        assert (stats / name).is_file()
    assert np.load(stats / "feats_stats.npz")["sum"].shape == (80,)
    config = yaml.safe_load((exp / "config.yaml").read_text())
    assert config["feats_extract_conf"]["fs"] == 24000 and config["max_epoch"] == 1
    assert config["token_list"] == tokens and "spks" not in config["tts_conf"]
    assert (exp / "1epoch.pth").is_file() and (exp / "valid.postnet_l1.ave.pth").exists()
    decode = exp / "decode_default_valid.postnet_l1.ave_griffin_lim" / "test"
    audio, rate = sf.read(decode / "wav" / "csmsc-000006.wav")
    assert rate == 24000 and len(audio) >= 300 and np.isfinite(audio).all()
    scores = json.loads((decode / "score" / "scores.json").read_text())
    assert scores["asr"] == "none" and scores["asr_wer_syn"] is None  # language zh: --score_asr none
    assert scores["n_scored"] == 1 and np.isfinite(scores["mcd_db"]) and scores["mcd_db"] > 0
    energy = json.loads((decode / "energy.json").read_text())
    assert energy["utterances"] == 1 and 0.0 < energy["firing_rate"] < 1.0
    assert "## test" in (recipe / "exp" / "RESULTS.md").read_text()


@pytest.mark.slow
def test_vctk_multi_speaker_recipe_on_a_miniature_corpus(tmp_path):
    recipe = recipe_copy(tmp_path, "vctk")
    # the zip in the recipe's default data dir, extracted into downloads/ (not the recipe dir)
    vctk_zip(recipe / "downloads")
    data = ["--local_data_opts", "--n_dev 1 --n_test 1"]

    # stages 1-4: data, dump (48 kHz FLAC -> 22.05 kHz), filter, English phonemes, speaker ids
    log = _ok(run_recipe(recipe, *data, "--stop_stage", "4"))
    assert (recipe / "downloads" / "VCTK-Corpus-0.92" / "txt" / "p225").is_dir()
    assert not (recipe / "VCTK-Corpus-0.92").exists()
    # clips 2.3-10.4 s: inside the default 0.5-15 s filter, so nothing is dropped
    assert "kept 3 of 3 utterances" in log and "kept 2 of 2 utterances" in log
    sets = {"train": 3, "dev": 2, "test": 2}
    _check_dump(recipe, sets, 22050)
    dump = recipe / "dump" / "raw"
    symbols = set(Frontend("en").symbols())
    for name in sets:
        for utt, phones in _table(dump / name / "text").items():
            assert set(phones.split()) <= symbols, utt
    assert _table(dump / "test" / "text.words")["p225_002"] == "Stuff it into you his belly counselled him."
    # ESPnet's convention: sid 0 is reserved for unknown speakers, the train speakers are 1..N
    assert (dump / "train" / "spk2sid").read_text() == "<unk> 0\np225 1\np226 2\n"
    for name in sets:
        utt2spk, utt2sid = _table(dump / name / "utt2spk"), _table(dump / name / "utt2sid")
        assert utt2sid.keys() == utt2spk.keys()
        assert {utt: {"p225": "1", "p226": "2"}[spk] for utt, spk in utt2spk.items()} == utt2sid
    assert sorted(_table(dump / "test" / "utt2spk").values()) == ["p225", "p226"]

    # stages 5-8: statistics and one epoch with speaker ids, then synthesis in 2 parallel jobs
    log = _ok(run_recipe(recipe, *data, "--stage", "5", "--stop_stage", "8", "--tts_args", "--max_epoch 1"))
    exp = recipe / "exp" / "tts_train_spikevoice_small"
    config = yaml.safe_load((exp / "config.yaml").read_text())
    assert config["tts_conf"]["spks"] == 3  # lines of spk2sid: <unk> + 2 speakers
    assert config["tts_conf"]["backbone"] == "spiking" and config["feats_extract_conf"]["fs"] == 22050
    for prefix, name in (("train", "train"), ("valid", "dev")):
        inputs = config[f"{prefix}_data_path_and_name_and_type"]
        assert [f"dump/raw/{name}/utt2sid", "sids", "text_int"] in inputs
    state = torch.load(exp / "1epoch.pth", map_location="cpu")
    assert tuple(state["tts.model.speaker_table.weight"].shape) == (3, 128)
    decode = exp / "decode_default_valid.postnet_l1.ave_griffin_lim" / "test"
    keys = sorted((decode / "split").glob("keys.[0-9][0-9][0-9]"))
    # no empty job (ESPnet's inference fails on an empty key file), each sentence in one job
    assert keys and all(k.stat().st_size > 0 for k in keys)
    assert sorted(line.split()[0] for k in keys for line in k.read_text().splitlines()) == [
        "p225_002", "p226_003"]
    for key in keys:
        assert "utt2sid,sids,text_int" in key.with_name(key.name + ".log").read_text()
    for utt in ("p225_002", "p226_003"):
        audio, rate = sf.read(decode / "wav" / f"{utt}.wav")
        assert rate == 22050 and len(audio) >= 256 and np.isfinite(audio).all()
    assert sorted(_table(decode / "durations")) == ["p225_002", "p226_003"]
    assert "test: 2 wavs" in log

    # fine-tuning one voice of the model: --train_speakers p225 trains on p225's utterances only
    # (token list, speaker ids and statistics stay the whole set's), from --pretrained_model
    pretrained = "exp/tts_train_spikevoice_small/1epoch.pth"
    finetune = ["--stage", "6", "--stop_stage", "6", "--tts_tag", "ft_p225", "--tts_args", "--max_epoch 1"]
    _ok(run_recipe(recipe, *data, *finetune, "--train_speakers", "p225", "--pretrained_model", pretrained))
    ft = recipe / "exp" / "tts_ft_p225"
    p225 = sorted(u for u, spk in _table(dump / "train" / "utt2spk").items() if spk == "p225")
    for name in ("text_shape.phn", "speech_shape"):
        assert sorted(_table(ft / "train_shapes" / name)) == p225
    assert yaml.safe_load((ft / "config.yaml").read_text())["train_shape_file"] == [
        "exp/tts_ft_p225/train_shapes/text_shape.phn", "exp/tts_ft_p225/train_shapes/speech_shape"]
    assert f"Loading pretrained params from {pretrained}" in (ft / "train.log").read_text()
    assert (ft / "1epoch.pth").is_file()
    # a speaker the train set lacks, or weights not there: the stage's one-line error (stage
    # output goes to stdout and its log), the failed stage on stderr, nothing trained
    for option, value, problem in (("--train_speakers", "p999", "p999 has no utterance in"),
                                   ("--pretrained_model", "exp/none.pth", "no such file")):
        out = run_recipe(recipe, *data, *finetune[:4], "--tts_tag", "bad", option, value)
        assert out.returncode != 0 and f"error: {option} " in out.stdout and problem in out.stdout
        assert "stage 6 (train) failed" in out.stderr and "Traceback" not in out.stdout + out.stderr
        assert not (recipe / "exp" / "tts_bad" / "1epoch.pth").exists()
