# ruff: noqa: RUF001  (Cyrillic letters are meant)
"""Which language's phrase sets score a call: the one it is in, not only the one it is labelled.

A transcript's label is the recogniser's: forced by the project or detected, and either can
be wrong in a way its text shows. An English call on a project forced to ``ru`` comes back in
English words labelled ``ru``; Russian speech detected as another language comes back in
Cyrillic under that label. Scored with the label's phrases, such a call fails every phrase
criterion. So the label stands unless the text is written, at least :data:`DOMINANT` of its
words, in the other of the two scripts the shipped profiles cover: Cyrillic text under a
non-Cyrillic label reads as ``ru``, Latin text under a Cyrillic label as ``en``. Languages
that share a script (``en``/``de``, ``ru``/``uk``) cannot be told apart by their letters, so
between those the label stands.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

DOMINANT = 0.8
CYRILLIC_LANGUAGES = frozenset(
    ["ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn", "tt", "ba"]
)
"""Languages Whisper writes in Cyrillic letters."""

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def base_code(code: str) -> str:
    """``en-US`` -> ``en``; an empty code reads as ``en``."""
    return code.strip().lower().replace("_", "-").split("-")[0] or "en"


def spoken_language(label: str, words: Iterable[str]) -> str:
    """The language of a call labelled ``label`` that said ``words`` (see the module doc)."""
    code = base_code(label)
    counts = Counter(map(_script, words))
    written = counts["cyrillic"] + counts["latin"]
    if not written:
        return code
    if counts["cyrillic"] >= DOMINANT * written and code not in CYRILLIC_LANGUAGES:
        return "ru"
    if counts["latin"] >= DOMINANT * written and code in CYRILLIC_LANGUAGES:
        return "en"
    return code


@lru_cache(maxsize=1 << 16)
def _script(word: str) -> str:
    """Cached: a call repeats its words."""
    if _CYRILLIC.search(word):
        return "cyrillic"
    return "latin" if _LATIN.search(word) else ""
