"""Layout-faithful miniature LibriSpeech and AISHELL-1 corpora, built from the real clips in
``../shared/data/layout_samples`` (official directory trees, FLAC, nested tarballs)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import soundfile as sf
from _helpers import shared_data


def layout_text(corpus: str) -> dict[str, str]:
    lines = (shared_data("layout_samples") / corpus / "text").read_text(encoding="utf-8").splitlines()
    return dict(line.split(" ", 1) for line in lines if line.strip())


def libri_chapter(root: Path, subset: str, reader: str, chapter: str) -> None:
    """One chapter of ``subset`` made of the 3 real test-clean clips, renumbered to reader-chapter."""
    texts = layout_text("librispeech")
    folder = root / "LibriSpeech" / subset / reader / chapter
    folder.mkdir(parents=True)
    lines = []
    for src_id, words in sorted(texts.items()):
        utt = f"{reader}-{chapter}-{src_id.rsplit('-', 1)[1]}"
        audio, rate = sf.read(shared_data("layout_samples") / "librispeech" / f"{src_id}.wav")
        sf.write(folder / f"{utt}.flac", audio, rate, format="FLAC")
        lines.append(f"{utt} {words}\n")
    (folder / f"{reader}-{chapter}.trans.txt").write_text("".join(lines), encoding="utf-8")


# the official transcript separates words with spaces (segmentation as in aishell_transcript_v0.8.txt)
AISHELL_WORDS = {
    "BAC009S0002W0122": "而 对 楼市 成交 抑制 作用 最 大 的 限 购",
    "BAC009S0002W0123": "也 成为 地方 政府 的 眼中 钉",
    "BAC009S0002W0124": "自 六月 底 呼和浩特 市 率先 宣布 取消 限 购 后",
}
# fake dev/test speakers made of the same clips; W0125 has no transcript (skipped, as in Kaldi)
AISHELL_FILES = {
    "train/S0002/BAC009S0002W0122.wav": "BAC009S0002W0122",
    "train/S0002/BAC009S0002W0123.wav": "BAC009S0002W0123",
    "train/S0002/BAC009S0002W0124.wav": "BAC009S0002W0124",
    "train/S0002/BAC009S0002W0125.wav": "BAC009S0002W0122",
    "dev/S0724/BAC009S0724W0122.wav": "BAC009S0002W0123",
    "test/S0764/BAC009S0764W0122.wav": "BAC009S0002W0124",
}


def aishell_transcript(root: Path) -> None:
    lines = dict(AISHELL_WORDS)
    lines["BAC009S0724W0122"] = AISHELL_WORDS["BAC009S0002W0123"]
    lines["BAC009S0764W0122"] = AISHELL_WORDS["BAC009S0002W0124"]
    lines["BAC009S0999W0001"] = "没有 录音"  # transcript lines without audio are ignored
    path = root / "data_aishell" / "transcript" / "aishell_transcript_v0.8.txt"
    path.parent.mkdir(parents=True)
    path.write_text("".join(f"{k} {v}\n" for k, v in sorted(lines.items())), encoding="utf-8")


def aishell_extracted(root: Path) -> Path:
    for rel, src in AISHELL_FILES.items():
        dest = root / "data_aishell" / "wav" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((shared_data("layout_samples") / "aishell" / f"{src}.wav").read_bytes())
    aishell_transcript(root)
    return root


def aishell_nested(root: Path) -> Path:
    """data_aishell/ as inside data_aishell.tgz: one <spk>.tar.gz per speaker, not yet extracted."""
    wav_dir = root / "data_aishell" / "wav"
    wav_dir.mkdir(parents=True)
    by_speaker: dict[str, list[str]] = {}
    for rel in AISHELL_FILES:
        by_speaker.setdefault(rel.split("/")[1], []).append(rel)
    for spk, rels in by_speaker.items():
        with tarfile.open(wav_dir / f"{spk}.tar.gz", "w:gz") as tar:
            for rel in rels:
                tar.add(shared_data("layout_samples") / "aishell" / f"{AISHELL_FILES[rel]}.wav", arcname=rel)
    aishell_transcript(root)
    return root


