"""Webhook ingest: generic JSON and Bitrix24 call-end events become records, once each."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aica.models import Bitrix24Connection, Record, RecordStatus, Role
from aica.services.downloads import AddressPolicy
from aica.services.recordings import RecordingNotReady, audio_url
from tests.conftest import Tenant, assert_rest_error, gql, make_project
from tests.http_fixtures import serving

SAVE_CONNECTION = """
mutation Save($input: Bitrix24ConnectionInput!) {
  saveBitrix24Connection(input: $input) { id domain projectId missedCalls hasRestUrl }
}
"""
CONNECTIONS = "{ bitrix24Connections { id domain } }"


def generic(project_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "projectId": project_id,
        "audioUrl": "https://calls.example.com/rec/1.mp3",
        "externalId": f"crm-{secrets.token_hex(4)}",
        "agentName": "John Smith",
        "customerPhone": "+15551234567",
        "metadata": {"queue": "billing"},
    }
    body.update(overrides)
    return body


async def test_generic_ingest_creates_a_pending_record_with_the_callers_fields(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    body = generic(project.id)
    response = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == {"id", "status", "projectId", "createdAt"}
    assert data["projectId"] == project.id
    record = await Record.get(pk=data["id"])
    assert (record.source, record.external_id, record.audio_url) == (
        "ingest",
        body["externalId"],
        body["audioUrl"],
    )
    assert (record.agent_name, record.customer_phone) == ("John Smith", "+15551234567")
    assert record.metadata == {"queue": "billing"}


async def test_repeated_delivery_returns_the_first_record(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    body = generic(project.id)
    first = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
    again = await client.post(
        "/api/v1/records/ingest",
        json={**body, "audioUrl": "https://elsewhere.example.com/x.mp3"},
        headers=tenant.headers,
    )
    assert first.json()["data"]["id"] == again.json()["data"]["id"]
    assert await Record.filter(org_id=tenant.org_id, external_id=body["externalId"]).count() == 1


async def test_same_external_id_in_two_orgs_makes_two_records(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine, theirs = await make_project(tenant.org_id), await make_project(other_tenant.org_id)
    a = await client.post(
        "/api/v1/records/ingest", json=generic(mine.id, externalId="same"), headers=tenant.headers
    )
    b = await client.post(
        "/api/v1/records/ingest",
        json=generic(theirs.id, externalId="same"),
        headers=other_tenant.headers,
    )
    assert a.json()["data"]["id"] != b.json()["data"]["id"]


async def test_ingest_into_another_orgs_project_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await make_project(other_tenant.org_id)
    response = await client.post(
        "/api/v1/records/ingest", json=generic(theirs.id), headers=tenant.headers
    )
    assert_rest_error(response, 404, "NOT_FOUND")
    assert not await Record.filter(project_id=theirs.id).exists()


async def test_agents_cannot_ingest(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    response = await client.post(
        "/api/v1/records/ingest", json=generic(project.id), headers=agent.headers
    )
    assert_rest_error(response, 403, "FORBIDDEN")


async def test_ingest_without_a_token_is_unauthenticated(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    response = await client.post("/api/v1/records/ingest", json=generic(project.id))
    assert_rest_error(response, 401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"audioUrl": "ftp://calls.example.com/1.mp3"}, "audioUrl"),
        ({"audioUrl": "not a url"}, "audioUrl"),
        ({"externalId": ""}, "externalId"),
        ({"externalId": "x" * 201}, "externalId"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
    ],
)
async def test_bad_ingest_input_is_rejected_and_stores_nothing(
    client: httpx.AsyncClient, tenant: Tenant, overrides: dict[str, Any], field: str
) -> None:
    project = await make_project(tenant.org_id)
    response = await client.post(
        "/api/v1/records/ingest", json=generic(project.id, **overrides), headers=tenant.headers
    )
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert error.get("field") == field
    assert not await Record.filter(project_id=project.id).exists()


# --- Bitrix24 ---------------------------------------------------------------------------


@dataclass
class Portal:
    """A Bitrix24 portal played by a local server: its inbound webhook answers app.info and
    voximplant.statistic.get / disk.file.get (``calls`` maps CALL_ID to what it says), and so
    does its OAuth endpoint ``/rest/``."""

    url: str
    calls: dict[str, Any] = field(default_factory=dict)
    seen: list[dict[str, Any]] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.url.removeprefix("http://")

    @property
    def rest_url(self) -> str:
        return f"{self.url}/rest/1/{HOOK_SECRET}/"

    def app(self) -> Starlette:
        async def app_info(request: Request) -> JSONResponse:
            return JSONResponse({"result": {"ID": "7", "CODE": "local.aica", "INSTALLED": True}})

        async def statistic(request: Request) -> JSONResponse:
            body = await request.json()
            self.seen.append(body)
            found = self.calls.get(body["FILTER"]["CALL_ID"])
            return JSONResponse({"result": [found] if found else [], "total": int(bool(found))})

        async def disk_file(request: Request) -> JSONResponse:
            body = await request.json()
            return JSONResponse(
                {"result": {"ID": body["id"], "DOWNLOAD_URL": f"https://disk/{body['id']}"}}
            )

        async def no_auth(request: Request) -> JSONResponse:
            answer = {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}
            return JSONResponse(answer, status_code=401)

        routes = []
        for base in (f"/rest/1/{HOOK_SECRET}", "/rest"):
            routes += [
                Route(f"{base}/voximplant.statistic.get", statistic, methods=["POST"]),
                Route(f"{base}/disk.file.get", disk_file, methods=["POST"]),
            ]
        routes += [
            Route(f"/rest/1/{HOOK_SECRET}/app.info", app_info, methods=["POST"]),
            Route("/rest/{path:path}", no_auth, methods=["POST"]),
        ]
        return Starlette(routes=routes)


HOOK_SECRET = "hook-secret-4f2a"
OpenPortal = Callable[[], Awaitable[Portal]]


@pytest.fixture
async def open_portal() -> AsyncIterator[OpenPortal]:
    """Each call starts another portal (another domain: its own address and port)."""
    async with AsyncExitStack() as stack:

        async def start() -> Portal:
            portal = Portal("")
            portal.url = await stack.enter_async_context(serving(portal.app()))
            return portal

        yield start


async def connect(
    client: httpx.AsyncClient, tenant: Tenant, project_id: str, portal: Portal, **overrides: Any
) -> dict[str, Any]:
    variables = {
        "input": {
            "projectId": project_id,
            "domain": portal.domain,
            "applicationToken": "app-token-123456",
            "restUrl": portal.rest_url,
            **overrides,
        }
    }
    body = await gql(client, SAVE_CONNECTION, variables, tenant.headers)
    assert "errors" not in body, body
    return dict(body["data"]["saveBitrix24Connection"])


def call_end(domain: str, call_id: str, token: str = "app-token-123456", **data: str) -> dict:
    form = {
        "event": "ONVOXIMPLANTCALLEND",
        "data[CALL_ID]": call_id,
        "data[CALL_TYPE]": "2",
        "data[PHONE_NUMBER]": "+15551234567",
        "data[PORTAL_USER_ID]": "17",
        "data[CALL_DURATION]": "42",
        "data[CALL_START_DATE]": "2026-03-05T10:15:00+03:00",
        "data[CALL_FAILED_CODE]": "200",
        "auth[domain]": domain,
        "auth[application_token]": token,
        "auth[access_token]": "oauth-abc",
        "auth[client_endpoint]": f"https://{domain}/rest/",
    }
    form.update({f"data[{k}]": v for k, v in data.items()})
    return form


async def test_bitrix24_call_end_event_becomes_a_record_once(
    client: httpx.AsyncClient, tenant: Tenant, open_portal: OpenPortal
) -> None:
    project = await make_project(tenant.org_id)
    connection = await connect(client, tenant, project.id, await open_portal())
    event = call_end(connection["domain"], "CALL-1")
    first = await client.post("/api/v1/records/ingest", data=event)  # no bearer: app token
    again = await client.post("/api/v1/records/ingest", data=event)
    assert first.status_code == 200, first.text
    assert first.json()["data"]["id"] == again.json()["data"]["id"]
    record = await Record.get(pk=first.json()["data"]["id"])
    assert record.org_id == tenant.org_id and record.project_id == project.id
    assert (record.external_id, record.agent_external_id, record.customer_phone) == (
        "CALL-1",
        "17",
        "+15551234567",
    )
    assert record.metadata["bitrix24"]["callType"] == "2"


@pytest.mark.parametrize("token", ["wrong-token-000", ""])
async def test_bitrix24_event_with_a_wrong_app_token_is_unauthenticated(
    client: httpx.AsyncClient, tenant: Tenant, token: str, open_portal: OpenPortal
) -> None:
    project = await make_project(tenant.org_id)
    connection = await connect(client, tenant, project.id, await open_portal())
    response = await client.post(
        "/api/v1/records/ingest", data=call_end(connection["domain"], "CALL-X", token=token)
    )
    assert_rest_error(response, 401, "UNAUTHENTICATED")
    assert not await Record.filter(project_id=project.id).exists()


async def test_bitrix24_event_from_an_unknown_portal_is_unauthenticated(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/records/ingest", data=call_end("nobody.bitrix24.com", "CALL-Y")
    )
    assert_rest_error(response, 401, "UNAUTHENTICATED")


async def test_other_bitrix24_events_are_rejected(
    client: httpx.AsyncClient, tenant: Tenant, open_portal: OpenPortal
) -> None:
    project = await make_project(tenant.org_id)
    connection = await connect(client, tenant, project.id, await open_portal())
    event = {**call_end(connection["domain"], "CALL-2"), "event": "ONCRMLEADADD"}
    assert_rest_error(
        await client.post("/api/v1/records/ingest", data=event), 400, "BAD_USER_INPUT"
    )


async def test_missed_calls_are_skipped_or_recorded_as_the_connection_says(
    client: httpx.AsyncClient, tenant: Tenant, open_portal: OpenPortal
) -> None:
    project = await make_project(tenant.org_id)
    skipping = await connect(client, tenant, project.id, await open_portal())
    recording = await connect(client, tenant, project.id, await open_portal(), missedCalls="record")
    skipped = await client.post(
        "/api/v1/records/ingest",
        data=call_end(skipping["domain"], "MISSED-1", CALL_FAILED_CODE="304"),
    )
    kept = await client.post(
        "/api/v1/records/ingest",
        data=call_end(recording["domain"], "MISSED-2", CALL_FAILED_CODE="304"),
    )
    assert skipped.json() == {"data": None}
    record = await Record.get(pk=kept.json()["data"]["id"])
    assert record.status == RecordStatus.failed and "Missed call" in (record.error or "")


async def test_a_portal_belongs_to_one_org_and_is_invisible_to_others(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, open_portal: OpenPortal
) -> None:
    project = await make_project(tenant.org_id)
    connection = await connect(client, tenant, project.id, await open_portal())
    theirs = await make_project(other_tenant.org_id)
    variables = {
        "input": {
            "projectId": theirs.id,
            "domain": connection["domain"],
            "applicationToken": "their-token-999",
            "restUrl": f"http://{connection['domain']}/rest/1/{HOOK_SECRET}/",
        }
    }
    body = await gql(client, SAVE_CONNECTION, variables, other_tenant.headers)
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT", "only after proving control"
    listed = await gql(client, CONNECTIONS, headers=other_tenant.headers)
    assert listed["data"]["bitrix24Connections"] == []


async def test_a_portal_cannot_be_claimed_without_calling_it_and_squatters_learn_nothing(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, open_portal: OpenPortal
) -> None:
    """The audit's squatting: the first org to save a portal's domain locked out its owner."""
    owners, squatters = await open_portal(), await open_portal()
    theirs = await make_project(other_tenant.org_id)

    async def squat(rest_url: str) -> dict[str, Any]:
        variables = {
            "input": {
                "projectId": theirs.id,
                "domain": owners.domain,
                "applicationToken": "squatter-token-1",
                "restUrl": rest_url,
            }
        }
        body = await gql(client, SAVE_CONNECTION, variables, other_tenant.headers)
        return dict(body["errors"][0])

    guessed = f"{owners.url}/rest/1/guessed-secret/"
    attempts = [await squat(guessed), await squat(squatters.rest_url)]
    owner_project = await make_project(tenant.org_id)
    owner_connects = await connect(client, tenant, owner_project.id, owners)
    after = await squat(guessed)

    assert [a["extensions"]["code"] for a in attempts] == ["BAD_USER_INPUT"] * 2
    assert {a["extensions"]["field"] for a in attempts} == {"restUrl"}
    assert owner_connects["domain"] == owners.domain
    assert after["message"] == attempts[0]["message"], "the answer changed once connected"


# --- finding the recording through the portal's REST API ---------------------------------


async def ingested(
    client: httpx.AsyncClient, tenant: Tenant, portal: Portal, call_id: str
) -> Record:
    project = await make_project(tenant.org_id)
    connection = await connect(client, tenant, project.id, portal)
    event = call_end(connection["domain"], call_id)
    event["auth[client_endpoint]"] = f"{portal.url}/rest/"
    response = await client.post("/api/v1/records/ingest", data=event)
    return await Record.get(pk=response.json()["data"]["id"])


@pytest.mark.parametrize(
    ("keep_webhook", "auth_sent"), [(True, None), (False, "oauth-abc")], ids=["webhook", "oauth"]
)
async def test_recording_url_comes_from_voximplant_statistics(
    client: httpx.AsyncClient,
    tenant: Tenant,
    open_portal: OpenPortal,
    keep_webhook: bool,
    auth_sent: str | None,
) -> None:
    """Asked through the connection's webhook; a connection saved before webhooks were
    required has none and uses the event's OAuth token."""
    portal = await open_portal()
    portal.calls["CALL-R1"] = {"CALL_ID": "CALL-R1", "CALL_RECORD_URL": "https://rec/1.mp3"}
    record = await ingested(client, tenant, portal, "CALL-R1")
    if not keep_webhook:
        await Bitrix24Connection.filter(domain=portal.domain).update(rest_url=None)
    found = await audio_url(record, policy=AddressPolicy(allow_private=True), time_limit=5)
    assert found == "https://rec/1.mp3"
    assert portal.seen[-1].get("auth") == auth_sent


