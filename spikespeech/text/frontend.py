"""``Frontend``: text -> phoneme tokens for TTS; ``split_sentences`` for long inputs.

English goes through ``english`` (normalization, espeak-ng en-us), Mandarin through ``mandarin``
(pypinyin). Characters a frontend cannot speak (emoji, other scripts) are dropped with one
``UnknownCharacterWarning`` (Python ``warnings``) per text listing them; a text with nothing left to
speak raises ``FrontendError``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from importlib import import_module

from ..errors import SpikespeechError
from . import english

LANGUAGES = ("en", "zh")


class FrontendError(SpikespeechError):
    """A text with nothing speakable left after normalization."""


class UnknownCharacterWarning(UserWarning):
    """Characters the frontend cannot speak were dropped from a text."""


@dataclass(frozen=True)
class Conversion:
    """One text's result: ``tokens`` (empty when ``error`` is set) and the dropped characters."""

    text: str
    tokens: list[str]
    dropped: list[str]
    error: FrontendError | None = None


def _preview(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")  # repr keeps it on one line


def _check_str(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"the text frontend takes a str, got {type(text).__name__}")
    return text


class Frontend:
    """``Frontend("en")(text) -> list[str]`` phoneme tokens; see ``english`` / ``mandarin`` for the
    token conventions. Thread-safe: espeak-ng is created once and called under a lock."""

    def __init__(self, language: str = "en", *, sandhi: bool = True):
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}; choose one of {', '.join(LANGUAGES)}")
        self.language = language
        self.sandhi = sandhi  # Mandarin third-tone sandhi
        # imported here: pypinyin's phrase dictionary takes a second or two to load
        self._module = english if language == "en" else import_module(".mandarin", __package__)

    def symbols(self) -> list[str]:
        """Every token this frontend can emit, in a fixed order (for building token lists)."""
        return self._module.symbols()

    def convert(self, texts: list[str]) -> list[Conversion]:
        """Convert many texts at once (one espeak call for English); neither warns nor raises."""
        if isinstance(texts, str):
            raise TypeError("convert takes a list of texts; call the frontend itself for one text")
        texts = [_check_str(t) for t in texts]
        normalized = [self._module.normalize(t) for t in texts]
        if self.language == "en":
            results = english.tokens([n for n, _ in normalized])
        else:
            results = [self._module.tokens(n, self.sandhi) for n, _ in normalized]
        out = []
        for text, (_, dropped), (tokens, unmapped) in zip(texts, normalized, results, strict=True):
            dropped = list(dict.fromkeys(dropped + unmapped))
            if all(t in english.PUNCTUATION or t == english.WORD_BOUNDARY for t in tokens):
                listed = f" (dropped {', '.join(map(repr, dropped))})" if dropped else ""
                error = FrontendError(f"nothing to speak in {_preview(text)} after normalization{listed}")
                out.append(Conversion(text, [], dropped, error))
            else:
                out.append(Conversion(text, tokens, dropped))
        return out

    def __call__(self, text: str) -> list[str]:
        """Phoneme tokens for ``text``; warns once about dropped characters, raises ``FrontendError``
        (naming them instead) when nothing is left."""
        result = self.convert([_check_str(text)])[0]
        if result.error is not None:
            raise result.error
        if result.dropped:
            listed = ", ".join(repr(c) for c in result.dropped)
            warnings.warn(f"dropped characters the {self.language} frontend cannot speak: {listed} "
                          f"(in {_preview(text)})", UnknownCharacterWarning, stacklevel=2)
        return result.tokens

    def to_phoneme_string(self, text: str) -> str:
        """Tokens joined by single spaces: a Kaldi ``text`` line for ESPnet ``token_type: phn``,
        ``g2p: none`` (tokens never contain whitespace)."""
        return " ".join(self(text))


# ---- long inputs -----------------------------------------------------------------------------------

_NO_BREAK = {w.lower() for w in (*english.TITLES, "St", "Jr", "Sr", "vs", "e.g", "i.e", "No", "etc")}
_SENTENCE = re.compile(r"[.!?;]+[\"'”’)\]]*(?=\s|$)|[。！？；]+[”’」』）)]*")


def _sentence_ends(text: str):
    for m in _SENTENCE.finditer(text):
        word = re.search(r"[A-Za-z.]*$", text[: m.start()])[0].lower()
        if m[0].startswith(".") and (word in _NO_BREAK or (len(word) == 1 and word.isalpha())):
            continue  # "Mr. Smith", "J. K. Rowling": the full stop ends an abbreviation
        yield m.end()


def _fit(sentence: str, max_chars: int) -> list[str]:
    """Pieces of at most ``max_chars`` whose concatenation is ``sentence``: cut after commas, then
    between words, and only a single overlong word is cut mid-word."""
    if len(sentence) <= max_chars:
        return [sentence]
    pieces = []
    for clause in re.split(r"(?<=[,:])(?=\s)|(?<=[，、：])", sentence):
        for word in [clause] if len(clause) <= max_chars else re.split(r"(?<=\s)(?=\S)", clause):
            pieces += [word[i:i + max_chars] for i in range(0, len(word), max_chars)] or [word]
    packed = [""]
    for piece in pieces:
        if len(packed[-1]) + len(piece) <= max_chars or not packed[-1].strip():
            packed[-1] += piece
        else:
            packed.append(piece)
    return packed


def split_sentences(text: str, max_chars: int = 200) -> list[str]:
    """Split ``text`` at sentence ends (. ! ? ; and 。！？；), and sentences longer than ``max_chars``
    at commas, then spaces. Only whitespace is lost: the pieces, in order, hold every character."""
    _check_str(text)
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    starts = [0, *_sentence_ends(text)]
    sentences = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    return [p.strip() for s in sentences for p in _fit(s, max_chars) if p.strip()]
