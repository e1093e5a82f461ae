# ruff: noqa: RUF001, RUF002  (Cyrillic letters are meant)
"""Dictionary forms of words, so a phrase matches its inflected forms.

A word in Cyrillic gets its lemma from pymorphy3's Russian dictionary (the normal form of its
most likely parse: "тупая" -> "тупой", "вас" -> "вы"). A verb keeps its tense: gender, number
and person may change, the time may not, since "вас посадят" (a threat) is not "вас посадили
(на рейс)" and "вы получите" (a promise) is not "вы получили?". A word in Latin letters gets
its English Snowball stem ("refunds" -> "refund", "calling" -> "call"); any other word stays
as it is. The script decides, not the call's language, so a phrase and a transcript always
reduce the same word the same way, and a Russian call quoting an English product name still
stems it.

Lemmas are cached per word: a call repeats its words, and a dictionary look-up costs about
50 µs against well under 1 µs for a cache hit.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import pymorphy3
import snowballstemmer

_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")


@cache
def _morph() -> pymorphy3.MorphAnalyzer:
    """Loaded on first use (about 0.1 s and 15 MB): English-only servers never pay for it."""
    return pymorphy3.MorphAnalyzer(lang="ru")


@cache
def _english() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=1 << 17)
def lemma(token: str) -> str:
    """The dictionary form of one normalised token (lowercase, ``ё`` read as ``е``)."""
    if _CYRILLIC.search(token):
        parse = _morph().parse(token)[0]
        form = str(parse.normal_form).replace("ё", "е")
        tense = parse.tag.tense
        return f"{form}~{tense}" if tense else form
    if _LATIN.search(token):
        return str(_english().stemWord(token))
    return token
