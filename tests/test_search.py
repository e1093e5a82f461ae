# ruff: noqa: RUF001  (Russian lines)
"""Full-text search as users meet it, through REST and GraphQL, on every backend.

Calls are made through the ORM like the pipeline stores them, then indexed by the index job's
function (``services.search.index_record``). The same behaviour runs on Elasticsearch when
``AICA_TEST_ELASTICSEARCH_URL`` points at a cluster.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import elastic_transport
import httpx
import pytest
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from aica.config import Settings
from aica.models import Project, Record, RecordStatus, Role
from aica.search.base import COUNTED
from aica.services import search
from aica.services.analyses import analyze_record
from tests.audio import AudioFactory
from tests.conftest import (
    Tenant,
    assert_rest_error,
    error_code,
    finished,
    free_port,
    gql,
    make_project,
    make_settings,
    running_server,
    upload,
)
from tests.test_analyses_api import transcribed_record
from tests.test_cli import aica, cli_env

SEARCH = """
query Search($q: String!, $projectId: ID, $type: SearchDocumentType, $from: DateFilter,
             $to: DateFilter, $agentName: String, $status: RecordStatus, $page: Int,
             $pageSize: Int) {
  search(q: $q, projectId: $projectId, type: $type, from: $from, to: $to,
         agentName: $agentName, status: $status, page: $page, pageSize: $pageSize) {
    items { recordId type snippet score createdAt highlights { start end }
            segments { start end text } }
    total totalIsExact page pageSize query correctedQuery
  }
}
"""
REFUND_ONCE = [
    (0.5, 4.0, "customer", "Hello, I would like to ask about my order."),
    (4.5, 9.0, "agent", "Of course. Our refund policy allows returns within thirty days."),
    (9.5, 12.0, "customer", "Thank you, goodbye."),
]
REFUND_TWICE = [
    (0.5, 4.0, "customer", "I want a refund for the broken kettle."),
    (4.5, 9.0, "agent", "Let me check the order first."),
    (9.5, 14.0, "agent", "Yes, the refund is approved and it goes back to your card."),
]
RUSSIAN_RETURN = [
    (0.5, 4.0, "customer", "Здравствуйте, я хочу оформить возврат денег за заказ."),
    (4.5, 8.0, "agent", "Хорошо, оформим возврат в течение трёх дней."),
]


__all__ = ["cli_env"]  # the fixture, shared with test_cli


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@dataclass
class Engine:
    """A server searching with one backend, and the settings its index job uses."""

    client: httpx.AsyncClient
    settings: Settings


@pytest.fixture(params=["postgres", "elasticsearch"])
async def engine(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, database_url: str
) -> AsyncIterator[Engine]:
    if request.param == "postgres":
        yield Engine(client, make_settings())
        return
    url = os.environ.get("AICA_TEST_ELASTICSEARCH_URL")
    if not url:
        pytest.skip(
            "Elasticsearch variant: set AICA_TEST_ELASTICSEARCH_URL to a cluster's URL "
            "(no Elasticsearch server can be installed on these build machines)"
        )
    settings = make_settings(
        search_backend="elasticsearch",
        elasticsearch_url=url,
        elasticsearch_index=f"aica-test-{secrets.token_hex(4)}",
    )
    async with (
        running_server(settings, database_url, lifespan="off") as base,
        httpx.AsyncClient(base_url=base, timeout=30) as own,
    ):
        yield Engine(own, settings)


async def indexed_call(
    engine: Engine,
    project: Project,
    lines: list[tuple[float, float, str, str]],
    **options: Any,
) -> Record:
    """A transcribed and analyzed call, indexed as the index job does it."""
    record = await transcribed_record(project.id, project.org_id, lines=lines, **options)
    await analyze_record(record, "general")
    await search.index_record(engine.settings, record.id)
    return record


async def rest_search(engine: Engine, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await engine.client.get("/api/v1/search", params=params, headers=headers)


async def found(engine: Engine, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    body = await gql(engine.client, SEARCH, variables, headers)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["search"]
    return result


def ids(result: dict[str, Any]) -> list[str]:
    return [hit["recordId"] for hit in result["items"]]


# --- the seed's REST shape ---------------------------------------------------------------------


async def test_rest_search_answers_in_the_seeds_shape(engine: Engine, tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    record = await indexed_call(engine, project, REFUND_ONCE)

    response = await rest_search(
        engine, tenant.headers, q="refund policy", projectId=project.id, limit=10
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "meta"}
    assert body["meta"] == {"total": len(body["data"]), "query": "refund policy"}
    assert all(
        set(h) == {"recordId", "type", "snippet", "score", "createdAt"} for h in body["data"]
    )
    [hit] = [h for h in body["data"] if h["type"] == "transcript"]
    assert hit["recordId"] == record.id
    assert "refund policy" in hit["snippet"].lower()
    assert 0 < hit["score"] <= 1
    assert hit["createdAt"].endswith("Z")


async def test_limit_caps_the_page_and_total_counts_every_match(
    engine: Engine, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    for lines in (REFUND_ONCE, REFUND_TWICE):
        await indexed_call(engine, project, lines)

    body = (await rest_search(engine, tenant.headers, q="refund", limit=1)).json()
    both = await found(engine, tenant.headers, q="refund", type="transcript", pageSize=1)

    assert len(body["data"]) == 1 and body["meta"]["total"] >= 2
    assert len(both["items"]) == 1 and both["total"] == 2


# --- matching and ranking ----------------------------------------------------------------------


async def test_the_call_that_says_it_twice_ranks_above_the_one_that_says_it_once(
    engine: Engine, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    once = await indexed_call(engine, project, REFUND_ONCE)
    twice = await indexed_call(engine, project, REFUND_TWICE)

    result = await found(engine, tenant.headers, q="refund", type="transcript")

    assert ids(result) == [twice.id, once.id]
    assert result["items"][0]["score"] > result["items"][1]["score"]


async def test_a_quoted_phrase_matches_only_those_words_together(
    engine: Engine, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    phrase = await indexed_call(engine, project, REFUND_ONCE)  # "refund policy"
    await indexed_call(engine, project, REFUND_TWICE)  # "refund" and "card", apart

    transcripts = {"type": "transcript"}
    assert ids(await found(engine, tenant.headers, q='"refund policy"', **transcripts)) == [
        phrase.id
    ]
    assert ids(await found(engine, tenant.headers, q='"policy refund"', **transcripts)) == []


async def test_every_word_must_match_and_a_minus_word_excludes(
    engine: Engine, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    once = await indexed_call(engine, project, REFUND_ONCE)
    twice = await indexed_call(engine, project, REFUND_TWICE)
    transcripts = {"type": "transcript"}

    assert ids(await found(engine, tenant.headers, q="refund kettle", **transcripts)) == [twice.id]
    assert ids(await found(engine, tenant.headers, q="refund -kettle", **transcripts)) == [once.id]


async def test_english_word_forms_and_prefixes_find_the_call(
    engine: Engine, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    record = await indexed_call(engine, project, REFUND_ONCE)  # "refund", "returns", "allows"

    for q in ("refunds", "returned", "allow refund", "polic*", "thirt"):
        assert record.id in ids(await found(engine, tenant.headers, q=q)), q


async def test_russian_word_forms_find_a_russian_call(engine: Engine, tenant: Tenant) -> None:
    project = await make_project(tenant.org_id, language="ru")
    record = await indexed_call(engine, project, RUSSIAN_RETURN, language="ru")

    for q in ("возвраты", "Возврата", "оформить возврат", "деньги заказа"):
        result = await found(engine, tenant.headers, q=q, type="transcript")
        assert ids(result) == [record.id], q
    assert ids(await found(engine, tenant.headers, q="ВОЗВРАТ -денег")) == []


async def test_snippets_show_the_hit_with_its_ranges_and_the_segment_times(
    engine: Engine, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    await indexed_call(engine, project, REFUND_TWICE)

    [hit] = (await found(engine, tenant.headers, q="kettle", type="transcript"))["items"]

    assert "kettle" in hit["snippet"]
    marked = [hit["snippet"][r["start"] : r["end"]] for r in hit["highlights"]]
    assert marked and all(word.lower() == "kettle" for word in marked)
    assert [(s["start"], s["end"]) for s in hit["segments"]] == [(0.5, 4.0)]
    assert "kettle" in hit["segments"][0]["text"]


async def test_a_misspelt_word_is_corrected_when_nothing_matches_as_typed(
    engine: Engine, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    record = await indexed_call(engine, project, REFUND_ONCE)

    result = await found(engine, tenant.headers, q="polcy refnd")

    assert record.id in ids(result)
    if engine.settings.search_backend == "postgres":
        assert result["correctedQuery"] == "policy refund"


# --- filters, tenancy, agents ------------------------------------------------------------------


async def test_every_filter_narrows_the_results(engine: Engine, tenant: Tenant) -> None:
    support = await make_project(tenant.org_id)
    sales = await make_project(tenant.org_id, name="Sales")
    old = await indexed_call(engine, support, REFUND_ONCE, agent_name="Ann")
    new = await indexed_call(engine, sales, REFUND_TWICE, agent_name="Bob")
    month_ago = datetime.now(UTC) - timedelta(days=30)
    await Record.filter(pk=old.id).update(created_at=month_ago, status=RecordStatus.failed)
    for record in (old, new):
        await search.index_record(engine.settings, record.id)
    headers = tenant.headers
    q = {"q": "refund"}

    assert set(ids(await found(engine, headers, **q, type="transcript"))) == {old.id, new.id}
    assert ids(await found(engine, headers, **q, projectId=sales.id)) == [new.id] * 2
    assert {h["type"] for h in (await found(engine, headers, **q))["items"]} >= {"transcript"}
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert set(ids(await found(engine, headers, **q, **{"from": yesterday}))) == {new.id}
    assert set(ids(await found(engine, headers, **q, to=yesterday))) == {old.id}
    assert set(ids(await found(engine, headers, **q, agentName="Ann"))) == {old.id}
    assert set(ids(await found(engine, headers, **q, status="failed"))) == {old.id}
    agent_doc = await found(engine, headers, q="Bob", type="record")
    assert ids(agent_doc) == [new.id]
    rest = await rest_search(engine, headers, q="refund", projectId=support.id)
    assert {h["recordId"] for h in rest.json()["data"]} == {old.id}


async def test_another_orgs_calls_never_appear(
    engine: Engine, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await make_project(other_tenant.org_id)
    await indexed_call(engine, theirs, REFUND_TWICE)
    await indexed_call(engine, await make_project(tenant.org_id), REFUND_ONCE)

    mine = await found(engine, tenant.headers, q="kettle")
    their_project = await found(engine, tenant.headers, q="refund", projectId=theirs.id)
    rest = (await rest_search(engine, tenant.headers, q="kettle")).json()

    assert mine["items"] == [] and mine["total"] == 0
    assert their_project["items"] == [] and their_project["total"] == 0
    assert rest == {"data": [], "meta": {"total": 0, "query": "kettle"}}
    # nor do their words: a typo is never corrected into another org's vocabulary
    assert (await found(engine, tenant.headers, q="ketle"))["items"] == []


async def test_agents_find_only_their_own_calls(engine: Engine, tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    mine = await indexed_call(engine, project, REFUND_ONCE, agent_name="Ann")
    await indexed_call(engine, project, REFUND_TWICE, agent_name="Bob")
    ann = await tenant.add(Role.agent, agent_name="Ann")
    unlinked = await tenant.add(Role.agent)

    result = await found(engine, ann.headers, q="refund")
    rest = (await rest_search(engine, ann.headers, q="refund")).json()

    assert set(ids(result)) == {mine.id} and result["total"] == len(result["items"])
    assert {h["recordId"] for h in rest["data"]} == {mine.id}
    assert (await found(engine, ann.headers, q="Bob"))["items"] == []
    assert (await found(engine, unlinked.headers, q="refund"))["total"] == 0


# --- keeping the index in step -----------------------------------------------------------------


async def test_a_deleted_record_is_no_longer_found(engine: Engine, tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    record = await indexed_call(engine, project, REFUND_TWICE)
    assert set(ids(await found(engine, tenant.headers, q="kettle"))) == {record.id}

    deleted = await engine.client.delete(f"/api/v1/records/{record.id}", headers=tenant.headers)
    assert deleted.status_code == 204
    await search.index_record(engine.settings, record.id)  # the job the delete queued

    assert (await found(engine, tenant.headers, q="kettle"))["total"] == 0


async def test_a_reanalysis_reindexes_the_new_analysis(engine: Engine, tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    record = await indexed_call(engine, project, REFUND_TWICE)
    before = await found(engine, tenant.headers, q="refund", type="analysis")
    assert ids(before) == [record.id]
    first = await Record.get(pk=record.id)

    response = await engine.client.post(
        f"/api/v1/analyses/{first.analysis_id}/re-analyze",
        json={"profileId": "sales"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    await search.index_record(engine.settings, record.id)  # the job it queued, if not yet run
    after = await found(engine, tenant.headers, q="refund", type="analysis")

    assert after["items"][0]["snippet"] != before["items"][0]["snippet"]


# --- hostile and empty queries -----------------------------------------------------------------

REJECTED = ["", "   ", '""', "&|!:*()", "-refund", "x" * 10_000, '"" - * ()']
ANSWERED = [
    '"refund',
    'refund"',
    '"refund" "',
    "refund & policy | !returns",
    "refund:* & (policy)",
    "'; DROP TABLE records; --",
    "refund' OR '1'='1",
    "refund\\",
    "the",
    "\x00refund",
    "рефанд | возврат!",
]


@pytest.mark.parametrize("q", REJECTED, ids=range(len(REJECTED)))
async def test_a_query_with_nothing_to_search_for_is_a_400_naming_q(
    engine: Engine, tenant: Tenant, q: str
) -> None:
    rest = await rest_search(engine, tenant.headers, q=q)
    graphql = await gql(engine.client, SEARCH, {"q": q}, tenant.headers)

    error = assert_rest_error(rest, 400, "BAD_USER_INPUT")
    assert "q" in error["message"]
    assert error_code(graphql) == "BAD_USER_INPUT"
    assert graphql["errors"][0]["extensions"]["field"] == "q"


@pytest.mark.parametrize("q", ANSWERED, ids=range(len(ANSWERED)))
async def test_quotes_operators_and_sql_in_q_are_just_words(
    engine: Engine, tenant: Tenant, q: str
) -> None:
    project = await make_project(tenant.org_id)
    await indexed_call(engine, project, REFUND_ONCE)

    rest = await rest_search(engine, tenant.headers, q=q)
    graphql = await gql(engine.client, SEARCH, {"q": q}, tenant.headers)

    assert rest.status_code in (200, 400), rest.text
    if rest.status_code == 400:
        assert_rest_error(rest, 400, "BAD_USER_INPUT")
    else:
        assert "errors" not in graphql, graphql
        assert rest.json()["meta"]["total"] == graphql["data"]["search"]["total"]
    assert await Record.filter(org_id=tenant.org_id).count() == 1


async def test_bad_paging_and_dates_are_400s_naming_the_field(
    engine: Engine, tenant: Tenant
) -> None:
    for limit in ("0", "1000", "ten"):
        response = await rest_search(engine, tenant.headers, q="refund", limit=limit)
        assert_rest_error(response, 400, "BAD_USER_INPUT")
    dates = await gql(
        engine.client,
        SEARCH,
        {"q": "refund", "from": "2026-02-01", "to": "2026-01-01"},
        tenant.headers,
    )
    assert error_code(dates) == "BAD_USER_INPUT"


# --- PostgreSQL: the database is the index -----------------------------------------------------


async def test_aica_search_reindex_rebuilds_the_index_from_the_database(
    cli_env: dict[str, str], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    engine = Engine(client, make_settings())
    record = await indexed_call(engine, await make_project(tenant.org_id), REFUND_TWICE)
    await connection().execute_query(
        "DELETE FROM search_documents WHERE record_id = $1", [record.id]
    )
    assert (await found(engine, tenant.headers, q="kettle"))["total"] == 0

    ran = await aica(cli_env, "search", "reindex")

    assert ran.returncode == 0, ran.stderr
    assert re.fullmatch(r"\d+ records indexed \(postgres\)\n", ran.stdout)
    assert set(ids(await found(engine, tenant.headers, q="kettle"))) == {record.id}


async def test_each_language_is_matched_through_the_gin_index(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    await indexed_call(Engine(client, make_settings()), project, REFUND_ONCE)
    match = " OR ".join(
        f"(config = '{config}'::regconfig AND tsv @@ to_tsquery('{config}', '{word}'))"
        for config, word in (("english", "refund"), ("russian", "возврат"), ("simple", "kettle"))
    )
    async with in_transaction() as conn:
        await conn.execute_query("SET LOCAL enable_seqscan = off")  # a tiny table otherwise
        plan = await conn.execute_query_dict(
            f"EXPLAIN SELECT 1 FROM search_documents WHERE {match}"
        )

    text = "\n".join(row["QUERY PLAN"] for row in plan)
    assert text.count("Bitmap Index Scan on search_documents_tsv") == 3, text


async def test_an_uploaded_call_becomes_searchable_once_the_pipeline_has_run(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    path = audio.speech("Hello, I would like a refund for my broken kettle, please.")
    created = (await upload(client, tenant, project.id, path)).json()["data"]
    assert (await finished(client, tenant, created["id"]))["status"] == "completed"

    engine = Engine(client, make_settings())
    async with asyncio.timeout(30):  # the index job the stage queued, run by the server's worker
        while True:
            result = await found(engine, tenant.headers, q="kettle", type="transcript")
            if result["items"]:
                break
            await asyncio.sleep(0.2)

    [hit] = result["items"]
    assert hit["recordId"] == created["id"]
    assert hit["segments"] and all(s["end"] > s["start"] >= 0 for s in hit["segments"])


async def test_a_search_backend_that_is_down_never_fails_the_record(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    path = audio.speech("Thank you for calling, goodbye.")
    created = (await upload(client, tenant, project.id, path)).json()["data"]
    assert (await finished(client, tenant, created["id"]))["status"] == "completed"
    down = make_settings(
        search_backend="elasticsearch", elasticsearch_url=f"http://127.0.0.1:{free_port()}"
    )

    # the index job's attempt fails loudly (pgqueuer's executor queues it again, with backoff)
    with pytest.raises(elastic_transport.ConnectionError):
        await search.index_record(down, created["id"])
    assert (await Record.get(pk=created["id"])).status == RecordStatus.completed


def connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection("default")


async def test_beyond_a_thousand_matches_the_total_stops_counting_and_says_so(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    many = COUNTED + 5
    await connection().execute_query(
        """INSERT INTO records (id, org_id, project_id, type, status, progress, attempts, source,
                                metadata, created_at)
           SELECT 'rec_many' || n, $1, $2, 'call', 'completed', 100, 1, 'upload', '{}', now()
           FROM generate_series(1, $3) AS n""",
        [tenant.org_id, project.id, many],
    )
    await connection().execute_query(
        """INSERT INTO search_documents (record_id, type, org_id, project_id, status, language,
                                         created_at, config, body)
           SELECT 'rec_many' || n, 'transcript', $1, $2, 'completed', 'en', now(), 'english',
                  'Where is my parcel number ' || n
           FROM generate_series(1, $3) AS n""",
        [tenant.org_id, project.id, many],
    )
    engine = Engine(client, make_settings())

    rest = await rest_search(engine, tenant.headers, q="parcel", limit=5)
    graph = await found(engine, tenant.headers, q="parcel", pageSize=5)
    narrow = await found(engine, tenant.headers, q="parcel 77")

    assert rest.status_code == 200, rest.text
    assert rest.json()["meta"]["total"] == COUNTED and len(rest.json()["data"]) == 5
    assert (graph["total"], graph["totalIsExact"]) == (COUNTED, False)
    assert (narrow["total"], narrow["totalIsExact"]) == (1, True)
