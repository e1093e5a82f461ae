"""GraphiQL at /graphql, and subscriptions from it: what the README tells people to paste in
its headers editor is what GraphiQL sends, both as HTTP headers and as the WebSocket's
connection_init payload (its fetcher passes the editor's headers as connection params)."""

from __future__ import annotations

import asyncio

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.conftest import Tenant, gql, make_project
from tests.http_fixtures import audio_host, serving
from tests.ws import Subscriptions

FINISHED = "subscription ($p: ID!) { recordFinished(projectId: $p) { id status } }"
INGEST = "mutation ($input: IngestRecordInput!) { ingestRecord(input: $input) { id } }"


def headers_editor(tenant: Tenant) -> dict[str, str]:
    """The README's headers-editor JSON."""
    return {
        "Authorization": f"Bearer {tenant.owner.token}",
        "X-Selected-Org-ID": tenant.org_id,
        "orgId": tenant.org_id,
    }


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "GraphiQL" in page.text
    assert "subscriptionUrl" in page.text


async def test_the_pasted_headers_run_queries_and_subscriptions(
    client: httpx.AsyncClient, base_url: str, tenant: Tenant
) -> None:
    pasted = headers_editor(tenant)
    body = await gql(client, "{ projects { total } }", headers=pasted)
    assert body["data"] == {"projects": {"total": 0}}

    project = await make_project(tenant.org_id)
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    async with (
        serving(audio_host({})) as host,
        connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws,
    ):
        live = Subscriptions(ws)
        await live.send({"type": "connection_init", "payload": pasted})
        assert (await live.receive())["type"] == "connection_ack"
        await live.subscribe(FINISHED, {"p": project.id})
        await asyncio.sleep(0.3)  # the subscribe message is handled first
        missing = {"projectId": project.id, "audioUrl": f"{host}/files/missing.wav"}
        ingested = await gql(
            client, INGEST, {"input": {**missing, "externalId": "graphiql-1"}}, pasted
        )
        record_id = ingested["data"]["ingestRecord"]["id"]
        event = await live.until(lambda p: p["data"]["recordFinished"]["id"] == record_id)
    assert event["data"]["recordFinished"]["status"] == "failed"
