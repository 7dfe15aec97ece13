"""English verbalization of numbers: cardinals, decimals, ordinals, years, dates, times,
currency, percentages, fractions and simple units ("$3.50" -> "three dollars and fifty cents").

Readings are US English. Ambiguous forms are resolved one documented way: "3/4/2024" is
month/day/year, a bare 1100-2099 integer without a comma is read as a year ("1984" ->
"nineteen eighty four"), and "12:30" is a time. Output words never contain hyphens or digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
_MONTH_RE = "|".join(MONTHS)
_MAX_DIGITS = 15  # longer digit strings (ids, phone numbers) are read digit by digit
# own tables rather than ``inflect``: importing it takes seconds, and a web demo starts per process
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ("", "thousand", "million", "billion", "trillion")  # 10**15 and up are read digit by digit
_DIGIT_WORDS = _ONES[:10]
_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
             "nine": "ninth", "twelve": "twelfth"}


def _below_thousand(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words = [_ONES[hundreds], "hundred"] if hundreds else []
    if rest >= 20:
        words += [_TENS[rest // 10]] + ([_ONES[rest % 10]] if rest % 10 else [])
    elif rest:
        words.append(_ONES[rest])
    return words


def cardinal(n: int) -> str:
    """``1234`` -> "one thousand two hundred thirty four" (US style: no "and", no commas)."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n >= 1000 ** len(_SCALES):
        return digits(str(n))
    words, scale = [], 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            words = _below_thousand(group) + ([_SCALES[scale]] if scale else []) + words
        scale += 1
    return " ".join(words) or "zero"


def ordinal(n: int) -> str:
    """``21`` -> "twenty first"."""
    *head, last = cardinal(n).split()
    last = _ORDINALS.get(last) or (last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join([*head, last])


def digits(s: str) -> str:
    return " ".join(_DIGIT_WORDS[int(d)] for d in s)


def year(n: int) -> str:
    """``1984`` -> "nineteen eighty four", ``2005`` -> "two thousand five", ``1905`` -> "nineteen oh five"."""
    hi, lo = divmod(n, 100)
    if n < 1000 or 2000 <= n < 2010 or hi % 10 == 0 and lo == 0:
        return cardinal(n)
    if lo == 0:
        return f"{cardinal(hi)} hundred"
    return f"{cardinal(hi)} {'oh ' if lo < 10 else ''}{cardinal(lo)}"


def number(text: str) -> str:
    """A written number (sign, thousands commas, decimals) in words: "-1,234.05" -> "minus one
    thousand two hundred thirty four point zero five"."""
    sign = "minus " if text[:1] in "-−" else ""
    text = text.lstrip("-−").replace(",", "")
    whole, _, frac = text.partition(".")
    if len(whole) > _MAX_DIGITS or (len(whole) > 1 and whole.startswith("0")):
        words = digits(whole)  # "007", account numbers: not a quantity
    else:
        words = cardinal(int(whole or "0"))
    if frac:
        words += " point " + digits(frac)
    return sign + words


# ---- the passes, applied in this order by ``verbalize`` --------------------------------------------

_NUM = r"(?:(?<![\w.])[-−])?\d+(?:,\d{3})*(?:\.\d+)?"  # a "-" after a word is a hyphen
_SCALE_RE = r"thousand|million|billion|trillion"
_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "sen", "sen")}
_UNITS = {  # unit -> (singular, plural); only unambiguous abbreviations (not m, s, h, g, in)
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"), "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"), "mm": ("millimeter", "millimeters"),
    "kg": ("kilogram", "kilograms"), "mg": ("milligram", "milligrams"), "lbs": ("pound", "pounds"),
    "lb": ("pound", "pounds"), "oz": ("ounce", "ounces"), "ft": ("foot", "feet"), "mi": ("mile", "miles"),
    "ms": ("millisecond", "milliseconds"), "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"), "GHz": ("gigahertz", "gigahertz"), "KB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"), "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"),
    "kW": ("kilowatt", "kilowatts"), "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"), "°": ("degree", "degrees"),
}
_MERIDIEM = r"(?P<ap>[AaPp])\.?[Mm]\b\.?"
_UNIT_RE = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))


def _date(month: int, day: int, year_text: str | None) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    out = f"{MONTHS[month - 1]} {ordinal(day)}"
    if year_text:
        y = int(year_text)
        out += ", " + (year(y) if len(year_text) == 4 else ("oh " if y < 10 else "") + cardinal(y))
    return out


def _iso_date(m: re.Match) -> str:
    return _date(int(m[2]), int(m[3]), m[1]) or m[0].replace("-", " ")


