"""The GraphQL WebSocket: graphql-transport-ws only, auth in connection_init, Origin checked."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin, Subprotocol

from aica.events import project_channel
from aica.models import Project, Role, Token
from aica.services import auth
from tests import conftest
from tests.conftest import Member, Tenant, gql, running_server

TRANSPORT_WS = Subprotocol("graphql-transport-ws")
LEGACY_WS = Subprotocol("graphql-ws")
PROJECTS = "query Projects { projects { total items { name } } }"
REMOVE_USER = "mutation RemoveUser($id: ID!) { removeUser(id: $id) { id } }"
REVOKE_TOKEN = "mutation Revoke($id: ID!) { revokeApiToken(id: $id) { id } }"
UPDATE_USER = (
    "mutation U($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }"
)
TIMEOUT = 5


def open_ws(
    base_url: str, protocol: Subprotocol = TRANSPORT_WS, origin: str | None = None
) -> connect:
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    return connect(
        url,
        subprotocols=[protocol],
        origin=Origin(origin) if origin else None,
        open_timeout=TIMEOUT,
    )


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def init(ws: ClientConnection, payload: dict[str, Any] | None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "connection_init"}
    if payload is not None:  # the protocol makes the payload optional
        message["payload"] = payload
    await send(ws, message)
    return await receive(ws)


async def closed_after_init(
    ws: ClientConnection, payload: dict[str, Any] | None
) -> tuple[int, str]:
    """Sends connection_init and expects the server to close instead of acknowledging."""
    with pytest.raises(ConnectionClosed) as closed:
        message = await init(ws, payload)
        pytest.fail(f"expected the connection to close, got {message}")
    assert closed.value.rcvd is not None, "the server did not close the connection"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def close_code_after_init(ws: ClientConnection, payload: dict[str, Any] | None) -> int:
    return (await closed_after_init(ws, payload))[0]


def auth_payload(tenant: Tenant, *, token: str | None = None) -> dict[str, Any]:
    return {"authorization": f"Bearer {token or tenant.owner.token}", "orgId": tenant.org_id}


async def test_valid_connection_init_is_acknowledged(base_url: str, tenant: Tenant) -> None:
    async with open_ws(base_url) as ws:
        assert ws.subprotocol == TRANSPORT_WS
        assert (await init(ws, auth_payload(tenant)))["type"] == "connection_ack"


async def test_operations_on_the_socket_act_in_the_org_from_connection_init(
    base_url: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    await Project.create(org_id=tenant.org_id, name="Mine")
    await Project.create(org_id=other_tenant.org_id, name="Theirs")

    async with open_ws(base_url) as ws:
        assert (await init(ws, auth_payload(tenant)))["type"] == "connection_ack"
        await send(ws, {"id": "1", "type": "subscribe", "payload": {"query": PROJECTS}})
        result = await receive(ws)

    assert result["type"] == "next", result
    assert result["payload"]["data"]["projects"] == {"total": 1, "items": [{"name": "Mine"}]}


async def test_bare_token_without_bearer_prefix_is_accepted(base_url: str, tenant: Tenant) -> None:
    payload = {"authorization": tenant.owner.token, "orgId": tenant.org_id}
    async with open_ws(base_url) as ws:
        assert (await init(ws, payload))["type"] == "connection_ack"


async def test_invalid_token_closes_with_4401_and_says_why(base_url: str, tenant: Tenant) -> None:
    forged = "aica_pt_" + secrets.token_urlsafe(32)
    async with open_ws(base_url) as ws:
        code, reason = await closed_after_init(ws, auth_payload(tenant, token=forged))
    assert code == 4401
    assert "token" in reason.lower(), reason


@pytest.mark.parametrize("payload", [None, {}], ids=["no-payload", "empty-payload"])
async def test_missing_credentials_close_with_4401_and_say_why(
    base_url: str, payload: dict[str, Any] | None
) -> None:
    async with open_ws(base_url) as ws:
        code, reason = await closed_after_init(ws, payload)
    assert code == 4401
    assert reason, "a close reason"


async def test_missing_org_closes_with_4403_naming_the_payload_field(
    base_url: str, tenant: Tenant
) -> None:
    payload = {"authorization": f"Bearer {tenant.owner.token}"}
    async with open_ws(base_url) as ws:
        code, reason = await closed_after_init(ws, payload)
    assert code == 4403
    assert "orgId" in reason, reason


async def test_org_the_user_is_not_a_member_of_closes_with_4403_and_a_reason(
    base_url: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    payload = {"authorization": f"Bearer {tenant.owner.token}", "orgId": other_tenant.org_id}
    async with open_ws(base_url) as ws:
        code, reason = await closed_after_init(ws, payload)
    assert code == 4403
    assert reason and reason != "Forbidden", reason


async def test_operation_before_connection_init_is_refused(base_url: str) -> None:
    async with open_ws(base_url) as ws:
        await send(ws, {"id": "1", "type": "subscribe", "payload": {"query": PROJECTS}})
        with pytest.raises(ConnectionClosed) as closed:
            message = await receive(ws)
            pytest.fail(f"expected the connection to close, got {message}")
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


@pytest.mark.parametrize("offered", [[LEGACY_WS], []], ids=["legacy graphql-ws", "none"])
async def test_a_handshake_without_graphql_transport_ws_is_refused_with_http_400_naming_it(
    base_url: str, offered: list[Subprotocol]
) -> None:
    """Clients see a refused handshake's status and body; a close frame after accepting
    reaches them as a bare 1006."""
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, subprotocols=offered or None, open_timeout=TIMEOUT):
            pass
    response = refused.value.response
    assert response.status_code == 400
    error = json.loads(response.body or b"{}")["errors"][0]
    assert "graphql-transport-ws" in error["message"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "Sec-WebSocket-Protocol"}


async def test_a_client_offering_both_subprotocols_gets_graphql_transport_ws(
    base_url: str, tenant: Tenant
) -> None:
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    async with connect(url, subprotocols=[LEGACY_WS, TRANSPORT_WS], open_timeout=TIMEOUT) as ws:
        assert ws.subprotocol == TRANSPORT_WS
        assert (await init(ws, auth_payload(tenant)))["type"] == "connection_ack"


async def test_foreign_origin_is_rejected_at_the_handshake_and_the_log_names_the_setting(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(InvalidStatus) as rejected:
        async with open_ws(base_url, origin="https://evil.example"):
            pass
    assert rejected.value.response.status_code == 403
    warnings = [r.getMessage() for r in caplog.records if "evil.example" in r.getMessage()]
    assert warnings and all("AICA_ALLOWED_ORIGINS" in w for w in warnings), warnings


async def test_no_origin_is_accepted(base_url: str, tenant: Tenant) -> None:
    async with open_ws(base_url, origin=None) as ws:
        assert (await init(ws, auth_payload(tenant)))["type"] == "connection_ack"


async def test_same_origin_is_accepted(base_url: str, tenant: Tenant) -> None:
    async with open_ws(base_url, origin=base_url) as ws:
        assert (await init(ws, auth_payload(tenant)))["type"] == "connection_ack"


async def test_configured_allowed_origin_is_accepted(
    base_url: str, database_url: str, tenant: Tenant
) -> None:
    settings = conftest.make_settings(allowed_origins=["https://dash.example.com"])
    async with running_server(settings, database_url, lifespan="off") as other:
        async with open_ws(other, origin="https://dash.example.com") as ws:
            assert (await init(ws, auth_payload(tenant)))["type"] == "connection_ack"
        with pytest.raises(InvalidStatus):
            async with open_ws(other, origin="https://evil.example"):
                pass


# --- access lost while subscribed ---------------------------------------------------------

RECORD_UPDATED = """
subscription Updated($projectId: ID!) { recordUpdated(projectId: $projectId) { id customerPhone } }
"""


async def next_or_close(ws: ClientConnection, publish: Any) -> dict[str, Any] | int:
    """Publish until the socket answers: a ``next`` payload, or the code it closed with."""
    try:
        async with asyncio.timeout(TIMEOUT * 2):
            while True:
                await publish()
                try:
                    async with asyncio.timeout(0.3):
                        message: dict[str, Any] = json.loads(await ws.recv())
                except TimeoutError:
                    continue
                assert message["type"] == "next", message
                return dict(message["payload"])
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code


@pytest.fixture
async def redis_server(base_url: str, database_url: str) -> AsyncIterator[str]:
    """A server whose events come through Redis, so this test can publish them."""
    settings = conftest.make_settings(redis_url=conftest.REDIS_URL)
    async with running_server(settings, database_url, lifespan="off") as url:
        yield url


async def subscribed_supervisor_loses_access(
    redis_server: str,
    tenant: Tenant,
    lose: Callable[[Member], Awaitable[None]],
    *,
    then_publish: bool = True,
) -> tuple[dict[str, Any] | int, dict[str, Any] | int]:
    """A supervisor's socket gets one event, then ``lose`` runs; what does the socket do
    next (with another record event published, or with none)?"""
    supervisor = await tenant.add(Role.supervisor)
    project = await conftest.make_project(tenant.org_id)
    record = await conftest.make_record(project, customer_phone="+15550001111")
    redis = Redis.from_url(conftest.REDIS_URL)

    async def publish() -> None:
        event = {"recordId": record.id, "orgId": tenant.org_id, "status": "pending", "progress": 0}
        await redis.publish(f"aica:{project_channel(project.id)}", json.dumps(event))

    async def nothing() -> None:
        return None

    try:
        async with open_ws(redis_server) as ws:
            assert (await init(ws, auth_payload(tenant, token=supervisor.token)))[
                "type"
            ] == "connection_ack"
            await send(
                ws,
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": RECORD_UPDATED, "variables": {"projectId": project.id}},
                },
            )
            before = await next_or_close(ws, publish)
            await lose(supervisor)
            after = await next_or_close(ws, publish if then_publish else nothing)
    finally:
        await redis.aclose()
    return before, after


async def test_a_revoked_token_stops_its_subscription_and_the_socket_closes(
    redis_server: str, tenant: Tenant
) -> None:
    async def revoke(member: Member) -> None:
        await Token.filter(token_hash=auth.hash_token(member.token)).update(
            revoked_at=datetime.now(UTC)
        )

    before, after = await subscribed_supervisor_loses_access(redis_server, tenant, revoke)

    assert isinstance(before, dict) and before["data"]["recordUpdated"]["customerPhone"]
    assert after == 4403, "a revoked token still receives events"


async def test_a_removed_member_stops_receiving_events(
    redis_server: str, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def remove(member: Member) -> None:
        body = await gql(client, REMOVE_USER, {"id": member.user_id}, tenant.headers)
        assert "errors" not in body, body

    before, after = await subscribed_supervisor_loses_access(redis_server, tenant, remove)

    assert isinstance(before, dict)
    assert after == 4403, "a removed member still receives events"


async def test_revoking_a_token_closes_its_socket_without_waiting_for_an_event(
    redis_server: str, tenant: Tenant
) -> None:
    async with httpx.AsyncClient(base_url=redis_server) as api:

        async def revoke(member: Member) -> None:
            listed = await gql(api, "query { apiTokens { id } }", headers=member.headers)
            for token in listed["data"]["apiTokens"]:
                await gql(api, REVOKE_TOKEN, {"id": token["id"]}, member.headers)

        _, after = await subscribed_supervisor_loses_access(
            redis_server, tenant, revoke, then_publish=False
        )

    assert after == 4403


async def test_removing_a_member_closes_their_socket_without_waiting_for_an_event(
    redis_server: str, tenant: Tenant
) -> None:
    async with httpx.AsyncClient(base_url=redis_server) as api:

        async def remove(member: Member) -> None:
            await gql(api, REMOVE_USER, {"id": member.user_id}, tenant.headers)

        _, after = await subscribed_supervisor_loses_access(
            redis_server, tenant, remove, then_publish=False
        )

    assert after == 4403


async def test_a_supervisor_demoted_to_agent_gets_masked_phones_on_the_open_socket(
    redis_server: str, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def demote(member: Member) -> None:
        variables = {"id": member.user_id, "input": {"role": "agent", "agentName": "John Smith"}}
        body = await gql(client, UPDATE_USER, variables, tenant.headers)
        assert "errors" not in body, body

    before, after = await subscribed_supervisor_loses_access(redis_server, tenant, demote)

    assert isinstance(before, dict) and isinstance(after, dict)
    assert before["data"]["recordUpdated"]["customerPhone"] == "+15550001111"
    assert after["data"]["recordUpdated"]["customerPhone"] != "+15550001111"
