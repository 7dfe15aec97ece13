"""The everyday-sentence test set of egs/kathleen_teacher/tts1 (issue 17: at least 30 sentences
of our own that appear in no training text): none of its sentences, nor any run of 6 words of
them, occurs in Kathleen's prompts or in any LJ Speech transcript (the teacher's texts)."""

from __future__ import annotations

import re
from pathlib import Path

from _helpers import shared_data

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = ROOT / "egs/kathleen_teacher/tts1/local/everyday_sentences.txt"
RUN = 6  # words: a shared run this long would mean a sentence was (partly) seen in training


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + RUN]) for i in range(len(words) - RUN + 1)}


def test_everyday_sentences_are_unseen_in_every_training_text():
    lines = [line.split(" ", 1) for line in SENTENCES.read_text(encoding="utf-8").splitlines()]
    assert len(lines) >= 30 and len({uid for uid, _ in lines}) == len(lines)
    ours = {uid: _words(text) for uid, text in lines}
    training = []
    for path in sorted(shared_data("ljspeech_text").glob("*.txt")):
        if path.name != "SOURCE.txt":
            training += [line.split("|", 1)[-1] for line in path.read_text(encoding="utf-8").splitlines()]
    training += [line.split("|")[1] for line in
                 (shared_data("kathleen") / "metadata.csv").read_text(encoding="utf-8").splitlines()]
    assert len(training) > 13000
    seen = set().union(*(_runs(_words(text)) for text in training))
    overlaps = {uid: sorted(_runs(words) & seen) for uid, words in ours.items() if _runs(words) & seen}
    assert overlaps == {}
    assert not {" ".join(words) for words in ours.values()} & {" ".join(_words(t)) for t in training}
