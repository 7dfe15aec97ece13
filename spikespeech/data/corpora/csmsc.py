"""CSMSC, the Chinese Standard Mandarin Speech Corpus (DataBaker "BZNSYP") → Kaldi data dirs for TTS.

``BZNSYP.rar`` (download by hand after registering at data-baker.com; it is not extracted
here) unpacks to ``BZNSYP/Wave/000001.wav`` … ``010000.wav`` (48 kHz mono 16-bit, one female
speaker), ``BZNSYP/ProsodyLabeling/000001-010000.txt`` and ``BZNSYP/PhoneLabeling/*.interval``.
The labelling file has two lines per utterance: ``000001<TAB>卡尔普#2陪外孙#1玩滑梯#4。`` (the
Chinese text with prosodic boundary marks ``#1`` … ``#4``) then a tab-indented pinyin line.
``data_dir`` holds ``BZNSYP/`` (or ``CSMSC/``, the name ESPnet's recipe uses) or is that
folder itself. Licence: free for non-commercial use only (DataBaker's terms).

Text is the Chinese line with the prosody marks removed (ESPnet's first step); punctuation is
kept unless ``punctuation='espnet'``, which applies the rest of ESPnet's ``csmsc/tts1``
clean-up: full-width colons and semicolons, enumeration commas, dashes and ellipses become
``，`` (an ellipsis before ``。`` is dropped), curly quotes and full-width parentheses are
removed. Speaker ``csmsc``; utterance ids ``csmsc-<nnnnnn>`` (a Kaldi id starts with its
speaker). Wave files without a label line are skipped, and label lines without a wave file
ignored (both counts are logged). ESPnet also writes ``segments`` trimming silence from the
PhoneLabeling intervals; this does not.

Sets as ESPnet's ``csmsc/tts1`` (``subset_data_dir.sh --last``): in id order, the last
``n_test`` = 100 utterances are ``test`` (ESPnet ``eval1``; 009901-010000 in the full
corpus), the ``n_dev`` = 100 before them ``dev`` (009801-009900) and the other 9,800 ``train``
(ESPnet ``tr_no_dev``).
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

from ..kaldi import Utterance, numbered_lines
from . import select_sets, write_sets
from ._tts import one_line, tail_split
from .download import MissingDataError

SETS = ("train", "dev", "test")
SPEAKER = "csmsc"
URL = "https://www.data-baker.com/data/index/TNtts/"
LABELS = Path("ProsodyLabeling") / "000001-010000.txt"
FOLDERS = ("BZNSYP", "CSMSC")
PUNCTUATION = ("keep", "espnet")
_ID_LINE = re.compile(r"(\d{6})\s+(\S.*)")
_PROSODY = re.compile(r"#[1-4]")
# ESPnet egs2/csmsc/tts1/local/data.sh, its sed replacements in order (after removing #1-#4)
_ESPNET_PUNCTUATION = (("：", "，"), ("“", ""), ("”", ""), ("（", ""), ("）", ""), ("；", "，"),
                       ("…。", "。"), ("——", "，"), ("……", "，"), ("、", "，"), ("…", "，"), ("—", "，"))

log = logging.getLogger(__name__)


def clean_text(labelled: str, punctuation: str = "keep") -> str:
    """A labelled Chinese line without its prosody marks (and, for ``'espnet'``, with ESPnet's
    punctuation clean-up)."""
    if punctuation not in PUNCTUATION:
        raise ValueError(f"csmsc: unknown punctuation rule {punctuation!r} "
                         f"(choose {' or '.join(PUNCTUATION)})")
    text = _PROSODY.sub("", labelled)
    if punctuation == "espnet":
        for old, new in _ESPNET_PUNCTUATION:
            text = text.replace(old, new)
    return one_line(text)


def read_labels(path: str | Path, punctuation: str = "keep") -> dict[str, str]:
    """``000001-010000.txt`` → {6-digit id: cleaned text}; pinyin lines are skipped."""
    path = Path(path)
    out: dict[str, str] = {}
    for number, line in numbered_lines(path, "CSMSC prosody labelling file"):
        if line[0].isspace():  # the pinyin line of the previous id
            continue
        match = _ID_LINE.fullmatch(line.rstrip())
        if match is None:
            raise ValueError(f"{path}:{number}: expected '<6-digit id><TAB><text>' or a tab-indented "
                             f"pinyin line")
        utt, labelled = match.groups()
        if utt in out:
            raise ValueError(f"{path}:{number}: duplicate id {utt}")
        text = clean_text(labelled, punctuation)
        if not text:
            raise ValueError(f"{path}:{number}: no text left once the prosody marks are removed")
        out[utt] = text
    if not out:
        raise ValueError(f"{path}: no labelled utterances")
    return out


def find_root(data_dir: str | Path) -> Path:
    """The corpus folder (holding ``Wave/`` and ``ProsodyLabeling/``): ``data_dir`` itself or its
    ``BZNSYP``/``CSMSC`` subfolder; a one-line :class:`MissingDataError` saying where to get it."""
    data_dir = Path(data_dir)
    for root in (data_dir, *(data_dir / name for name in FOLDERS)):
        if (root / "Wave").is_dir() and (root / "ProsodyLabeling").is_dir():
            return root
    if (data_dir / "BZNSYP.rar").is_file():
        raise MissingDataError(f"csmsc: found {data_dir / 'BZNSYP.rar'} but not the extracted BZNSYP/; "
                               f"extract it into {data_dir} (e.g. unrar x BZNSYP.rar): RAR archives are not "
                               f"unpacked here")
    raise MissingDataError(f"csmsc: missing BZNSYP/ (Wave/, ProsodyLabeling/) in {data_dir}; download "
                           f"BZNSYP.rar by hand from {URL} (registration required, no automatic download) "
                           f"and extract it into {data_dir}")


def csmsc_utterances(root: str | Path, punctuation: str = "keep") -> list[Utterance]:
    """The labelled utterances of the corpus folder ``root``, sorted by id."""
    root = Path(root)
    texts = read_labels(root / LABELS, punctuation)
    waves = sorted((root / "Wave").glob("*.wav"))
    utts = [Utterance(f"{SPEAKER}-{w.stem}", SPEAKER, str(w.resolve()), texts[w.stem])
            for w in waves if w.stem in texts]
    if len(utts) < len(waves):
        log.info("csmsc: skipped %d wave file(s) without a label line", len(waves) - len(utts))
    if len(utts) < len(texts):
        log.info("csmsc: %d label line(s) have no wave file", len(texts) - len(utts))
    if not utts:
        raise ValueError(f"{root / 'Wave'}: no labelled <nnnnnn>.wav files")
    return utts


def prepare(data_dir: str | Path, out_root: str | Path, *, sets=None, download: bool = False,
            work_dir: str | Path | None = None, n_dev: int = 100, n_test: int = 100,
            punctuation: str = "keep") -> dict[str, Path]:
    """Write the CSMSC sets under ``out_root``.

    ``data_dir`` holds the extracted ``BZNSYP/`` (or is it). ``download`` and ``work_dir`` are
    accepted for the common command line; the corpus needs a registration, so with ``download``
    a missing corpus is still the one-line error saying where to get it.
    """
    chosen = select_sets("csmsc", SETS, sets)
    utts = csmsc_utterances(find_root(data_dir), punctuation)
    return write_sets(tail_split("csmsc", utts, n_dev, n_test), out_root, chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """CSMSC options for the command line."""
    parser.add_argument("--n_dev", type=int, default=100,
                        help="the N utterances before the test ones form dev (default: 100, as ESPnet)")
    parser.add_argument("--n_test", type=int, default=100,
                        help="the last N utterances (id order) form test (default: 100, as ESPnet's eval1)")
    parser.add_argument("--punctuation", choices=PUNCTUATION, default="keep",
                        help="keep: only the prosody marks are removed; espnet: also ESPnet's punctuation "
                             "clean-up (default: keep)")
