"""CMU AN4 (ESPnet's ``mini_an4`` subset, or the full corpus) → Kaldi data dirs.

Layout: ``an4/etc/an4_{train,test}.fileids`` (``an4_clstk/<spk>/<name>-<spk>-<x>`` lines),
``an4/etc/an4_{train,test}.transcription`` (``[<s>] WORDS [</s>] (<name>-<spk>-<x>)``) and
``an4/wav/<fileid>.sph`` (NIST SPHERE, 16 kHz 16-bit PCM). ESPnet ships the mini subset as
``downloads.tar.gz`` (``downloads/an4/...``); an extracted ``an4/`` (full corpus, from CMU's
``an4_sphere.tar.gz``) works as well. Licence: CMU's BSD-style licence in ``an4/LICENSE``;
keep it with any copy or derived data.

As in ESPnet's ``local/data_prep.py``, the utterance id is ``<spk>-<name>-<x>`` and the speaker
``<spk>``; ``<s>``/``</s>`` are dropped from the transcript. The dev set is the first ``n_dev``
training utterances in sorted order (ESPnet: 1 for mini_an4, 100 for an4), ``train_nodev``
the rest. ``wav.scp`` points at the ``.sph`` files themselves: libsndfile (``soundfile``) reads
uncompressed SPHERE PCM, so no ``sph2pipe`` is needed. Shorten-compressed SPHERE (not used by
AN4) is not readable and is reported as an error naming the file.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..kaldi import Utterance, numbered_lines
from . import select_sets, write_sets
from .download import Resource, obtain

SETS = ("train_nodev", "train_dev", "test")
RESOURCE = Resource("downloads.tar.gz",
                    "https://github.com/espnet/espnet/raw/master/egs2/mini_an4/asr1/downloads.tar.gz",
                    "downloads/an4")
_LINE = re.compile(r"^(?P<words>.*?)\s*\((?P<source>[^()\s]+)\)\s*$")
_MARKERS = {"<s>", "</s>", "<sil>"}


def find_an4_root(*dirs: Path) -> Path | None:
    """The first ``an4`` folder (with ``etc/an4_train.fileids``) in or under ``dirs``."""
    for d in dirs:
        for candidate in (d, d / "an4", d / "downloads" / "an4"):
            if (candidate / "etc" / "an4_train.fileids").is_file():
                return candidate
    return None


def read_transcription(path: Path) -> dict[str, str]:
    """``an4_*.transcription`` → {source name: words} without sentence markers."""
    out: dict[str, str] = {}
    for number, line in numbered_lines(path):
        match = _LINE.match(line)
        if not match:
            raise ValueError(f"{path}:{number}: not an AN4 transcription line ('WORDS (utterance-id)')")
        words = " ".join(w for w in match["words"].split() if w not in _MARKERS)
        out[match["source"]] = words
    return out


def an4_utterances(root: Path, part: str) -> list[Utterance]:
    """Utterances of ``part`` (``train`` or ``test``): ``fileids`` joined with ``transcription``."""
    etc = root / "etc"
    fileids_path = etc / f"an4_{part}.fileids"
    fileids = [line.strip() for _, line in numbered_lines(fileids_path)]
    texts = read_transcription(etc / f"an4_{part}.transcription")
    utts = []
    for fileid in fileids:
        source = Path(fileid).name
        pieces = source.split("-")
        if len(pieces) != 3:
            raise ValueError(f"{fileids_path}: {fileid!r} is not '<dir>/<spk>/<name>-<spk>-<x>'")
        name, speaker, tail = pieces
        if source not in texts:
            raise ValueError(f"{etc / f'an4_{part}.transcription'}: no transcript for {source}")
        audio = root / "wav" / f"{fileid}.sph"
        _check_sphere(audio)
        utts.append(Utterance(f"{speaker}-{name}-{tail}", speaker, str(audio.resolve()), texts[source]))
    return sorted(utts, key=lambda u: u.utt_id)


def _check_sphere(path: Path) -> None:
    """Fail with one line unless ``path`` is a SPHERE file libsndfile can decode."""
    import soundfile as sf

    if not path.is_file():
        raise ValueError(f"{path}: audio file listed in the fileids is missing")
    try:
        sf.info(str(path))
    except RuntimeError as error:  # soundfile.LibsndfileError
        raise ValueError(f"{path}: soundfile cannot read this SPHERE file (shorten-compressed? convert it "
                         f"with sph2pipe): {error}") from None


def prepare(data_dir: str | Path, out_root: str | Path, *, sets=None, download: bool = False,
            work_dir: str | Path | None = None, n_dev: int = 1) -> dict[str, Path]:
    """Write the AN4 sets under ``out_root``.

    ``data_dir`` holds ``downloads.tar.gz`` (extracted into ``work_dir``, default
    ``data_dir``), an extracted ``downloads/an4`` or ``an4``, or is the ``an4`` folder itself.
    """
    chosen = select_sets("mini_an4", SETS, sets)
    data_dir = Path(data_dir)
    dirs = [data_dir] if work_dir is None else [data_dir, Path(work_dir)]
    root = find_an4_root(*dirs)
    if root is None:
        (root,) = obtain("mini_an4", [RESOURCE], data_dir, work_dir, download)
    train = an4_utterances(root, "train")
    if not 0 < n_dev < len(train):
        raise ValueError(f"mini_an4: n_dev={n_dev} must leave training data ({len(train)} train utterances)")
    splits = {"train_nodev": train[n_dev:], "train_dev": train[:n_dev], "test": an4_utterances(root, "test")}
    return write_sets(splits, out_root, chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """AN4 options for the command line."""
    parser.add_argument("--n_dev", type=int, default=1,
                        help="the first N sorted training utterances form train_dev "
                             "(default: 1, as ESPnet's mini_an4; ESPnet's an4 uses 100)")
