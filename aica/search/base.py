"""The search interface every backend implements, and the data that crosses it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from aica.search.query import Query

MARK_START, MARK_END = "\x02", "\x03"
"""What a backend wraps highlighted words in; never part of indexed text (see ``clean``)."""


class DocumentType(StrEnum):
    record = "record"
    transcript = "transcript"
    analysis = "analysis"


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    """One searchable text of a record, with what every query filters on."""

    record_id: str
    type: DocumentType
    org_id: str
    project_id: str
    agent_name: str | None
    agent_external_id: str | None
    status: str
    language: str | None
    created_at: datetime
    body: str
    segments: tuple[Segment, ...] = ()
    """Transcripts: the timed segments ``body`` is made of."""


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent's own calls: by name or external id (neither: nothing)."""

    name: str | None
    external_id: str | None


@dataclass(frozen=True, slots=True)
class Scope:
    """Which documents a search may return: applied inside the backend's query."""

    org_id: str
    agent: Agent | None = None
    """Set for agents: only their own calls."""
    project_id: str | None = None
    type: DocumentType | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    agent_name: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    record_id: str
    type: DocumentType
    snippet: str
    score: float
    created_at: datetime
    highlights: tuple[tuple[int, int], ...] = ()
    """``(start, end)`` character ranges of the matching words in ``snippet``."""
    segments: tuple[Segment, ...] = ()
    """Transcript hits: the segments that match, for a player to jump to."""


COUNTED = 1_000
"""Matches are counted exactly up to this many: counting every match of a word said in most
calls costs more than finding the page (Elasticsearch does the same, at 10,000 by default)."""


@dataclass(frozen=True, slots=True)
class Results:
    hits: list[Hit]
    total: int
    """Every match, counted exactly up to ``COUNTED``; beyond it, ``COUNTED``."""
    corrected: Query | None = field(default=None)
    """Set when nothing matched as typed and misspelt words were replaced."""
    total_exact: bool = True
    """False when there are more than ``COUNTED`` matches (as Elasticsearch reports)."""


class Reindex(Protocol):
    async def add(self, record_ids: Sequence[str], documents: Sequence[Document]) -> None:
        """Replace the documents of these records (a record without documents has none)."""

    async def finish(self) -> None:
        """Make what was added the index searches see."""


class SearchBackend(Protocol):
    async def replace(self, record_id: str, documents: Sequence[Document]) -> None:
        """The record's documents become exactly ``documents`` (none: the record is gone)."""

    async def drop(self, record_ids: Sequence[str]) -> None:
        """Remove every document of these records (being deleted); the database backend does
        it in the caller's transaction."""

    async def search(self, query: Query, scope: Scope, offset: int, limit: int) -> Results: ...

    async def reindex(self) -> Reindex:
        """Start rebuilding everything from the database (searches go on meanwhile)."""

    async def close(self) -> None: ...


def clean(text: str) -> str:
    """Text as indexed: without the highlight marks."""
    return text.replace(MARK_START, "").replace(MARK_END, "")


def unmark(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A highlighted snippet as plain text and the ranges that were marked."""
    plain: list[str] = []
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for char in marked:
        if char == MARK_START:
            start = len(plain)
        elif char == MARK_END:
            if start is not None:
                ranges.append((start, len(plain)))
            start = None
        else:
            plain.append(char)
    return "".join(plain), tuple(ranges)
