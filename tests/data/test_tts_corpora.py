"""TTS corpus preparation (LJ Speech, CSMSC, VCTK, Kathleen) → Kaldi data dirs.

LJ Speech and Kathleen are prepared from the real shared data; CSMSC and VCTK from miniature
corpora in their release layouts built from real clips (``_miniature_tts_corpora``). Every
written dir must pass :func:`spikespeech.data.datadir.validate_data_dir`. Nothing touches the
network: downloads go to an unreachable address.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import pytest
import soundfile as sf
from _helpers import shared_data
from _miniature_corpora import AISHELL_WORDS
from _miniature_tts_corpora import (
    CSMSC_TEXT,
    csmsc_corpus,
    ljspeech_archive,
    ljspeech_release,
    vctk_corpus,
    vctk_zip,
)

from spikespeech.data import read_kaldi_dir
from spikespeech.data.corpora import CORPORA, csmsc, kathleen, ljspeech, vctk
from spikespeech.data.corpora.__main__ import main
from spikespeech.data.corpora.download import DownloadError, MissingDataError, Resource
from spikespeech.data.datadir import validate_data_dir
from spikespeech.data.kaldi import Utterance

UNREACHABLE = "http://127.0.0.1:9"


def check_sets(written: dict[str, Path]) -> dict[str, list[Utterance]]:
    """Each dir passes validate_data_dir (audio present, no warnings); sets are disjoint."""
    sets = {}
    for name, path in written.items():
        summary = validate_data_dir(path)
        assert summary.warnings == () and not summary.has_segments, summary
        sets[name] = read_kaldi_dir(path)
        assert summary.utterances == len(sets[name])
    ids = [u.utt_id for utts in sets.values() for u in utts]
    assert len(ids) == len(set(ids)), "sets overlap"
    return sets


def ids(utts) -> list[str]:
    return [u.utt_id for u in utts]


def test_registered():
    assert {"ljspeech", "csmsc", "vctk", "kathleen"} <= set(CORPORA)


# ---- LJ Speech --------------------------------------------------------------------------------------

def _subset_meta() -> list[list[str]]:
    text = (shared_data("ljspeech_subset") / "metadata.csv").read_text(encoding="utf-8")
    return [line.split("|") for line in text.splitlines() if line]


def test_ljspeech_partial_corpus_dir_itself_tail_split(tmp_path, caplog):
    data = shared_data("ljspeech_subset")  # metadata.csv + wavs/, no LJSpeech-1.1 folder
    with caplog.at_level(logging.INFO, logger="spikespeech.data.corpora.ljspeech"):
        sets = check_sets(ljspeech.prepare(data, tmp_path / "data"))
    assert "599 of the standard split's 600 dev/test clips are missing" in caplog.text
    meta = _subset_meta()
    order = [m[0] for m in meta]
    assert {k: len(v) for k, v in sets.items()} == {"train": 28, "dev": 2, "test": 2}  # 5% of 32 = 2
    assert ids(sets["test"]) == order[-2:] and ids(sets["dev"]) == order[-4:-2]
    by_id = {u.utt_id: u for utts in sets.values() for u in utts}
    for utt, _, normalized in meta:
        assert by_id[utt].text == " ".join(normalized.split()) and by_id[utt].speaker == "LJ"
    assert sf.info(by_id["LJ001-0001"].audio).samplerate == 22050
    sets = check_sets(ljspeech.prepare(data, tmp_path / "d2", split="tail", n_dev=3, n_test=5,
                                       sets=["dev", "test"]))
    assert list(sets) == ["dev", "test"] and ids(sets["test"]) == order[-5:]
    assert ids(sets["dev"]) == order[-8:-5] and not (tmp_path / "d2" / "train").exists()


def test_ljspeech_normalized_column_is_the_text():
    utts = {u.utt_id: u for u in ljspeech.ljspeech_utterances(shared_data("ljspeech_subset"))}
    assert list(utts) == [m[0] for m in _subset_meta()]
    # raw "... of about 1455," vs normalized "... of about fourteen fifty-five,"
    assert utts["LJ001-0007"].text.endswith('"forty-two line Bible" of about fourteen fifty-five,')


def test_ljspeech_release_layout(tmp_path):
    ljspeech_release(tmp_path / "dl")
    sets = check_sets(ljspeech.prepare(tmp_path / "dl", tmp_path / "data", n_dev=1, n_test=1))
    assert {k: len(v) for k, v in sets.items()} == {"train": 30, "dev": 1, "test": 1}
    assert all(u.audio.startswith(str((tmp_path / "dl" / "LJSpeech-1.1" / "wavs").resolve()))
               for u in sets["train"])
    with pytest.raises(ValueError, match="standard split needs the full corpus.*e.g. LJ0"):
        ljspeech.prepare(tmp_path / "dl", tmp_path / "d2", split="standard")


def test_ljspeech_standard_split_is_the_shared_tacotron2_split():
    """The shipped id list reproduces ljspeech_text's train/val/test (12,500/100/500) on all 13,100 ids."""
    text = shared_data("ljspeech_text")
    lists = {name: [line.split("|", 1)[0] for line in (text / f"{name}.txt").read_text(encoding="utf-8")
                    .splitlines() if line] for name in ("train", "val", "test")}
    everything = sorted(u for ids_ in lists.values() for u in ids_)
    assert len(everything) == len(set(everything)) == 13100
    utts = [Utterance(u, "LJ", f"/nowhere/{u}.wav", "text") for u in everything]
    out = ljspeech.split_utterances(utts)  # auto: every id present -> standard
    assert {k: sorted(ids(v)) for k, v in out.items()} == {
        "train": sorted(lists["train"]), "dev": sorted(lists["val"]), "test": sorted(lists["test"])}
    train = set(lists["train"])
    assert ids(out["train"]) == [u for u in everything if u in train]  # metadata order kept
    assert "LJ001-0015" in ids(out["test"])  # as SOURCE.txt says
    with pytest.raises(ValueError, match="n_dev/n_test apply to the tail split only"):
        ljspeech.split_utterances(utts, n_dev=3)
    tail = ljspeech.split_utterances(utts, "tail", 10, 20)
    assert ids(tail["test"]) == everything[-20:] and len(tail["train"]) == 13070


