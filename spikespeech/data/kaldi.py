"""Kaldi-style data directories (``wav.scp``, ``text``, ``utt2spk``, ``spk2utt``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_write_text
from ..errors import SpikespeechError


@dataclass(frozen=True)
class Utterance:
    utt_id: str
    speaker: str
    audio: str  # path (or a Kaldi rxspecifier)
    text: str


def write_kaldi_dir(utterances: list[Utterance], directory: str | Path) -> Path:
    """Write a sorted Kaldi data dir; files are replaced atomically (no half-written dir).

    Utterance ids must start with the speaker id (Kaldi's sorting convention) and be unique.
    """
    directory = Path(directory)
    rows = sorted(utterances, key=lambda u: u.utt_id)
    seen: set[str] = set()
    for u in rows:
        if u.utt_id in seen:
            raise SpikespeechError(f"{directory}: duplicate utterance id {u.utt_id!r}")
        seen.add(u.utt_id)
        if not u.utt_id.startswith(u.speaker):
            raise SpikespeechError(f"{directory}: utterance id {u.utt_id!r} must start with its speaker "
                             f"id {u.speaker!r} (Kaldi sorting)")
        if any(c.isspace() for c in u.utt_id) or not u.text.strip():
            raise SpikespeechError(f"{directory}: utterance {u.utt_id!r} has whitespace in its id or "
                                   "empty text")
    spk2utt: dict[str, list[str]] = {}
    for u in rows:
        spk2utt.setdefault(u.speaker, []).append(u.utt_id)
    files = {
        "wav.scp": [f"{u.utt_id} {u.audio}" for u in rows],
        "text": [f"{u.utt_id} {u.text.strip()}" for u in rows],
        "utt2spk": [f"{u.utt_id} {u.speaker}" for u in rows],
        "spk2utt": [f"{s} {' '.join(ids)}" for s, ids in sorted(spk2utt.items())],
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        atomic_write_text(directory / name, "".join(line + "\n" for line in lines))
    return directory


def read_kaldi_dir(directory: str | Path) -> list[Utterance]:
    """Read ``wav.scp``, ``text`` and ``utt2spk`` back into utterances (sorted by id)."""
    directory = Path(directory)
    wav = read_table(directory / "wav.scp")
    text = read_table(directory / "text")
    spk = read_table(directory / "utt2spk") if (directory / "utt2spk").exists() else {}
    missing = sorted(set(wav) - set(text))
    if missing:
        raise SpikespeechError(f"{directory}/text: no transcript for {', '.join(missing[:5])}")
    return [Utterance(u, spk.get(u, u), wav[u], text[u]) for u in sorted(wav)]


def numbered_lines(path: Path, what: str = "file"):
    """``(line number, line)`` for the non-blank lines of a UTF-8 text file (a leading byte-order
    mark, as Windows tools write one, is dropped); a missing or non-UTF-8 file is a one-line
    ``ValueError`` naming it (``what`` names the kind of file in the not-found message)."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise SpikespeechError(f"{path}: {what} not found") from None
    except UnicodeDecodeError as exc:
        raise SpikespeechError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return [(number, line) for number, line in enumerate(lines, 1) if line.strip()]


def read_table(path: Path) -> dict[str, str]:
    """A Kaldi ``key value`` table; a duplicate key is an error naming the file and line."""
    table: dict[str, str] = {}
    for number, line in numbered_lines(path):
        key, _, value = line.partition(" ")
        if key in table:
            raise SpikespeechError(f"{path}:{number}: duplicate id {key!r}")
        table[key] = value.strip()
    return table


