"""Kaldi-style speed perturbation of a dumped data dir (speed and pitch change together).

``python -m spikespeech.recipe.perturb --factors 0.9 1.0 1.1 [--nj N] SRC_DIR DST_DIR``

As ``sox speed f``: the signal is read as if sampled at ``f * fs`` and resampled back to
``fs``, so its duration becomes ``1/f`` of the original and every frequency is multiplied by
``f``. For ``f != 1`` utterances become ``sp{f}-<utt>`` of speaker ``sp{f}-<spk>`` (Kaldi's
``perturb_data_dir_speed.sh`` naming) with audio written to ``DST_DIR/data``; factor 1 keeps
the original ids and refers to the original files. ``DST_DIR`` is one combined data dir with
``utt2num_samples`` and ``fs``. SRC_DIR must be a dumped dir (plain files in ``wav.scp`` and
an ``fs`` file); outputs are written atomically and up-to-date ones kept, as in the dump stage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TextIO

import numpy as np

from spikespeech.argtypes import positive_int
from spikespeech.audio.io import AudioError, load_audio
from spikespeech.audio.recording import pipe_command
from spikespeech.audio.write import write_audio
from spikespeech.recipe.audio_dir import (
    AudioEntry,
    check_dirs,
    existing_output,
    mtime,
    read_audio_dir,
    remove_stale_temps,
    usable_file_name,
    write_audio_dir,
)
from spikespeech.recipe.parallel import run_parallel

MAX_DENOMINATOR = 1000  # factors are taken as fractions p/q with q <= 1000 (3 decimals)
FACTOR_RANGE = (0.25, 4.0)


def speed_ratio(factor: float) -> Fraction:
    """``factor`` as an exact small fraction (the resampling ratio); ValueError if it is not one."""
    if not (FACTOR_RANGE[0] <= factor <= FACTOR_RANGE[1]):
        raise ValueError(f"speed factor {factor!r}: must lie in [{FACTOR_RANGE[0]}, {FACTOR_RANGE[1]}]")
    ratio = Fraction(factor).limit_denominator(MAX_DENOMINATOR)
    if abs(float(ratio) - factor) > 1e-9 * factor:
        raise ValueError(f"speed factor {factor!r}: use at most 3 decimal places")
    return ratio


def factor_tag(factor: float) -> str:
    """The id prefix of a factor: ``sp0.9-`` for 0.9 (Kaldi convention)."""
    return f"sp{factor:g}-"


def perturb_samples(samples: np.ndarray, factor: float) -> np.ndarray:
    """Speed-perturb mono float samples: length ``ceil(n / factor)``, frequencies times ``factor``."""
    ratio = speed_ratio(factor)
    if ratio == 1:
        return np.array(samples, dtype=np.float32)
    import torch
    import torchaudio.functional as AF

    # resample by the exact ratio, not torchaudio.functional.speed (bit-identical otherwise): it
    # takes int(factor * fs), and 1.005 * 16000 = 16079.999… gives 16079 Hz instead of 16080
    with torch.no_grad():
        out = AF.resample(torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)),
                          ratio.numerator, ratio.denominator)
    return out.numpy()


@dataclass(frozen=True)
class _Job:
    """One source utterance and its perturbed outputs."""

    utt_id: str
    path: str
    fs: int
    factors: tuple[float, ...]
    data_dir: str
    not_before: float


@dataclass(frozen=True)
class _Result:
    utt_id: str
    num_samples: dict[float, int] = field(default_factory=dict)  # factor -> frames
    problem: str | None = None


@dataclass
class PerturbReport:
    """What :func:`speed_perturb` did (``written`` counts utterances of the combined dir)."""

    dst: Path
    fs: int
    factors: tuple[float, ...]
    written: int
    skipped: dict[str, str] = field(default_factory=dict)
    total_samples: int = 0

    @property
    def hours(self) -> float:
        return self.total_samples / self.fs / 3600.0

    def summary(self) -> str:
        factors = " ".join(f"{f:g}" for f in self.factors)
        return (f"perturb: {self.written} utterances for factors {factors}, {len(self.skipped)} source "
                f"utterances skipped, {self.hours:.4f} hours at {self.fs} Hz -> {self.dst}")


def speed_perturb(src: str | Path, dst: str | Path, factors: Sequence[float] = (0.9, 1.0, 1.1),
                  nj: int = 1, log: TextIO | None = None) -> PerturbReport:
    """Write the combined speed-perturbed copy of dumped dir ``src`` to ``dst``.

    A source utterance that cannot be read is skipped for all factors (one line on ``log``,
    default stderr). Raises ValueError for bad factors, a non-dumped ``src`` or no output.
    """
    src, dst = Path(src), Path(dst)
    factors = _check_factors(factors)
    check_dirs(src, dst)
    if nj < 1:
        raise ValueError(f"nj {nj!r}: must be at least 1")
    log = sys.stderr if log is None else log
    entries, fs = read_audio_dir(src)
    data_dir = dst / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(data_dir)
    jobs, skipped = _plan_jobs(src, entries, fs, factors, data_dir)
    results = run_parallel(_perturb_job, jobs, nj)
    skipped.update({r.utt_id: r.problem for r in results if r.problem is not None})
    for utt in sorted(skipped):
        print(f"perturb: skipping {utt}: {skipped[utt]}", file=log)
    by_id = {e.utt_id: e for e in entries}
    out = [_output_entry(by_id[r.utt_id], f, n, data_dir)
           for r in results if r.problem is None for f, n in r.num_samples.items()]
    if not out:
        raise ValueError(f"{src}: no utterance could be perturbed ({len(skipped)} skipped)")
    write_audio_dir(out, dst, fs)
    return PerturbReport(dst, fs, factors, len(out), skipped, sum(e.num_samples or 0 for e in out))


def _check_factors(factors: Sequence[float]) -> tuple[float, ...]:
    """Validated factors (each a small fraction in range, no two with the same id prefix)."""
    factors = tuple(float(f) for f in factors)
    if not factors:
        raise ValueError("no speed factors given")
    tags = set()
    for f in factors:
        speed_ratio(f)
        if factor_tag(f) in tags:
            raise ValueError(f"speed factor {f:g} given twice")
        tags.add(factor_tag(f))
    return factors


def _plan_jobs(src: Path, entries: list[AudioEntry], fs: int, factors: tuple[float, ...],
               data_dir: Path) -> tuple[list[_Job], dict[str, str]]:
    """One job per utterance; pipes are a fatal error (the dir must be dumped first)."""
    not_before = mtime(src / "wav.scp")
    jobs, skipped = [], {}
    for e in entries:
        if pipe_command(e.audio) is not None:
            raise ValueError(f"{src}/wav.scp: {e.utt_id} is a pipe; run the dump stage first")
        if not usable_file_name(e.utt_id):
            skipped[e.utt_id] = "utterance id cannot be used as a file name"
            continue
        jobs.append(_Job(e.utt_id, e.audio, fs, factors, str(data_dir), not_before))
    return jobs, skipped


def _output_path(data_dir: Path, utt_id: str, factor: float) -> Path:
    return data_dir / f"{factor_tag(factor)}{utt_id}.wav"


def _output_entry(e: AudioEntry, factor: float, frames: int, data_dir: Path) -> AudioEntry:
    """The combined dir's entry of ``e`` at ``factor`` (factor 1: the original, path made absolute)."""
    if speed_ratio(factor) == 1:
        return AudioEntry(e.utt_id, e.speaker, str(Path(e.audio).resolve()), e.text, frames)
    tag = factor_tag(factor)
    path = str(_output_path(data_dir, e.utt_id, factor).resolve())
    return AudioEntry(tag + e.utt_id, tag + e.speaker, path, e.text, frames)


