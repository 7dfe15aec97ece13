"""The default models shipped in the package: present, small, carded, and used without --model.

These load the real shipped packs (seconds each); their accuracy is measured by the recipes
(egs/kathleen_fsdd/asr1, egs/kathleen_teacher/tts1) and written in the cards checked here.
"""

from __future__ import annotations

import zipfile

import pytest
import soundfile as sf
from _helpers import shared_data

pytest.importorskip("espnet2")

from spikespeech.cli.main import main  # noqa: E402
from spikespeech.models import DEFAULTS, HERE, default_card, default_model, resolve_model  # noqa: E402

MAX_TOTAL_MB = 40  # both packs together (issue 6)
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def test_both_defaults_are_shipped_and_small():
    sizes = {task: default_model(task).stat().st_size for task in DEFAULTS}
    assert sum(sizes.values()) <= MAX_TOTAL_MB * 1e6, sizes


@pytest.mark.parametrize("task", sorted(DEFAULTS))
def test_card_beside_the_pack_is_the_packed_card(task):
    with zipfile.ZipFile(default_model(task)) as zf:
        packed = zf.read("MODEL_CARD.md").decode("utf-8")
    card = default_card(task)
    assert card == packed
    for section in ("## Model", "## Measured on the held-out test sets", "## Theoretical energy",
                    "## Reproduce", "licence"):
        assert section.lower() in card.lower(), section


def test_resolve_model_prefers_the_given_path(tmp_path):
    assert resolve_model(tmp_path / "x.zip", "asr") == tmp_path / "x.zip"
    assert resolve_model(None, "tts") == HERE / f"{DEFAULTS['tts']}.zip"
    with pytest.raises(ValueError, match="task must be one of"):
        resolve_model(None, "mt")


def test_transcribe_without_model_uses_the_default(capsys):
    fsdd = shared_data("fsdd") / "recordings"
    # the official test split (takes 0-4): one clip per digit, every speaker (theo is held out)
    speakers = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
    clips = [fsdd / f"{d}_{speakers[d % 6]}_{d % 5}.wav" for d in range(10)]
    assert main(["transcribe", "--no-progress", *map(str, clips)]) == 0
    lines = capsys.readouterr().out.splitlines()
    heard = dict(line.split("\t") for line in lines)
    right = sum(heard[f"{d}_{speakers[d % 6]}_{d % 5}"].strip() == DIGITS[d] for d in range(10))
    assert right >= 9, heard


def test_synthesize_without_model_uses_the_default(tmp_path):
    out = tmp_path / "birch.wav"
    assert main(["synthesize", "The birch canoe slid on the smooth planks.", "-o", str(out)]) == 0
    info = sf.info(out)
    assert info.samplerate == 16000 and 1.0 < info.duration < 8.0
    audio, _ = sf.read(out)
    assert abs(audio).max() > 0.01
