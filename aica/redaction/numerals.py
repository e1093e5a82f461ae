# ruff: noqa: RUF001  (Cyrillic letters and quote look-alikes are meant)
"""Spoken numbers to digits, English and Russian: how a card read aloud becomes "4539...".

People read long numbers digit by digit ("four five three nine"), in pairs ("forty five
thirty nine") or as compounds ("four hundred fifteen", "тысяча девятьсот восемьдесят"), and
the recogniser writes some of it as digits. ``read_numbers`` turns a run of such words into
groups, one number per group, so that the digits of the run are the groups side by side: a
word joins the number before it only where a compound can continue ("twenty" + "one", "сто" +
"сорок" + "два"), else it starts the next group ("one" + "four" is "14" digit by digit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pymorphy3

_EN = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
_RU = {
    "ноль": 0, "нуль": 0, "один": 1, "два": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6,
    "семь": 7, "восемь": 8, "девять": 9, "десять": 10, "одиннадцать": 11, "двенадцать": 12,
    "тринадцать": 13, "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16,
    "семнадцать": 17, "восемнадцать": 18, "девятнадцать": 19, "двадцать": 20, "тридцать": 30,
    "сорок": 40, "пятьдесят": 50, "шестьдесят": 60, "семьдесят": 70, "восемьдесят": 80,
    "девяносто": 90, "сто": 100, "двести": 200, "триста": 300, "четыреста": 400,
    "пятьсот": 500, "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
    "тысяча": 1000,
    "первый": 1, "второй": 2, "третий": 3, "четвертый": 4, "пятый": 5, "шестой": 6,
    "седьмой": 7, "восьмой": 8, "девятый": 9, "десятый": 10, "одиннадцатый": 11,
    "двенадцатый": 12, "тринадцатый": 13, "четырнадцатый": 14, "пятнадцатый": 15,
    "шестнадцатый": 16, "семнадцатый": 17, "восемнадцатый": 18, "девятнадцатый": 19,
    "двадцатый": 20, "тридцатый": 30, "сороковой": 40, "пятидесятый": 50,
    "шестидесятый": 60, "семидесятый": 70, "восьмидесятый": 80, "девяностый": 90,
    "двухтысячный": 2000,
}  # fmt: skip
_REPEAT = {"double": 2, "triple": 3}
_ORDINAL_SUFFIX = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|-?[а-я]{1,3})$")
_DIGITS = re.compile(r"^\+?\d[\d,.\-/]*$")


@lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=20_000)
def number_word(word: str) -> int | None:
    """The value of one spoken number word ("forty", "четырёх", "пятого"), else None."""
    form = _form(word)
    return _EN.get(form, _RU.get(form))


@lru_cache(maxsize=20_000)
def _form(word: str) -> str:
    """The word's dictionary form where it is a Russian number word ("четырёх": "четыре")."""
    word = word.lower().replace("ё", "е")
    if word not in _RU and re.fullmatch(r"[а-я]+", word):
        for parse in _morph().parse(word):
            if (normal := parse.normal_form.replace("ё", "е")) in _RU:
                return str(normal)
    return word


def digits_of(word: str) -> str | None:
    """A word the recogniser wrote in digits ("4,539", "1-4-8-8", "21st") as bare digits."""
    word = word.lower()
    if suffixed := _ORDINAL_SUFFIX.match(word):
        return suffixed.group(1)
    return re.sub(r"\D", "", word) if _DIGITS.match(word) else None


def is_number(word: str) -> bool:
    return digits_of(word) is not None or number_word(word) is not None or word in _REPEAT


@dataclass
class Group:
    """One number of a run: its digits and the positions (in the run) of its words."""

    digits: str
    words: list[int]


def read_numbers(words: list[str]) -> list[Group]:
    """The numbers a run of number words says, in order (see the module doc). Words that
    are no numbers ("and") are skipped."""
    groups: list[Group] = []
    total = room = 0  # the open number, and the largest part it can still take in (0: none)
    repeat = 1
    for position, word in enumerate(words):
        value = number_word(word)
        if word in _REPEAT:
            repeat = _REPEAT[word]
        elif (written := digits_of(word)) is not None or repeat > 1:
            said = written if written is not None else str(value if value is not None else "")
            groups.append(Group(said * repeat, [position]))
            total = room = 0
            repeat = 1
        elif value is None:
            continue
        elif _form(word) in _SCALES and groups and 0 < (below := total % value) < min(value, 100):
            total, room = total - below + below * value, value  # "four hundred", "две тысячи"
            groups[-1].words.append(position)
        elif groups and room > value:
            total, room = total + value, _room_after(value)
            groups[-1].words.append(position)
        else:
            total, room = value, _room_after(value)
            groups.append(Group("", [position]))
        if groups and total:
            groups[-1].digits = str(total)
        elif groups and not groups[-1].digits:
            groups[-1].digits = "0"
    return groups


_SCALES = frozenset({"hundred", "thousand", "тысяча"})


def _room_after(value: int) -> int:
    """The largest part a number can take after ``value``: a unit after "twenty", tens after
    "сто", hundreds after "тысяча"; nothing after a unit or a teen (only a scale word)."""
    if value % 1000 == 0 and value:
        return 1000
    if value % 100 == 0 and value:
        return 100
    return 10 if value >= 20 and value % 10 == 0 else 0