def test_ljspeech_tar_bz2_round_trip(tmp_path, monkeypatch):
    downloads = tmp_path / "downloads"
    ljspeech_archive(downloads, n_clips=6)
    # on disk: never downloaded, even with download=True (the URL is unreachable)
    monkeypatch.setattr(ljspeech, "RESOURCE", Resource("LJSpeech-1.1.tar.bz2", f"{UNREACHABLE}/LJ.tar.bz2",
                                                       "LJSpeech-1.1", ljspeech.RESOURCE.md5))
    work = tmp_path / "work"
    sets = check_sets(ljspeech.prepare(downloads, tmp_path / "data", download=True, work_dir=work,
                                       n_dev=1, n_test=1))
    assert {k: len(v) for k, v in sets.items()} == {"train": 4, "dev": 1, "test": 1}
    assert ids(sets["test"]) == ["LJ001-0006"]
    extracted = work.resolve() / "LJSpeech-1.1"
    assert all(Path(u.audio).is_relative_to(extracted) for s in sets.values() for u in s)
    assert (work / ".LJSpeech-1.1.tar.bz2.extracted").exists() and not (downloads / "LJSpeech-1.1").exists()


def test_ljspeech_offline_errors_are_one_line(tmp_path, monkeypatch, capsys):
    with pytest.raises(MissingDataError) as error:
        ljspeech.prepare(tmp_path / "nowhere", tmp_path / "data")
    message = str(error.value)
    assert "\n" not in message and message.startswith("ljspeech: missing LJSpeech-1.1.tar.bz2 (or extracted "
                                                      "LJSpeech-1.1)")
    assert "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2" in message and "--download" in message
    monkeypatch.setattr(ljspeech, "RESOURCE", Resource("LJSpeech-1.1.tar.bz2", f"{UNREACHABLE}/LJ.tar.bz2",
                                                       "LJSpeech-1.1"))
    code = main(["ljspeech", "--out", str(tmp_path / "data"), "--data_dir", str(tmp_path / "dl"),
                 "--download"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ljspeech: download failed (")
    assert "put LJSpeech-1.1.tar.bz2" in err[0] and not (tmp_path / "data").exists()


def test_ljspeech_missing_wav_and_bad_metadata(tmp_path):
    corpus = ljspeech_release(tmp_path, n_clips=4)
    (corpus / "wavs" / "LJ001-0003.wav").unlink()
    with pytest.raises(ValueError, match=r"LJ001-0003\.wav: audio of LJ001-0003 \(listed in metadata.csv\) "
                                         r"is missing"):
        ljspeech.prepare(corpus, tmp_path / "data")
    (corpus / "metadata.csv").write_text("LJ001-0001|only two fields\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"metadata.csv:1: expected 'id\|text\|normalized text'"):
        ljspeech.prepare(corpus, tmp_path / "data")
    assert not (tmp_path / "data").exists()


# ---- Kathleen ---------------------------------------------------------------------------------------

def test_kathleen_shared_corpus(tmp_path):
    data = shared_data("kathleen")
    sets = check_sets(kathleen.prepare(data, tmp_path / "data"))
    assert {k: len(v) for k, v in sets.items()} == {"train": 1032, "dev": 50, "test": 50}
    lines = (data / "metadata.csv").read_text(encoding="utf-8").splitlines()
    order = [f"kathleen-{line.split('|')[0]}" for line in lines if line]
    assert ids(sets["test"]) == order[-50:] and ids(sets["dev"]) == order[-100:-50]  # metadata order
    assert (ids(sets["test"])[0], ids(sets["test"])[-1]) == ("kathleen-arctic_b0490", "kathleen-arctic_b0539")
    by_id = {u.utt_id: u for utts in sets.values() for u in utts}
    assert by_id["kathleen-arctic_a0001"].text == "Author of the danger trail, Philip Steels, etc."
    assert {u.speaker for u in by_id.values()} == {"kathleen"}
    info = sf.info(by_id["kathleen-arctic_b0539"].audio)
    assert (info.format, info.samplerate, info.channels) == ("FLAC", 16000, 1)
    # the folder holding kathleen/ works too; other split sizes
    small = check_sets(kathleen.prepare(data.parent, tmp_path / "d2", n_dev=10, n_test=20, sets=["test"]))
    assert ids(small["test"]) == order[-20:]


def test_kathleen_asr_transcripts(tmp_path):
    sets = check_sets(kathleen.prepare(shared_data("kathleen"), tmp_path / "data", asr_text=True))
    by_id = {u.utt_id: u.text for utts in sets.values() for u in utts}
    assert by_id["kathleen-arctic_a0001"] == "author of the danger trail philip steels etc"
    assert by_id["kathleen-arctic_a0016"] == "there's fort churchill a rifle shot beyond the ridge asleep"
    assert set("".join(by_id.values())) == set("abcdefghijklmnopqrstuvwxyz' ")


@pytest.mark.parametrize("text, expected", [
    ("Re-entered the cabin; asleep.", "re entered the cabin asleep"),
    ("  Tom's   WOLF-dog!  ", "tom's wolf dog"),
    ("...", ""),
])
def test_kathleen_asr_transcript_normalisation(text, expected):
    assert kathleen.asr_transcript(text) == expected


def test_kathleen_missing_is_one_line(tmp_path, capsys):
    code = main(["kathleen", "--out", str(tmp_path / "data"), "--data_dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: kathleen: missing metadata.csv and flac/ in ")
    assert "shared/data/kathleen" in err[0] and "cannot be downloaded" in err[0]
    with pytest.raises(ValueError, match=r"n_dev \(0\) >= 1"):
        kathleen.prepare(shared_data("kathleen"), tmp_path / "d", n_dev=0)


# ---- CSMSC ------------------------------------------------------------------------------------------

def test_csmsc_miniature(tmp_path, caplog):
    root = tmp_path / "corpus"
    csmsc_corpus(root)
    with caplog.at_level(logging.INFO, logger="spikespeech.data.corpora.csmsc"):
        sets = check_sets(csmsc.prepare(root, tmp_path / "data", n_dev=1, n_test=1))
    assert "skipped 1 wave file(s) without a label line" in caplog.text
    assert "1 label line(s) have no wave file" in caplog.text
    assert {k: ids(v) for k, v in sets.items()} == {
        "train": [f"csmsc-00000{i}" for i in range(1, 5)], "dev": ["csmsc-000005"], "test": ["csmsc-000006"]}
    by_id = {u.utt_id: u for utts in sets.values() for u in utts}
    for utt, text in CSMSC_TEXT.items():  # prosody marks gone, punctuation kept
        assert by_id[f"csmsc-{utt}"].text == text and "#" not in text
    assert by_id["csmsc-000001"].text == "".join(AISHELL_WORDS["BAC009S0002W0122"].split()) + "。"
    assert {u.speaker for u in by_id.values()} == {"csmsc"}
    assert sf.info(by_id["csmsc-000006"].audio).samplerate == 48000
    # the BZNSYP folder itself, and ESPnet's name CSMSC/
    assert len(check_sets(csmsc.prepare(root / "BZNSYP", tmp_path / "d2", n_dev=1, n_test=1))["train"]) == 4
    csmsc_corpus(tmp_path / "espnet", folder="CSMSC", bom_crlf=True)  # a BOM and CRLF line ends are tolerated
    sets2 = check_sets(csmsc.prepare(tmp_path / "espnet", tmp_path / "d3", n_dev=2, n_test=2))
    assert {u.text for s in sets2.values() for u in s} == set(CSMSC_TEXT.values())


def test_csmsc_default_split_is_espnets():
    utts = [Utterance(f"csmsc-{i:06d}", "csmsc", f"/x/{i:06d}.wav", "好") for i in range(1, 10001)]
    out = csmsc.tail_split("csmsc", utts, 100, 100)
    assert ids(out["dev"]) == [f"csmsc-{i:06d}" for i in range(9801, 9901)]
    assert ids(out["test"]) == [f"csmsc-{i:06d}" for i in range(9901, 10001)] and len(out["train"]) == 9800


def test_csmsc_text_cleaning():
    line = "今天#3，快递员#1拿着#1一个#1快递#1在#1办公室#1喊#3：秦王#1是#1哪个#3，有他#1快递#4？"
    assert csmsc.clean_text(line) == "今天，快递员拿着一个快递在办公室喊：秦王是哪个，有他快递？"
    # ESPnet's own example (egs2/csmsc/tts1/local/data.sh)
    assert csmsc.clean_text(line, "espnet") == "今天，快递员拿着一个快递在办公室喊，秦王是哪个，有他快递？"
    assert csmsc.clean_text("他说#1“好#2的”#3（真的）#2……#4", "espnet") == "他说好的真的，"


def test_csmsc_bad_label_line(tmp_path):
    corpus = csmsc_corpus(tmp_path)
    labels = corpus / "ProsodyLabeling" / "000001-010000.txt"
    labels.write_text(labels.read_text(encoding="utf-8") + "garbage line\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"000001-010000.txt:15: expected '<6-digit id><TAB><text>'"):
        csmsc.prepare(tmp_path, tmp_path / "data")


def test_csmsc_missing_is_one_line_naming_the_manual_download(tmp_path, capsys):
    for download in ([], ["--download"]):  # registration needed: --download cannot help
        code = main(["csmsc", "--out", str(tmp_path / "data"), "--data_dir", str(tmp_path), *download])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1
        assert err[0].startswith(f"error: csmsc: missing BZNSYP/ (Wave/, ProsodyLabeling/) in {tmp_path}")
        assert "download BZNSYP.rar by hand from https://www.data-baker.com/data/index/TNtts/" in err[0]
        assert f"extract it into {tmp_path}" in err[0]
    (tmp_path / "BZNSYP.rar").write_bytes(b"Rar!")
    with pytest.raises(MissingDataError, match="found .*BZNSYP.rar but not the extracted BZNSYP/; extract"):
        csmsc.prepare(tmp_path, tmp_path / "data")
    assert not (tmp_path / "data").exists()


# ---- VCTK -------------------------------------------------------------------------------------------

def test_vctk_per_speaker_holdout(tmp_path, caplog):
    root = vctk_corpus(tmp_path / "VCTK-Corpus-0.92")
    with caplog.at_level(logging.INFO, logger="spikespeech.data.corpora.vctk"):
        sets = check_sets(vctk.prepare(tmp_path, tmp_path / "data", n_dev=1, n_test=1))
    assert "skipped speaker(s) without transcripts: p315" in caplog.text
    assert "skipped 1 transcript(s) without mic1 audio" in caplog.text
    # ESPnet order: of each speaker's last n_test + n_dev, the first are test, the last dev
    assert {k: ids(v) for k, v in sets.items()} == {
        "train": ["p225_001", "p226_001", "p226_002"], "dev": ["p225_003", "p226_004"],
        "test": ["p225_002", "p226_003"]}
    by_id = {u.utt_id: u for utts in sets.values() for u in utts}
    assert by_id["p225_002"].text == "Stuff it into you his belly counselled him."
    assert by_id["p226_001"].text == "Author of the danger trail, Philip Steels, etc."
    assert by_id["p226_001"].speaker == "p226"
    assert by_id["p225_001"].audio == str((root / "wav48_silence_trimmed" / "p225" / "p225_001_mic1.flac")
                                          .resolve())
    info = sf.info(by_id["p225_001"].audio)
    assert (info.format, info.samplerate) == ("FLAC", 48000)
    mic2 = check_sets(vctk.prepare(root, tmp_path / "d2", mic="mic2", n_dev=1, n_test=1, sets=["test"]))
    assert [u.audio.endswith("_mic2.flac") for u in mic2["test"]] == [True, True]
    with pytest.raises(ValueError, match="speaker p225 has 3 utterances, not more than the 4 held out"):
        vctk.prepare(root, tmp_path / "d3", n_dev=2, n_test=2)
    with pytest.raises(ValueError, match="unknown microphone 'mic3'"):
        vctk.prepare(root, tmp_path / "d3", mic="mic3")


def test_vctk_held_out_speakers(tmp_path):
    root = vctk_corpus(tmp_path / "corpus")
    sets = check_sets(vctk.prepare(root, tmp_path / "data", n_dev=1, held_out_speakers=["p226"]))
    assert {k: ids(v) for k, v in sets.items()} == {
        "train": ["p225_001", "p225_002"], "dev": ["p225_003"],
        "test": ["p226_001", "p226_002", "p226_003", "p226_004"]}
    with pytest.raises(ValueError, match="unknown held-out speaker.*p999"):
        vctk.prepare(root, tmp_path / "d2", held_out_speakers=["p999"])
    with pytest.raises(ValueError, match="every speaker is held out"):
        vctk.prepare(root, tmp_path / "d2", held_out_speakers=["p225", "p226"])


def test_vctk_zip_round_trip(tmp_path, monkeypatch):
    downloads = tmp_path / "downloads"
    vctk_zip(downloads)
    monkeypatch.setattr(vctk, "RESOURCE", Resource("VCTK-Corpus-0.92.zip", f"{UNREACHABLE}/vctk.zip",
                                                   "VCTK-Corpus-0.92", vctk.RESOURCE.md5))
    work = tmp_path / "work"
    sets = check_sets(vctk.prepare(downloads, tmp_path / "data", work_dir=work, download=True,
                                   n_dev=1, n_test=1))
    assert sum(len(v) for v in sets.values()) == 7
    corpus = work / "VCTK-Corpus-0.92"
    assert all(Path(u.audio).is_relative_to(corpus.resolve()) for s in sets.values() for u in s)
    marker = corpus / ".VCTK-Corpus-0.92.zip.extracted"
    stamp = marker.stat().st_mtime_ns
    check_sets(vctk.prepare(downloads, tmp_path / "again", work_dir=work, n_dev=1, n_test=1))  # reused
    assert marker.stat().st_mtime_ns == stamp and not (downloads / "VCTK-Corpus-0.92").exists()


def test_vctk_zip_refuses_escaping_members(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("txt/ok.txt", "fine")
        zf.writestr("../escaped.txt", "bad")
    with pytest.raises(ValueError, match="'../escaped.txt' would escape .*refusing to extract"):
        vctk.extract_zip(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "escaped.txt").exists()
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"broken.zip: cannot extract \(BadZipFile"):
        vctk.extract_zip(tmp_path / "broken.zip", tmp_path / "out2")


def test_vctk_offline_errors_are_one_line(tmp_path, monkeypatch):
    with pytest.raises(MissingDataError) as error:
        vctk.prepare(tmp_path / "nowhere", tmp_path / "data")
    message = str(error.value)
    assert "\n" not in message and message.startswith("vctk: missing VCTK-Corpus-0.92.zip (or extracted "
                                                      "VCTK-Corpus-0.92)")
    assert "https://datashare.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip" in message
    monkeypatch.setattr(vctk, "RESOURCE", Resource("VCTK-Corpus-0.92.zip", f"{UNREACHABLE}/vctk.zip",
                                                   "VCTK-Corpus-0.92"))
    with pytest.raises(DownloadError, match=r"vctk: download failed \(.*\); put VCTK-Corpus-0.92.zip from"):
        vctk.prepare(tmp_path / "dl", tmp_path / "data", download=True)
    assert not (tmp_path / "dl").exists() and not (tmp_path / "data").exists()


# ---- command line ---------------------------------------------------------------------------------

def test_cli_ljspeech_and_unknown_set(tmp_path, capsys):
    data = shared_data("ljspeech_subset")
    assert main(["ljspeech", "--out", str(tmp_path / "data"), "--data_dir", str(data), "--split", "tail",
                 "--n_dev", "4", "--n_test", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"train: {tmp_path / 'data' / 'train'} (24 utterances, 1 speakers)",
                     f"dev: {tmp_path / 'data' / 'dev'} (4 utterances, 1 speakers)",
                     f"test: {tmp_path / 'data' / 'test'} (4 utterances, 1 speakers)"]
    assert main(["kathleen", "--out", str(tmp_path / "d2"), "--data_dir", str(data), "--sets", "eval1"]) == 1
    assert "unknown set(s) eval1 (available: train, dev, test)" in capsys.readouterr().err
