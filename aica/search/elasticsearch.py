"""Elasticsearch through its official async client: a versioned index behind an alias.

Every document's text goes into the field of its language (``text_english``, ``text_russian``,
``text_simple``), each with that language's analyzer; a query runs over the three, so each
document is matched with the query analyzed in its own language. The org, and for agents
their own calls, are filters inside every query. ``reindex`` builds a new index
(``<alias>-<timestamp>``), bulk-loads it, then moves the alias in one atomic call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import async_streaming_bulk

from aica.search.base import (
    COUNTED,
    MARK_END,
    MARK_START,
    Document,
    DocumentType,
    Hit,
    Results,
    Scope,
    Segment,
    clean,
    unmark,
)
from aica.search.postgres import config_for
from aica.search.query import Query, Term, words_of

log = logging.getLogger("aica.search")

_ANALYZERS = {"english": "english", "russian": "russian", "simple": "standard"}
_FIELDS = [f"text_{config}" for config in _ANALYZERS]
_KEYWORDS = (
    "record_id",
    "type",
    "org_id",
    "project_id",
    "agent_name",
    "agent_external_id",
    "status",
    "language",
)
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        **{name: {"type": "keyword"} for name in _KEYWORDS},
        "created_at": {"type": "date"},
        **{f"text_{c}": {"type": "text", "analyzer": a} for c, a in _ANALYZERS.items()},
        "segments": {"type": "object", "enabled": False},
    },
}
_BULK_RETRIES = 3


class ElasticsearchSearch:
    def __init__(self, url: str, alias: str) -> None:
        self._client = AsyncElasticsearch(url)
        self._alias = alias
        self._ready = False

    async def _ensure_index(self) -> None:
        """The first use on an empty cluster: the template, a first index and the alias."""
        if self._ready:
            return
        await self._client.indices.put_index_template(
            name=self._alias,
            index_patterns=[f"{self._alias}-*"],
            template={"mappings": MAPPINGS},
        )
        if not await self._client.indices.exists_alias(name=self._alias):
            index = _new_index_name(self._alias)
            await self._client.indices.create(index=index, aliases={self._alias: {}})
        self._ready = True

    async def replace(self, record_id: str, documents: Sequence[Document]) -> None:
        await self._ensure_index()
        await self._client.delete_by_query(
            index=self._alias, query={"term": {"record_id": record_id}}, refresh=True
        )
        await self._bulk(self._alias, documents)

    async def drop(self, record_ids: Sequence[str]) -> None:
        """At once where the cluster answers; the index jobs the deletion queued drop them
        otherwise (a deletion must not wait for, or fail with, the cluster)."""
        try:
            await self._ensure_index()
            await self._client.delete_by_query(
                index=self._alias, query={"terms": {"record_id": list(record_ids)}}, refresh=True
            )
        except (ApiError, TransportError):
            log.warning("could not drop search documents now; their index jobs will", exc_info=True)

    async def _bulk(self, index: str, documents: Sequence[Document]) -> None:
        actions = (
            {"_index": index, "_id": f"{d.record_id}:{d.type}", "_source": _source(d)}
            for d in documents
        )
        async for ok, item in async_streaming_bulk(
            self._client, actions, max_retries=_BULK_RETRIES, refresh="wait_for"
        ):
            if not ok:
                raise RuntimeError(f"Elasticsearch refused a document: {item}")

    async def search(self, query: Query, scope: Scope, offset: int, limit: int) -> Results:
        await self._ensure_index()
        results = await self._search(query, scope, offset, limit, fuzzy=False)
        if results.total or offset:
            return results
        return await self._search(query, scope, offset, limit, fuzzy=True)

    async def _search(
        self, query: Query, scope: Scope, offset: int, limit: int, *, fuzzy: bool
    ) -> Results:
        answer = await self._client.search(
            index=self._alias,
            query={
                "bool": {
                    "must": [_match(t, fuzzy) for t in query.included],
                    "must_not": [_match(t, False) for t in query.excluded],
                    "filter": _filters(scope),
                }
            },
            highlight={
                "pre_tags": [MARK_START],
                "post_tags": [MARK_END],
                "fields": {f: {"number_of_fragments": 2, "fragment_size": 160} for f in _FIELDS},
            },
            sort=["_score", {"created_at": "desc"}, {"record_id": "asc"}],
            from_=offset,
            size=limit,
            track_total_hits=COUNTED,
        )
        hits = [_hit(h) for h in answer["hits"]["hits"]]
        total = answer["hits"]["total"]
        exact = total.get("relation", "eq") == "eq"
        return Results(hits, min(int(total["value"]), COUNTED), total_exact=exact)

    async def reindex(self) -> ElasticsearchReindex:
        await self._ensure_index()
        index = _new_index_name(self._alias)
        await self._client.indices.create(index=index)
        return ElasticsearchReindex(self, index)

    async def _swap(self, index: str) -> None:
        await self._client.indices.refresh(index=index)
        try:
            old = list(await self._client.indices.get_alias(name=self._alias))
        except NotFoundError:
            old = []
        actions: list[dict[str, Any]] = [
            {"remove": {"index": name, "alias": self._alias}} for name in old
        ]
        actions.append({"add": {"index": index, "alias": self._alias}})
        await self._client.indices.update_aliases(actions=actions)
        for name in old:
            await self._client.indices.delete(index=name)

    async def close(self) -> None:
        await self._client.close()


class ElasticsearchReindex:
    """Loads a new index while searches use the old one; ``finish`` swaps them."""

    def __init__(self, backend: ElasticsearchSearch, index: str) -> None:
        self._backend = backend
        self._index = index

    async def add(self, record_ids: Sequence[str], documents: Sequence[Document]) -> None:
        await self._backend._bulk(self._index, documents)

    async def finish(self) -> None:
        await self._backend._swap(self._index)


def _new_index_name(alias: str) -> str:
    return f"{alias}-{time.time_ns()}"


def _source(d: Document) -> dict[str, Any]:
    return {
        "record_id": d.record_id,
        "type": str(d.type),
        "org_id": d.org_id,
        "project_id": d.project_id,
        "agent_name": d.agent_name,
        "agent_external_id": d.agent_external_id,
        "status": d.status,
        "language": d.language,
        "created_at": d.created_at.isoformat(),
        f"text_{config_for(d.language)}": clean(d.body),
        "segments": [{"start": s.start, "end": s.end, "text": clean(s.text)} for s in d.segments],
    }


def _match(term: Term, fuzzy: bool) -> dict[str, Any]:
    text = " ".join(term.words)
    if term.prefix:
        return {"multi_match": {"query": text, "type": "phrase_prefix", "fields": _FIELDS}}
    if len(term.words) > 1:
        return {"multi_match": {"query": text, "type": "phrase", "fields": _FIELDS}}
    fuzziness = {"fuzziness": "AUTO"} if fuzzy else {}
    return {"multi_match": {"query": text, "fields": _FIELDS, **fuzziness}}


def _filters(scope: Scope) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [{"term": {"org_id": scope.org_id}}]
    if scope.agent is not None:
        own = [
            {"term": {field: value}}
            for field, value in (
                ("agent_name", scope.agent.name),
                ("agent_external_id", scope.agent.external_id),
            )
            if value
        ]
        filters.append(
            {"bool": {"should": own, "minimum_should_match": 1}}
            if own
            else {"bool": {"must_not": {"match_all": {}}}}
        )
    for field, value in (
        ("project_id", scope.project_id),
        ("type", str(scope.type) if scope.type else None),
        ("agent_name", scope.agent_name),
        ("status", scope.status),
    ):
        if value is not None:
            filters.append({"term": {field: value}})
    dates = {
        bound: value.isoformat()
        for bound, value in (("gte", scope.created_from), ("lte", scope.created_to))
        if value is not None
    }
    if dates:
        filters.append({"range": {"created_at": dates}})
    return filters


def _hit(hit: dict[str, Any]) -> Hit:
    source = hit["_source"]
    fragments = [f for field in _FIELDS for f in hit.get("highlight", {}).get(field, [])]
    snippet, highlights = unmark(" … ".join(fragments))
    if not fragments:
        snippet = next((source[f] for f in _FIELDS if source.get(f)), "")[:200]
    matched = {w for a, b in highlights for w in words_of(snippet[a:b])}
    segments = tuple(
        Segment(s["start"], s["end"], s["text"])
        for s in source.get("segments", [])
        if matched & set(words_of(s["text"]))
    )
    score = float(hit["_score"] or 0.0)
    return Hit(
        record_id=source["record_id"],
        type=DocumentType(source["type"]),
        snippet=snippet,
        score=round(score / (score + 1), 4),
        created_at=datetime.fromisoformat(source["created_at"]),
        highlights=highlights,
        segments=segments,
    )
