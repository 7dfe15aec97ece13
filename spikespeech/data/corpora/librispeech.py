"""LibriSpeech ASR corpus (OpenSLR resource 12) → Kaldi data dirs named as in ESPnet.

Layout: ``LibriSpeech/<subset>/<reader>/<chapter>/<reader>-<chapter>.trans.txt`` (lines
``<reader>-<chapter>-<nnnn> UPPER CASE WORDS``) beside ``<reader>-<chapter>-<nnnn>.flac``
(16 kHz); each ``<subset>.tar.gz`` from openslr.org unpacks to ``LibriSpeech/<subset>/``.
Licence: CC BY 4.0 (Panayotov et al., "LibriSpeech: an ASR corpus based on public domain
audio books", ICASSP 2015) — attribute the corpus in anything derived from it.

Sets: ``dev_clean``, ``dev_other``, ``test_clean``, ``test_other`` (one subset each),
``dev`` (dev-clean + dev-other, ESPnet's validation set) and the training set of the
``variant``: ``train_960`` (train-clean-100 + train-clean-360 + train-other-500) or
``train_clean_100``. With variant 960 the single training subsets (``train_clean_100``,
``train_clean_360``, ``train_other_500``) can be requested with ``sets`` too. Only the subsets
the requested sets need are looked for (and downloaded). As in Kaldi's ``data_prep.sh``, the
speaker of an utterance is ``<reader>-<chapter>``; ``wav.scp`` points at the FLAC files, which
``soundfile`` reads directly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..kaldi import Utterance, table_entries
from . import select_sets, write_sets
from .download import Resource, obtain

URL = "https://www.openslr.org/resources/12"
MD5 = {  # openslr.org/resources/12/md5sum.txt
    "train-clean-100": "2a93770f6d5c6c964bc36631d331a522",
    "train-clean-360": "c0e676e450a7ff2f54aeade5171606fa",
    "train-other-500": "d1a0fd59409feb2c614ce4d30c387708",
    "dev-clean": "42e2234ba48799c1f50f24a7926300a1",
    "dev-other": "c8d0bcc9cca99d4f8b62fcc847357931",
    "test-clean": "32fa31d27d2e1cad72775fee3f4849a9",
    "test-other": "fb5a50374b501bb3bac4815ee91d3135",
}
TRAIN_SUBSETS = ("train-clean-100", "train-clean-360", "train-other-500")
EVAL_SETS = {
    "dev": ("dev-clean", "dev-other"),
    "dev_clean": ("dev-clean",),
    "dev_other": ("dev-other",),
    "test_clean": ("test-clean",),
    "test_other": ("test-other",),
}
VARIANTS = {"960": "train_960", "100": "train_clean_100"}


def available_sets(variant: str = "960") -> dict[str, tuple[str, ...]]:
    """{set name: the subsets it combines} for ``variant`` (``"960"`` or ``"100"``)."""
    if variant not in VARIANTS:
        raise ValueError(f"librispeech: unknown variant {variant!r} (choose {' or '.join(VARIANTS)})")
    if variant == "100":
        return {"train_clean_100": ("train-clean-100",), **EVAL_SETS}
    singles = {s.replace("-", "_"): (s,) for s in TRAIN_SUBSETS}
    return {"train_960": TRAIN_SUBSETS, **EVAL_SETS, **singles}


def default_sets(variant: str = "960") -> list[str]:
    """The sets written when none are requested: the variant's training set and the eval sets."""
    return [VARIANTS[variant], *EVAL_SETS]


def resource(subset: str) -> Resource:
    """The openslr.org archive of one subset."""
    return Resource(f"{subset}.tar.gz", f"{URL}/{subset}.tar.gz", f"LibriSpeech/{subset}", MD5.get(subset))


def subset_utterances(subset_dir: str | Path) -> list[Utterance]:
    """All utterances of one extracted subset (``LibriSpeech/<subset>``), sorted by id."""
    subset_dir = Path(subset_dir)
    transcripts = sorted(subset_dir.glob("*/*/*.trans.txt"))
    if not transcripts:
        raise ValueError(f"{subset_dir}: no <reader>/<chapter>/<reader>-<chapter>.trans.txt transcripts")
    utts = []
    for trans in transcripts:
        reader, chapter = trans.parent.parent.name, trans.parent.name
        speaker = f"{reader}-{chapter}"
        if trans.name != f"{speaker}.trans.txt":
            raise ValueError(f"{trans}: expected the name {speaker}.trans.txt in {trans.parent}")
        for number, utt_id, words in table_entries(trans):
            if not utt_id.startswith(f"{speaker}-") or not words:
                raise ValueError(f"{trans}:{number}: expected '{speaker}-<nnnn> WORDS'")
            audio = trans.parent / f"{utt_id}.flac"
            if not audio.is_file():
                raise ValueError(f"{audio}: audio of {utt_id} (listed in {trans.name}) is missing")
            utts.append(Utterance(utt_id, speaker, str(audio.resolve()), words))
    return sorted(utts, key=lambda u: u.utt_id)


def prepare(data_dir: str | Path, out_root: str | Path, *, sets=None, download: bool = False,
            work_dir: str | Path | None = None, variant: str = "960") -> dict[str, Path]:
    """Write the LibriSpeech sets under ``out_root``.

    ``data_dir`` holds ``LibriSpeech/<subset>/`` or the ``<subset>.tar.gz`` archives (or is
    the ``LibriSpeech`` folder itself); archives are extracted into ``work_dir`` (default
    ``data_dir``) and, with ``download``, missing ones are fetched from openslr.org first.
    """
    variant = str(variant)
    available = available_sets(variant)
    chosen = select_sets("librispeech", available, default_sets(variant) if sets is None else sets)
    data_dir = Path(data_dir)
    if data_dir.name == "LibriSpeech" and work_dir is None:
        data_dir = data_dir.parent
    needed = list(dict.fromkeys(s for name in chosen for s in available[name]))
    dirs = obtain("librispeech", [resource(s) for s in needed], data_dir, work_dir, download)
    by_subset = {s: subset_utterances(d) for s, d in zip(needed, dirs, strict=True)}
    splits = {name: [u for s in available[name] for u in by_subset[s]] for name in chosen}
    return write_sets(splits, out_root, chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """LibriSpeech options for the command line."""
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="960",
                        help="training data: 960 → train_960 (all three training subsets), "
                             "100 → train_clean_100 (default: 960)")
