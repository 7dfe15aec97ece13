"""Kaldi-style data directories (``wav.scp``, ``text``, ``utt2spk``, ``spk2utt``) and the one reader
of Kaldi text tables (``<key> <value>`` lines) and ``segments`` values."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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
    utt2spk = {u.utt_id: u.speaker for u in rows}
    files = {
        "wav.scp": {u.utt_id: u.audio for u in rows},
        "text": {u.utt_id: u.text.strip() for u in rows},
        "utt2spk": utt2spk,
        "spk2utt": spk2utt_table(utt2spk),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, table in files.items():
        atomic_write_text(directory / name, render_table(table))
    return directory


def byte_sorted(ids: Iterable[str]) -> list[str]:
    """Kaldi's C-locale order (UTF-8 bytes)."""
    return sorted(ids, key=str.encode)


def render_table(table: Mapping[str, str]) -> str:
    """A Kaldi table's text: ``<key> <value>`` lines in C-locale order (a bare key where the value
    is empty)."""
    return "".join(f"{key} {table[key]}\n" if table[key] else f"{key}\n" for key in byte_sorted(table))


def spk2utt_table(utt2spk: Mapping[str, str]) -> dict[str, str]:
    """The ``spk2utt`` table of an ``utt2spk`` table (each speaker's utterances in sorted order)."""
    speakers: dict[str, list[str]] = {}
    for utt in byte_sorted(utt2spk):
        speakers.setdefault(utt2spk[utt], []).append(utt)
    return {speaker: " ".join(utts) for speaker, utts in speakers.items()}


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


# ----------------------------------------------------------------------------- reading tables


# Ours, not read_2columns_text or kaldiio.load_scp: both fail on a blank line (test_library_table_limits).
def read_lines(path: str | Path, what: str = "file") -> list[str]:
    """The lines of a UTF-8 text file, split at "\\n" only as Kaldi does (``str.splitlines`` would
    also split a transcript at a form feed or U+2028); carriage returns and a byte-order mark are
    kept for callers that report them. A missing or non-UTF-8 file is a one-line
    :class:`SpikespeechError` naming it (``what`` names the kind of file in the not-found message)."""
    try:
        content = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpikespeechError(f"{path}: {what} not found") from None
    except UnicodeDecodeError as exc:
        raise SpikespeechError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    lines = content.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def numbered_lines(path: str | Path, what: str = "file") -> list[tuple[int, str]]:
    """``(line number, line)`` for the non-blank lines of a UTF-8 text file, without a DOS line end
    or a leading byte-order mark (as Windows tools write them); errors as :func:`read_lines`."""
    lines = read_lines(path, what)
    if lines:
        lines[0] = lines[0].removeprefix("\ufeff")
    return [(number, line.removesuffix("\r")) for number, line in enumerate(lines, 1) if line.strip()]


def split_entry(line: str) -> tuple[str, str]:
    """``(key, value)`` of a table line: the key ends at the first whitespace; the value is the
    rest, stripped (empty when there is none)."""
    key, *rest = line.split(None, 1)
    return key, rest[0].strip() if rest else ""


class Entry(NamedTuple):
    """One line of a Kaldi table."""

    number: int
    key: str
    value: str


def table_entries(path: str | Path, what: str = "file") -> list[Entry]:
    """The ``<key> <value>`` lines of a Kaldi table in file order (blank lines left out; repeated
    keys kept, for callers that report them their own way)."""
    return [Entry(number, *split_entry(line)) for number, line in numbered_lines(path, what)]


def unique_entries(path: str | Path, what: str = "file", ids: str = "id") -> list[Entry]:
    """:func:`table_entries`, where a repeated key is an error naming the file and line (``ids``
    names the keys: "duplicate utterance id 'x'")."""
    entries = table_entries(path, what)
    first: dict[str, int] = {}
    for entry in entries:
        if entry.key in first:
            raise SpikespeechError(f"{path}:{entry.number}: duplicate {ids} {entry.key!r} "
                                   f"(first on line {first[entry.key]})")
        first[entry.key] = entry.number
    return entries


def read_table(path: str | Path, what: str = "file", ids: str = "id") -> dict[str, str]:
    """A Kaldi ``<key> <value>`` table as a dict (values may be empty); errors as
    :func:`unique_entries`."""
    return {entry.key: entry.value for entry in unique_entries(path, what, ids)}


# ----------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class Segment:
    """A ``segments`` value: the recording and its span in seconds (``end`` -1: to its end)."""

    recording: str
    start: float
    end: float


def parse_segment(value: str) -> Segment:
    """The ``<recording-id> <start> <end>`` after a segments line's utterance id; a
    :class:`SpikespeechError` when it is not three fields or the times are not finite numbers."""
    fields = value.split()
    if len(fields) != 3:
        raise SpikespeechError("expected 'utt rec start end'")
    try:
        start, end = float(fields[1]), float(fields[2])
    except ValueError:
        raise SpikespeechError(f"{fields[1]!r} {fields[2]!r} are not seconds") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise SpikespeechError(f"{fields[1]!r} {fields[2]!r} are not finite seconds")
    return Segment(fields[0], start, end)


def segment_problem(segment: Segment) -> str | None:
    """Why a segment's span is unusable (None if fine), as Kaldi's validate_data_dir.sh checks it."""
    if segment.start < 0:
        return f"negative start time {segment.start:g}"
    if segment.end != -1 and segment.start >= segment.end:  # Kaldi: end -1 means "to the end"
        return f"start {segment.start:g} >= end {segment.end:g}"
    return None
