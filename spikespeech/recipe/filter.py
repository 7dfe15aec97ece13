"""Length filtering of a dumped data dir (duration range, empty and over-long transcripts).

``python -m spikespeech.recipe.filter [--min_sec 0.1] [--max_sec 20] [--max_text_ratio R] SRC_DIR DST_DIR``

Durations come from ``utt2num_samples`` and ``fs`` (both written by the dump stage; missing
either is an error). An utterance is kept when ``min_sec <= duration <= max_sec``, its text is
not empty and, with ``--max_text_ratio R``, its transcript has at most ``duration * R``
characters (spaces between words included, as a character-level CTC target would have them);
longer texts cannot be aligned by CTC at the encoder's frame rate. The first failing reason
is counted per utterance. DST_DIR gets a consistent data dir (``wav.scp`` values unchanged,
``utt2num_samples`` and ``fs`` carried); it is an error if nothing remains.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spikespeech.recipe.audio_dir import AudioEntry, check_dirs, read_audio_dir, write_audio_dir

REASONS = ("no length", "empty text", "too short", "too long", "text too long")


@dataclass
class FilterReport:
    """Kept count and the dropped utterance ids per reason (see :data:`REASONS`)."""

    dst: Path
    kept: int
    dropped: dict[str, list[str]] = field(default_factory=lambda: {r: [] for r in REASONS})

    @property
    def total(self) -> int:
        return self.kept + sum(len(ids) for ids in self.dropped.values())

    def summary(self) -> str:
        counts = ", ".join(f"{reason} {len(ids)}" for reason, ids in self.dropped.items())
        return f"filter: kept {self.kept} of {self.total} utterances; dropped: {counts} -> {self.dst}"


def drop_reason(entry: AudioEntry, fs: int, min_sec: float, max_sec: float,
                max_text_ratio: float | None) -> str | None:
    """The first reason (from :data:`REASONS`) to drop ``entry``, or None to keep it."""
    if entry.num_samples is None or entry.num_samples <= 0:
        return "no length"
    if not entry.text.strip():
        return "empty text"
    seconds = entry.num_samples / fs
    if seconds < min_sec:
        return "too short"
    if seconds > max_sec:
        return "too long"
    if max_text_ratio is not None and len(entry.text.strip()) > seconds * max_text_ratio:
        return "text too long"
    return None


def filter_data_dir(src: str | Path, dst: str | Path, min_sec: float = 0.1, max_sec: float = 20.0,
                    max_text_ratio: float | None = None) -> FilterReport:
    """Write the kept utterances of dumped dir ``src`` to ``dst``; ValueError if none is kept."""
    src, dst = Path(src), Path(dst)
    check_limits(min_sec, max_sec, max_text_ratio)
    check_dirs(src, dst)
    entries, fs = read_audio_dir(src, need_lengths=True)
    report = FilterReport(dst, 0)
    kept = []
    for entry in entries:
        reason = drop_reason(entry, fs, min_sec, max_sec, max_text_ratio)
        if reason is None:
            kept.append(entry)
        else:
            report.dropped[reason].append(entry.utt_id)
    if not kept:
        raise ValueError(f"{src}: no utterance left after filtering ({report.summary()})")
    write_audio_dir(kept, dst, fs)
    report.kept = len(kept)
    return report


def check_limits(min_sec: float, max_sec: float, max_text_ratio: float | None) -> None:
    """ValueError for a negative/empty duration range or a non-positive text ratio."""
    if not (math.isfinite(min_sec) and min_sec >= 0):
        raise ValueError(f"min_sec {min_sec!r}: must be a non-negative number")
    if not (max_sec > min_sec):  # also rejects NaN
        raise ValueError(f"max_sec {max_sec!r}: must be greater than min_sec {min_sec!r}")
    if max_text_ratio is not None and not (max_text_ratio > 0 and math.isfinite(max_text_ratio)):
        raise ValueError(f"max_text_ratio {max_text_ratio!r}: must be a positive number (characters/second)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m spikespeech.recipe.filter",
        description="Keep utterances by duration (utt2num_samples / fs) and transcript length.")
    parser.add_argument("--min_sec", "--min-sec", type=float, default=0.1, help="shortest kept duration")
    parser.add_argument("--max_sec", "--max-sec", type=float, default=20.0, help="longest kept duration")
    parser.add_argument("--max_text_ratio", "--max-text-ratio", type=float, default=None,
                        help="drop utterances with more than duration*R transcript characters")
    parser.add_argument("src", metavar="SRC_DIR", help="dumped data dir (utt2num_samples, fs)")
    parser.add_argument("dst", metavar="DST_DIR", help="filtered output data dir")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_limits(args.min_sec, args.max_sec, args.max_text_ratio)
        check_dirs(Path(args.src), Path(args.dst))
    except ValueError as error:
        parser.error(str(error))
    try:
        report = filter_data_dir(args.src, args.dst, args.min_sec, args.max_sec, args.max_text_ratio)
    except ValueError as error:
        print(f"filter: error: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
