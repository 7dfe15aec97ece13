"""LJ Speech 1.1 (one female reader, keithito.com) → Kaldi data dirs for TTS.

``LJSpeech-1.1.tar.bz2`` unpacks to ``LJSpeech-1.1/metadata.csv`` (lines ``id|text|normalized
text``, 13,100 clips) and ``LJSpeech-1.1/wavs/<id>.wav`` (22.05 kHz mono 16-bit). A dir that
itself holds ``metadata.csv`` and ``wavs/`` (a partial copy such as the project's 32-clip
``ljspeech_subset``) works as ``data_dir`` too. Licence: public domain (the LibriVox
recordings and the transcripts); attribution to Keith Ito and Linda Johnson is customary.

Text is the normalized column (numbers and abbreviations spelled out), whitespace collapsed.
All clips belong to speaker ``LJ``; the utterance id is the clip id (``LJ001-0001``).

Sets ``train``, ``dev`` and ``test`` (``split``):

* ``standard``: the split commonly used for LJ Speech TTS (NVIDIA tacotron2's filelists): the
  100 validation ids are ``dev``, the 500 test ids ``test`` (listed in ``ljspeech_split.txt``
  beside this module) and the other 12,500 clips ``train``. Needs every one of those 600 ids;
* ``tail``: a deterministic split for partial corpora, in ``metadata.csv`` order: the last
  ``n_test`` clips are ``test``, the ``n_dev`` before them ``dev`` and the rest ``train``;
  ``n_dev`` and ``n_test`` default to 5 % of the clips each (rounded, at least 1);
* ``auto`` (default): ``standard`` when all 600 ids are in ``metadata.csv``, else ``tail``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..kaldi import Utterance
from . import select_sets, write_sets
from ._tts import one_line, read_metadata, tail_split
from .download import Resource, obtain

SETS = ("train", "dev", "test")
SPEAKER = "LJ"
RESOURCE = Resource("LJSpeech-1.1.tar.bz2", "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2",
                    "LJSpeech-1.1", "c4763be9595ddfa79c2fc6eaeb3b6c8e")  # md5sum from the corpus' README
SPLIT_FILE = Path(__file__).with_name("ljspeech_split.txt")
SPLITS = ("auto", "standard", "tail")

log = logging.getLogger(__name__)


def standard_split_ids() -> dict[str, set[str]]:
    """{``dev``: the 100 validation ids, ``test``: the 500 test ids} of the standard split."""
    out: dict[str, set[str]] = {"dev": set(), "test": set()}
    for line in SPLIT_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, utt = line.split()
            out[name].add(utt)
    return out


def ljspeech_utterances(root: str | Path) -> list[Utterance]:
    """The clips of ``root`` (holding ``metadata.csv`` and ``wavs/``) in ``metadata.csv`` order."""
    root = Path(root)
    utts = []
    for utt, _, normalized in read_metadata(root / "metadata.csv"):
        if not utt.startswith(SPEAKER):
            raise ValueError(f"{root / 'metadata.csv'}: {utt!r} is not an LJ Speech clip id (LJnnn-nnnn)")
        audio = root / "wavs" / f"{utt}.wav"
        if not audio.is_file():
            raise ValueError(f"{audio}: audio of {utt} (listed in metadata.csv) is missing")
        utts.append(Utterance(utt, SPEAKER, str(audio.resolve()), one_line(normalized)))
    return utts


def split_utterances(utts: list[Utterance], mode: str = "auto", n_dev: int | None = None,
                     n_test: int | None = None) -> dict[str, list[Utterance]]:
    """``train``/``dev``/``test`` by the rule of ``mode`` (see the module docstring)."""
    if mode not in SPLITS:
        raise ValueError(f"ljspeech: unknown split {mode!r} (choose {', '.join(SPLITS)})")
    held = standard_split_ids()
    present = {u.utt_id for u in utts}
    missing = sorted((held["dev"] | held["test"]) - present)
    if mode == "standard" and missing:
        raise ValueError(f"ljspeech: the standard split needs the full corpus, but {len(missing)} of its "
                         f"600 dev/test clips are not in metadata.csv (e.g. {missing[0]}); use split 'tail'")
    if mode == "standard" or (mode == "auto" and not missing):
        if n_dev is not None or n_test is not None:
            raise ValueError("ljspeech: n_dev/n_test apply to the tail split only (the standard split "
                             "has 100 dev and 500 test clips)")
        dev_test = held["dev"] | held["test"]
        return {"train": [u for u in utts if u.utt_id not in dev_test],
                "dev": [u for u in utts if u.utt_id in held["dev"]],
                "test": [u for u in utts if u.utt_id in held["test"]]}
    default = max(1, round(len(utts) / 20))
    if mode == "auto":
        log.info("ljspeech: %d of the standard split's 600 dev/test clips are missing (a partial corpus): "
                 "using the tail split", len(missing))
    return tail_split("ljspeech", utts, default if n_dev is None else n_dev,
                      default if n_test is None else n_test)


def find_root(data_dir: str | Path, work_dir: str | Path | None = None, download: bool = False) -> Path:
    """The dir holding ``metadata.csv`` and ``wavs/``: ``data_dir`` itself, or ``LJSpeech-1.1``
    in ``data_dir``/``work_dir``, extracted from (or, with ``download``, downloaded as) the archive."""
    data_dir = Path(data_dir)
    if (data_dir / "metadata.csv").is_file() and (data_dir / "wavs").is_dir():
        return data_dir
    (root,) = obtain("ljspeech", [RESOURCE], data_dir, work_dir, download)
    return root


def prepare(data_dir: str | Path, out_root: str | Path, *, sets=None, download: bool = False,
            work_dir: str | Path | None = None, split: str = "auto", n_dev: int | None = None,
            n_test: int | None = None) -> dict[str, Path]:
    """Write the LJ Speech sets under ``out_root``.

    ``data_dir`` holds ``LJSpeech-1.1/`` or ``LJSpeech-1.1.tar.bz2`` (or is the corpus dir
    itself); the archive is extracted into ``work_dir`` (default ``data_dir``) and, with
    ``download``, fetched from keithito.com first when missing.
    """
    chosen = select_sets("ljspeech", SETS, sets)
    utts = ljspeech_utterances(find_root(data_dir, work_dir, download))
    splits = split_utterances(utts, split, n_dev, n_test)
    return write_sets(splits, out_root, chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """LJ Speech options for the command line."""
    parser.add_argument("--split", choices=SPLITS, default="auto",
                        help="standard: the common tacotron2 split (100 dev, 500 test; needs the full "
                             "corpus); tail: the last N_TEST clips are test, the N_DEV before them dev; "
                             "auto: standard when the corpus is complete, else tail (default: auto)")
    parser.add_argument("--n_dev", type=int, default=None,
                        help="tail split: number of dev clips (default: 5%% of the clips, at least 1)")
    parser.add_argument("--n_test", type=int, default=None,
                        help="tail split: number of test clips (default: 5%% of the clips, at least 1)")