def _us_date(m: re.Match) -> str:
    return _date(int(m[1]), int(m[2]), m[3]) or m[0].replace("/", " slash ")


def _month_day(m: re.Match) -> str:
    day = int(m[2])
    if not 1 <= day <= 31:
        return m[0]
    return f"{m[1]} {ordinal(day)}" + (f", {year(int(m[3]))}" if m[3] else "")


def _day_month(m: re.Match) -> str:
    day = int(m[1])
    if not 1 <= day <= 31:
        return m[0]
    return f"{ordinal(day)} of {m[2]}" + (f" {year(int(m[3]))}" if m[3] else "")


def _clock(m: re.Match) -> str:
    hour, minute = int(m["h"]), int(m["m"] or 0)
    meridiem = m["ap"]
    if minute > 59 or hour > (12 if meridiem else 24):
        return m[0].replace(":", " ")
    if minute == 0:
        out = cardinal(hour) + ("" if meridiem else " hundred" if hour > 12 or hour == 0 else " o'clock")
    else:
        out = f"{cardinal(hour)} {'oh ' if minute < 10 else ''}{cardinal(minute)}"
    if m["s"] and int(m["s"]) <= 59:
        out += f" and {cardinal(int(m['s']))} seconds"
    if meridiem:
        out += " ay em" if meridiem.lower() == "a" else " pee em"  # "am" would be read as the verb
        rest = m.string[m.end():]
        if m[0].endswith(".") and (not rest.strip() or re.match(r"\s+[A-Z]", rest)):
            out += "."  # "at 3 p.m. Then" ends a sentence: keep the full stop that "m." swallowed
    return out


def _currency(m: re.Match) -> str:
    one, many, sub_one, sub_many = _CURRENCIES[m["sym"]]
    sign = "minus " if m["neg"] else ""
    amount = m["num"].replace(",", "")
    if m["scale"]:
        return f"{sign}{number(amount)} {m['scale']} {many}"
    whole, _, frac = amount.partition(".")
    if len(frac) != 2:
        return f"{sign}{number(amount)} {one if amount == '1' else many}"
    units, cents = int(whole or "0"), int(frac)
    parts = [f"{cardinal(units)} {one if units == 1 else many}"] if units or not cents else []
    if cents:
        parts.append(f"{cardinal(cents)} {sub_one if cents == 1 else sub_many}")
    return sign + " and ".join(parts)


def _unit(m: re.Match) -> str:
    one, many = _UNITS[m[2]]
    return f"{number(m[1])} {one if m[1] == '1' else many}"


def _decade(m: re.Match) -> str:
    words = year(int(m[1])) if len(m[1]) == 4 else cardinal(int(m[1]))
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _fraction(m: re.Match) -> str:
    num, den = int(m[1]), int(m[2])
    if den < 2 or den > 100:
        return f"{cardinal(num)} over {cardinal(den)}"
    name = {2: ("half", "halves"), 4: ("quarter", "quarters")}.get(den)
    name = name or (ordinal(den), ordinal(den) + "s")
    return f"{cardinal(num)} {name[0] if num == 1 else name[1]}"


def _plain_number(m: re.Match) -> str:
    text = m[0]
    if re.fullmatch(r"\d{4}", text) and 1100 <= int(text) <= 2099:
        return year(int(text))
    return number(text)


_PASSES: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), _iso_date),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b"), _us_date),
    (re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?"), _month_day),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b(?:,?\s+(\d{{4}})\b)?"),
     _day_month),
    (re.compile(rf"\b(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::(?P<s>\d{{2}}))?(?:\s*{_MERIDIEM})?"), _clock),
    (re.compile(rf"\b(?P<h>\d{{1,2}})(?P<m>)(?P<s>)\s*{_MERIDIEM}"), _clock),
    (re.compile(rf"(?P<neg>[-−])?(?P<sym>[$£€¥])\s?(?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?)"
                rf"(?:\s?(?P<scale>{_SCALE_RE})\b)?"), _currency),
    (re.compile(rf"({_NUM})\s?%"), lambda m: number(m[1]) + " percent"),
    (re.compile(rf"({_NUM})\s?({_UNIT_RE})(?![\w/])"), _unit),
    (re.compile(r"\b(\d{3}0|\d0)'?s\b"), _decade),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE), lambda m: ordinal(int(m[1]))),
    (re.compile(r"\b(\d+)/(\d+)\b"), _fraction),
    (re.compile(_NUM), _plain_number),
]


def verbalize(text: str) -> str:
    """Replace every number-like expression in ``text`` with words (see the module docstring)."""
    for pattern, replace in _PASSES:
        text = pattern.sub(replace, text)
    return text
