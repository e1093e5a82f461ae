"""Search over an org's calls, and keeping the search documents in step with the database.

The database is the source of truth: a record's documents are always rebuilt from its rows
(``index_record``, run by the ``index_record`` job), never patched. Who may see what is part
of the :class:`Scope` every backend applies inside its query, so a page is never filtered
after the fact (its total would lie, and a bug would leak).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from functools import cache

from aica.config import Settings
from aica.models import Analysis, Record, RecordStatus, Transcript
from aica.search.base import Agent, Document, DocumentType, Results, Scope, SearchBackend, Segment
from aica.search.postgres import PostgresSearch
from aica.search.query import Query, parse
from aica.services.access import Actor
from aica.services.pagination import PageRequest
from aica.services.timerange import DateBound, check_range

REINDEX_BATCH = 200
"""Records read (and sent to the backend) at a time by ``aica search reindex``."""
_REBUILDS = 3
"""A record that changes while its documents are written is rebuilt, this many times."""


@dataclass(frozen=True, slots=True)
class SearchFilter:
    project_id: str | None = None
    type: DocumentType | None = None
    created_from: DateBound | None = None
    created_to: DateBound | None = None
    agent_name: str | None = None
    status: RecordStatus | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    results: Results
    query: Query
    page: int
    page_size: int


def backend_for(settings: Settings) -> SearchBackend:
    if settings.search_backend == "elasticsearch":
        return _elasticsearch(settings.elasticsearch_url or "", settings.elasticsearch_index)
    return PostgresSearch()


@cache
def _elasticsearch(url: str, index: str) -> SearchBackend:
    """One client (and its connection pool) per process."""
    from aica.search.elasticsearch import ElasticsearchSearch  # its client: only when chosen

    return ElasticsearchSearch(url, index)


async def search(
    actor: Actor, settings: Settings, q: str, flt: SearchFilter, request: PageRequest
) -> SearchPage:
    query = parse(q)
    check_range(flt.created_from, flt.created_to)
    scope = Scope(
        org_id=actor.org_id,
        agent=Agent(actor.agent_name, actor.agent_external_id) if actor.is_agent else None,
        project_id=flt.project_id,
        type=flt.type,
        created_from=flt.created_from.start if flt.created_from else None,
        created_to=flt.created_to.end if flt.created_to else None,
        agent_name=flt.agent_name,
        status=str(flt.status) if flt.status else None,
    )
    results = await backend_for(settings).search(query, scope, request.offset, request.page_size)
    return SearchPage(results, query, request.page, request.page_size)


async def index_record(settings: Settings, record_id: str) -> None:
    """Make the record's documents what its rows say now (none once it is deleted)."""
    backend = backend_for(settings)
    for _ in range(_REBUILDS):
        record = await Record.get_or_none(pk=record_id, deleting_at__isnull=True)
        if record is None:
            await backend.replace(record_id, [])
            return
        await backend.replace(record_id, await documents([record]))
        if await Record.filter(pk=record_id, **_version(record)).exists():
            return  # else it changed meanwhile (finished, re-analyzed): build it again


def _version(record: Record) -> dict[str, object]:
    """What the documents were built from, among the fields that change after creation."""
    return {"status": record.status, "analysis_id": record.analysis_id, "deleting_at__isnull": True}


async def documents(records: Sequence[Record]) -> list[Document]:
    """The search documents of ``records``: what identifies the call, its transcript and
    its current analysis (the customer's phone number is never indexed)."""
    ids = [r.id for r in records]
    transcripts = {t.record_id: t for t in await Transcript.filter(record_id__in=ids)}
    analysis_ids = [r.analysis_id for r in records if r.analysis_id]
    analyses = {a.id: a for a in await Analysis.filter(id__in=analysis_ids)}
    return [
        d
        for r in records
        for d in _documents_of(r, transcripts.get(r.id), analyses.get(r.analysis_id or ""))
    ]


def _documents_of(
    record: Record, transcript: Transcript | None, analysis: Analysis | None
) -> list[Document]:
    language = record.language or (transcript.language if transcript else None)
    about = (record.agent_name, record.external_id, record.file_name)
    texts: list[tuple[DocumentType, str, tuple[Segment, ...]]] = [
        (DocumentType.record, "\n".join(part for part in about if part), ())
    ]
    if transcript is not None:
        texts.append((DocumentType.transcript, transcript.text, _segments(transcript)))
    if analysis is not None:
        body = "\n".join([analysis.summary, *analysis.improvements])
        texts.append((DocumentType.analysis, body, ()))
    return [
        Document(
            record_id=record.id,
            type=kind,
            org_id=record.org_id,
            project_id=record.project_id,
            agent_name=record.agent_name,
            agent_external_id=record.agent_external_id,
            status=str(record.status),
            language=language,
            created_at=record.created_at,
            body=body,
            segments=segments,
        )
        for kind, body, segments in texts
        if body.strip()
    ]


def _segments(transcript: Transcript) -> tuple[Segment, ...]:
    return tuple(
        Segment(float(s["start"]), float(s["end"]), str(s.get("text", "")).strip())
        for s in transcript.segments
    )


async def reindex(settings: Settings, on_progress: Callable[[int, int], None]) -> int:
    """Rebuild the configured backend from the database; ``on_progress(done, total)``."""
    backend = backend_for(settings)
    total = await Record.filter(deleting_at__isnull=True).count()
    rebuild = await backend.reindex()
    done = 0
    async for batch in _batches():
        await rebuild.add([r.id for r in batch], await documents(batch))
        done += len(batch)
        on_progress(done, total)
    await rebuild.finish()
    return done


async def _batches() -> AsyncIterator[list[Record]]:
    """Every record not being deleted, by id (keyset: stable while records come and go)."""
    last = ""
    live = Record.filter(deleting_at__isnull=True)
    while batch := await live.filter(id__gt=last).order_by("id").limit(REINDEX_BATCH):
        yield list(batch)
        last = batch[-1].id
