"""The Kaldi "yesno" corpus (OpenSLR resource 1) → Kaldi data dirs.

60 files ``waves_yesno/<b>_<b>_<b>_<b>_<b>_<b>_<b>_<b>.wav`` (8 kHz, one male speaker saying
eight Hebrew words "ken"/"lo"); the file name is the transcript, 1 = YES and 0 = NO.
Licence: CC BY 4.0 (OpenSLR) — attribute the corpus in anything derived from it.

Split: the first ``n_train`` = 31 files in sorted order are training data, the remaining 29
test (``test_yesno``), as this project's data README states the Kaldi split. Note that Kaldi's
``create_yesno_waves_test_train.pl`` splits the ``ls`` listing in half, which gives 30/30 once
the README is removed, as ESPnet does; pass ``n_train=30`` for that. As in ESPnet's yesno
recipe, the first ``n_dev`` = 2 training files form ``train_dev`` and the rest
``train_nodev``. All utterances belong to one speaker, ``yesno``; the utterance id is
``yesno-<file stem>``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..kaldi import Utterance
from . import select_sets, write_sets
from .download import Resource, obtain

SETS = ("train_nodev", "train_dev", "test_yesno")
RESOURCE = Resource("waves_yesno.tar.gz", "https://www.openslr.org/resources/1/waves_yesno.tar.gz",
                    "waves_yesno")
N_FILES = 60
SPEAKER = "yesno"
_NAME = re.compile(r"[01](_[01]){7}")


def yesno_utterances(waves: str | Path) -> list[Utterance]:
    """All yesno recordings in ``waves`` (the ``waves_yesno`` folder), sorted by file name."""
    waves = Path(waves)
    files = sorted(waves.glob("*.wav"))
    bad = [f.name for f in files if not _NAME.fullmatch(f.stem)]
    if bad:
        raise ValueError(f"{waves / bad[0]}: not a yesno file name (eight 0/1 digits joined by '_')")
    if len(files) != N_FILES:
        raise ValueError(f"{waves}: expected the {N_FILES} yesno recordings, found {len(files)}")
    return [
        Utterance(f"{SPEAKER}-{f.stem}", SPEAKER, str(f.resolve()),
                  " ".join("YES" if bit == "1" else "NO" for bit in f.stem.split("_")))
        for f in files
    ]


def split(utts: list[Utterance], n_train: int = 31, n_dev: int = 2) -> dict[str, list[Utterance]]:
    """Sorted utterances → ``train_nodev``, ``train_dev`` (first ``n_dev`` train files), ``test_yesno``."""
    if not 0 < n_dev < n_train < len(utts):
        raise ValueError(f"yesno: need 0 < n_dev ({n_dev}) < n_train ({n_train}) < {len(utts)} files")
    train = utts[:n_train]
    return {"train_nodev": train[n_dev:], "train_dev": train[:n_dev], "test_yesno": utts[n_train:]}


def prepare(data_dir: str | Path, out_root: str | Path, *, sets=None, download: bool = False,
            work_dir: str | Path | None = None, n_train: int = 31, n_dev: int = 2) -> dict[str, Path]:
    """Write the yesno sets under ``out_root``.

    ``data_dir`` holds ``waves_yesno/`` or ``waves_yesno.tar.gz`` (or is ``waves_yesno``
    itself); the archive is extracted into ``work_dir`` (default ``data_dir``).
    """
    chosen = select_sets("yesno", SETS, sets)
    data_dir = Path(data_dir)
    if data_dir.name == RESOURCE.extracted and any(data_dir.glob("*.wav")):
        waves = data_dir
    else:
        (waves,) = obtain("yesno", [RESOURCE], data_dir, work_dir, download)
    return write_sets(split(yesno_utterances(waves), n_train, n_dev), out_root, chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """yesno options for the command line."""
    parser.add_argument("--n_train", type=int, default=31,
                        help="the first N sorted files are training data, the rest test (default: 31)")
    parser.add_argument("--n_dev", type=int, default=2,
                        help="the first N training files form train_dev (default: 2, as ESPnet)")
