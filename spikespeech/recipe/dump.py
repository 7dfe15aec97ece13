"""Format/dump stage: decode a Kaldi data dir's audio, resample it and write PCM files.

``python -m spikespeech.recipe.dump --fs 16000 [--nj N] [--audio_format wav|flac] SRC_DIR DST_DIR``

``wav.scp`` values are file paths (any format :func:`spikespeech.audio.io.load_audio` reads) or
Kaldi pipes (``cmd |``: the command's stdout is the audio). With a ``segments`` file
(``utt rec start end``, seconds; ``end`` -1 = to the end) each utterance is cut out of its
recording. Every utterance becomes ``DST_DIR/data/<utt>.<fmt>`` (mono, 16-bit PCM at ``fs``)
and ``DST_DIR`` gets ``wav.scp`` (absolute paths), ``text``, ``utt2spk``, ``spk2utt``,
``utt2num_samples`` and ``fs``.

Unusable utterances are skipped with one stderr line each; files are written atomically and
up-to-date outputs are kept, so an interrupted run can simply be started again. Exit status:
0 when at least one utterance was written, 1 when none was (or the data dir is broken),
2 for usage errors.

The helpers shared by the later stages (:mod:`.perturb`, :mod:`.filter`) live here too:
:class:`AudioEntry`, :func:`read_audio_dir`, :func:`write_audio_dir`, :func:`write_audio_atomic`.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

import numpy as np

from spikespeech.argtypes import positive_int
from spikespeech.atomic import atomic_write_text, file_mode
from spikespeech.audio.io import AudioError, load_audio
from spikespeech.audio.write import AUDIO_FORMATS, write_audio
from spikespeech.data.kaldi import read_table

MAX_SEGMENT_OVERSHOOT_SEC = 0.5  # as Kaldi's extract-segments: longer overshoots are errors
TMP_SUFFIX = ".tmp"  # audio temp files are ".<name>.<random>.tmp" beside their target
# Files of an older dir at DST that would no longer match the new one (removed on write).
STALE_FILES = ("segments", "utt2dur", "reco2dur", "utt2num_frames", "feats.scp", "cmvn.scp",
               "reco2file_and_channel")

T = TypeVar("T")
R = TypeVar("R")


# --------------------------------------------------------------------------------------------
# Dumped data dirs (shared with perturb and filter)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioEntry:
    """One utterance of a dumped data dir (``num_samples`` is None where not known)."""

    utt_id: str
    speaker: str
    audio: str
    text: str
    num_samples: int | None = None


def write_audio_dir(entries: Sequence[AudioEntry], directory: str | Path, fs: int) -> Path:
    """Write a sorted data dir with ``utt2num_samples`` and ``fs``; each file is replaced atomically.

    Empty transcripts are allowed (written as a bare id; the filter stage drops them).
    """
    directory = Path(directory)
    rows = sorted(entries, key=lambda e: e.utt_id)
    _check_entries(rows, directory)
    spk2utt: dict[str, list[str]] = {}
    for e in rows:
        spk2utt.setdefault(e.speaker, []).append(e.utt_id)
    files = {
        "wav.scp": [f"{e.utt_id} {e.audio}" for e in rows],
        "text": [f"{e.utt_id} {e.text}" if e.text else e.utt_id for e in rows],
        "utt2spk": [f"{e.utt_id} {e.speaker}" for e in rows],
        "spk2utt": [f"{s} {' '.join(ids)}" for s, ids in sorted(spk2utt.items())],
        "utt2num_samples": [f"{e.utt_id} {e.num_samples}" for e in rows],
        "fs": [str(fs)],
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name in STALE_FILES:
        (directory / name).unlink(missing_ok=True)
    for name, lines in files.items():
        atomic_write_text(directory / name, "".join(line + "\n" for line in lines))
        os.chmod(directory / name, file_mode())  # mkstemp makes 0600 files
    return directory


def _check_entries(rows: Sequence[AudioEntry], directory: Path) -> None:
    """Unique, whitespace-free ids and speakers, known lengths, one-line transcripts."""
    seen: set[str] = set()
    for e in rows:
        if e.utt_id in seen:
            raise ValueError(f"{directory}: duplicate utterance id {e.utt_id!r}")
        seen.add(e.utt_id)
        if not e.utt_id or not e.speaker or any(c.isspace() for c in e.utt_id + e.speaker):
            raise ValueError(f"{directory}: utterance {e.utt_id!r}: empty id/speaker or whitespace in it")
        if e.num_samples is None or e.num_samples <= 0:
            raise ValueError(f"{directory}: utterance {e.utt_id!r} has no positive sample count")
        if "\n" in e.text or "\n" in e.audio:
            raise ValueError(f"{directory}: utterance {e.utt_id!r} has a line break in its text or audio")


def read_fs(directory: str | Path) -> int:
    """The sampling rate stored in ``directory/fs`` (written by the dump stage)."""
    path = Path(directory) / "fs"
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found (not a dumped dir: run the dump stage first)") from None
    try:
        return parse_rate(value)
    except ValueError:
        raise ValueError(f"{path}: {value!r} is not a sampling rate") from None


def read_audio_dir(directory: str | Path, need_lengths: bool = False) -> tuple[list[AudioEntry], int]:
    """Read a dumped dir: (entries sorted by id, fs). Missing ``text`` lines read as empty text.

    With ``need_lengths`` ``utt2num_samples`` must exist; utterances it lacks get None.
    """
    directory = Path(directory)
    fs = read_fs(directory)
    wav = read_table(directory / "wav.scp")
    text = read_table(directory / "text")
    spk = read_table(directory / "utt2spk") if (directory / "utt2spk").exists() else {}
    lengths: dict[str, int] = {}
    if need_lengths:
        path = directory / "utt2num_samples"
        if not path.exists():
            raise ValueError(f"{path}: file not found (lengths are needed: run the dump stage first)")
        lengths = {utt: _parse_count(path, utt, value) for utt, value in read_table(path).items()}
    entries = [AudioEntry(u, spk.get(u) or u, wav[u], text.get(u, ""), lengths.get(u)) for u in sorted(wav)]
    return entries, fs


def _parse_count(path: Path, utt: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{path}: {utt}: {value!r} is not a sample count") from None


def parse_rate(value: str) -> int:
    """A positive sampling rate in Hz from ``16000``, ``16k`` or ``22.05k``."""
    text = str(value).strip().lower()
    scale = 1000 if text.endswith("k") else 1
    try:
        rate = float(text[:-1] if scale == 1000 else text) * scale
    except ValueError:
        raise ValueError(f"{value!r} is not a sampling rate (e.g. 16000 or 16k)") from None
    if not math.isfinite(rate) or rate <= 0 or rate != round(rate):
        raise ValueError(f"{value!r} is not a positive whole number of Hz")
    return int(round(rate))


# --------------------------------------------------------------------------------------------
# Audio files: atomic writes, up-to-date checks
# --------------------------------------------------------------------------------------------


def existing_output(path: Path, fs: int, audio_format: str, not_before: float) -> int | None:
    """Frames of ``path`` if it is a complete, current output (rate, format, newer than inputs)."""
    import soundfile as sf

    try:
        if path.stat().st_mtime < not_before:
            return None
        info = sf.info(str(path))
    except (OSError, RuntimeError, sf.LibsndfileError):
        return None
    ok = (info.samplerate == fs and info.channels == 1 and info.frames > 0
          and info.format == AUDIO_FORMATS[audio_format] and info.subtype == "PCM_16")
    return int(info.frames) if ok else None


def remove_stale_temps(directory: Path) -> int:
    """Delete temp files a killed run left in ``directory``; returns how many."""
    stale = [p for p in directory.glob(f".*{TMP_SUFFIX}") if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def mtime(path: str | Path) -> float:
    """Modification time of ``path``, 0 when it does not exist (e.g. a pipe command)."""
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def usable_file_name(utt_id: str) -> bool:
    """Whether ``utt_id`` can name a file in the output folder."""
    return bool(utt_id) and "/" not in utt_id and "\0" not in utt_id and not utt_id.startswith(".")


# --------------------------------------------------------------------------------------------
# Parallel map
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _single_torch_thread() -> Iterator[None]:
    """Run the block with one torch thread (same numerics in-process and in workers)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def run_parallel(func: Callable[[T], R], jobs: Sequence[T], nj: int) -> list[R]:
    """``[func(j) for j in jobs]``, in ``nj`` spawned single-threaded workers when ``nj`` > 1.

    ``func`` must be a module-level function (it is pickled by name).
    """
    if nj <= 1 or len(jobs) <= 1:
        with _single_torch_thread():
            return [func(job) for job in jobs]
    workers = min(nj, len(jobs))
    context = multiprocessing.get_context("spawn")  # fork after torch/OpenMP start-up can hang
    with context.Pool(workers, initializer=_init_worker) as pool:
        return pool.map(func, jobs, chunksize=max(1, len(jobs) // (4 * workers)))


# --------------------------------------------------------------------------------------------
# Reading recordings
# --------------------------------------------------------------------------------------------


def pipe_command(spec: str) -> str | None:
    """The command of a Kaldi pipe entry (``cmd |``), or None for a file path."""
    spec = spec.strip()
    return spec[:-1].strip() if spec.endswith("|") else None


def read_recording(spec: str, fs: int) -> np.ndarray:
    """Mono float32 audio at ``fs`` from a ``wav.scp`` value (file path or ``cmd |``)."""
    command = pipe_command(spec)
    if command is None:
        return load_audio(spec.strip(), fs)
    if not command:
        raise AudioError(f"{spec!r}: empty pipe command")
    proc = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {lines[-1][:120]}" if lines else ""
        raise AudioError(f"`{command}`: exited with status {proc.returncode}{detail}")
    if not proc.stdout:
        raise AudioError(f"`{command}`: wrote no audio to stdout")
    with tempfile.TemporaryDirectory(prefix="spikespeech-pipe-") as folder:
        path = Path(folder) / "stdout"
        path.write_bytes(proc.stdout)
        try:
            return load_audio(path, fs)
        except AudioError as error:
            raise AudioError(str(error).replace(str(path), f"output of `{command}`")) from None


def cut_segment(audio: np.ndarray, fs: int, start: float, end: float | None) -> np.ndarray:
    """Samples ``round(start*fs) .. round(end*fs)`` (``end`` None: to the end).

    An end up to :data:`MAX_SEGMENT_OVERSHOOT_SEC` past the recording is clipped (as Kaldi does).
    """
    total = audio.shape[0]
    first = int(round(start * fs))
    last = total if end is None else int(round(end * fs))
    span = f"segment {start:g}-{'end' if end is None else f'{end:g}'} s"
    if last > total:
        if last - total > MAX_SEGMENT_OVERSHOOT_SEC * fs:
            raise AudioError(f"{span} ends past the recording ({total / fs:.3f} s)")
        last = total
    if first >= last:
        raise AudioError(f"{span} holds no samples (recording is {total / fs:.3f} s)")
    return audio[first:last]


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


def check_dirs(src: Path, dst: Path) -> None:
    """SRC must be a data dir with ``wav.scp``; DST must be a different folder."""
    if not (src / "wav.scp").is_file():
        raise ValueError(f"{src}: not a Kaldi data dir (no wav.scp)")
    if dst.resolve() == src.resolve():
        raise ValueError(f"{dst}: output dir must differ from the input dir")


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
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4:
            raise ValueError(f"{path}:{number}: expected 'utt rec start end', got {line.strip()!r}")
        utt, rec = fields[0], fields[1]
        try:
            start, end = float(fields[2]), float(fields[3])
        except ValueError:
            raise ValueError(f"{path}:{number}: {fields[2]!r} {fields[3]!r} are not seconds") from None
        if utt in seen:
            raise ValueError(f"{path}:{number}: duplicate utterance id {utt!r}")
        seen.add(utt)
        problem = _segment_problem(rec, start, end, wav)
        if problem:
            skipped[utt] = problem
        else:
            by_rec.setdefault(rec, []).append(_Segment(utt, start, None if end == -1 else end))
    return by_rec, skipped


def _segment_problem(rec: str, start: float, end: float, wav: dict[str, str]) -> str | None:
    if rec not in wav:
        return f"recording {rec!r} of segments is not in wav.scp"
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
        return f"segment {start:g}-{end:g} s: bad start/end"
    if end != -1 and end <= start:
        return f"segment {start:g}-{end:g} s: end is not after start"
    return None


def _dump_job(job: _Job) -> list[_Result]:
    """Decode one recording (only if some output is missing or stale) and write its utterances."""
    data_dir = Path(job.data_dir)
    outputs = {s.utt_id: data_dir / f"{s.utt_id}.{job.audio_format}" for s in job.segments}
    command = pipe_command(job.spec)
    not_before = max(job.not_before, mtime(job.spec.strip()) if command is None else 0.0)
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
