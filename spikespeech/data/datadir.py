"""Kaldi data-directory utilities: validate, fix, subset and combine.

A data dir holds ``wav.scp``, ``text``, ``utt2spk`` and ``spk2utt``, optionally ``segments``
(``utt-id rec-id start end``, seconds; ``wav.scp`` is then keyed by recording id) and optional
tables keyed by utterance (``utt2*``, ``feats.scp``), speaker (``spk2*``, ``cmvn.scp``) or
recording (``reco2*``). Every table is ``<id> <value>`` lines sorted in C-locale byte order;
``spk2utt`` is always derived from ``utt2spk``. Other files are ignored by validate/fix and not
copied by subset/combine.

Choices, as in Kaldi's ``utils/`` scripts unless noted:

* relative audio paths are resolved against the current directory;
* ``fix_data_dir`` keeps only utterances present in *every* per-utterance table (optional ones
  such as ``utt2dur`` included) whose speaker is in every per-speaker table and, with segments,
  whose recording is in every per-recording table; it refuses to leave a dir with no utterances;
* ``combine_data_dirs`` mixing dirs with and without ``segments`` gives each plain utterance a
  segment spanning its whole file, the duration taken from ``utt2dur`` or the audio header; a
  piped ``wav.scp`` entry without ``utt2dur`` is an error. Optional tables missing from some
  sources are left out of the result (and named in the summary's warnings);
* ``subset_data_dir`` and ``combine_data_dirs`` write into a temporary dir beside ``dst`` and
  rename it into place, so ``dst`` is never half-written; an existing non-empty ``dst`` is
  replaced only with ``overwrite=True``.

CLI: ``python -m spikespeech.data.datadir {validate,fix,subset,combine} ...`` (``--help``).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from random import Random

from ..atomic import atomic_write_text
from ..audio.recording import recording_duration, recording_file
from ..errors import SpikespeechError
from .kaldi import (
    Entry,
    byte_sorted,
    numbered_lines,
    parse_segment,
    read_lines,
    render_table,
    segment_problem,
    spk2utt_table,
    split_entry,
)

REQUIRED = ("wav.scp", "text", "utt2spk", "spk2utt")
_CORE = ("wav.scp", "segments", "text", "utt2spk", "spk2utt")
_EXTRA_NAME = re.compile(r"(utt2|spk2|reco2)[a-z0-9_]+")
_ID_WORD = {"utt": "utterance", "spk": "speaker", "rec": "recording"}

Tables = dict[str, dict[str, str]]  # file name -> id -> value (spk2utt left out: it is derived)


class DataDirError(SpikespeechError):
    """Problems with a data dir; each is one line naming the file (and line number)."""

    def __init__(self, problems: str | Sequence[str], max_problems: int = 20):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.max_problems = max(1, max_problems)
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        """The first ``max_problems`` problems, then ``and N more`` when some are left out."""
        shown = self.problems[: self.max_problems]
        rest = len(self.problems) - len(shown)
        return shown + ([f"and {rest} more"] if rest else [])


@dataclass(frozen=True)
class DataDirSummary:
    """What ``validate_data_dir`` found in a valid dir."""

    path: Path
    utterances: int
    speakers: int
    recordings: int
    has_segments: bool
    extra_files: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = [f"{self.utterances} utterances", f"{self.speakers} speakers"]
        if self.has_segments:
            parts.append(f"segments of {self.recordings} recordings")
        if self.extra_files:
            parts.append(f"extra files: {' '.join(self.extra_files)}")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning(s)")
        return f"{self.path}: " + ", ".join(parts)


@dataclass(frozen=True)
class FixReport:
    """What ``fix_data_dir`` changed."""

    path: Path
    utterances_before: int  # distinct ids in any per-utterance table
    utterances_after: int
    dropped: dict[str, int]  # reason -> number of utterances
    dropped_utterances: dict[str, str]  # utterance id -> reason
    removed_lines: dict[str, int]  # file -> blank, malformed or duplicate lines removed
    resorted: tuple[str, ...]  # files that were not sorted
    recordings_dropped: int
    backup_dir: Path

    def __str__(self) -> str:
        text = f"{self.path}: kept {self.utterances_after} of {self.utterances_before} utterances"
        if self.dropped:
            text += " (dropped: " + ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items())) + ")"
        if self.recordings_dropped:
            text += f", dropped {self.recordings_dropped} unused recordings"
        if self.removed_lines:
            text += ", removed lines: " + ", ".join(f"{n} in {f}" for f, n in self.removed_lines.items())
        if self.resorted:
            text += f", sorted {' '.join(self.resorted)}"
        return text + f"; originals in {self.backup_dir}"


# ----------------------------------------------------------------------------- reading


@dataclass
class _Parsed:
    lines: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dropped: int = 0  # blank or malformed lines left out of ``lines``
    readable: bool = True


def _kind(name: str) -> str | None:
    """The id a table is keyed by ('utt', 'spk' or 'rec'); None for spk2utt and unmanaged files."""
    if name in ("text", "segments", "feats.scp"):
        return "utt"
    if name in ("wav.scp",):
        return "rec"
    if name == "cmvn.scp":
        return "spk"
    if name == "spk2utt" or not _EXTRA_NAME.fullmatch(name):
        return None
    return {"utt2": "utt", "spk2": "spk", "reco2": "rec"}[name[: name.index("2") + 1]]


def _utt_keyed(name: str, has_segments: bool) -> bool:
    """Without segments a recording *is* an utterance, so wav.scp and reco2* are per-utterance."""
    return _kind(name) == "utt" or (not has_segments and _kind(name) == "rec")


def _id_word(name: str, has_segments: bool) -> str:
    if name == "spk2utt":
        return "speaker"
    return "utterance" if _utt_keyed(name, has_segments) else _ID_WORD[_kind(name) or "utt"]


def _table_names(directory: Path) -> list[str]:
    """Managed files present in ``directory``: the core ones first, then extras sorted."""
    present = {p.name for p in directory.iterdir() if p.is_file() and (p.name in _CORE or _kind(p.name))}
    return [n for n in _CORE if n in present] + sorted(present - set(_CORE))


def _parse(path: Path, *, allow_empty: bool = False) -> _Parsed:
    """``<id> <value>`` lines of a table, with one-line problems for the odd ones.

    Blank lines and lines without a value are left out; lines with a DOS line ending or leading
    whitespace are reported but kept, so that fixing keeps them.
    """
    # read_lines, not table_entries: a validator reports the CRs and blank lines that those drop.
    out = _Parsed()
    try:
        rows = read_lines(path)
    except SpikespeechError as e:
        return _Parsed(problems=[str(e)], readable=False)
    for number, row in enumerate(rows, 1):
        where = f"{path}:{number}"
        if row.endswith("\r"):
            out.problems.append(f"{where}: DOS line ending (carriage return)")
            row = row[:-1]
        if not row.strip():
            out.problems.append(f"{where}: empty line")
            out.dropped += 1
            continue
        if row[0].isspace():
            out.problems.append(f"{where}: line starts with whitespace")
        key, value = split_entry(row)
        if not value and not allow_empty:
            out.problems.append(f"{where}: malformed line {key!r}, expected '<id> <value>'")
            out.dropped += 1
            continue
        out.lines.append(Entry(number, key, value))
    return out


def _first(lines: list[Entry]) -> dict[str, Entry]:
    """Each id's first line (later duplicates are reported separately)."""
    table: dict[str, Entry] = {}
    for line in lines:
        table.setdefault(line.key, line)
    return table


