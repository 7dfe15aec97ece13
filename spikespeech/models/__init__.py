"""The default models shipped in the package, and their model cards.

``kathleen_fsdd_asr.zip``: IML-Spikeformer ASR trained by ``egs/kathleen_fsdd/asr1`` (Kathleen
prompts + FSDD digits, 8 kHz). ``kathleen_distilled_tts.zip``: SpikeVoice (IMLS) ``small``
trained by ``egs/kathleen_teacher/tts1`` (Kathleen's voice, distilled from a Piper teacher and
fine-tuned on her recordings; 16 kHz, Griffin-Lim). Each pack holds its model card
(``MODEL_CARD.md``), which is also kept here as ``<pack name>.md`` to be read without unzipping.
``spikespeech transcribe``/``synthesize`` and the web demo use them when no ``--model`` is given.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULTS = {"asr": "kathleen_fsdd_asr", "tts": "kathleen_distilled_tts"}
RECIPES = {"asr": "egs/kathleen_fsdd/asr1", "tts": "egs/kathleen_teacher/tts1"}


class MissingDefaultModel(FileNotFoundError):
    """The package has no default model of a task (a checkout whose models were removed)."""


def default_model(task: str) -> Path:
    """The shipped pack of ``task`` (``"asr"`` or ``"tts"``)."""
    path = HERE / f"{_name(task)}.zip"
    if not path.is_file():
        raise MissingDefaultModel(
            f"{path}: the default {task.upper()} model is missing from this installation; pass a "
            f"packed model with --model, or rebuild it with {RECIPES[task]}/run.sh"
        )
    return path


def resolve_model(model: str | Path | None, task: str) -> Path:
    """``model`` if given, else the shipped default of ``task``."""
    return Path(model) if model is not None else default_model(task)


def default_card(task: str) -> str:
    """The model card (Markdown) of the shipped ``task`` model."""
    path = HERE / f"{_name(task)}.md"
    if not path.is_file():
        raise MissingDefaultModel(f"{path}: the default {task.upper()} model card is missing")
    return path.read_text(encoding="utf-8")


def _name(task: str) -> str:
    if task not in DEFAULTS:
        raise ValueError(f"task must be one of {sorted(DEFAULTS)}, got {task!r}")
    return DEFAULTS[task]
