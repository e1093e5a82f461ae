"""The user's ``q``: phrases in quotes, ``-word`` exclusion, AND of the rest, prefixes.

Only words (``\\w+``) reach a backend, so no character of ``q`` is ever query syntax of
PostgreSQL or Elasticsearch: ``&|!:*()`` and SQL are just not words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from aica.errors import BadInput

MAX_LENGTH = 500
"""Characters; a longer ``q`` is someone pasting a document, not searching."""
MAX_TERMS = 32
PREFIX_MIN_LENGTH = 3
"""The last word is matched as a prefix (search as you type) from this many letters."""

_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]
    """Lower-cased; more than one: matched as a phrase (adjacent, in order)."""
    excluded: bool = False
    prefix: bool = False
    """The last word may be the beginning of a longer one."""


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    """``q`` as the user typed it (trimmed)."""
    terms: tuple[Term, ...]

    @property
    def included(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.excluded)

    @property
    def excluded(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.excluded)

    def words(self) -> set[str]:
        """The words a hit must contain (for typo correction and highlighting)."""
        return {w for t in self.included for w in t.words}

    def replacing(self, corrections: Mapping[str, str]) -> Query:
        """The same query with misspelt words replaced (``refnd`` -> ``refund``)."""
        terms = tuple(
            replace(t, words=tuple(corrections.get(w, w) for w in t.words)) for t in self.terms
        )
        return replace(self, terms=terms)


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def parse(q: str) -> Query:
    """``q`` as terms, or a 400 naming ``q`` when there is nothing to search for."""
    text = q.strip()
    if not text:
        raise BadInput("q must not be empty", field="q")
    if len(text) > MAX_LENGTH:
        raise BadInput(f"q must be at most {MAX_LENGTH} characters", field="q")
    terms = [term for match in _TOKEN.finditer(text) if (term := _term(match)) is not None]
    if not terms:
        raise BadInput("q has no words to search for", field="q")
    if len(terms) > MAX_TERMS:
        raise BadInput(f"q may have at most {MAX_TERMS} words or phrases", field="q")
    if all(t.excluded for t in terms):
        raise BadInput("q needs a word to look for, not only -exclusions", field="q")
    last = terms[-1]
    quoted = text.endswith('"')
    if not last.excluded and not quoted and len(last.words[-1]) >= PREFIX_MIN_LENGTH:
        terms[-1] = replace(last, prefix=True)
    return Query(text, tuple(terms))


def _term(match: re.Match[str]) -> Term | None:
    minus_quoted, phrase, minus, bare = match.groups()
    words = tuple(words_of(phrase if phrase is not None else bare))
    if not words:
        return None
    if phrase is not None:
        return Term(words, excluded=bool(minus_quoted))
    return Term(words, excluded=bool(minus), prefix=bare.endswith("*") and len(words) == 1)
