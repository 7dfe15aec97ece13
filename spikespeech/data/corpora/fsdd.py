"""Free Spoken Digit Dataset (FSDD) → the recipe's Kaldi data dirs.

``recordings/{digit}_{speaker}_{take}.wav`` (8 kHz, 6 speakers × 10 digits × 50 takes); the
transcript is the digit as an English word (see :mod:`spikespeech.data.fsdd`). Licence:
CC BY-SA 4.0 — attribute the dataset (Jakobovski et al., github.com/Jakobovski/
free-spoken-digit-dataset) in anything derived from it, and share derived data alike.

Sets (all speakers): ``test`` = takes 0-4 (the official test split), ``dev`` = takes 45-49 and
``train`` = takes 5-44 (the official training split minus dev). Held-out-speaker sets, for
speaker-independent evaluation: ``test_spk`` = every take of ``held_out_speaker`` (default
``theo``), ``dev_spk`` = takes 45-49 of the other five speakers, ``train_spk`` = their takes
0-44. Sets of one family are disjoint; ``train``/``dev`` contain the held-out speaker, so
train on ``train_spk`` when evaluating on ``test_spk``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..fsdd import fsdd_utterances, held_out_speaker_split, take_index
from . import select_sets, write_sets
from .download import Resource, obtain

SETS = ("train", "dev", "test", "train_spk", "dev_spk", "test_spk")
TEST_TAKES = range(0, 5)
TRAIN_TAKES = range(5, 45)
DEV_TAKES = range(45, 50)
HELD_OUT_SPEAKER = "theo"
COMMIT = "26eb9aaf76e81b692f806f9140c2d2777410d7a1"  # the revision in /work/shared/data/fsdd
RESOURCE = Resource(
    f"free-spoken-digit-dataset-{COMMIT}.tar.gz",
    f"https://github.com/Jakobovski/free-spoken-digit-dataset/archive/{COMMIT}.tar.gz",
    f"free-spoken-digit-dataset-{COMMIT}/recordings",
)


def _takes(utts, takes: range):
    return [u for u in utts if take_index(u) in takes]


def prepare(data_dir: str | Path, out_root: str | Path, *, sets=None, download: bool = False,
            work_dir: str | Path | None = None, held_out_speaker: str = HELD_OUT_SPEAKER) -> dict[str, Path]:
    """Write the FSDD sets under ``out_root``.

    ``data_dir`` holds ``recordings/`` (a checkout of the dataset) or the GitHub archive of
    revision :data:`COMMIT`, extracted into ``work_dir`` (default ``data_dir``).
    """
    chosen = select_sets("fsdd", SETS, sets)
    data_dir = Path(data_dir)
    if (data_dir / "recordings").is_dir():
        root = data_dir
    else:
        (recordings,) = obtain("fsdd", [RESOURCE], data_dir, work_dir, download)
        root = recordings.parent
    utts = fsdd_utterances(root)
    others, held_out = held_out_speaker_split(utts, held_out_speaker)
    splits = {
        "train": _takes(utts, TRAIN_TAKES),
        "dev": _takes(utts, DEV_TAKES),
        "test": _takes(utts, TEST_TAKES),
        "train_spk": [u for u in others if take_index(u) not in DEV_TAKES],
        "dev_spk": _takes(others, DEV_TAKES),
        "test_spk": held_out,
    }
    return write_sets(splits, out_root, chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FSDD options for the command line."""
    parser.add_argument("--held_out_speaker", default=HELD_OUT_SPEAKER,
                        help=f"speaker left out of train_spk/dev_spk, alone in test_spk "
                             f"(default: {HELD_OUT_SPEAKER})")