def _some(ids: Iterable[str], n: int = 5) -> str:
    ids = list(ids)
    shown = ", ".join(repr(i) for i in ids[:n])
    return shown + (f" (+{len(ids) - n} more)" if len(ids) > n else "")


def _segment_problem(value: str, recordings: dict[str, Entry] | None) -> str | None:
    """Why a segments value is bad (None if fine); unknown recordings only when ``recordings``."""
    try:
        seg = parse_segment(value)
    except ValueError:
        return "malformed segment, expected '<utt-id> <recording-id> <start> <end>'"
    problem = segment_problem(seg)
    if problem is None and recordings is not None and seg.recording not in recordings:
        problem = f"unknown recording {seg.recording!r} (not in wav.scp)"
    return problem


def _recording(value: str) -> str | None:
    """The recording id of a well-formed segments value."""
    try:
        return parse_segment(value).recording
    except ValueError:
        return None


# ----------------------------------------------------------------------------- validation


def validate_data_dir(
    path: str | Path, *, check_audio: bool = True, max_problems: int = 20
) -> DataDirSummary:
    """Check a data dir the way Kaldi's ``validate_data_dir.sh`` does; raise ``DataDirError`` if bad.

    Utterance ids that do not start with their speaker id are only a warning (in the summary).
    ``check_audio`` checks that plain audio paths exist (commands are not run).
    """
    directory = Path(path)
    if not directory.is_dir():
        raise DataDirError(f"{directory}: not a directory")
    problems, warnings, tables = _check(directory, check_audio)
    if problems:
        raise DataDirError(problems, max_problems)
    has_segments = "segments" in tables
    return DataDirSummary(
        path=directory,
        utterances=len(tables["utt2spk"]),
        speakers=len({line.value for line in tables["utt2spk"].values()}),
        recordings=len(tables["wav.scp"]),
        has_segments=has_segments,
        extra_files=tuple(n for n in tables if n not in _CORE),
        warnings=tuple(warnings),
    )


