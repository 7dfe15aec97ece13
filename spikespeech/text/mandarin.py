"""Mandarin: Arabic numerals read in Chinese, then pypinyin initials and tonal finals.

Token convention (Baker CSMSC as ESPnet's ``pypinyin_g2p_phone``): a syllable is its
initial (left out when empty) and its final with the tone digit, 5 for the neutral tone, in pypinyin's
strict spelling: 你好 -> ``n i3 h ao3`` (sandhi off), 有 -> ``iou3``, 绿 -> ``l v4``.
Erhua 儿 after a syllable is the toneless token ``&r`` (哪儿 -> ``n a3 &r``); syllabic 儿 (儿子, 女儿) stays
``er2``. The pinyin table of SpikeVoice's public code (``text/pinyin.py``, WKX933/spikevoice_huawei at
10cce8e) also splits initials from tonal finals, but has ``y``/``w`` initials and ``rr`` for erhua.
Punctuation becomes the English pause tokens ``, . ? ! ; :``; there are no word-boundary tokens.

Third-tone sandhi (on by default): inside one word of pypinyin's segmentation (maximum matching on its
phrase dictionary; jieba is not used), every tone 3 followed by tone 3 becomes tone 2, so a run keeps
only its last tone 3 (你好 -> ``n i2 h ao3``, 展览馆 when segmented as one word -> 2 2 3). Limits: no
sandhi across words (我 很 好 stays 3 3 3), runs of three are not parsed by their structure, and
the tone changes of 一 and 不 are not applied. 2 is always 二 (never 两).
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, pinyin
from pypinyin.constants import RE_HANS
from pypinyin.core import seg

from .english import PUNCTUATION, append_pause

INITIALS = ("b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "zh", "ch", "sh", "r",
            "z", "c", "s")
FINALS = ("a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "ong", "er", "i", "ia", "ie",
          "iao", "iou", "ian", "in", "iang", "ing", "iong", "io", "u", "ua", "uo", "uai", "uei", "uan",
          "uen", "uang", "ueng", "uong", "v", "ve", "van", "vn", "m", "n")
ERHUA = "&r"  # not "r": that is an initial (日 -> r i4)
_TONED = {f + t for f in FINALS for t in "12345"}


def symbols() -> list[str]:
    """Every token ``tokens`` can emit."""
    return [*INITIALS, *(f + t for f in FINALS for t in "12345"), ERHUA, *PUNCTUATION]


# ---- numbers ---------------------------------------------------------------------------------------

_DIGITS = "零一二三四五六七八九"
_BIG = ("", "万", "亿", "万亿")


def _section(n: int) -> str:
    """0 < n < 10000: 1005 -> 一千零五."""
    out, zero = "", False
    for power, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // power % 10
        if d == 0:
            zero = bool(out)
        else:
            out += ("零" if zero else "") + _DIGITS[d] + unit
            zero = False
    return out


def integer(n: int) -> str:
    """Chinese reading of 0 <= n < 10**16: 10050 -> 一万零五十, 12 -> 十二."""
    if n == 0:
        return "零"
    groups = []
    while n:
        n, g = divmod(n, 10000)
        groups.append(g)
    out, zero = "", False
    for i in reversed(range(len(groups))):
        if groups[i] == 0:
            zero = bool(out)
            continue
        out += ("零" if out and (zero or groups[i] < 1000) else "") + _section(groups[i]) + _BIG[i]
        zero = False
    return out[1:] if out.startswith("一十") else out  # 十二, not 一十二


def _digits(s: str) -> str:
    return "".join(_DIGITS[int(d)] for d in s)


def number(text: str) -> str:
    """"-1,234.5" -> 负一千二百三十四点五; leading zeros or more than 16 digits: digit by digit."""
    sign = "负" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").replace(",", "").partition(".")
    words = _digits(whole) if len(whole) > 16 or (len(whole) > 1 and whole[0] == "0") else integer(int(whole))
    return sign + words + ("点" + _digits(frac) if frac else "")


_NUM = r"(?:(?<![\dA-Za-z.])-)?\d+(?:,\d{3})*(?:\.\d+)?"  # Han characters count as \w
_NUMBER_PASSES = [
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), lambda m: f"{_digits(m[1])}年{integer(int(m[2]))}月"
                                                             f"{integer(int(m[3]))}日"),
    (re.compile(r"(\d{4})(?=年)"), lambda m: _digits(m[1])),  # years are read digit by digit
    (re.compile(r"(\d{1,2}):(\d{2})"), lambda m: f"{integer(int(m[1]))}点"
                                                  + (f"{number(m[2])}分" if int(m[2]) else "")),
    (re.compile(rf"({_NUM})%"), lambda m: "百分之" + number(m[1])),
    (re.compile(_NUM), lambda m: number(m[0])),
]

# ---- characters ------------------------------------------------------------------------------------

_PAUSES = {"，": ",", "、": ",", "。": ".", "！": "!", "？": "?", "；": ";", "：": ":", "…": ".", "—": ",",
           "～": ",", "·": ""} | {p: p for p in PUNCTUATION}
_SILENT = set("「」『』“”‘’《》〈〉（）【】〔〕()[]{}\"'-_~*/\\|<>")


def normalize(text: str) -> tuple[str, list[str]]:
    """Han characters and pause tokens only (numbers read out), and the dropped unknown characters."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # thousands separators, before "，" becomes ","
    text = "".join(_PAUSES.get(c, c) for c in text)
    text = unicodedata.normalize("NFKC", text)  # full-width digits and letters -> ASCII
    for pattern, replace in _NUMBER_PASSES:
        text = pattern.sub(replace, text)
    out, dropped = [], []
    for c in text:
        if RE_HANS.match(c) or c in PUNCTUATION:
            out.append(c)
        elif c.isspace() or c in _SILENT:
            out.append(" ")  # a space ends a word for the segmenter, as the quote or bracket did
        elif c not in dropped:
            dropped.append(c)
    return " ".join("".join(out).split()), dropped


