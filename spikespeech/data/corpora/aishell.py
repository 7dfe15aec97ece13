"""AISHELL-1 Mandarin corpus (OpenSLR resource 33) → Kaldi data dirs (character-level text).

``data_aishell.tgz`` unpacks to ``data_aishell/transcript/aishell_transcript_v0.8.txt`` (lines
``BAC009S0002W0122 而 对 楼市 …``, words separated by spaces) and ``data_aishell/wav/<spk>.tar.gz``,
one nested archive per speaker holding ``{train,dev,test}/<spk>/BAC009<spk>W<nnnn>.wav``
(16 kHz). Licence: Apache-2.0 (Bu et al., "AISHELL-1: An Open-Source Mandarin Speech Corpus
and A Speech Recognition Baseline", O-COCOSDA 2017) — keep the notice with derived data.

Sets ``train``, ``dev`` and ``test`` follow the folder each wav is in. As in Kaldi's
``aishell_data_prep.sh``, wavs without a transcript are skipped (their count is logged); the
spaces between words are removed, so the text is a character sequence. Utterance ids are the
corpus ids; since a Kaldi utterance id must start with its speaker id, the speaker is written
as ``BAC009<spk>`` (the id up to the speaker, e.g. ``BAC009S0002``). The nested per-speaker
archives are extracted in place, next to themselves (marker ``.<spk>.tar.gz.extracted``),
unless their files are all there already.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..kaldi import Utterance, table_entries
from . import select_sets, write_sets
from .download import Resource, extract_once, obtain

SETS = ("train", "dev", "test")
RESOURCE = Resource("data_aishell.tgz", "https://www.openslr.org/resources/33/data_aishell.tgz",
                    "data_aishell", "2f494334227864a8a8fec932999db9d8")
TRANSCRIPT = Path("transcript") / "aishell_transcript_v0.8.txt"

log = logging.getLogger(__name__)


def read_transcript(path: str | Path) -> dict[str, str]:
    """``aishell_transcript_v0.8.txt`` → {utterance id: characters, spaces removed}."""
    entries = table_entries(path, "AISHELL transcript")
    return {utt: "".join(text.split()) for _, utt, text in entries if text}


def extract_speaker_archives(wav_dir: Path) -> int:
    """Extract every ``wav_dir/<spk>.tar.gz`` into ``wav_dir`` once; return how many there are."""
    archives = sorted(wav_dir.glob("*.tar.gz"))
    for archive in archives:
        extract_once(archive, wav_dir)
    return len(archives)


def set_utterances(wav_dir: Path, name: str, transcripts: dict[str, str]) -> tuple[list[Utterance], int]:
    """Utterances of set ``name`` with a transcript, and the number of wavs skipped without one."""
    utts, skipped = [], 0
    for wav in sorted((wav_dir / name).glob("*/*.wav")):
        spk, utt_id = wav.parent.name, wav.stem
        if spk not in utt_id:
            raise ValueError(f"{wav}: file name does not contain its speaker folder's name {spk!r}")
        if utt_id not in transcripts:
            skipped += 1
            continue
        speaker = utt_id[: utt_id.index(spk) + len(spk)]
        utts.append(Utterance(utt_id, speaker, str(wav.resolve()), transcripts[utt_id]))
    return utts, skipped


def prepare(data_dir: str | Path, out_root: str | Path, *, sets=None, download: bool = False,
            work_dir: str | Path | None = None) -> dict[str, Path]:
    """Write the AISHELL-1 sets under ``out_root``.

    ``data_dir`` holds ``data_aishell/`` or ``data_aishell.tgz`` (or is ``data_aishell``
    itself); the archive is extracted into ``work_dir`` (default ``data_dir``) and, with
    ``download``, fetched from openslr.org first when missing.
    """
    chosen = select_sets("aishell", SETS, sets)
    data_dir = Path(data_dir)
    if data_dir.name == "data_aishell" and (data_dir / "wav").is_dir():
        root = data_dir
    else:
        (root,) = obtain("aishell", [RESOURCE], data_dir, work_dir, download)
    wav_dir = root / "wav"
    if not wav_dir.is_dir():
        raise ValueError(f"{wav_dir}: AISHELL wav folder not found")
    extract_speaker_archives(wav_dir)
    transcripts = read_transcript(root / TRANSCRIPT)
    splits = {}
    for name in chosen:
        splits[name], skipped = set_utterances(wav_dir, name, transcripts)
        if skipped:
            log.info("aishell: %s: skipped %d wav file(s) without transcript", name, skipped)
    return write_sets(splits, out_root, chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """AISHELL has no options beyond the common ones."""