def _check(directory: Path, check_audio: bool) -> tuple[list[str], list[str], dict[str, dict[str, Entry]]]:
    """All problems and warnings of a dir, and its tables (first line of each id)."""
    problems = [f"{directory / n}: missing required file" for n in REQUIRED if not (directory / n).is_file()]
    warnings: list[str] = []
    names = _table_names(directory)
    has_segments = "segments" in names
    tables: dict[str, dict[str, Entry]] = {}
    for name in names:
        parsed = _parse(directory / name, allow_empty=name == "text")
        problems += parsed.problems
        problems += _check_ids(directory / name, parsed.lines, _id_word(name, has_segments))
        tables[name] = _first(parsed.lines)
    problems += _check_values(directory, tables)
    utt_names = [n for n in tables if _utt_keyed(n, has_segments)]
    problems += _check_same_ids(directory, tables, utt_names)
    if "utt2spk" in tables:
        if "spk2utt" in tables:
            problems += _check_spk2utt(directory / "spk2utt", tables["spk2utt"], tables["utt2spk"])
        speakers = {line.value for line in tables["utt2spk"].values()}
        for name in (n for n in tables if _kind(n) == "spk"):
            problems += _check_cover(directory / name, tables[name], speakers, "speaker", "utt2spk")
        warnings += _prefix_warnings(directory / "utt2spk", tables["utt2spk"])
    if has_segments and "wav.scp" in tables:
        recordings = tables["wav.scp"]
        for name in (n for n in tables if _kind(n) == "rec" and n != "wav.scp"):
            problems += _check_cover(directory / name, tables[name], set(recordings), "recording", "wav.scp")
        used = {_recording(line.value) for line in tables["segments"].values()}
        unused = byte_sorted(set(recordings) - used)
        if unused:
            warnings.append(f"{directory / 'wav.scp'}: {len(unused)} recording(s) used by no segment "
                            f"({_some(unused)}); fix_data_dir drops them")
    if check_audio and "wav.scp" in tables:
        problems += _check_audio(directory / "wav.scp", tables["wav.scp"])
    if all(n in tables for n in REQUIRED) and not any(tables[n] for n in utt_names):
        problems.append(f"{directory}: no utterances")
    return problems, warnings, tables


def _check_ids(path: Path, lines: list[Entry], word: str) -> list[str]:
    """Duplicate ids, and the first id out of C-locale order."""
    problems = []
    seen: dict[str, int] = {}
    for line in lines:
        if line.key in seen:
            problems.append(f"{path}:{line.number}: duplicate {word} id {line.key!r} "
                            f"(first on line {seen[line.key]})")
        seen.setdefault(line.key, line.number)
    for prev, line in zip(lines, lines[1:], strict=False):
        if line.key.encode() < prev.key.encode():
            problems.append(f"{path}:{line.number}: not sorted: {line.key!r} after {prev.key!r} "
                            "(C-locale byte order)")
            break  # one is enough: fix_data_dir sorts the whole file
    return problems


