"""The demo's two models, loaded once and shared by every request.

:class:`DemoModels` holds one :class:`~spikespeech.inference.transcriber.Transcriber` and one
:class:`~spikespeech.inference.synthesizer.Synthesizer`, from given packs or the shipped
defaults, and their model cards. :meth:`DemoModels.switch` replaces one of them with another
local pack; if that pack does not load, the old model stays. ``lock`` serialises model use
and switching (the app also queues requests one at a time; the lock keeps direct callers
safe too).
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from ..decoding_modes import DEFAULT_MODE
from ..errors import SpikespeechError, first_line
from ..inference.synthesizer import Synthesizer
from ..inference.transcriber import Transcriber

log = logging.getLogger(__name__)
TASKS = ("asr", "tts")
_TITLES = {"asr": "Speech recognition (ASR)", "tts": "Speech synthesis (TTS)"}
# the card section that says what a model is for (the shipped cards: "## Intended use and limits")
_SCOPE_HEADING = re.compile(r"^#{2,6}\s+.*\b(intended use|scope)\b", re.IGNORECASE)


class ModelLoadError(SpikespeechError):
    """A model could not be loaded; the message is one line meant for the user."""

    def __init__(self, message: str, task: str | None = None) -> None:
        super().__init__(message)
        self.task = task


class DemoModels:
    """``asr``/``tts``: packed model paths; ``None`` = the shipped default of that task.
    ``asr_mode``: the Transcriber's decoding mode (:data:`~spikespeech.decoding_modes.MODES`)."""

    def __init__(self, asr: str | Path | None = None, tts: str | Path | None = None,
                 device: str = "cpu", beam_size: int = 10, asr_mode: str = DEFAULT_MODE) -> None:
        self.device, self.beam_size, self.asr_mode = device, beam_size, asr_mode
        self.lock = threading.RLock()
        self.paths: dict[str, Path] = {}
        self.defaults: dict[str, bool] = {}
        self.transcriber: Transcriber | None = None
        self.synthesizer: Synthesizer | None = None
        try:
            for task, path in (("asr", asr), ("tts", tts)):
                self._install(task, *self._load(task, path))
        except BaseException:
            self.close()
            raise

    # ---- loading -------------------------------------------------------------------------
    def _load(self, task: str, path: str | Path | None) -> tuple[Path, bool, Transcriber | Synthesizer]:
        from ..inference.pack import PackError
        from ..models import MissingDefaultModel, default_model

        is_default = path is None
        try:
            path = default_model(task) if is_default else Path(path).expanduser()
        except MissingDefaultModel as exc:
            raise ModelLoadError(str(exc).replace("with --model", f"with --{task}-model"), task) from None
        if not path.exists():
            raise ModelLoadError(f"{path}: model not found", task)
        try:
            if task == "asr":
                model = Transcriber(path, device=self.device, beam_size=self.beam_size, mode=self.asr_mode)
            else:
                model = Synthesizer(path, device=self.device)
        except PackError as exc:
            raise ModelLoadError(str(exc), task) from None
        except Exception as exc:  # ESPnet/torch errors of a broken pack: one line, log the rest
            log.warning("could not load %s model %s", task, path, exc_info=True)
            raise ModelLoadError(f"{path}: could not load this {task.upper()} model "
                                 f"({type(exc).__name__}: {first_line(exc, 'no details')})", task) from None
        return path, is_default, model

    def _install(self, task: str, path: Path, is_default: bool, model) -> None:
        old = self.transcriber if task == "asr" else self.synthesizer
        if task == "asr":
            self.transcriber = model
        else:
            self.synthesizer = model
        self.paths[task], self.defaults[task] = path, is_default
        if old is not None:
            old.close()

    def switch(self, task: str, path: str | Path) -> str:
        """Load ``path`` as the ``task`` model; on success the old one is closed. Raises
        :class:`ModelLoadError` (the old model stays) if it does not load."""
        if task not in TASKS:
            raise ModelLoadError(f"unknown task {task!r}")
        text = str(path).strip().strip("'\"")
        if not text:
            raise ModelLoadError("type the path of a packed model (.zip or directory) first")
        loaded = self._load(task, text)  # outside the lock: requests continue meanwhile
        with self.lock:
            self._install(task, *loaded)
        return f"Loaded {task.upper()} model `{loaded[0].name}`."

    def close(self) -> None:
        for model in (self.transcriber, self.synthesizer):
            if model is not None:
                model.close()
        self.transcriber = self.synthesizer = None

    # ---- facts for the UI ----------------------------------------------------------------
    @property
    def speakers(self) -> list[str]:
        """Speaker names of the TTS model (empty for one-speaker models)."""
        return list(self.synthesizer.speakers) if self.synthesizer is not None else []

    def card(self, task: str) -> str:
        """Markdown: a one-line summary of the loaded ``task`` model, then its model card."""
        model = self.transcriber if task == "asr" else self.synthesizer
        if model is None:
            return f"### {_TITLES[task]}\n\n*No model loaded.*"
        network = model.speech2text.asr_model if task == "asr" else model.text2speech.tts
        params = sum(p.numel() for p in network.parameters()) / 1e6
        where = "shipped default" if self.defaults[task] else "loaded from a local path"
        summary = (f"### {_TITLES[task]}\n\n`{self.paths[task].name}` ({where}) · "
                   f"{model.sample_rate} Hz · {params:.2f} M weights in the pack")
        if task == "tts":
            summary += f" · {len(self.speakers) or 1} speaker(s)"
        # the shipped packs carry their card too (tests/inference/test_default_models.py)
        return f"{summary}\n\n---\n\n{model.card or '*This pack has no model card.*'}"

    def scope(self, task: str) -> str:
        """Markdown: what the loaded ``task`` model is for, from its card (see :func:`card_scope`)."""
        model = self.transcriber if task == "asr" else self.synthesizer
        scope = card_scope(model.card if model is not None else None)
        name = f"`{self.paths[task].name}`" if model is not None else "no model"
        if scope is None:
            return (f"**What the model ({name}) is for:** its pack does not say (no model card, or "
                    "a card without an intended-use section); expect good results only on speech "
                    "like its training data.")
        return f"**What the model ({name}) is for**, from its model card:\n\n{scope}"


def card_scope(card: str | None) -> str | None:
    """The "Intended use" (or "Scope") section of a model card's Markdown, without its heading;
    failing that, the card's first paragraph of prose; ``None`` when the card says neither."""
    if not card:
        return None
    lines = card.strip().splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if _SCOPE_HEADING.match(line)), None)
    if start is not None:
        end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
        section = "\n".join(lines[start:end]).strip()
        if section:
            return section
    paragraphs = "\n".join(lines).split("\n\n")
    prose = next((p.strip() for p in paragraphs if p.strip() and not p.lstrip().startswith("#")), "")
    return prose or None
