"""The database's own full-text search: ``tsvector`` + GIN, ranked by ``ts_rank_cd``.

Each document is stored with the text-search configuration of its record's language and
matched with the query parsed in that same configuration, so "refunds" finds "refund" in an
English call and "возвраты" finds "возврат" in a Russian one. When nothing matches as typed,
words the org's documents never contained are replaced by the most similar word they did
(``pg_trgm``), and the search runs once more.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

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
from aica.search.query import Query, Term, words_of

CONFIGS = ("english", "russian", "simple")
"""Text-search configurations by record language (``config_for``)."""
_HEADLINE = (
    f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=30, MinWords=12, ShortWord=2, '
    'MaxFragments=2, FragmentDelimiter=" … "'
)
_TERM_MIN, _TERM_MAX = 3, 40
"""Lengths of the words kept for typo correction."""
_COLUMNS = (
    "record_id, type, org_id, project_id, agent_name, agent_external_id, status, language, "
    "created_at, config, body, segments"
)
_CANDIDATES = COUNTED + 1
"""One scan finds the newest matches, at most this many: they are ranked for the page, and
their number is the total (``COUNTED`` and inexact when the scan was full). Ranking every
match of a word said in most calls read every call's tsvector (0.5 s at 100,000 calls), and
counting them all cost more than finding the page."""


def _literal(tsquery: str) -> str:
    """A tsquery PostgreSQL wrote, as an SQL literal. The search statements carry their
    tsqueries inline rather than as parameters: a prepared statement run a few times gets a
    generic plan, blind to how common the words are, and a common word's search took twice
    as long on it."""
    return "'" + tsquery.replace("'", "''") + "'::tsquery"


def _query_of_row(tsqueries: Sequence[str]) -> str:
    """The query parsed in the row's own configuration (``tsqueries`` in ``CONFIGS`` order)."""
    en, ru, simple = (_literal(t) for t in tsqueries)
    return (
        f"CASE d.config WHEN 'english'::regconfig THEN {en} "
        f"WHEN 'russian'::regconfig THEN {ru} ELSE {simple} END"
    )


def config_for(language: str | None) -> str:
    prefix = (language or "").lower()[:2]
    return {"en": "english", "ru": "russian"}.get(prefix, "simple")


def vocabulary(documents: Sequence[Document]) -> list[str]:
    """The words typo correction may suggest, sorted (concurrent inserts lock in one order)."""
    words = {w for d in documents for w in words_of(d.body) if _TERM_MIN <= len(w) <= _TERM_MAX}
    return sorted(w for w in words if not w.isdigit())


def _tsquery(query: Query, config: str, params: list[str]) -> str:
    """SQL building ``query`` as a tsquery of ``config``; the words go in as parameters."""

    def param(text: str) -> str:
        params.append(text)
        return f"${len(params)}"

    def term(t: Term) -> str:
        cfg = f"'{config}'::regconfig"
        if t.prefix:
            last = f"to_tsquery({cfg}, {param(t.words[-1])} || ':*')"
            sql = last
            if len(t.words) > 1:
                head = f"phraseto_tsquery({cfg}, {param(' '.join(t.words[:-1]))})"
                sql = f"tsquery_phrase({head}, {last})"
        elif len(t.words) > 1:
            sql = f"phraseto_tsquery({cfg}, {param(' '.join(t.words))})"
        else:
            sql = f"plainto_tsquery({cfg}, {param(t.words[0])})"
        return f"!!({sql})" if t.excluded else f"({sql})"

    return " && ".join(term(t) for t in query.terms)


