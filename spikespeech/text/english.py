"""English: text normalization, then espeak-ng (en-us) phonemes as a closed token inventory.

Token convention (also ``symbols()``): one IPA phone per token as espeak-ng writes it --
diphthongs, affricates and r-coloured vowels are single tokens (``eɪ``, ``tʃ``, ``ɑːɹ``), the length
mark belongs to its vowel (``iː``), and stress is a prefix on the stressed vowel (``ˈoʊ`` primary,
``ˌɪ`` secondary). ``|`` separates two words; a punctuation token (``, . ? ! ; :``) separates two
words across a pause instead of ``|`` and may end the text. Nothing precedes the first phone.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata

from .numbers import MONTHS, verbalize

PUNCTUATION = (",", ".", "?", "!", ";", ":")  # shared with Mandarin: punctuation tokens are pauses
WORD_BOUNDARY = "|"
_STRENGTH = {p: i for i, p in enumerate((",", ":", ";", ".", "!", "?"))}  # "?!" -> "?"

CONSONANTS = ("p", "b", "t", "d", "k", "ɡ", "f", "v", "θ", "ð", "s", "z", "ʃ", "ʒ", "h", "tʃ", "dʒ",
              "m", "n", "ŋ", "l", "ɹ", "w", "j", "ɾ", "ʔ", "x", "r", "ɬ")
VOWELS = ("ə", "ɪ", "ɛ", "æ", "ʌ", "ʊ", "ɐ", "ᵻ", "ɚ", "i", "iː", "uː", "ɑː", "ɔː", "ɜː", "ɔ", "o",
          "eɪ", "aɪ", "oʊ", "aʊ", "ɔɪ", "iə", "aɪə", "aɪɚ", "əl", "ɑːɹ", "ɔːɹ", "ɛɹ", "ɪɹ", "ʊɹ", "n̩")
_STRESS = ("ˈ", "ˌ")
# espeak switches to another language's phones for a few loanwords ("blanc"): nearest en-us phone
_NEAREST = {"ɑ": "ɑː", "a": "æ", "e": "eɪ", "u": "uː", "ɜ": "ɜː", "ɒ": "ɑː", "y": "uː", "ø": "ɜː",
            "œ": "ɜː", "ɛː": "ɛ", "oː": "oʊ", "eː": "eɪ", "ç": "h", "χ": "x", "ɲ": "n", "ʎ": "l", "ɣ": "ɡ",
            "β": "b", "ʏ": "ʊ", "ɯ": "uː", "ɨ": "ɪ"}
_BASE = {*CONSONANTS, *VOWELS}


def append_pause(out: list[str], mark: str) -> None:
    """Add a pause token: never first, and a run of marks keeps its strongest ("?!" -> "?")."""
    if out and out[-1] in PUNCTUATION:
        out[-1] = max(out[-1], mark, key=_STRENGTH.__getitem__)
    elif out:
        out.append(mark)


def symbols() -> list[str]:
    """Every token ``tokens`` can emit (phones with stress variants, ``|``, punctuation)."""
    stressed = [s + v for v in VOWELS for s in _STRESS]
    return [*CONSONANTS, *VOWELS, *stressed, WORD_BOUNDARY, *PUNCTUATION]


# ---- normalization ---------------------------------------------------------------------------------

TITLES = {"Mr": "mister", "Mrs": "missus", "Ms": "miz", "Dr": "doctor", "Prof": "professor",
           "Gen": "general", "Gov": "governor", "Capt": "captain", "Lt": "lieutenant", "Col": "colonel",
           "Sgt": "sergeant", "Rev": "reverend", "Hon": "honorable", "Mt": "mount", "Ft": "fort"}
_OTHERS = {"jr": "junior", "sr": "senior", "etc": "et cetera", "approx": "approximately",
           "dept": "department", "est": "established", "inc": "incorporated", "ltd": "limited",
           "co": "company", "corp": "corporation", "ave": "avenue", "blvd": "boulevard", "rd": "road"}
_MONTH_ABBR = {m[:3]: m for m in MONTHS if m != "May"} | {"Sept": "September"}
_LETTERS = dict(zip("abcdefghijklmnopqrstuvwxyz", (
    "ay", "bee", "see", "dee", "ee", "ef", "gee", "aitch", "eye", "jay", "kay", "el", "em", "en", "oh", "pee",
    "cue", "ar", "ess", "tee", "you", "vee", "double you", "ex", "why", "zee"), strict=True))
_SYMBOLS = {"&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "%": " percent ", "/": " slash ",
            "°": " degrees ", "#": " "}
_SILENT = set("\"“”„«»‹›()[]{}*_~`^|\\<>¡¿")  # known, not spoken
_SENTENCE_END = re.compile(r"\s*$|\s+[A-Z]")


def _ends_sentence(m: re.Match) -> bool:
    return bool(_SENTENCE_END.match(m.string, m.end()))


def _abbreviation(m: re.Match) -> str:
    word = m[1]
    if word in TITLES:
        return TITLES[word]
    return _OTHERS[word.lower()] + ("." if _ends_sentence(m) else "")


def _saint_or_street(m: re.Match) -> str:
    # "Elm St." / "42nd St." (after a number, or a capitalized word that does not start the sentence)
    # is a street; otherwise ("in St. Louis", "St. Paul said") a saint
    before = m.string[: m.start()].split()
    prev = before[-1] if before else ""
    starts_sentence = len(before) < 2 or before[-2][-1] in ".!?"
    if prev[:1].isdigit() or (prev[:1].isupper() and not starts_sentence):
        return "street" + ("." if _ends_sentence(m) else "")
    return "saint"


def _acronym(m: re.Match) -> str:
    letters = " ".join(_LETTERS[c.lower()] for c in m[0] if c.isalpha())
    return letters + ("." if _ends_sentence(m) else "")


_ABBREVIATION_PASSES = [
    (re.compile(r"\b[eE]\.\s?[gG]\.(?!\w)"), lambda m: "for example"),
    (re.compile(r"\b[iI]\.\s?[eE]\.(?!\w)"), lambda m: "that is"),
    (re.compile(r"\b[aA]\.[kK]\.[aA]\.?(?!\w)"), lambda m: "also known as"),
    (re.compile(r"\b[vV][sS]\.?(?!\w)"), lambda m: "versus"),  # never ends a sentence
    (re.compile(r"\b(?:No|no|Nos|nos)\.(?=\s*#?\d)"), lambda m: "number"),
    (re.compile(r"#(?=\d)"), lambda m: "number "),
    (re.compile(rf"\b({'|'.join(_MONTH_ABBR)})(?:\.|(?=\s+\d))"), lambda m: _MONTH_ABBR[m[1]]),
    (re.compile(r"\bSt\."), _saint_or_street),
    (re.compile(rf"\b({'|'.join(TITLES)})\."), _abbreviation),
    (re.compile(rf"\b({'|'.join(_OTHERS)})\.", re.IGNORECASE), _abbreviation),
]
_LATE_PASSES = [  # after numbers, so "3 p.m." is a time before it could be an acronym
    (re.compile(r"\b(?:[A-Za-z]\.){2,}"), _acronym),
    (re.compile(r"\b([A-Z])\.(?=\s+[A-Z])"), lambda m: m[1]),  # "John F. Kennedy": no full stop
    (re.compile(r"\.{2,}|…"), lambda m: "."),
    (re.compile(r"\s-+\s|-{2,}|[—–]"), lambda m: ", "),  # dashes between clauses are pauses
    (re.compile(r"(?<!\w)'|'(?!\w)"), lambda m: " "),  # quotes; "don't" keeps its apostrophe
]


@functools.lru_cache(maxsize=4096)  # per character: called for every character of every text
def _known(c: str) -> bool:
    return c.isspace() or c in PUNCTUATION or c in _SILENT or c in "-'" or (
        unicodedata.category(c).startswith("L") and "LATIN" in unicodedata.name(c, ""))


def normalize(text: str) -> tuple[str, list[str]]:
    """Spoken-form text (words and punctuation only) and the unknown characters that were dropped."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'").replace("⁄", "/")  # ½
    for pattern, replace in _ABBREVIATION_PASSES:
        text = pattern.sub(replace, text)
    text = verbalize(text)
    for pattern, replace in _LATE_PASSES:
        text = pattern.sub(replace, text)
    text = "".join(_SYMBOLS.get(c, c) for c in text)
    dropped = list(dict.fromkeys(c for c in text if not _known(c)))
    text = "".join(" " if c in _SILENT or c == "-" or c in dropped else c for c in text)
    text = re.sub(r"\s*([,.;:!?])", r"\1 ", text)  # "word ," -> "word, "
    return " ".join(text.split()), dropped