async def test_recording_on_bitrix24_disk_is_resolved_to_its_download_url(
    client: httpx.AsyncClient, tenant: Tenant, open_portal: OpenPortal
) -> None:
    portal = await open_portal()
    portal.calls["CALL-R2"] = {"CALL_ID": "CALL-R2", "RECORD_FILE_ID": 991}
    record = await ingested(client, tenant, portal, "CALL-R2")
    found = await audio_url(record, policy=AddressPolicy(allow_private=True), time_limit=5)
    assert found == "https://disk/991"


async def test_a_recording_not_attached_yet_is_reported_as_not_ready(
    client: httpx.AsyncClient, tenant: Tenant, open_portal: OpenPortal
) -> None:
    record = await ingested(client, tenant, await open_portal(), "CALL-R3")
    with pytest.raises(RecordingNotReady):
        await audio_url(record, policy=AddressPolicy(allow_private=True), time_limit=5)


DELETE_CONNECTION = "mutation Delete($id: ID!) { deleteBitrix24Connection(id: $id) { id } }"


async def test_another_org_cannot_remove_a_portal_connection(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, open_portal: OpenPortal
) -> None:
    project = await make_project(tenant.org_id)
    connection = await connect(client, tenant, project.id, await open_portal())
    body = await gql(client, DELETE_CONNECTION, {"id": connection["id"]}, other_tenant.headers)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    still = await client.post("/api/v1/records/ingest", data=call_end(connection["domain"], "C-9"))
    assert still.status_code == 200, still.text
    agent = await tenant.add(Role.agent)
    refused = await gql(client, DELETE_CONNECTION, {"id": connection["id"]}, agent.headers)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_bitrix24_calls_and_generic_ingest_do_not_share_external_ids(
    client: httpx.AsyncClient, tenant: Tenant, open_portal: OpenPortal
) -> None:
    """A portal's CALL_ID must not return (and so reveal) a webhook record with that id."""
    project = await make_project(tenant.org_id)
    generic_record = await client.post(
        "/api/v1/records/ingest",
        json=generic(project.id, externalId="CALL-77"),
        headers=tenant.headers,
    )
    connection = await connect(client, tenant, project.id, await open_portal())
    from_portal = await client.post(
        "/api/v1/records/ingest", data=call_end(connection["domain"], "CALL-77")
    )
    assert from_portal.json()["data"]["id"] != generic_record.json()["data"]["id"]
    record = await Record.get(pk=from_portal.json()["data"]["id"])
    assert record.source == "bitrix24"


@pytest.mark.parametrize("event", ["[1, 2]", "42"])
async def test_a_bitrix24_event_that_is_not_an_object_is_bad_input(
    client: httpx.AsyncClient, event: str
) -> None:
    body = await gql(client, f"mutation {{ ingestBitrix24Event(event: {event}) {{ id }} }}")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_phone_in_ingest_metadata_reaches_agents_only_masked(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """As on upload, the metadata keys that are record columns move to their columns."""
    agent = await tenant.add(Role.agent, agent_name="Ann")
    project = await make_project(tenant.org_id)
    body = generic(
        project.id,
        agentName="Ann",
        customerPhone=None,
        metadata={"customerPhone": "+15557654321", "queue": "billing"},
    )
    response = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    record_id = response.json()["data"]["id"]

    query = "query R($id: ID!) { record(id: $id) { customerPhone agentName metadata } }"
    seen = (await gql(client, query, {"id": record_id}, agent.headers))["data"]["record"]

    assert seen["metadata"] == {"queue": "billing"}
    assert seen["agentName"] == "Ann"
    assert seen["customerPhone"] != "+15557654321"
    assert seen["customerPhone"].endswith("4321")
    assert (await Record.get(pk=record_id)).customer_phone == "+15557654321"