def _check_values(directory: Path, tables: dict[str, dict[str, Entry]]) -> list[str]:
    """Empty transcripts, multi-word speaker ids and bad segments."""
    problems = []
    for utt, line in tables.get("text", {}).items():
        if not line.value:
            problems.append(f"{directory / 'text'}:{line.number}: empty transcript for {utt!r}")
    for utt, line in tables.get("utt2spk", {}).items():
        if len(line.value.split()) != 1:
            problems.append(f"{directory / 'utt2spk'}:{line.number}: speaker id of {utt!r} "
                            f"is not one word: {line.value!r}")
    recordings = tables.get("wav.scp")
    for utt, line in tables.get("segments", {}).items():
        why = _segment_problem(line.value, recordings)
        if why:
            problems.append(f"{directory / 'segments'}:{line.number}: {why} for {utt!r}")
    return problems


def _check_same_ids(directory: Path, tables: dict[str, dict[str, Entry]], names: list[str]) -> list[str]:
    """Utterances present in some per-utterance tables but not in the others."""
    everywhere = set().union(*(tables[n] for n in names)) if names else set()
    problems = []
    for name in names:
        for utt in byte_sorted(everywhere - set(tables[name])):
            holders = " ".join(n for n in names if utt in tables[n])
            problems.append(f"{directory / name}: utterance {utt!r} is missing (it is in {holders})")
    return problems


def _check_cover(
    path: Path, table: dict[str, Entry], expected: set[str], word: str, source: str
) -> list[str]:
    """A per-speaker or per-recording table must list exactly the ids of ``source``."""
    missing = byte_sorted(expected - set(table))
    problems = [f"{path}: {word} {key!r} of {source} is missing" for key in missing]
    problems += [f"{path}:{table[key].number}: unknown {word} {key!r} (not in {source})"
                 for key in byte_sorted(set(table) - expected)]
    return problems


def _check_spk2utt(path: Path, spk2utt: dict[str, Entry], utt2spk: dict[str, Entry]) -> list[str]:
    """spk2utt must be exactly the inverse of utt2spk."""
    expected: dict[str, set[str]] = {}
    for utt, line in utt2spk.items():
        expected.setdefault(line.value, set()).add(utt)
    problems = []
    for spk, line in spk2utt.items():
        if spk not in expected:
            problems.append(f"{path}:{line.number}: speaker {spk!r} is not in utt2spk")
            continue
        listed = line.value.split()
        missing = byte_sorted(expected[spk] - set(listed))
        extra = byte_sorted(set(listed) - expected[spk])
        if missing or extra or len(listed) != len(set(listed)):
            detail = [f"missing {_some(missing)}"] if missing else []
            detail += [f"extra {_some(extra)}"] if extra else []
            detail += ["repeated ids"] if len(listed) != len(set(listed)) else []
            problems.append(f"{path}:{line.number}: utterances of speaker {spk!r} do not match utt2spk "
                            f"({'; '.join(detail)})")
    problems += [f"{path}: speaker {spk!r} of utt2spk is missing"
                 for spk in byte_sorted(set(expected) - set(spk2utt))]
    return problems


def _check_audio(path: Path, wav: dict[str, Entry]) -> list[str]:
    problems = []
    for line in wav.values():
        audio = recording_file(line.value)
        if audio is not None and not audio.is_file():
            problems.append(f"{path}:{line.number}: audio file not found: {audio}")
    return problems


def _prefix_warnings(path: Path, utt2spk: dict[str, Entry]) -> list[str]:
    bad = [(utt, line.value) for utt, line in utt2spk.items() if not utt.startswith(line.value)]
    if not bad:
        return []
    utt, spk = bad[0]
    return [f"{path}: {len(bad)} utterance id(s) do not start with their speaker id (e.g. {utt!r} of "
            f"{spk!r}); Kaldi recommends the prefix so that sorting by utterance also sorts by speaker"]


# ----------------------------------------------------------------------------- writing


def _write_tables(directory: Path, tables: Tables) -> None:
    """Write every table sorted, and spk2utt regenerated from utt2spk, each file atomically."""
    for name, table in tables.items():
        atomic_write_text(directory / name, render_table(table))
    atomic_write_text(directory / "spk2utt", render_table(spk2utt_table(tables["utt2spk"])))


