"""Objects a client refetches carry a stable ``id``, so Apollo's InMemoryCache normalises them
without type policies: the same object has the same id on every fetch, different ones differ."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from aica.services import orgs
from aica.services.analyses import analyze_record
from tests.conftest import Tenant, gql, make_project, make_record
from tests.test_analyses_api import transcribed_record

REFETCHED = ["Transcript", "AnalysisProfile", "AudioFile", "CriterionResult", "ProjectStats"]
FIELDS = """
query Fields($name: String!) {
  __type(name: $name) { fields { name type { kind ofType { name } } } }
}
"""


async def data(client: httpx.AsyncClient, tenant: Tenant, query: str, **variables: Any) -> Any:
    body = await gql(client, query, variables, tenant.headers)
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.parametrize("name", [*REFETCHED, "Session"])
async def test_the_type_has_a_non_null_id(
    client: httpx.AsyncClient, tenant: Tenant, name: str
) -> None:
    fields = (await data(client, tenant, FIELDS, name=name))["__type"]["fields"]
    id_type = next(f["type"] for f in fields if f["name"] == "id")
    assert id_type == {"kind": "NON_NULL", "ofType": {"name": "ID"}}


async def test_a_transcript_and_its_audio_have_their_records_id(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    first = await transcribed_record(project.id, tenant.org_id)
    second = await transcribed_record(project.id, tenant.org_id)
    with_audio = await make_record(project, audio_key=f"{secrets.token_hex(4)}.wav", format="wav")
    query = "query T($id: ID!) { transcript(recordId: $id) { id } }"

    ids = [
        (await data(client, tenant, query, id=r.id))["transcript"]["id"] for r in (first, second)
    ]
    audio = await data(
        client, tenant, "query A($id: ID!) { recordAudio(id: $id) { id } }", id=with_audio.id
    )

    assert ids == [first.id, second.id]
    assert audio["recordAudio"]["id"] == with_audio.id


async def test_criteria_ids_are_unique_and_the_same_on_every_fetch(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    analyses = [
        await analyze_record(await transcribed_record(project.id, tenant.org_id), "general")
        for _ in range(2)
    ]
    query = "query A($id: ID!) { analysis(id: $id) { criteria { id key } } }"

    fetched = [
        [c["id"] for c in (await data(client, tenant, query, id=a.id))["analysis"]["criteria"]]
        for a in (*analyses, analyses[0])
    ]

    assert fetched[0] == fetched[2]
    every = fetched[0] + fetched[1]
    assert len(every) == len(set(every)) > 2


async def test_profile_ids_are_unique_and_built_in_ones_have_one_too(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    query = "{ analysisProfiles { id key builtin } }"

    first = (await data(client, tenant, query))["analysisProfiles"]
    again = (await data(client, tenant, query))["analysisProfiles"]

    assert first == again
    assert all(p["id"] for p in first)
    assert len({p["id"] for p in first}) == len(first)
    assert {p["key"] for p in first if p["builtin"]} >= {"general", "sales", "collections"}


async def test_project_stats_have_one_id_per_project_and_period(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    one, two = await make_project(tenant.org_id), await make_project(tenant.org_id)
    query = (
        "query S($p: ID!, $from: DateFilter) { projectStats(projectId: $p, from: $from) { id } }"
    )

    async def stats_id(project_id: str, start: str | None) -> str:
        found = await data(client, tenant, query, p=project_id, **{"from": start})
        return str(found["projectStats"]["id"])

    march = await stats_id(one.id, "2026-03-01")
    assert march == await stats_id(one.id, "2026-03-01")
    assert (
        len({march, await stats_id(one.id, "2026-04-01"), await stats_id(two.id, "2026-03-01")})
        == 3
    )
    assert len({await stats_id(one.id, None), await stats_id(two.id, None)}) == 2


async def test_a_sessions_id_is_its_tokens_id_in_api_tokens(client: httpx.AsyncClient) -> None:
    email = f"session-{secrets.token_hex(4)}@example.com"
    await orgs.bootstrap("Sessions", email, password="a-long-password")
    login = "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { id token } }"
    session = (await gql(client, login, {"e": email, "p": "a-long-password"}))["data"]["login"]

    listed = await gql(
        client, "{ apiTokens { id kind } }", headers={"Authorization": f"Bearer {session['token']}"}
    )

    assert {"id": session["id"], "kind": "session"} in listed["data"]["apiTokens"]
