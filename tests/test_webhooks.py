"""Outgoing webhooks: endpoints over REST and GraphQL, signed deliveries to real receivers.

The receivers are real HTTP servers on 127.0.0.1 that check each signature the way the
README tells integrators to; the suite's servers retry quickly (``make_settings``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from aica.models import Role
from tests.audio import AudioFactory
from tests.conftest import (
    Tenant,
    assert_rest_error,
    finished,
    gql,
    make_project,
    make_settings,
    running_server,
    upload,
)
from tests.http_fixtures import Receiver, serving

DELIVERIES = """
query Deliveries($endpointId: ID!) {
  webhookDeliveries(endpointId: $endpointId) {
    items { id event status attempts responseStatus latencyMs lastError }
  }
}
"""
ENDPOINTS = "{ webhookEndpoints { items { id enabled disabledReason } } }"
REDELIVER = "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status } }"
CALL = "Hello, thank you for calling support. How can I help you today?"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver()
    async with serving(hook.app()) as url:
        yield hook, f"{url}/hook"


async def create_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/api/v1/webhooks", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()["data"]
    return endpoint


async def deliveries(
    client: httpx.AsyncClient, tenant: Tenant, endpoint_id: str
) -> list[dict[str, Any]]:
    body = await gql(client, DELIVERIES, {"endpointId": endpoint_id}, tenant.headers)
    assert "errors" not in body, body
    items: list[dict[str, Any]] = body["data"]["webhookDeliveries"]["items"]
    return items


async def settled(
    client: httpx.AsyncClient, tenant: Tenant, endpoint_id: str, count: int = 1
) -> list[dict[str, Any]]:
    """The endpoint's deliveries once ``count`` of them have succeeded or failed."""
    async with asyncio.timeout(60):
        while True:
            items = await deliveries(client, tenant, endpoint_id)
            if sum(d["status"] != "pending" for d in items) >= count:
                return items
            await asyncio.sleep(0.2)


async def test_an_endpoint_is_created_with_its_secret_shown_once(
    client: httpx.AsyncClient, tenant: Tenant, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    endpoint = await create_endpoint(client, tenant, {"url": url, "events": ["record.completed"]})
    assert endpoint["id"].startswith("whk_")
    assert endpoint["secret"].startswith("whsec_")
    assert (endpoint["events"], endpoint["enabled"], endpoint["projectId"]) == (
        ["record.completed"],
        True,
        None,
    )
    listed = (await client.get("/api/v1/webhooks", headers=tenant.headers)).json()
    assert [e["id"] for e in listed["data"]] == [endpoint["id"]]
    assert "secret" not in listed["data"][0]

    deleted = await client.delete(f"/api/v1/webhooks/{endpoint['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/webhooks", headers=tenant.headers)).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "http://"}, "url"),
        ({"events": ["record.done"]}, "events"),
        ({"events": []}, "events"),
        ({"projectId": "proj_abc123"}, "projectId"),
    ],
)
async def test_a_bad_endpoint_is_a_400_naming_the_field(
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: tuple[Receiver, str],
    body: dict[str, Any],
    field: str,
) -> None:
    _, url = receiver
    response = await client.post(
        "/api/v1/webhooks", json={"url": url, **body}, headers=tenant.headers
    )
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert error["field"] == field


async def test_private_targets_are_refused_unless_allowed(
    client: httpx.AsyncClient, base_url: str, database_url: str, tenant: Tenant
) -> None:
    async with (
        running_server(
            make_settings(allow_private_urls=False), database_url, lifespan="off"
        ) as strict,
        httpx.AsyncClient(base_url=strict) as strict_client,
    ):
        for url in (
            "http://127.0.0.1:9/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://10.0.0.8/",
        ):
            response = await strict_client.post(
                "/api/v1/webhooks", json={"url": url}, headers=tenant.headers
            )
            error = assert_rest_error(response, 400, "BAD_USER_INPUT")
            assert error["field"] == "url" and "non-public" in error["message"]


