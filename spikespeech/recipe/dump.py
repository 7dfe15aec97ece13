"""Format/dump stage: decode a Kaldi data dir's audio, resample it and write PCM files.

``python -m spikespeech.recipe.dump --fs 16000 [--nj N] [--audio_format wav|flac] SRC_DIR DST_DIR``

``wav.scp`` values are file paths (any format :func:`spikespeech.audio.io.load_audio` reads),
Kaldi pipes (``cmd |``: the command's stdout is the audio) or archive offsets (``file.ark:offset``).
With a ``segments`` file (``utt rec start end``, seconds; ``end`` -1 = to the end) each utterance
is cut out of its recording. Every utterance becomes ``DST_DIR/data/<utt>.<fmt>`` (mono, 16-bit
PCM at ``fs``) and ``DST_DIR`` gets ``wav.scp`` (absolute paths), ``text``, ``utt2spk``,
``spk2utt``, ``utt2num_samples`` and ``fs``.

Unusable utterances are skipped with one stderr line each; files are written atomically and
up-to-date outputs are kept, so an interrupted run can simply be started again. Exit status:
0 when at least one utterance was written, 1 when none was (or the data dir is broken),
2 for usage errors.

The dumped-dir format shared with the later stages (:mod:`.perturb`, :mod:`.filter`) is
:mod:`.audio_dir`; recordings are read by :mod:`spikespeech.audio.recording`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

from spikespeech.argtypes import positive_int
from spikespeech.audio.io import AudioError
from spikespeech.audio.recording import cut_segment, read_recording, recording_file
from spikespeech.audio.write import AUDIO_FORMATS, write_audio
from spikespeech.data.kaldi import parse_segment, read_table, segment_problem, unique_entries
from spikespeech.recipe.audio_dir import (
    AudioEntry,
    check_dirs,
    existing_output,
    mtime,
    parse_rate,
    remove_stale_temps,
    usable_file_name,
    write_audio_dir,
)
from spikespeech.recipe.parallel import run_parallel

TMP_SUFFIX = ".tmp"  # audio temp files are ".<name>.<random>.tmp" beside their target
# Files of an older dir at DST that would no longer match the new one (removed on write).
STALE_FILES = ("segments", "utt2dur", "reco2dur", "utt2num_frames", "feats.scp", "cmvn.scp",
               "reco2file_and_channel")

T = TypeVar("T")
R = TypeVar("R")


# --------------------------------------------------------------------------------------------
# The dump stage
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    utt_id: str
    start: float
    end: float | None  # None: to the end of the recording


@dataclass(frozen=True)
class _Job:
    """One recording and the utterances cut out of it."""

    rec_id: str
    spec: str
    segments: tuple[_Segment, ...]
    data_dir: str
    fs: int
    audio_format: str
    not_before: float  # outputs older than this (wav.scp / segments mtime) are redone


@dataclass(frozen=True)
class _Result:
    utt_id: str
    num_samples: int | None
    problem: str | None = None
    reused: bool = False


@dataclass
class DumpReport:
    """What :func:`dump_data_dir` did; ``written`` counts reused up-to-date files too."""

    dst: Path
    fs: int
    written: int
    reused: int
    skipped: dict[str, str] = field(default_factory=dict)
    total_samples: int = 0

    @property
    def hours(self) -> float:
        return self.total_samples / self.fs / 3600.0

    def summary(self) -> str:
        return (f"dump: {self.written} written ({self.reused} up to date), {len(self.skipped)} skipped, "
                f"{self.hours:.4f} hours at {self.fs} Hz -> {self.dst}")


def dump_data_dir(src: str | Path, dst: str | Path, fs: int, nj: int = 1, audio_format: str = "wav",
                  log: TextIO | None = None) -> DumpReport:
    """Dump ``src`` (Kaldi dir) to ``dst``: audio files at ``fs`` plus a new data dir.

    Skipped utterances are reported on ``log`` (default stderr), one line each, and in the
    report. Raises ValueError for a broken ``src`` or when no utterance could be written.
    ``nj`` > 1 spawns worker processes: call it from a ``__main__``-guarded script.
    """
    src, dst = Path(src), Path(dst)
    fs = _check_args(src, dst, fs, nj, audio_format)
    log = sys.stderr if log is None else log
    data_dir = dst / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(data_dir)
    texts = read_table(src / "text")
    speakers = read_table(src / "utt2spk") if (src / "utt2spk").exists() else {}
    jobs, skipped = _plan_jobs(src, texts, data_dir, fs, audio_format)
    results = [r for batch in run_parallel(_dump_job, jobs, nj) for r in batch]
    skipped.update({r.utt_id: r.problem for r in results if r.problem is not None})
    for utt in sorted(skipped):
        print(f"dump: skipping {utt}: {skipped[utt]}", file=log)
    done = [r for r in results if r.problem is None]
    if not done:
        raise ValueError(f"{src}: no utterance could be dumped ({len(skipped)} skipped)")
    entries = [AudioEntry(r.utt_id, speakers.get(r.utt_id) or r.utt_id,
                          str((data_dir / f"{r.utt_id}.{audio_format}").resolve()), texts[r.utt_id],
                          r.num_samples) for r in done]
    write_audio_dir(entries, dst, fs)
    return DumpReport(dst, fs, len(done), sum(r.reused for r in done), skipped,
                      sum(r.num_samples or 0 for r in done))


def _check_args(src: Path, dst: Path, fs: int, nj: int, audio_format: str) -> int:
    """Validate the arguments shared by the API and the CLI; returns ``fs`` as int."""
    if audio_format not in AUDIO_FORMATS:
        raise ValueError(f"audio format {audio_format!r}: choose one of {', '.join(AUDIO_FORMATS)}")
    if int(fs) != fs or fs <= 0:
        raise ValueError(f"fs {fs!r}: must be a positive whole number of Hz")
    if nj < 1:
        raise ValueError(f"nj {nj!r}: must be at least 1")
    check_dirs(src, dst)
    return int(fs)


def _plan_jobs(src: Path, texts: dict[str, str], data_dir: Path, fs: int,
               audio_format: str) -> tuple[list[_Job], dict[str, str]]:
    """Group utterances by recording; returns (jobs, utterances skipped before decoding)."""
    wav = read_table(src / "wav.scp")
    segments_path = src / "segments"
    if segments_path.exists():
        by_rec, skipped = _read_segments(segments_path, wav)
        not_before = max(mtime(src / "wav.scp"), mtime(segments_path))
    else:
        by_rec = {rec: [_Segment(rec, 0.0, None)] for rec in wav}
        skipped = {}
        not_before = mtime(src / "wav.scp")
    jobs = []
    for rec in sorted(by_rec):
        keep = []
        for seg in sorted(by_rec[rec], key=lambda s: s.utt_id):
            problem = _entry_problem(seg.utt_id, wav[rec], texts)
            if problem:
                skipped[seg.utt_id] = problem
            else:
                keep.append(seg)
        if keep:
            jobs.append(_Job(rec, wav[rec], tuple(keep), str(data_dir), fs, audio_format, not_before))
    return jobs, skipped


def _entry_problem(utt: str, spec: str, texts: dict[str, str]) -> str | None:
    """Why an utterance cannot be dumped before even reading it (None when it can)."""
    if not usable_file_name(utt):
        return "utterance id cannot be used as a file name"
    if utt not in texts:
        return "no transcript in text"
    if not spec.strip():
        return "empty wav.scp entry"
    return None


def _read_segments(path: Path, wav: dict[str, str]) -> tuple[dict[str, list[_Segment]], dict[str, str]]:
    """Parse ``utt rec start end`` lines; returns (segments by recording, skipped utterances)."""
    by_rec: dict[str, list[_Segment]] = {}
    skipped: dict[str, str] = {}
    for entry in unique_entries(path, ids="utterance id"):
        try:
            seg = parse_segment(entry.value)
        except ValueError as error:
            got = f"{entry.key} {entry.value}".strip()
            raise ValueError(f"{path}:{entry.number}: {error}, got {got!r}") from None
        problem = segment_problem(seg)
        if seg.recording not in wav:
            skipped[entry.key] = f"recording {seg.recording!r} of segments is not in wav.scp"
        elif problem:
            skipped[entry.key] = f"segment {problem}"
        else:
            end = None if seg.end == -1 else seg.end
            by_rec.setdefault(seg.recording, []).append(_Segment(entry.key, seg.start, end))
    return by_rec, skipped


def _dump_job(job: _Job) -> list[_Result]:
    """Decode one recording (only if some output is missing or stale) and write its utterances."""
    data_dir = Path(job.data_dir)
    outputs = {s.utt_id: data_dir / f"{s.utt_id}.{job.audio_format}" for s in job.segments}
    source = recording_file(job.spec)
    not_before = max(job.not_before, mtime(source) if source is not None else 0.0)
    results, todo = [], []
    for seg in job.segments:
        frames = existing_output(outputs[seg.utt_id], job.fs, job.audio_format, not_before)
        if frames is None:
            todo.append(seg)
        else:
            results.append(_Result(seg.utt_id, frames, reused=True))
    if not todo:
        return results
    try:
        audio = read_recording(job.spec, job.fs)
    except AudioError as error:
        return results + [_Result(s.utt_id, None, str(error)) for s in todo]
    for seg in todo:
        try:
            piece = cut_segment(audio, job.fs, seg.start, seg.end)
        except AudioError as error:
            results.append(_Result(seg.utt_id, None, f"{job.rec_id}: {error}"))
            continue
        frames = write_audio(outputs[seg.utt_id], piece, job.fs, job.audio_format)
        results.append(_Result(seg.utt_id, frames))
    return results


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def rate_arg(value: str) -> int:
    """argparse type for ``--fs``."""
    try:
        return parse_rate(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m spikespeech.recipe.dump",
        description="Decode a Kaldi data dir, resample to --fs and write 16-bit PCM files + a new data dir.")
    parser.add_argument("--fs", type=rate_arg, required=True, help="target rate in Hz (16000 or 16k)")
    parser.add_argument("--nj", type=positive_int, default=1, help="parallel worker processes")
    parser.add_argument("--audio_format", "--audio-format", choices=sorted(AUDIO_FORMATS), default="wav")
    parser.add_argument("src", metavar="SRC_DIR", help="Kaldi dir: wav.scp, text, [utt2spk, segments]")
    parser.add_argument("dst", metavar="DST_DIR", help="output data dir (audio goes to DST_DIR/data)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_dirs(Path(args.src), Path(args.dst))
    except ValueError as error:
        parser.error(str(error))
    try:
        report = dump_data_dir(args.src, args.dst, args.fs, nj=args.nj, audio_format=args.audio_format)
    except ValueError as error:
        print(f"dump: error: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    # Run the package module's main so that worker processes find the job function by name.
    from spikespeech.recipe.dump import main as _main

    sys.exit(_main())