class PostgresSearch:
    def __init__(self, connection: str = "default") -> None:
        self._connection = connection

    def _client(self) -> BaseDBAsyncClient:
        return Tortoise.get_connection(self._connection)

    async def replace(self, record_id: str, documents: Sequence[Document]) -> None:
        async with in_transaction(self._connection) as client:
            await _write(client, [record_id], documents)

    async def drop(self, record_ids: Sequence[str]) -> None:
        async with in_transaction(self._connection) as client:
            await _write(client, record_ids, [])

    async def reindex(self) -> PostgresReindex:
        return PostgresReindex(self._connection)

    async def close(self) -> None:
        """Nothing of its own: it runs on the ORM's connections."""

    async def search(self, query: Query, scope: Scope, offset: int, limit: int) -> Results:
        results = await self._search(query, scope, offset, limit)
        if results.total or offset:
            return results
        corrected = await self._corrected(query, scope.org_id)
        if corrected is None:
            return results
        retried = await self._search(corrected, scope, offset, limit)
        return Results(retried.hits, retried.total, corrected)

    async def _tsqueries(self, query: Query) -> list[str]:
        params: list[str] = []
        columns = ", ".join(f"({_tsquery(query, c, params)})::text AS {c}" for c in CONFIGS)
        rows = await self._client().execute_query_dict(f"SELECT {columns}", params)
        return [str(rows[0][c]) for c in CONFIGS]

    async def _search(self, query: Query, scope: Scope, offset: int, limit: int) -> Results:
        tsqueries = await self._tsqueries(query)
        params: list[Any] = []
        matches = [
            f"(d.config = '{c}'::regconfig AND d.tsv @@ {_literal(tsqueries[i])})"
            for i, c in enumerate(CONFIGS)
            if tsqueries[i]
        ]

        if not matches:  # nothing but stop words ("the", "и")
            return Results([], 0)
        where = " AND ".join([f"({' OR '.join(matches)})", *_filters(scope, params)])
        rows = await self._client().execute_query_dict(
            f"""WITH d AS (
                    SELECT d.record_id, d.type, d.created_at, d.config, d.tsv
                    FROM search_documents d WHERE {where}
                    ORDER BY d.created_at DESC LIMIT {_CANDIDATES}
                )
                SELECT d.record_id, d.type, d.created_at,
                       ts_rank_cd(d.tsv, {_query_of_row(tsqueries)}, 32) AS score,
                       count(*) OVER () AS candidates
                FROM d
                ORDER BY score DESC, d.created_at DESC, d.record_id, d.type
                LIMIT {int(limit)} OFFSET {int(offset)}""",
            params,
        )
        if rows:
            total = int(rows[0]["candidates"])
        elif offset:  # a page past the end: the total still says how many there are
            counted = await self._client().execute_query_dict(
                f"""SELECT count(*) AS total FROM (
                        SELECT 1 FROM search_documents d WHERE {where} LIMIT {_CANDIDATES}
                    ) AS matched""",
                params,
            )
            total = int(counted[0]["total"])
        else:
            total = 0
        exact = total <= COUNTED
        total = min(total, COUNTED)
        if not rows:
            return Results([], total, total_exact=exact)
        details = await self._details(tsqueries, rows)
        hits = [_hit(row, details[(row["record_id"], row["type"])]) for row in rows]
        return Results(hits, total, total_exact=exact)

    async def _details(
        self, tsqueries: list[str], rows: list[dict[str, Any]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Snippets and matching segments, for the returned page only."""
        query_of_row = _query_of_row(tsqueries)
        found = await self._client().execute_query_dict(
            f"""SELECT d.record_id, d.type,
                       ts_headline(d.config, d.body, {query_of_row}, $1) AS snippet,
                       (SELECT coalesce(jsonb_agg(s ORDER BY n), '[]'::jsonb)
                        FROM jsonb_array_elements(d.segments) WITH ORDINALITY AS e(s, n)
                        WHERE to_tsvector(d.config, s->>'text') @@ {query_of_row}
                       )::text AS segments
                FROM unnest($2::text[], $3::text[]) AS page(record_id, type)
                JOIN search_documents d USING (record_id, type)""",
            [
                _HEADLINE,
                [r["record_id"] for r in rows],
                [r["type"] for r in rows],
            ],
        )
        return {(r["record_id"], r["type"]): r for r in found}

    async def _corrected(self, query: Query, org_id: str) -> Query | None:
        """``query`` with each word the org never said replaced by its nearest known word."""
        rows = await self._client().execute_query_dict(
            """SELECT w.word,
                      (SELECT t.term FROM search_terms t
                       WHERE t.org_id = $1 AND t.term % w.word
                       ORDER BY similarity(t.term, w.word) DESC, t.term LIMIT 1) AS term
               FROM unnest($2::text[]) AS w(word)
               WHERE NOT EXISTS (
                   SELECT 1 FROM search_terms k WHERE k.org_id = $1 AND k.term = w.word)""",
            [org_id, sorted(query.words())],
        )
        corrections = {r["word"]: r["term"] for r in rows if r["term"]}
        return query.replacing(corrections) if corrections else None


class PostgresReindex:
    """Record by record in place: the table is the index, there is nothing to swap."""

    def __init__(self, connection: str) -> None:
        self._connection = connection

    async def add(self, record_ids: Sequence[str], documents: Sequence[Document]) -> None:
        async with in_transaction(self._connection) as client:
            await _write(client, record_ids, documents)

    async def finish(self) -> None:
        """Each batch was committed as it was added."""


async def _write(
    client: BaseDBAsyncClient, record_ids: Sequence[str], documents: Sequence[Document]
) -> None:
    ids = sorted(record_ids)
    # One writer per record at a time (the job, a reindex): else both delete nothing and
    # the second insert fails on the first's rows.
    await client.execute_query(
        "SELECT pg_advisory_xact_lock(hashtext(id)) FROM unnest($1::text[]) AS id ORDER BY id",
        [ids],
    )
    await client.execute_query(
        "DELETE FROM search_documents WHERE record_id = ANY($1::text[])", [ids]
    )
    if not documents:
        return
    rows = [_row(d) for d in documents]
    await client.execute_query(
        f"""INSERT INTO search_documents ({_COLUMNS})
            SELECT r, t, o, p, an, ae, s, l, c, cfg::regconfig, b, seg::jsonb
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                        $7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::text[],
                        $12::text[]) AS x(r, t, o, p, an, ae, s, l, c, cfg, b, seg)""",
        [list(column) for column in zip(*rows, strict=True)],
    )
    by_org: dict[str, list[Document]] = {}
    for d in documents:
        by_org.setdefault(d.org_id, []).append(d)
    for org_id, docs in sorted(by_org.items()):
        await client.execute_query(
            """INSERT INTO search_terms (org_id, term) SELECT $1, unnest($2::text[])
               ON CONFLICT DO NOTHING""",
            [org_id, vocabulary(docs)],
        )


def _row(d: Document) -> tuple[Any, ...]:
    segments = [{"start": s.start, "end": s.end, "text": clean(s.text)} for s in d.segments]
    return (
        d.record_id,
        str(d.type),
        d.org_id,
        d.project_id,
        d.agent_name,
        d.agent_external_id,
        d.status,
        d.language,
        d.created_at,
        config_for(d.language),
        clean(d.body),
        json.dumps(segments, ensure_ascii=False),
    )


def _filters(scope: Scope, params: list[Any]) -> list[str]:
    """The scope as SQL conditions on ``d`` (the org first: it is never optional)."""

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    conditions = [f"d.org_id = {param(scope.org_id)}"]
    if scope.agent is not None:
        own = [
            f"d.{column} = {param(value)}"
            for column, value in (
                ("agent_name", scope.agent.name),
                ("agent_external_id", scope.agent.external_id),
            )
            if value
        ]
        conditions.append(f"({' OR '.join(own)})" if own else "false")
    for column, value, operator in (
        ("project_id", scope.project_id, "="),
        ("type", str(scope.type) if scope.type else None, "="),
        ("created_at", scope.created_from, ">="),
        ("created_at", scope.created_to, "<="),
        ("agent_name", scope.agent_name, "="),
        ("status", scope.status, "="),
    ):
        if value is not None:
            conditions.append(f"d.{column} {operator} {param(value)}")
    return conditions


def _hit(row: dict[str, Any], details: dict[str, Any]) -> Hit:
    snippet, highlights = unmark(details["snippet"])
    return Hit(
        record_id=row["record_id"],
        type=DocumentType(row["type"]),
        snippet=snippet,
        score=round(float(row["score"]), 4),
        created_at=row["created_at"],
        highlights=highlights,
        segments=tuple(
            Segment(float(s["start"]), float(s["end"]), s["text"])
            for s in json.loads(details["segments"])
        ),
    )