async def test_agents_and_supervisors_cannot_manage_webhooks_and_other_orgs_see_nothing(
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    receiver: tuple[Receiver, str],
) -> None:
    _, url = receiver
    endpoint = await create_endpoint(client, tenant, {"url": url})
    for role in (Role.agent, Role.supervisor):
        member = await tenant.add(role)
        response = await client.post("/api/v1/webhooks", json={"url": url}, headers=member.headers)
        assert_rest_error(response, 403, "FORBIDDEN")
    theirs = other_tenant.headers
    path = f"/api/v1/webhooks/{endpoint['id']}"
    assert_rest_error(await client.delete(path, headers=theirs), 404, "NOT_FOUND")
    assert_rest_error(await client.post(f"{path}/test", headers=theirs), 404, "NOT_FOUND")
    assert (await client.get("/api/v1/webhooks", headers=theirs)).json()["data"] == []
    seen = await gql(client, DELIVERIES, {"endpointId": endpoint["id"]}, theirs)
    assert seen["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_receiver_failing_twice_gets_one_signed_delivery_on_the_third_attempt(
    client: httpx.AsyncClient, tenant: Tenant, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    endpoint = await create_endpoint(client, tenant, {"url": url})
    hook.secret, hook.answers = endpoint["secret"], [500, 500]

    sent = await client.post(f"/api/v1/webhooks/{endpoint['id']}/test", headers=tenant.headers)
    assert sent.status_code == 202, sent.text
    [delivery] = await settled(client, tenant, endpoint["id"])

    assert (delivery["status"], delivery["attempts"], delivery["responseStatus"]) == (
        "succeeded",
        3,
        200,
    )
    assert delivery["id"] == sent.json()["data"]["id"]
    assert len(hook.received) == 3
    assert {r["headers"]["webhook-id"] for r in hook.received} == {delivery["id"]}
    assert all(r["valid"] for r in hook.received)
    body = json.loads(hook.received[-1]["body"])
    assert (body["event"], body["data"]["endpointId"]) == ("test", endpoint["id"])
    assert body["timestamp"].endswith("Z")


async def test_a_receiver_that_never_answers_is_retried_then_disabled_while_records_complete(
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: tuple[Receiver, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    hook, url = receiver
    hook.hang = 30  # beyond the suite's 2 s webhook timeout
    project = await make_project(tenant.org_id)
    endpoint = await create_endpoint(
        client, tenant, {"url": url, "events": ["record.completed"], "projectId": project.id}
    )
    audio = AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")
    created = await upload(client, tenant, project.id, audio.speech(CALL))
    record = await finished(client, tenant, created.json()["data"]["id"])
    assert record["status"] == "completed"  # not held back by the receiver

    [delivery] = await settled(client, tenant, endpoint["id"])
    assert (delivery["status"], delivery["attempts"], delivery["event"]) == (
        "failed",
        3,
        "record.completed",
    )
    assert "no answer within" in delivery["lastError"]
    [state] = (await gql(client, ENDPOINTS, headers=tenant.headers))["data"]["webhookEndpoints"][
        "items"
    ]
    assert state["enabled"] is False and delivery["id"] in state["disabledReason"]
    # Disabled: a test event is refused until it is enabled again.
    again = await client.post(f"/api/v1/webhooks/{endpoint['id']}/test", headers=tenant.headers)
    assert_rest_error(again, 409, "CONFLICT")


async def test_completed_records_and_analyses_are_pushed_and_can_be_redelivered(
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: tuple[Receiver, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    hook, url = receiver
    project = await make_project(tenant.org_id)
    other = await make_project(tenant.org_id)
    endpoint = await create_endpoint(
        client,
        tenant,
        {"url": url, "events": ["record.completed", "analysis.completed"], "projectId": project.id},
    )
    hook.secret = endpoint["secret"]
    audio = AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")
    for project_id in (other.id, project.id):  # the other project's call is not this endpoint's
        created = await upload(client, tenant, project_id, audio.speech(CALL))
        record = await finished(client, tenant, created.json()["data"]["id"])

    items = await settled(client, tenant, endpoint["id"], count=2)
    assert sorted(d["event"] for d in items) == ["analysis.completed", "record.completed"]
    bodies = {json.loads(r["body"])["event"]: json.loads(r["body"]) for r in hook.received}
    assert bodies["record.completed"]["data"]["id"] == record["id"]
    assert bodies["record.completed"]["data"]["status"] == "completed"
    assert bodies["analysis.completed"]["data"]["recordId"] == record["id"]
    assert all(r["valid"] for r in hook.received)

    first = next(d for d in items if d["event"] == "record.completed")
    again = await gql(client, REDELIVER, {"id": first["id"]}, tenant.headers)
    assert "errors" not in again, again
    assert again["data"]["redeliverWebhook"]["id"] != first["id"]
    await settled(client, tenant, endpoint["id"], count=3)
    assert len(hook.received) == 3