# ---- phonemes --------------------------------------------------------------------------------------

_LOCK = threading.Lock()  # espeak-ng is one global C state: one caller at a time, across threads
_espeak_backend = None  # (backend, separator), made on first use: loading espeak takes about a second


def _espeak(lines: list[str]) -> list[str]:
    global _espeak_backend
    with _LOCK:
        if _espeak_backend is None:
            import espeakng_loader
            from phonemizer.backend import EspeakBackend
            from phonemizer.backend.espeak.wrapper import EspeakWrapper
            from phonemizer.separator import Separator

            EspeakWrapper.set_library(espeakng_loader.get_library_path())
            EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
            logger = logging.getLogger(__name__ + ".espeak")
            logger.setLevel(logging.ERROR)  # phonemizer warns about language switches it then removes
            backend = EspeakBackend("en-us", with_stress=True, language_switch="remove-flags",
                                    words_mismatch="ignore", logger=logger)
            _espeak_backend = backend, Separator(phone=" ", word=" | ", syllable="")
        backend, separator = _espeak_backend
        return backend.phonemize(lines, separator=separator, strip=True)


@functools.lru_cache(maxsize=4096)  # espeak emits a few hundred distinct phones, each many times
def _to_inventory(phone: str) -> tuple[tuple[str, ...], str]:
    """Map one espeak phone onto ``symbols()``: (tokens, characters that could not be mapped)."""
    stress = ""
    while phone[:1] in _STRESS:
        stress, phone = phone[0], phone[1:]
    phone = re.sub("ː+", "ː", phone)
    if phone not in _BASE:  # foreign phones: drop diacritics (nasal, palatal), then the nearest phone
        phone = "".join(c for c in phone if unicodedata.category(c) != "Mn" and c not in "ʲʰʷ")
        phone = _NEAREST.get(phone, phone)
    pieces, rest = [], phone
    while rest:  # greedy longest match splits runs such as "ææ"
        match = next((rest[:n] for n in range(len(rest), 0, -1) if rest[:n] in _BASE), None)
        if match is None:
            return tuple(pieces), rest
        pieces.append(match)
        rest = rest[len(match):]
    if stress and pieces and pieces[0] in VOWELS:
        pieces[0] = stress + pieces[0]
    return tuple(pieces), ""


def tokens(texts: list[str]) -> list[tuple[list[str], list[str]]]:
    """Token lists for normalized texts (one espeak call for all), each with the espeak phones
    that fall outside the inventory and were dropped."""
    parts = [re.split(r"([,.;:!?]+)", t) for t in texts]
    chunks = [p.strip() for ps in parts for p in ps[::2] if p.strip()]
    phonemes = iter(_espeak(chunks) if chunks else [])
    results = []
    for ps in parts:
        out: list[str] = []
        unmapped: list[str] = []
        for i, part in enumerate(ps):
            if i % 2:  # a run of punctuation marks
                for mark in part:
                    append_pause(out, mark)
                continue
            if not part.strip():
                continue
            for phone in next(phonemes).split():
                if phone == WORD_BOUNDARY:
                    if out and out[-1] not in (WORD_BOUNDARY, *PUNCTUATION):
                        out.append(phone)
                    continue
                mapped, bad = _to_inventory(phone)
                out.extend(mapped)
                unmapped.extend([bad] if bad else [])
            if out and out[-1] == WORD_BOUNDARY:
                out.pop()
        results.append((out, list(dict.fromkeys(unmapped))))
    return results