def _restrict(tables: Tables, utts: set[str]) -> Tables:
    """The tables cut down to ``utts``, their speakers and (with segments) their recordings."""
    speakers = {tables["utt2spk"][u] for u in utts}
    if "segments" in tables:
        recordings = {_recording(tables["segments"][u]) for u in utts}
    else:
        recordings = utts
    keep = {"utt": utts, "spk": speakers, "rec": recordings}
    return {name: {k: v for k, v in table.items() if k in keep[_kind(name) or "utt"]}
            for name, table in tables.items()}


def _load_valid(directory: Path) -> tuple[Tables, list[str]]:
    """The tables of a dir that must already be valid (audio not checked), and its warnings."""
    if not directory.is_dir():
        raise DataDirError(f"{directory}: not a directory")
    problems, warnings, tables = _check(directory, check_audio=False)
    if problems:
        raise DataDirError(problems)
    values = {n: {k: line.value for k, line in t.items()} for n, t in tables.items() if n != "spk2utt"}
    return values, warnings


def _check_destination(dst: Path, overwrite: bool) -> None:
    if dst.exists() and not dst.is_dir():
        raise DataDirError(f"{dst}: exists and is not a directory")
    if dst.is_dir() and any(dst.iterdir()) and not overwrite:
        raise DataDirError(f"{dst}: already exists and is not empty (pass overwrite to replace it)")


def _publish(dst: Path, tables: Tables) -> None:
    """Write ``tables`` into a temp dir beside ``dst``, check it, then rename it to ``dst``."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".{dst.name}.tmp-{secrets.token_hex(4)}"
    tmp.mkdir()  # not mkdtemp: that would leave the dir mode 0700
    try:
        _write_tables(tmp, tables)
        problems, _, _ = _check(tmp, check_audio=False)
        if problems:  # a bug here, never a user error: the sources were valid
            raise DataDirError([f"internal error, output invalid: {p}" for p in problems])
        _swap_in(tmp, dst)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _swap_in(tmp: Path, dst: Path) -> None:
    """Rename ``tmp`` to ``dst``; a non-empty ``dst`` is moved aside first and deleted after."""
    if not (dst.is_dir() and any(dst.iterdir())):
        os.replace(tmp, dst)  # rename(2) replaces a missing or empty dir in one step
        return
    old = dst.parent / f".{dst.name}.old-{secrets.token_hex(4)}"
    os.rename(dst, old)
    try:
        os.rename(tmp, dst)
    except BaseException:
        os.rename(old, dst)
        raise
    shutil.rmtree(old)


# ----------------------------------------------------------------------------- fix


def fix_data_dir(path: str | Path) -> FixReport:
    """Repair a data dir in place, like Kaldi's ``fix_data_dir.sh``.

    Sorts every table, removes blank/malformed lines and exact duplicate lines (duplicate ids
    with different values are an error: there is no telling which is right), keeps only
    utterances that every table can describe and that have a transcript and a sane segment,
    and regenerates spk2utt. Originals are copied to ``path/.backup/`` (replacing an earlier
    backup) before each file is replaced atomically. Nothing is changed when an error is raised.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise DataDirError(f"{directory}: not a directory")
    # spk2utt is not needed: it is regenerated
    missing = [f"{directory / n}: missing required file" for n in REQUIRED if n != "spk2utt"
               and not (directory / n).is_file()]
    if missing:
        raise DataDirError(missing)
    names = _table_names(directory)
    has_segments = "segments" in names
    tables: Tables = {}
    removed: Counter[str] = Counter()
    resorted, problems = [], []
    for name in (n for n in names if n != "spk2utt"):
        parsed = _parse(directory / name, allow_empty=name == "text")
        if not parsed.readable:
            problems += parsed.problems
            continue
        tables[name], duplicates, conflicts = _dedupe(directory / name, parsed.lines,
                                                      _id_word(name, has_segments))
        problems += conflicts
        removed[name] += parsed.dropped + duplicates
        keys = [line.key.encode() for line in parsed.lines]
        if keys != sorted(keys):
            resorted.append(name)
    if problems:
        raise DataDirError(problems)

    reasons = _drop_reasons(tables, has_segments)
    everywhere = set().union(*(tables[n] for n in tables if _utt_keyed(n, has_segments)))
    kept = everywhere - set(reasons)
    dropped = dict(Counter(reasons.values()))
    if not kept:
        raise DataDirError(f"{directory}: no utterances would be left "
                           f"({_reason_list(dropped)}); nothing changed")
    fixed = _restrict(tables, kept)

    backup = directory / ".backup"
    backup.mkdir(exist_ok=True)
    for name in names:
        shutil.copy2(directory / name, backup / name)
    _write_tables(directory, fixed)
    return FixReport(
        path=directory,
        utterances_before=len(everywhere),
        utterances_after=len(kept),
        dropped=dropped,
        dropped_utterances={u: reasons[u] for u in byte_sorted(reasons)},
        removed_lines={n: c for n, c in removed.items() if c},
        resorted=tuple(resorted),
        recordings_dropped=len(tables["wav.scp"]) - len(fixed["wav.scp"]) if has_segments else 0,
        backup_dir=backup,
    )


