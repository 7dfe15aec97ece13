"""Corpus preparation → Kaldi data dirs: real small corpora, layout-faithful miniatures, downloads.

yesno, mini_an4 and FSDD are prepared from the shared data; LibriSpeech and AISHELL-1 from
miniature corpora built in ``tmp_path`` from the real clips in ``layout_samples`` (the official
directory trees, FLAC, nested tarballs). Nothing here touches the network: downloads go to a
local HTTP server or to an unreachable address.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import logging
import os
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest
import soundfile as sf
from _helpers import SHARED_DATA, shared_data
from _miniature_corpora import (
    aishell_extracted,
    aishell_nested,
    layout_text,
    libri_chapter,
)

from spikespeech.data import read_kaldi_dir
from spikespeech.data.corpora import aishell, an4, fsdd, librispeech, yesno
from spikespeech.data.corpora.__main__ import main
from spikespeech.data.corpora.download import (
    DownloadError,
    MissingDataError,
    Resource,
    download,
    extract,
)
from spikespeech.data.fsdd import fsdd_utterances, held_out_speaker_split

REPO = Path(__file__).resolve().parents[2]
TABLES = ("wav.scp", "text", "utt2spk", "spk2utt")


def check_dir(directory: Path) -> list:
    """A valid Kaldi dir: byte-sorted tables over the same ids, existing audio; its utterances."""
    for name in TABLES:
        keys = [line.split(" ", 1)[0] for line in (directory / name).read_text(encoding="utf-8").splitlines()]
        assert keys and keys == sorted(keys, key=str.encode), f"{directory / name} not sorted"
    utts = read_kaldi_dir(directory)
    spk2utt = {line.split()[0]: line.split()[1:] for line in (directory / "spk2utt").read_text().splitlines()}
    assert sorted(u for ids in spk2utt.values() for u in ids) == [u.utt_id for u in utts]
    for u in utts:
        assert u.utt_id.startswith(u.speaker) and u.text.strip()
        assert Path(u.audio).is_file(), u.audio
    return utts


def ids(utts) -> set[str]:
    return {u.utt_id for u in utts}


# ---- yesno ----------------------------------------------------------------------------------------

def test_yesno_official_split(tmp_path):
    data = shared_data("yesno")
    written = yesno.prepare(data, tmp_path / "data")
    assert list(written) == ["train_nodev", "train_dev", "test_yesno"]
    sets = {name: check_dir(path) for name, path in written.items()}
    assert [len(sets[s]) for s in written] == [29, 2, 29]
    files = sorted(p.stem for p in (data / "waves_yesno").glob("*.wav"))
    assert len(files) == 60
    train = sorted(u.utt_id for u in sets["train_nodev"] + sets["train_dev"])
    assert train == [f"yesno-{f}" for f in files[:31]]  # 31 train files, the first in sorted order
    assert [u.utt_id for u in sets["test_yesno"]] == [f"yesno-{f}" for f in files[31:]]
    assert [u.utt_id for u in sets["train_dev"]] == [f"yesno-{f}" for f in files[:2]]
    for u in sets["test_yesno"]:
        bits = u.utt_id.split("-", 1)[1].split("_")
        assert u.text.split() == ["YES" if b == "1" else "NO" for b in bits] and len(bits) == 8
        assert {u.speaker} == {"yesno"}
    assert sf.info(sets["test_yesno"][0].audio).samplerate == 8000


def test_yesno_sets_option_and_bad_split(tmp_path):
    data = shared_data("yesno")
    assert list(yesno.prepare(data, tmp_path / "a", sets=["test_yesno"])) == ["test_yesno"]
    assert not (tmp_path / "a" / "train_nodev").exists()
    with pytest.raises(ValueError, match="unknown set.*train.*available: train_nodev"):
        yesno.prepare(data, tmp_path / "b", sets=["train"])
    with pytest.raises(ValueError, match="n_dev"):
        yesno.prepare(data, tmp_path / "c", n_dev=40)


# ---- mini_an4 ----------------------------------------------------------------------------------------

def _archive_counts(archive: Path) -> dict[str, int]:
    with tarfile.open(archive) as tar:
        return {part: sum(1 for line in tar.extractfile(f"downloads/an4/etc/an4_{part}.fileids")
                          .read().decode().splitlines() if line.strip())
                for part in ("train", "test")}


def test_mini_an4_from_the_shared_archive(tmp_path):
    data = shared_data("mini_an4")
    counts = _archive_counts(data / "downloads.tar.gz")
    work = tmp_path / "work"
    written = an4.prepare(data, tmp_path / "data", work_dir=work)
    assert list(written) == ["train_nodev", "train_dev", "test"]
    sets = {name: check_dir(path) for name, path in written.items()}
    assert len(sets["train_nodev"]) + len(sets["train_dev"]) == counts["train"] == 5
    assert len(sets["train_dev"]) == 1 and len(sets["test"]) == counts["test"] == 2
    by_id = {u.utt_id: u for s in sets.values() for u in s}
    assert by_id["fash-an251-b"].text == "YES" and by_id["fash-an251-b"].speaker == "fash"
    assert by_id["fcaw-cen8-b"].text == "ELEVEN TWENTY SEVEN FIFTY SEVEN"
    assert [u.utt_id for u in sets["train_dev"]] == ["fash-an251-b"]  # ESPnet: the first sorted utterance
    assert not any("<s>" in u.text or "</s>" in u.text for u in by_id.values())
    for u in by_id.values():  # SPHERE PCM read by soundfile: no sph2pipe needed
        assert u.audio.endswith(".sph") and Path(u.audio).is_relative_to(work.resolve())
        info = sf.info(u.audio)
        assert (info.format, info.samplerate, info.channels) == ("NIST", 16000, 1)
    marker = work / ".downloads.tar.gz.extracted"
    stamp = marker.stat().st_mtime_ns
    an4.prepare(data, tmp_path / "again", work_dir=work, n_dev=2)  # reuses the extraction
    assert marker.stat().st_mtime_ns == stamp
    assert len(check_dir(tmp_path / "again" / "train_dev")) == 2


def test_an4_extracted_root_and_missing_audio(tmp_path):
    data = shared_data("mini_an4")
    an4.prepare(data, tmp_path / "d1", work_dir=tmp_path / "x")
    root = tmp_path / "x" / "downloads" / "an4"  # an extracted an4/ (full-corpus layout) works directly
    assert len(check_dir(an4.prepare(root, tmp_path / "d2")["test"])) == 2
    (root / "wav" / "an4test_clstk" / "fcaw" / "cen8-fcaw-b.sph").unlink()
    with pytest.raises(ValueError, match=r"cen8-fcaw-b\.sph: audio file listed in the fileids is missing"):
        an4.prepare(root, tmp_path / "d3")
    assert not (tmp_path / "d3" / "test").exists()


# ---- FSDD ----------------------------------------------------------------------------------------

def test_fsdd_recipe_splits(tmp_path):
    written = fsdd.prepare(shared_data("fsdd"), tmp_path / "data")
    assert list(written) == ["train", "dev", "test", "train_spk", "dev_spk", "test_spk"]
    sets = {name: check_dir(path) for name, path in written.items()}
    assert {k: len(v) for k, v in sets.items()} == {
        "train": 2400, "dev": 300, "test": 300, "train_spk": 2250, "dev_spk": 250, "test_spk": 500}
    for family in (("train", "dev", "test"), ("train_spk", "dev_spk", "test_spk")):
        a, b, c = (ids(sets[s]) for s in family)
        assert not (a & b or a & c or b & c)
        assert len(a | b | c) == 3000
    takes = {s: {int(u.utt_id.rsplit("-", 1)[1]) for u in sets[s]} for s in ("train", "dev", "test")}
    assert takes == {"train": set(range(5, 45)), "dev": set(range(45, 50)), "test": set(range(5))}
    assert {u.speaker for u in sets["test_spk"]} == {fsdd.HELD_OUT_SPEAKER}
    assert fsdd.HELD_OUT_SPEAKER not in {u.speaker for u in sets["train_spk"] + sets["dev_spk"]}
    assert {u.text for u in sets["test"]} == {"zero", "one", "two", "three", "four", "five", "six",
                                              "seven", "eight", "nine"}


def test_fsdd_held_out_speaker_option(tmp_path):
    written = fsdd.prepare(shared_data("fsdd"), tmp_path / "data", held_out_speaker="george",
                           sets=["train_spk", "test_spk"])
    assert list(written) == ["train_spk", "test_spk"]
    assert "george" not in {u.speaker for u in read_kaldi_dir(written["train_spk"])}
    assert {u.speaker for u in read_kaldi_dir(written["test_spk"])} == {"george"}
    with pytest.raises(ValueError, match="unknown held-out speaker 'nobody'"):
        fsdd.prepare(shared_data("fsdd"), tmp_path / "x", held_out_speaker="nobody")


def test_held_out_speaker_split_function():
    utts = fsdd_utterances(shared_data("fsdd"))
    others, held = held_out_speaker_split(utts, "lucas")
    assert len(held) == 500 and {u.speaker for u in held} == {"lucas"}
    assert len(others) == 2500 and "lucas" not in {u.speaker for u in others}


# ---- LibriSpeech miniature ----------------------------------------------------------------------

@pytest.fixture
def libri(tmp_path):
    """A LibriSpeech tree: test-clean (the real clips), fake dev-clean/dev-other/train-clean-100."""
    root = tmp_path / "libri"
    libri_chapter(root, "test-clean", "1089", "134686")
    libri_chapter(root, "dev-clean", "2277", "149896")
    libri_chapter(root, "dev-other", "116", "288045")
    libri_chapter(root, "train-clean-100", "19", "198")
    return root


def test_librispeech_extracted_tree(libri, tmp_path):
    written = librispeech.prepare(libri, tmp_path / "data", variant="100",
                                  sets=["train_clean_100", "dev", "dev_clean", "dev_other", "test_clean"])
    sets = {name: check_dir(path) for name, path in written.items()}
    assert {k: len(v) for k, v in sets.items()} == {
        "train_clean_100": 3, "dev": 6, "dev_clean": 3, "dev_other": 3, "test_clean": 3}
    assert ids(sets["dev"]) == ids(sets["dev_clean"]) | ids(sets["dev_other"])
    test = {u.utt_id: u for u in sets["test_clean"]}
    assert {k: u.text for k, u in test.items()} == layout_text("librispeech")
    u = test["1089-134686-0001"]
    assert u.speaker == "1089-134686" and u.audio.endswith("test-clean/1089/134686/1089-134686-0001.flac")
    assert sf.info(u.audio).samplerate == 16000
    # the LibriSpeech folder itself works as data_dir too
    assert librispeech.prepare(libri / "LibriSpeech", tmp_path / "d2", sets=["test_clean"])


def test_librispeech_tarballs_and_missing_subsets(libri, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with tarfile.open(downloads / "test-clean.tar.gz", "w:gz") as tar:
        tar.add(libri / "LibriSpeech" / "test-clean", arcname="LibriSpeech/test-clean")
    written = librispeech.prepare(downloads, tmp_path / "data", sets=["test_clean"])
    utts = check_dir(written["test_clean"])
    assert len(utts) == 3 and all(u.audio.startswith(str(downloads.resolve() / "LibriSpeech")) for u in utts)
    # variant 960 by default: train_960 needs all three training subsets, named in one line
    with pytest.raises(MissingDataError) as error:
        librispeech.prepare(downloads, tmp_path / "d2")
    message = str(error.value)
    assert "\n" not in message and "train-other-500.tar.gz" in message and "test-clean.tar.gz" not in message
    assert "https://www.openslr.org/resources/12/" in message and "--download" in message
    with pytest.raises(ValueError, match="unknown set.*train_960"):
        librispeech.prepare(libri, tmp_path / "d3", variant="100", sets=["train_960"])


def test_librispeech_missing_flac_is_one_line(libri, tmp_path):
    (libri / "LibriSpeech" / "test-clean" / "1089" / "134686" / "1089-134686-0002.flac").unlink()
    with pytest.raises(ValueError, match=r"1089-134686-0002\.flac: audio of 1089-134686-0002 .* is missing"):
        librispeech.prepare(libri, tmp_path / "data", sets=["test_clean"])


# ---- AISHELL-1 miniature ------------------------------------------------------------------------

def _check_aishell(written: dict[str, Path]) -> dict[str, list]:
    assert list(written) == ["train", "dev", "test"]
    sets = {name: check_dir(path) for name, path in written.items()}
    assert {k: len(v) for k, v in sets.items()} == {"train": 3, "dev": 1, "test": 1}
    texts = layout_text("aishell")
    assert {u.utt_id: u.text for u in sets["train"]} == texts  # characters, spaces removed
    assert sets["dev"][0].text == texts["BAC009S0002W0123"] and sets["dev"][0].speaker == "BAC009S0724"
    assert {u.speaker for u in sets["train"]} == {"BAC009S0002"}
    return sets


def test_aishell_extracted_already(tmp_path, caplog):
    root = aishell_extracted(tmp_path / "corpus")
    with caplog.at_level(logging.INFO, logger="spikespeech.data.corpora.aishell"):
        _check_aishell(aishell.prepare(root, tmp_path / "data"))
    assert "train: skipped 1 wav file(s) without transcript" in caplog.text
    # the data_aishell folder itself works as data_dir too
    assert len(check_dir(aishell.prepare(root / "data_aishell", tmp_path / "d2", sets=["test"])["test"])) == 1


def test_aishell_nested_speaker_tarballs(tmp_path):
    root = aishell_nested(tmp_path / "corpus")
    sets = _check_aishell(aishell.prepare(root, tmp_path / "data"))
    wav_dir = root / "data_aishell" / "wav"
    assert (wav_dir / ".S0002.tar.gz.extracted").exists()
    assert all(Path(u.audio).is_relative_to(wav_dir.resolve()) for u in sets["train"])


def test_aishell_speaker_tarballs_extracted_by_hand_are_not_rewritten(tmp_path):
    root = aishell_nested(tmp_path / "corpus")
    wav_dir = root / "data_aishell" / "wav"
    for archive in wav_dir.glob("*.tar.gz"):  # `tar xzf` by hand, tarballs kept, no markers
        with tarfile.open(archive) as tar:
            tar.extractall(wav_dir, filter="data")
    old = wav_dir / "train" / "S0002" / "BAC009S0002W0122.wav"
    os.utime(old, ns=(1_000_000_000, 1_000_000_000))
    _check_aishell(aishell.prepare(root, tmp_path / "data"))
    assert old.stat().st_mtime_ns == 1_000_000_000
    (wav_dir / "dev" / "S0724" / "BAC009S0724W0122.wav").unlink()  # incomplete: extracted again
    (wav_dir / ".S0724.tar.gz.extracted").unlink()
    _check_aishell(aishell.prepare(root, tmp_path / "data2"))


def test_aishell_outer_tgz(tmp_path, monkeypatch):
    staging = aishell_nested(tmp_path / "staging")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with tarfile.open(downloads / "data_aishell.tgz", "w:gz") as tar:
        tar.add(staging / "data_aishell", arcname="data_aishell")
    # data on disk: never downloaded, even with download=True (the URL is unreachable)
    monkeypatch.setattr(aishell, "RESOURCE", Resource("data_aishell.tgz", "http://127.0.0.1:9/data_aishell.tgz",
                                                      "data_aishell"))
    work = tmp_path / "work"
    sets = _check_aishell(aishell.prepare(downloads, tmp_path / "data", download=True, work_dir=work))
    assert all(Path(u.audio).is_relative_to(work.resolve()) for s in sets.values() for u in s)
    assert not (downloads / "data_aishell").exists()


# ---- missing data, command line ------------------------------------------------------------------

def _run_module(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "spikespeech.data.corpora", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_missing_data_without_download_is_one_line_exit_2(tmp_path):
    out = _run_module(["aishell", "--out", "data", "--data_dir", "nowhere"], tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: aishell: missing data_aishell.tgz (or extracted data_aishell) "
                               "in nowhere")
    assert "https://www.openslr.org/resources/33/data_aishell.tgz" in lines[0] and "--download" in lines[0]
    assert not (tmp_path / "data").exists() and not (tmp_path / "nowhere").exists()


def test_failed_download_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(librispeech, "URL", "http://127.0.0.1:9/resources/12")  # connection refused
    code = main(["librispeech", "--out", str(tmp_path / "data"), "--data_dir", str(tmp_path / "dl"),
                 "--sets", "test_clean", "--download"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: librispeech: download failed (http://127.0.0.1:9/resources/12/test-clean")
    assert "put test-clean.tar.gz" in err[0]
    assert not (tmp_path / "dl").exists()  # nothing half-downloaded left behind


def test_cli_prints_one_line_per_set_and_reports_bad_data(tmp_path, capsys):
    assert main(["yesno", "--out", str(tmp_path / "data"), "--data_dir", str(shared_data("yesno")),
                 "--n_dev", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"train_nodev: {tmp_path / 'data' / 'train_nodev'} (28 utterances, 1 speakers)",
                     f"train_dev: {tmp_path / 'data' / 'train_dev'} (3 utterances, 1 speakers)",
                     f"test_yesno: {tmp_path / 'data' / 'test_yesno'} (29 utterances, 1 speakers)"]
    bad = tmp_path / "bad" / "waves_yesno"
    bad.mkdir(parents=True)
    (bad / "0_1_2.wav").write_bytes(b"")
    assert main(["yesno", "--out", str(tmp_path / "d2"), "--data_dir", str(bad.parent)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "0_1_2.wav: not a yesno file name" in err[0]


# ---- download and extract ------------------------------------------------------------------------

class _Server(http.server.ThreadingHTTPServer):
    payload = b""
    ranges = True
    requests: list


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        data, start = self.server.payload, 0
        self.server.requests.append(self.headers.get("Range"))
        rng = self.headers.get("Range")
        if rng and self.server.ranges:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.payload = bytes(range(256)) * 400
    srv.requests = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_download_resumes_and_checks_md5(server, tmp_path):
    url = f"http://127.0.0.1:{server.server_address[1]}/x.tar.gz"
    md5 = hashlib.md5(server.payload).hexdigest()
    dest = tmp_path / "x.tar.gz"
    (tmp_path / "x.tar.gz.part").write_bytes(server.payload[:1000])  # an interrupted earlier download
    assert download(url, dest, md5) == dest and dest.read_bytes() == server.payload
    assert server.requests == ["bytes=1000-"] and not (tmp_path / "x.tar.gz.part").exists()
    assert download(url, dest, md5) == dest and len(server.requests) == 1  # on disk: no request
    server.ranges = False  # a server ignoring Range: start again from byte 0
    (tmp_path / "y.part").write_bytes(b"junk")
    assert download(url, tmp_path / "y", md5).read_bytes() == server.payload
    with pytest.raises(DownloadError, match="does not match the published 0+"):
        download(url, tmp_path / "z", "0" * 32)
    assert not (tmp_path / "z").exists() and not (tmp_path / "z.part").exists()
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1:9/a\.tgz: .*refused"):
        download("http://127.0.0.1:9/a.tgz", tmp_path / "a.tgz")


def _tar_with(tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tar:
        ok = tarfile.TarInfo("ok.txt")
        ok.size = 1
        tar.addfile(ok, io.BytesIO(b"y"))
        if member.isfile():
            member.size = len(data)
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize("member", [
    tarfile.TarInfo("../escaped.txt"),
    tarfile.TarInfo("sub/../../escaped.txt"),
    tarfile.TarInfo("/tmp/escaped-absolute.txt"),
    _symlink("link", "../../outside"),
    _symlink("abs", "/etc/passwd"),
], ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-absolute"])
def test_extract_refuses_path_traversal(tmp_path, member):
    archive = _tar_with(tmp_path, member)
    dest = tmp_path / "out" / "dest"
    with pytest.raises(ValueError, match="refusing to extract"):
        extract(archive, dest)
    assert list(dest.iterdir()) == []  # checked before anything is written
    assert not (tmp_path / "out" / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()


def test_extract_keeps_safe_members(tmp_path):
    archive = _tar_with(tmp_path, _symlink("inner/link", "../ok.txt"))
    dest = extract(archive, tmp_path / "dest")
    assert (dest / "ok.txt").read_text() == "y" and (dest / "inner" / "link").read_text() == "y"
    (tmp_path / "broken.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match=r"broken.tar.gz: cannot extract \(ReadError"):
        extract(tmp_path / "broken.tar.gz", tmp_path / "d2")


# ---- recipe wrappers -----------------------------------------------------------------------------

def _data_sh(corpus: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(["bash", str(REPO / "egs" / corpus / "asr1" / "local" / "data.sh"), *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("corpus,shared,args,expected", [
    ("yesno", "yesno", [], {"train_nodev": 29, "train_dev": 2, "test_yesno": 29}),
    ("mini_an4", "mini_an4", [], {"train_nodev": 4, "train_dev": 1, "test": 2}),
    ("fsdd", "fsdd", ["--held_out_speaker", "george", "--sets", "dev", "test_spk"],
     {"dev": 300, "test_spk": 500}),
])
def test_recipe_data_sh(tmp_path, corpus, shared, args, expected):
    data = shared_data(shared)
    # the wrappers default to the shared copy beside the checkout; pass it when it lives elsewhere
    beside_checkout = (REPO.parent / "shared" / "data").resolve() == SHARED_DATA.resolve()
    extra = [] if beside_checkout else ["--data_dir", str(data)]
    out = _data_sh(corpus, tmp_path, *extra, "--download", "false", *args)  # cwd stands for egs/<corpus>/asr1
    assert out.returncode == 0, out.stderr
    assert [line.split(":")[0] for line in out.stdout.splitlines()] == list(expected)
    for name, n in expected.items():
        assert len(check_dir(tmp_path / "data" / name)) == n
    if corpus == "mini_an4":  # extracted into the recipe dir, as ESPnet does
        assert (tmp_path / "downloads" / "an4" / "etc" / "an4_train.fileids").is_file()


def test_recipe_data_sh_errors(tmp_path):
    out = _data_sh("librispeech", tmp_path)  # default --data_dir downloads/ is empty: exit 2, one line
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "error: librispeech: missing train-clean-100.tar.gz" in out.stderr
    out = _data_sh("aishell", tmp_path, "--download", "maybe")
    assert out.returncode == 2 and "--download must be true or false" in out.stderr
