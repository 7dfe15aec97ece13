"""Dumped audio data dirs, shared by the dump, perturb and filter stages: ``wav.scp`` (absolute
paths of 16-bit PCM files), ``text``, ``utt2spk``, ``spk2utt``, ``utt2num_samples`` and ``fs``,
written atomically; and the up-to-date checks that let an interrupted stage resume."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spikespeech.atomic import atomic_write_text, file_mode
from spikespeech.audio.write import AUDIO_FORMATS
from spikespeech.data.kaldi import read_table, render_table, spk2utt_table

TMP_SUFFIX = ".tmp"  # audio temp files are ".<name>.<random>.tmp" beside their target
# Files of an older dir at DST that would no longer match the new one (removed on write).
STALE_FILES = ("segments", "utt2dur", "reco2dur", "utt2num_frames", "feats.scp", "cmvn.scp",
               "reco2file_and_channel")


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
    utt2spk = {e.utt_id: e.speaker for e in rows}
    files = {
        "wav.scp": render_table({e.utt_id: e.audio for e in rows}),
        "text": render_table({e.utt_id: e.text for e in rows}),
        "utt2spk": render_table(utt2spk),
        "spk2utt": render_table(spk2utt_table(utt2spk)),
        "utt2num_samples": render_table({e.utt_id: str(e.num_samples) for e in rows}),
        "fs": f"{fs}\n",
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name in STALE_FILES:
        (directory / name).unlink(missing_ok=True)
    for name, content in files.items():
        atomic_write_text(directory / name, content)
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


def check_dirs(src: Path, dst: Path) -> None:
    """SRC must be a data dir with ``wav.scp``; DST must be a different folder."""
    if not (src / "wav.scp").is_file():
        raise ValueError(f"{src}: not a Kaldi data dir (no wav.scp)")
    if dst.resolve() == src.resolve():
        raise ValueError(f"{dst}: output dir must differ from the input dir")
