"""Offline text frontend for TTS: English (espeak-ng) and Mandarin (pypinyin) phoneme tokens.

``Frontend("en")("Hello, world.")`` -> ``['h', 'ə', 'l', 'ˈoʊ', ',', 'w', 'ˈɜː', 'l', 'd', '.']``;
``python -m spikespeech.text`` converts a Kaldi ``text`` file.
"""

from .frontend import (
    LANGUAGES,
    Conversion,
    Frontend,
    FrontendError,
    UnknownCharacterWarning,
    split_sentences,
)

__all__ = ["LANGUAGES", "Conversion", "Frontend", "FrontendError", "UnknownCharacterWarning",
           "split_sentences"]