def _reason_list(dropped: dict[str, int]) -> str:
    return ", ".join(f"{n} {why}" for why, n in sorted(dropped.items()))


def _dedupe(path: Path, lines: list[Entry], word: str) -> tuple[dict[str, str], int, list[str]]:
    """One value per id: exact repeats are counted and dropped, conflicting ones reported."""
    table: dict[str, str] = {}
    first: dict[str, int] = {}
    duplicates, conflicts = 0, []
    for line in lines:
        if line.key not in table:
            table[line.key], first[line.key] = line.value, line.number
        elif table[line.key] == line.value:
            duplicates += 1
        else:
            conflicts.append(f"{path}:{line.number}: duplicate {word} id {line.key!r} with a different value "
                             f"than line {first[line.key]}")
    return table, duplicates, conflicts


def _drop_reasons(tables: Tables, has_segments: bool) -> dict[str, str]:
    """Why each utterance that cannot be kept is dropped (first reason found)."""
    utt_names = [n for n in tables if _utt_keyed(n, has_segments)]
    spk_names = [n for n in tables if _kind(n) == "spk"]
    rec_names = [n for n in tables if _kind(n) == "rec"] if has_segments else []
    reasons: dict[str, str] = {}
    for utt in set().union(*(tables[n] for n in utt_names)):
        reason = next((f"not in {n}" for n in utt_names if utt not in tables[n]), None)
        if reason is None and not tables["text"][utt]:
            reason = "empty transcript"
        if reason is None and has_segments:
            seg = tables["segments"][utt]
            reason = "bad segment" if _segment_problem(seg, None) else next(
                (f"recording not in {n}" for n in rec_names if _recording(seg) not in tables[n]), None)
        speaker = tables["utt2spk"].get(utt, "")
        if reason is None and len(speaker.split()) != 1:
            reason = "speaker id not one word"
        if reason is None:
            reason = next((f"speaker not in {n}" for n in spk_names if speaker not in tables[n]), None)
        if reason is not None:
            reasons[utt] = reason
    return reasons


# ----------------------------------------------------------------------------- subset


def subset_data_dir(
    src: str | Path,
    dst: str | Path,
    *,
    first: int | None = None,
    last: int | None = None,
    random: int | None = None,
    seed: int = 0,
    utt_list: Iterable[str] | str | Path | None = None,
    spk_list: Iterable[str] | str | Path | None = None,
    overwrite: bool = False,
) -> DataDirSummary:
    """Copy a consistent subset of the valid dir ``src`` to ``dst``; exactly one selector.

    ``first``/``last``/``random`` take N utterances in sorted order (``random`` draws with
    ``seed``); ``utt_list``/``spk_list`` are ids, or a file (``str`` or ``Path``) with one id
    per line as in Kaldi. Unknown ids, an empty selection or N above the number available are
    errors. With segments only the recordings still used are kept.
    """
    chosen = {n: v for n, v in (("first", first), ("last", last), ("random", random),
                                ("utt_list", utt_list), ("spk_list", spk_list)) if v is not None}
    if len(chosen) != 1:
        raise ValueError(f"subset_data_dir: give exactly one of first, last, random, utt_list, spk_list "
                         f"(got {', '.join(chosen) or 'none'})")
    [(selector, value)] = chosen.items()
    src, dst = Path(src), Path(dst)
    _check_destination(dst, overwrite)
    tables, _ = _load_valid(src)
    utts = _select(src, tables, selector, value, seed)
    _publish(dst, _restrict(tables, utts))
    return validate_data_dir(dst, check_audio=False)


