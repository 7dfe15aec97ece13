"""Layout-faithful miniature TTS corpora (LJ Speech release, CSMSC/BZNSYP, VCTK 0.92) built from
the real clips in ``../shared/data`` (``ljspeech_subset``, ``layout_samples``, ``kathleen``)."""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf
from _helpers import shared_data
from _miniature_corpora import AISHELL_WORDS, layout_text
from scipy.signal import resample_poly


def ljspeech_release(root: Path, n_clips: int | None = None) -> Path:
    """``root/LJSpeech-1.1/{metadata.csv,wavs/,README}`` as in the release, from the shared subset
    (its first ``n_clips`` clips, or all 32)."""
    src = shared_data("ljspeech_subset")
    lines = [line for line in (src / "metadata.csv").read_text(encoding="utf-8").splitlines() if line]
    lines = lines[:n_clips] if n_clips else lines
    corpus = root / "LJSpeech-1.1"
    (corpus / "wavs").mkdir(parents=True)
    for line in lines:
        utt = line.split("|")[0]
        shutil.copyfile(src / "wavs" / f"{utt}.wav", corpus / "wavs" / f"{utt}.wav")
    (corpus / "metadata.csv").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    (corpus / "README").write_text("The LJ Speech Dataset (miniature for tests)\n", encoding="utf-8")
    return corpus


def ljspeech_archive(downloads: Path, n_clips: int = 6) -> Path:
    """``downloads/LJSpeech-1.1.tar.bz2`` holding ``LJSpeech-1.1/`` (first ``n_clips`` clips)."""
    staging = downloads.parent / "ljspeech_staging"
    corpus = ljspeech_release(staging, n_clips)
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / "LJSpeech-1.1.tar.bz2"
    with tarfile.open(archive, "w:bz2") as tar:
        tar.add(corpus, arcname="LJSpeech-1.1")
    shutil.rmtree(staging)
    return archive


def _write_48k(src: Path, dest: Path, fmt: str) -> None:
    audio, rate = sf.read(src, dtype="float64")
    assert rate == 16000, src
    dest.parent.mkdir(parents=True, exist_ok=True)
    sf.write(dest, np.clip(resample_poly(audio, 3, 1), -1, 1), 48000, subtype="PCM_16", format=fmt)


# BZNSYP ids -> the AISHELL clip whose audio and words they take (each clip used twice)
CSMSC_CLIPS = {f"{i:06d}": src for i, src in enumerate(2 * sorted(AISHELL_WORDS), 1)}
CSMSC_TEXT = {utt: "".join(AISHELL_WORDS[src].split()) + "。" for utt, src in CSMSC_CLIPS.items()}


def _prosody_line(words: list[str]) -> str:
    """Words joined with prosody marks as in the release: #1 between words, #3 at the middle
    boundary, #4 before the final full stop."""
    middle = len(words) // 2
    out = ""
    for i, word in enumerate(words):
        out += word + ("#4" if i == len(words) - 1 else "#3" if i == middle - 1 else "#1")
    return out + "。"


def csmsc_corpus(root: Path, folder: str = "BZNSYP", bom_crlf: bool = False) -> Path:
    """``root/<folder>/Wave/00000N.wav`` (48 kHz, 6 real AISHELL clips) and
    ``ProsodyLabeling/000001-010000.txt`` in the release's two-lines-per-utterance format. Label
    000007 has no wave file, and wave 000008 no label line (both skipped)."""
    from pypinyin import Style, lazy_pinyin

    corpus = root / folder
    samples = shared_data("layout_samples") / "aishell"
    lines = []
    for utt, src in CSMSC_CLIPS.items():
        _write_48k(samples / f"{src}.wav", corpus / "Wave" / f"{utt}.wav", "WAV")
        words = AISHELL_WORDS[src].split()
        lines.append(f"{utt}\t{_prosody_line(words)}")
        pinyin = lazy_pinyin("".join(words), style=Style.TONE3, neutral_tone_with_five=True)
        lines.append("\t" + " ".join(pinyin))
    lines += ["000007\t没有#1录音#4。", "\tmei2 you3 lu4 yin1"]
    _write_48k(samples / f"{CSMSC_CLIPS['000001']}.wav", corpus / "Wave" / "000008.wav", "WAV")
    labels = corpus / "ProsodyLabeling" / "000001-010000.txt"
    labels.parent.mkdir(parents=True)
    newline = "\r\n" if bom_crlf else "\n"
    labels.write_text(("\ufeff" if bom_crlf else "") + "".join(line + newline for line in lines),
                      encoding="utf-8", newline="")
    (corpus / "PhoneLabeling").mkdir()
    return corpus


def _sentence(words: str) -> str:
    return words[0] + words[1:].lower() + "."


def vctk_corpus(root: Path) -> Path:
    """A VCTK-Corpus-0.92 tree (no top folder, as in the zip) in ``root``: speaker p225 = the 3
    LibriSpeech clips, p226 = 4 Kathleen clips, p315 = 2 clips without transcripts; FLAC at
    48 kHz for mic1 and mic2; p226_005 has a transcript but no audio."""
    root.mkdir(parents=True, exist_ok=True)
    libri = layout_text("librispeech")
    kathleen = shared_data("kathleen")
    meta = {line.split("|")[0]: line.split("|")[2]
            for line in (kathleen / "metadata.csv").read_text(encoding="utf-8").splitlines() if line}
    speakers = {
        "p225": [(shared_data("layout_samples") / "librispeech" / f"{u}.wav", _sentence(libri[u]))
                 for u in sorted(libri)],
        "p226": [(kathleen / "flac" / f"{a}.flac", meta[a]) for a in
                 ("arctic_a0001", "arctic_a0002", "arctic_a0003", "arctic_a0004")],
        "p315": [(kathleen / "flac" / f"{a}.flac", None) for a in ("arctic_b0001", "arctic_b0002")],
    }
    for spk, clips in speakers.items():
        for n, (src, text) in enumerate(clips, 1):
            utt = f"{spk}_{n:03d}"
            for mic in ("mic1", "mic2"):
                _write_48k(src, root / "wav48_silence_trimmed" / spk / f"{utt}_{mic}.flac", "FLAC")
            if text is not None:
                (root / "txt" / spk).mkdir(parents=True, exist_ok=True)
                (root / "txt" / spk / f"{utt}.txt").write_text(text + "\n", encoding="utf-8")
    (root / "txt" / "p226" / "p226_005.txt").write_text("No audio for this one.\n", encoding="utf-8")
    (root / "speaker-info.txt").write_text("ID  AGE  GENDER  ACCENTS  REGION COMMENTS\n"
                                           "p225  23  F    English    Southern  England\n", encoding="utf-8")
    (root / "README.txt").write_text("CSTR VCTK Corpus (miniature for tests)\n", encoding="utf-8")
    return root


def vctk_zip(downloads: Path) -> Path:
    """``downloads/VCTK-Corpus-0.92.zip`` of :func:`vctk_corpus`, members without a top folder."""
    staging = downloads.parent / "vctk_staging"
    vctk_corpus(staging)
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / "VCTK-Corpus-0.92.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(staging.rglob("*")):
            zf.write(path, path.relative_to(staging).as_posix())
    shutil.rmtree(staging)
    return archive
