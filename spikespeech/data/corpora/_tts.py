"""Helpers shared by the TTS corpus modules (LJ Speech, Kathleen, CSMSC, VCTK).

Not a corpus itself: :data:`spikespeech.data.corpora.CORPORA` does not list it.
"""

from __future__ import annotations

from pathlib import Path

from ..kaldi import Utterance, numbered_lines


def read_metadata(path: str | Path) -> list[tuple[str, str, str]]:
    """An LJ Speech style ``metadata.csv`` (``id|text|normalized text``) as (id, text, normalized)
    rows in file order; an empty normalized column falls back to the text column."""
    path = Path(path)
    rows, seen = [], set()
    for number, line in numbered_lines(path):
        fields = line.split("|")
        if len(fields) != 3 or not fields[0].strip() or not (fields[1].strip() or fields[2].strip()):
            raise ValueError(f"{path}:{number}: expected 'id|text|normalized text'")
        utt, text, normalized = (f.strip() for f in fields)
        if any(c.isspace() for c in utt):
            raise ValueError(f"{path}:{number}: whitespace in the id {utt!r}")
        if utt in seen:
            raise ValueError(f"{path}:{number}: duplicate id {utt!r}")
        seen.add(utt)
        rows.append((utt, text, normalized or text))
    if not rows:
        raise ValueError(f"{path}: no entries")
    return rows


def one_line(text: str) -> str:
    """Whitespace (newlines, tabs, runs of spaces) collapsed to single spaces."""
    return " ".join(text.split())


def tail_sizes(corpus: str, n: int, n_dev: int, n_test: int) -> None:
    """Refuse tail split sizes that leave a set empty."""
    if n_dev < 1 or n_test < 1 or n_dev + n_test >= n:
        raise ValueError(f"{corpus}: need n_dev ({n_dev}) >= 1, n_test ({n_test}) >= 1 and n_dev + n_test "
                         f"< {n} utterances, so that train is not empty")


def tail_split(corpus: str, utts: list[Utterance], n_dev: int, n_test: int) -> dict[str, list[Utterance]]:
    """``test`` = the last ``n_test`` utterances (in the given order), ``dev`` = the ``n_dev``
    before them, ``train`` = the rest."""
    tail_sizes(corpus, len(utts), n_dev, n_test)
    cut = len(utts) - n_test
    return {"train": utts[: cut - n_dev], "dev": utts[cut - n_dev: cut], "test": utts[cut:]}