def _select(src: Path, tables: Tables, selector: str, value, seed: int) -> set[str]:
    utts = byte_sorted(tables["utt2spk"])
    if selector in ("utt_list", "spk_list"):
        ids = _read_ids(value) if isinstance(value, (str, Path)) else list(value)
        pool = utts if selector == "utt_list" else set(tables["utt2spk"].values())
        word = "utterance" if selector == "utt_list" else "speaker"
        if not ids:
            raise DataDirError(f"{src}: {selector} is empty, nothing to select")
        unknown = byte_sorted(set(ids) - set(pool))
        if unknown:
            raise DataDirError(f"{src}: {selector} names {len(unknown)} {word}(s) not in the data dir: "
                               f"{_some(unknown)}")
        wanted = set(ids)
        return wanted if selector == "utt_list" else {u for u in utts if tables["utt2spk"][u] in wanted}
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"subset_data_dir: {selector} must be an int, got {value!r}")
    if value < 1:
        raise DataDirError(f"{src}: {selector}={value} selects no utterances")
    if value > len(utts):
        raise DataDirError(f"{src}: {selector}={value} asks for more than the {len(utts)} utterances there")
    if selector == "first":
        return set(utts[:value])
    if selector == "last":
        return set(utts[-value:])
    return set(Random(seed).sample(utts, value))


def _read_ids(path: str | Path) -> list[str]:
    """First word of each non-blank line of an id list file."""
    try:
        return [line.split()[0] for _, line in numbered_lines(path, "id list")]
    except SpikespeechError as e:
        raise DataDirError(str(e)) from None
    except OSError as e:  # a directory, no permission
        raise DataDirError(f"{path}: cannot read id list ({e.strerror})") from None


# ----------------------------------------------------------------------------- combine


def combine_data_dirs(
    dst: str | Path, srcs: Sequence[str | Path], *, overwrite: bool = False
) -> DataDirSummary:
    """Merge valid data dirs into ``dst``.

    The same utterance id in two sources is an error naming both; the same speaker may appear
    in several. Recordings and per-speaker entries shared by sources must agree. Mixing dirs
    with and without segments gives the plain ones whole-file segments (see module docstring).
    Optional tables that not every source has are left out and named in the warnings.
    """
    dst, sources = Path(dst), [Path(s) for s in srcs]
    if not sources:
        raise ValueError("combine_data_dirs: no source dirs given")
    twice = [s for s, n in Counter(s.resolve() for s in sources).items() if n > 1]
    if twice:
        raise DataDirError(f"{twice[0]}: given more than once")
    _check_destination(dst, overwrite)
    loaded = [(src, _load_valid(src)[0]) for src in sources]
    if len({"segments" in tables for _, tables in loaded}) > 1:
        loaded = [(src, tables if "segments" in tables else _whole_file_segments(src, tables))
                  for src, tables in loaded]
    names = [n for n in loaded[0][1] if all(n in tables for _, tables in loaded)]
    left_out = byte_sorted({n for _, tables in loaded for n in tables} - set(names))
    _publish(dst, _merge(loaded, names))
    summary = validate_data_dir(dst, check_audio=False)
    if left_out:
        note = f"{dst}: left out {' '.join(left_out)}: not in every source"
        summary = replace(summary, warnings=(*summary.warnings, note))
    return summary


def _merge(loaded: list[tuple[Path, Tables]], names: list[str]) -> Tables:
    merged: Tables = {n: {} for n in names}
    owner: dict[tuple[str, str], Path] = {}
    has_segments = "segments" in names
    problems = []
    for src, tables in loaded:
        for name in names:
            for key, value in tables[name].items():
                if key not in merged[name]:
                    merged[name][key], owner[name, key] = value, src
                elif name == "utt2spk":  # reported once per utterance, not once per table
                    problems.append(f"{src}: duplicate utterance id {key!r} (also in {owner[name, key]})")
                elif value != merged[name][key] and not _utt_keyed(name, has_segments):
                    problems.append(f"{src / name}: {_id_word(name, has_segments)} {key!r} differs from "
                                    f"{owner[name, key] / name}")
    if problems:
        raise DataDirError(problems)
    return merged


