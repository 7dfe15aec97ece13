"""Free Spoken Digit Dataset (FSDD) → Kaldi data dirs.

Files are ``recordings/{digit}_{speaker}_{index}.wav`` (8 kHz); the transcript is the digit
as an English word. Official split: index 0-4 test, 5-49 train. CC BY-SA 4.0 — attribute
the dataset (Jakobovski et al.) in anything derived from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .kaldi import Utterance, write_kaldi_dir

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def fsdd_utterances(root: str | Path) -> list[Utterance]:
    """All FSDD recordings under ``root`` (the folder holding ``recordings/``)."""
    recordings = Path(root) / "recordings"
    files = sorted(recordings.glob("*.wav"))
    if not files:
        raise ValueError(
            f"{recordings}: no FSDD recordings found (expected {{digit}}_{{speaker}}_{{index}}.wav)"
        )
    out = []
    for path in files:
        try:
            digit, speaker, index = path.stem.split("_")
            word = DIGIT_WORDS[int(digit)]
            take = int(index)
        except (ValueError, IndexError):
            raise ValueError(f"{path}: not an FSDD file name ({{digit}}_{{speaker}}_{{index}}.wav)") from None
        out.append(Utterance(f"{speaker}-{digit}-{take:02d}", speaker, str(path.resolve()), word))
    return out


def take_index(utt: Utterance) -> int:
    return int(utt.utt_id.rsplit("-", 1)[1])


def prepare_fsdd(
    root: str | Path,
    out_dir: str | Path,
    speakers: Iterable[str] | None = None,
    train_takes: range = range(5, 50),
    test_takes: range = range(0, 5),
) -> dict[str, Path]:
    """Write ``out_dir/train`` and ``out_dir/test`` (official split by default)."""
    utts = fsdd_utterances(root)
    if speakers is not None:
        keep = set(speakers)
        unknown = keep - {u.speaker for u in utts}
        if unknown:
            raise ValueError(f"FSDD: unknown speaker(s) {', '.join(sorted(unknown))}")
        utts = [u for u in utts if u.speaker in keep]
    out_dir = Path(out_dir)
    return {
        "train": write_kaldi_dir([u for u in utts if take_index(u) in train_takes], out_dir / "train"),
        "test": write_kaldi_dir([u for u in utts if take_index(u) in test_takes], out_dir / "test"),
    }


def held_out_speaker_split(utts: list[Utterance], speaker: str) -> tuple[list[Utterance], list[Utterance]]:
    """``(others, held_out)``: the utterances of every other speaker, and all of ``speaker``'s.

    For speaker-independent evaluation: no recording of ``speaker`` is in ``others``.
    """
    speakers = sorted({u.speaker for u in utts})
    if speaker not in speakers:
        raise ValueError(f"FSDD: unknown held-out speaker {speaker!r} (speakers: {', '.join(speakers)})")
    return [u for u in utts if u.speaker != speaker], [u for u in utts if u.speaker == speaker]