# ---- pinyin ----------------------------------------------------------------------------------------

_SYLLABIC_ER = ("女儿", "婴儿", "幼儿", "孤儿", "健儿", "男儿", "胎儿", "患儿", "少儿", "宠儿", "孩儿",
                "育儿", "孙儿", "侄儿", "小儿", "混血儿", "新生儿", "幸运儿", "弄潮儿", "低能儿")


def _is_erhua(word: str, index: int, previous: str | None) -> bool:
    """儿 at ``word[index]`` suffixes the preceding syllable unless the word makes it a syllable."""
    if word[index] != "儿" or previous is None or (0 < index < len(word) - 1):
        return False
    if index == 0 and len(word) > 1:
        return False  # 儿子, 儿童
    return not (previous + word if len(word) == 1 else word).endswith(_SYLLABIC_ER)


def _sandhi(finals: list[str]) -> list[str]:
    tones = [f[-1] for f in finals]
    return [f[:-1] + "2" if t == "3" and i + 1 < len(tones) and tones[i + 1] == "3" else f
            for i, (f, t) in enumerate(zip(finals, tones, strict=True))]


def _read(word: str) -> list[tuple[str, str | None]]:
    """(initial, toned final) per character; final None where pypinyin has no reading."""
    initials = [p[0] for p in pinyin(word, style=Style.INITIALS, strict=True)]
    finals = [p[0] for p in pinyin(word, style=Style.FINALS_TONE3, strict=True, neutral_tone_with_five=True)]
    if len(initials) == len(finals) == len(word) and all(f in _TONED for f in finals):
        return list(zip(initials, finals, strict=True))
    if len(word) == 1:
        return [("", None)]
    return [r for c in word for r in _read(c)]  # pypinyin groups unreadable characters: retry one by one


def tokens(text: str, sandhi: bool = True) -> tuple[list[str], list[str]]:
    """Tokens for normalized text, and the Han characters pypinyin had no reading for (dropped)."""
    out: list[str] = []
    unread: list[str] = []
    for run in re.split(r"([,.;:!?]| )", text):
        if run in PUNCTUATION:
            append_pause(out, run)
            continue
        previous = None  # the last character read in this run, for erhua
        for word in seg(run) if run.strip() else []:
            readings = _read(word)
            erhua = [final is not None and _is_erhua(word, i, previous if i == 0 else word[i - 1])
                     for i, (_, final) in enumerate(readings)]
            finals = [f for (_, f), e in zip(readings, erhua, strict=True) if f is not None and not e]
            finals_iter = iter(_sandhi(finals) if sandhi else finals)
            for char, (initial, final), is_erhua in zip(word, readings, erhua, strict=True):
                if final is None:
                    unread.extend([char] if char not in unread else [])
                elif is_erhua:
                    out.append(ERHUA)
                else:
                    out.extend([initial, next(finals_iter)] if initial else [next(finals_iter)])
            previous = word[-1] if readings[-1][1] is not None else None
    return out, unread