def _source_frames(path: str, fs: int) -> int:
    """Frames of a dumped source file; AudioError unless it is mono audio at ``fs``."""
    import soundfile as sf

    try:
        info = sf.info(path)
    except (OSError, RuntimeError, sf.LibsndfileError):
        load_audio(path, fs)  # raises the one-line AudioError (missing, empty, not audio…)
        raise AudioError(f"{path}: not a file the dump stage writes (run the dump stage first)") from None
    if info.samplerate != fs or info.channels != 1 or info.frames <= 0:
        raise AudioError(f"{path}: {info.channels} channel(s) at {info.samplerate} Hz, {info.frames} frames; "
                         f"expected mono audio at the dir's fs {fs} Hz")
    return int(info.frames)


def _perturb_job(job: _Job) -> _Result:
    """Write the perturbed copies of one utterance that are missing or stale."""
    try:
        source_frames = _source_frames(job.path, job.fs)
        not_before = max(job.not_before, mtime(job.path))
        frames, audio = {}, None
        for f in job.factors:
            if speed_ratio(f) == 1:
                frames[f] = source_frames
                continue
            out = _output_path(Path(job.data_dir), job.utt_id, f)
            done = existing_output(out, job.fs, "wav", not_before)
            if done is None:
                audio = load_audio(job.path, job.fs) if audio is None else audio
                done = write_audio(out, perturb_samples(audio, f), job.fs, "wav")
            frames[f] = done
    except AudioError as error:
        return _Result(job.utt_id, problem=str(error))
    return _Result(job.utt_id, frames)


def factor_arg(value: str) -> float:
    """argparse type for one ``--factors`` value."""
    try:
        factor = float(value)
        speed_ratio(factor)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error) if "factor" in str(error) else
                                         f"{value!r} is not a number") from None
    return factor


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m spikespeech.recipe.perturb",
        usage="%(prog)s [-h] [--factors F [F ...]] [--nj NJ] SRC_DIR DST_DIR",
        description="Kaldi-style speed perturbation of a dumped data dir into one combined dir.")
    parser.add_argument("--factors", nargs="+", default=["0.9", "1.0", "1.1"], metavar="F",
                        help="speed factors (1.0 keeps the original utterances)")
    parser.add_argument("--nj", type=positive_int, default=1, help="parallel worker processes")
    parser.add_argument("dirs", nargs="*", metavar="SRC_DIR DST_DIR",
                        help="dumped data dir (wav.scp of files, fs) and the combined output dir")
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse, taking SRC_DIR DST_DIR back from the end of ``--factors`` (which is greedy)."""
    args = parser.parse_args(argv)
    missing = 2 - len(args.dirs)
    if missing > 0 and len(args.factors) > missing:
        args.dirs = args.factors[-missing:] + args.dirs
        args.factors = args.factors[:-missing]
    if len(args.dirs) != 2:
        parser.error(f"expected SRC_DIR DST_DIR, got {len(args.dirs)} path(s)")
    try:
        args.factors = [factor_arg(f) for f in args.factors]
    except argparse.ArgumentTypeError as error:
        parser.error(f"argument --factors: {error}")
    args.src, args.dst = args.dirs
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    try:
        _check_factors(args.factors)
        check_dirs(Path(args.src), Path(args.dst))
    except ValueError as error:
        parser.error(str(error))
    try:
        report = speed_perturb(args.src, args.dst, args.factors, nj=args.nj)
    except ValueError as error:
        print(f"perturb: error: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    # Run the package module's main so that worker processes find the job function by name.
    from spikespeech.recipe.perturb import main as _main

    sys.exit(_main())
