"""The "Kathleen" voice (Rhasspy; the project's ``shared/data/kathleen``) → Kaldi data dirs for TTS.

One native U.S. English female speaker reading the 1,132 CMU ARCTIC prompts (``arctic_a0001``
… ``arctic_a0593``, ``arctic_b0001`` … ``arctic_b0539``; 57.6 min). The folder holds
``metadata.csv`` (``id|text|text``, LJ Speech format), ``flac/<id>.flac`` (16 kHz mono, a
lossless conversion of the 48 kHz originals), ``etc/txt.done.data`` (the same transcripts in
Festival format), ``SOURCE.txt`` and ``LICENSE``. Origin: github.com/rhasspy/dataset-voice-cathy;
licence CC0 1.0 (public domain dedication). This 16 kHz copy is not published anywhere, so
nothing is downloaded: copy the folder.

Text is the last ``metadata.csv`` column (the transcript as actually read; plain ASCII,
numbers spelled out), whitespace collapsed. With ``asr_text`` it is written for ASR training
instead: lower case, hyphens as spaces, other punctuation removed (apostrophes kept), so the
character vocabulary is the 26 letters, the apostrophe and the word boundary. Speaker
``kathleen``; utterance ids ``kathleen-<prompt id>`` (Kaldi ids start with their speaker).

Sets, in ``metadata.csv`` order: ``test`` = the last ``n_test`` = 50 prompts
(``arctic_b0490`` … ``arctic_b0539``), ``dev`` = the ``n_dev`` = 50 before them, ``train`` = the
other 1,032.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..kaldi import Utterance
from . import select_sets, write_sets
from ._tts import one_line, read_metadata, tail_split
from .download import MissingDataError

SETS = ("train", "dev", "test")
SPEAKER = "kathleen"
SOURCE = "github.com/rhasspy/dataset-voice-cathy"


def find_root(data_dir: str | Path) -> Path:
    """``data_dir`` or ``data_dir/kathleen``, whichever holds ``metadata.csv`` and ``flac/``."""
    data_dir = Path(data_dir)
    for root in (data_dir, data_dir / "kathleen"):
        if (root / "metadata.csv").is_file() and (root / "flac").is_dir():
            return root
    raise MissingDataError(f"kathleen: missing metadata.csv and flac/ in {data_dir} (or "
                           f"{data_dir / 'kathleen'}); copy the project's shared/data/kathleen folder "
                           f"(16 kHz FLAC converted from {SOURCE}) there: it cannot be downloaded")


def asr_transcript(text: str) -> str:
    """``text`` as an ASR transcript: lower case words of letters and apostrophes.

    >>> asr_transcript("There's Fort Churchill, a rifle-shot beyond the ridge, asleep.")
    "there's fort churchill a rifle shot beyond the ridge asleep"
    """
    return one_line(re.sub(r"[^a-z' ]", " ", text.lower().replace("-", " ")))


def kathleen_utterances(root: str | Path, *, for_asr: bool = False) -> list[Utterance]:
    """The prompts of ``root`` in ``metadata.csv`` order (text as :func:`asr_transcript` if ``for_asr``)."""
    root = Path(root)
    utts = []
    for prompt, _, text in read_metadata(root / "metadata.csv"):
        audio = root / "flac" / f"{prompt}.flac"
        if not audio.is_file():
            raise ValueError(f"{audio}: audio of {prompt} (listed in metadata.csv) is missing")
        text = asr_transcript(text) if for_asr else one_line(text)
        utts.append(Utterance(f"{SPEAKER}-{prompt}", SPEAKER, str(audio.resolve()), text))
    return utts


def prepare(data_dir: str | Path, out_root: str | Path, *, sets=None, download: bool = False,
            work_dir: str | Path | None = None, n_dev: int = 50, n_test: int = 50,
            asr_text: bool = False) -> dict[str, Path]:
    """Write the Kathleen sets under ``out_root``.

    ``data_dir`` is the corpus folder (or holds it as ``kathleen/``); ``download`` and
    ``work_dir`` are accepted for the common command line and unused (nothing to fetch).
    """
    chosen = select_sets("kathleen", SETS, sets)
    utts = kathleen_utterances(find_root(data_dir), for_asr=asr_text)
    return write_sets(tail_split("kathleen", utts, n_dev, n_test), out_root, chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Kathleen options for the command line."""
    parser.add_argument("--n_dev", type=int, default=50,
                        help="the N prompts before the test prompts form dev (default: 50)")
    parser.add_argument("--n_test", type=int, default=50,
                        help="the last N prompts in metadata.csv order form test (default: 50)")
    parser.add_argument("--asr_text", action="store_true",
                        help="write ASR transcripts: lower case, no punctuation but apostrophes")
