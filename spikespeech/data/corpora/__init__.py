"""Corpus preparation: raw speech corpora → Kaldi data dirs for the ESPnet-style recipes.

One module per corpus, each with ``prepare(data_dir, out_root, **options) -> {set: dir}``
and ``add_arguments(parser)`` for its command-line options:

============  ===========================================  ==================================
corpus        sets                                         licence
============  ===========================================  ==================================
yesno         train_nodev, train_dev, test_yesno           CC BY 4.0 (OpenSLR 1)
mini_an4      train_nodev, train_dev, test                 CMU BSD-style (an4/LICENSE)
fsdd          train, dev, test, train_spk, dev_spk,        CC BY-SA 4.0
              test_spk
librispeech   train_960 | train_460 | train_clean_100,     CC BY 4.0 (OpenSLR 12)
              dev, dev_clean, dev_other, test_clean,
              test_other
aishell       train, dev, test                             Apache-2.0 (OpenSLR 33)
ljspeech      train, dev, test (TTS)                       public domain
csmsc         train, dev, test (TTS)                       DataBaker, non-commercial use only
vctk          train, dev, test (TTS)                       CC BY 4.0
kathleen      train, dev, test (TTS)                       CC0 1.0
============  ===========================================  ==================================

Command line (what ``egs/<corpus>/asr1/local/data.sh`` runs)::

    python -m spikespeech.data.corpora CORPUS --out DATA_ROOT [--data_dir DIR] [--work_dir DIR]
        [--download] [--sets SET ...] [corpus options]
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

from ..kaldi import Utterance, write_kaldi_dir
from .download import DownloadError, MissingDataError

# (``download``/``extract`` stay in the ``download`` submodule: re-exporting the function
# ``download`` here would shadow the submodule of the same name.)
__all__ = ["CORPORA", "DownloadError", "MissingDataError", "corpus_module", "prepare", "select_sets",
           "write_sets"]

# corpus name on the command line → module in this package
CORPORA = {
    "yesno": "yesno",
    "mini_an4": "an4",
    "fsdd": "fsdd",
    "librispeech": "librispeech",
    "aishell": "aishell",
    "ljspeech": "ljspeech",
    "csmsc": "csmsc",
    "vctk": "vctk",
    "kathleen": "kathleen",
}


def corpus_module(corpus: str) -> ModuleType:
    """The module preparing ``corpus`` (one of :data:`CORPORA`)."""
    if corpus not in CORPORA:
        raise ValueError(f"unknown corpus {corpus!r} (known: {', '.join(CORPORA)})")
    return importlib.import_module(f".{CORPORA[corpus]}", __name__)


def prepare(corpus: str, data_dir: str | Path, out_root: str | Path, **options) -> dict[str, Path]:
    """``corpus_module(corpus).prepare(data_dir, out_root, **options)``."""
    return corpus_module(corpus).prepare(data_dir, out_root, **options)


def select_sets(corpus: str, available: Iterable[str], sets: Iterable[str] | None) -> list[str]:
    """The requested ``sets`` (all ``available`` when ``None``), checked against ``available``."""
    available = list(available)
    if sets is None:
        return available
    sets = list(dict.fromkeys(sets))
    unknown = [s for s in sets if s not in available]
    if unknown:
        raise ValueError(f"{corpus}: unknown set(s) {', '.join(unknown)} (available: {', '.join(available)})")
    return sets


def write_sets(splits: Mapping[str, list[Utterance]], out_root: str | Path,
               sets: Iterable[str]) -> dict[str, Path]:
    """Write ``out_root/<set>`` for each requested set of ``splits``; refuse empty sets."""
    out_root = Path(out_root)
    written = {}
    for name in sets:
        if not splits[name]:
            raise ValueError(f"{out_root / name}: no utterances for set {name!r}")
        written[name] = write_kaldi_dir(splits[name], out_root / name)
    return written