def _whole_file_segments(src: Path, tables: Tables) -> Tables:
    """Give each utterance of a dir without segments a segment spanning its whole recording."""
    durations = tables.get("utt2dur", {})
    segments, problems = {}, []
    for utt, spec in tables["wav.scp"].items():
        try:
            seconds = float(durations[utt]) if utt in durations else _duration(spec)
        except (ValueError, RuntimeError, OSError) as e:
            problems.append(f"{src / 'wav.scp'}: cannot give {utt!r} a whole-file segment: {e}")
            continue
        if not seconds >= 1e-6:
            problems.append(f"{src / 'wav.scp'}: cannot give {utt!r} a whole-file segment: "
                            f"duration {seconds}")
            continue
        segments[utt] = f"{utt} 0 {seconds:.6f}".rstrip("0").rstrip(".")
    if problems:
        raise DataDirError(problems)
    return {**tables, "segments": segments}


def _duration(spec: str) -> float:
    if recording_file(spec) is None:
        raise ValueError("its audio is a command; add utt2dur, or combine only dirs that all have "
                         "(or all lack) segments")
    return recording_duration(spec)


# ----------------------------------------------------------------------------- CLI


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="datadir", description="Kaldi data-dir utilities.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{validate,fix,subset,combine}")
    p = commands.add_parser("validate", help="check a data dir (exit 1 listing the problems)")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--no-audio-check", action="store_true", help="do not check that audio files exist")
    p.add_argument("--max-problems", type=int, default=20, help="problems to list (default 20)")
    p = commands.add_parser("fix", help="sort, dedupe and filter a data dir in place (backup in DIR/.backup)")
    p.add_argument("dir", metavar="DIR")
    p = commands.add_parser("subset", help="copy a subset of a data dir")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    pick = p.add_mutually_exclusive_group(required=True)
    pick.add_argument("--first", type=int, metavar="N", help="the first N utterances (sorted)")
    pick.add_argument("--last", type=int, metavar="N", help="the last N utterances (sorted)")
    pick.add_argument("--random", type=int, metavar="N", help="N utterances drawn at random")
    pick.add_argument("--utt-list", metavar="FILE", help="the utterances listed (first word of each line)")
    pick.add_argument("--spk-list", metavar="FILE", help="all utterances of the speakers listed")
    p.add_argument("--seed", type=int, help="random seed for --random (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing DST")
    p = commands.add_parser("combine", help="merge data dirs into DST")
    p.add_argument("dst", metavar="DST")
    p.add_argument("srcs", nargs="+", metavar="SRC")
    p.add_argument("--overwrite", action="store_true", help="replace an existing DST")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 validation problems, 2 usage/other errors)."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # usage errors and --help; the message is already printed
        return e.code if isinstance(e.code, int) else 2
    prog = f"datadir {args.command}"
    try:
        return _run(args, prog)
    except DataDirError as e:
        for line in e.lines():
            print(f"{prog}: error: {line}", file=sys.stderr)
    except OSError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace, prog: str) -> int:
    if args.command == "validate":
        return _validate_command(args, prog)
    if args.command == "fix":
        print(fix_data_dir(args.dir))
        return 0
    if args.command == "subset":
        if args.seed is not None and args.random is None:
            raise DataDirError("--seed only goes with --random")
        selector = {k: getattr(args, k) for k in ("first", "last", "random", "utt_list", "spk_list")}
        summary = subset_data_dir(args.src, args.dst, seed=args.seed or 0, overwrite=args.overwrite,
                                  **{k: v for k, v in selector.items() if v is not None})
    else:
        summary = combine_data_dirs(args.dst, args.srcs, overwrite=args.overwrite)
    for warning in summary.warnings:
        print(f"{prog}: warning: {warning}", file=sys.stderr)
    print(summary)
    return 0


def _validate_command(args: argparse.Namespace, prog: str) -> int:
    if not Path(args.dir).is_dir():
        raise DataDirError(f"{args.dir}: not a directory")
    try:
        summary = validate_data_dir(args.dir, check_audio=not args.no_audio_check,
                                    max_problems=args.max_problems)
    except DataDirError as e:
        for line in e.lines():
            print(line, file=sys.stderr)
        print(f"{prog}: {args.dir}: {len(e.problems)} problem(s)", file=sys.stderr)
        return 1
    for warning in summary.warnings:
        print(f"{prog}: warning: {warning}", file=sys.stderr)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
