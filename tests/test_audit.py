"""The access audit: each audited action writes exactly its row; listening is written once per
user, record and kind each half hour however many Range requests a player makes; only owners
and admins read it, only their own org's; filters and cursor pages; old rows are purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from aica.models import AuditAction, AuditEvent, Role
from aica.services import audit, retention
from tests.audio import AudioFactory
from tests.conftest import Tenant, error_code, gql, make_project, make_settings
from tests.stored_calls import storage, stored_call

API = "/api/v1"
EVENTS = """
query ($orgId: ID!, $filter: AuditEventFilter, $first: Int! = 20, $after: String) {
  auditEvents(orgId: $orgId, filter: $filter, first: $first, after: $after) {
    items { id action actorId recordId targetId detail createdAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""
AUDIO_URL = "query ($id: ID!) { recordAudioUrl(id: $id) }"
UPDATE_USER = """
mutation ($id: ID!, $role: Role) { updateUser(id: $id, input: {role: $role}) { id } }
"""
CREATE_TOKEN = """
mutation ($orgId: ID) {
  createApiToken(name: "ci", kind: service, orgId: $orgId) { apiToken { id } }
}
"""
REVOKE_TOKEN = "mutation ($id: ID!) { revokeApiToken(id: $id) { id } }"
UPDATE_BUDGET = """
mutation ($orgId: ID!, $limit: Float) {
  updateBudget(orgId: $orgId, input: {budgetLimit: $limit}) { budgetLimit }
}
"""
CREATE_WEBHOOK = """
mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hook"}) { id } }
"""
UPDATE_WEBHOOK = """
mutation ($id: ID!) { updateWebhookEndpoint(id: $id, input: {enabled: false}) { id } }
"""
DELETE_WEBHOOK = "mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }"
DELETE_PROJECT = "mutation ($id: ID!) { deleteProject(id: $id) { id } }"


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


async def events(
    client: httpx.AsyncClient, tenant: Tenant, **variables: Any
) -> list[dict[str, Any]]:
    body = await gql(client, EVENTS, {"orgId": tenant.org_id, **variables}, tenant.headers)
    assert "errors" not in body, body
    items: list[dict[str, Any]] = body["data"]["auditEvents"]["items"]
    return items


def rows(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What each row says, oldest first, without its id and time."""
    return [
        (e["action"], e["actorId"], e["recordId"], e["targetId"], e["detail"])
        for e in reversed(items)
    ]


async def test_listening_is_written_once_per_half_hour_however_many_range_requests(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    record = await stored_call(await make_project(tenant.org_id), audio)
    url = f"{API}/records/{record.id}/audio"

    # When: a player reads the file in ranges, by header and through a signed link
    for start in range(0, 4000, 500):
        ranged = {**tenant.headers, "Range": f"bytes={start}-{start + 499}"}
        assert (await client.get(url, headers=ranged)).status_code == 206
    link = (await gql(client, AUDIO_URL, {"id": record.id}, tenant.headers))["data"]
    assert (await client.get(link["recordAudioUrl"])).status_code == 200

    # Then: one row
    listened = [("AUDIO_LISTENED", tenant.owner.user_id, record.id, None, {})]
    assert rows(await events(client, tenant)) == listened

    # When: the half hour has passed, the next request is a new listen
    await AuditEvent.filter(org_id=tenant.org_id).update(
        created_at=datetime.now(UTC) - audit.LISTENING_WINDOW - timedelta(seconds=1)
    )
    assert (await client.get(url, headers=tenant.headers)).status_code == 200
    assert rows(await events(client, tenant)) == listened * 2


async def test_a_download_is_an_attachment_and_audited_apart_from_listening(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    record = await stored_call(await make_project(tenant.org_id), audio)
    url = f"{API}/records/{record.id}/audio"

    played = await client.get(url, headers=tenant.headers)
    downloaded = await client.get(url, params={"download": "true"}, headers=tenant.headers)
    again = await client.get(url, params={"download": "true"}, headers=tenant.headers)

    assert played.headers["content-disposition"].startswith("inline")
    assert downloaded.headers["content-disposition"].startswith("attachment")
    assert downloaded.content == played.content == again.content
    assert [e["action"] for e in await events(client, tenant)] == [
        "AUDIO_DOWNLOADED",
        "AUDIO_LISTENED",
    ]


async def test_the_original_of_a_redacted_call_is_audited_as_such(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    record = await stored_call(await make_project(tenant.org_id), audio)
    admin = await tenant.add(Role.admin)
    url = f"{API}/records/{record.id}/audio"

    original = await client.get(url, params={"original": "true"}, headers=admin.headers)
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    refused = await client.get(url, params={"original": "true"}, headers=agent.headers)

    assert original.status_code == 200 and refused.status_code == 403
    assert rows(await events(client, tenant)) == [
        ("AUDIO_ORIGINAL", admin.user_id, record.id, None, {})
    ]


async def test_each_change_writes_exactly_its_row(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    owner, org = tenant.owner, tenant.org_id
    member = await tenant.add(Role.agent)
    project = await make_project(org)
    record = await stored_call(project, audio)
    doomed = await make_project(org, "Closing down")
    await stored_call(doomed, audio)

    async def run(query: str, **variables: Any) -> dict[str, Any]:
        body = await gql(client, query, variables, tenant.headers)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    await run(UPDATE_USER, id=member.user_id, role="supervisor")
    token = (await run(CREATE_TOKEN, orgId=org))["createApiToken"]["apiToken"]["id"]
    await run(REVOKE_TOKEN, id=token)
    await run(UPDATE_BUDGET, orgId=org, limit=120.5)
    hook = (await run(CREATE_WEBHOOK))["createWebhookEndpoint"]["id"]
    await run(UPDATE_WEBHOOK, id=hook)
    await run(DELETE_WEBHOOK, id=hook)
    deleted = await client.delete(f"{API}/records/{record.id}", headers=tenant.headers)
    assert deleted.status_code == 204
    await run(DELETE_PROJECT, id=doomed.id)

    assert rows(await events(client, tenant)) == [
        ("MEMBER_ROLE_CHANGED", owner.user_id, None, member.user_id,
         {"from": "agent", "to": "supervisor"}),
        ("TOKEN_CREATED", owner.user_id, None, token, {"kind": "service"}),
        ("TOKEN_REVOKED", owner.user_id, None, token, {"kind": "service"}),
        ("BUDGET_CHANGED", owner.user_id, None, None, {"budgetLimit": "120.50"}),
        ("WEBHOOK_CREATED", owner.user_id, None, hook, {}),
        ("WEBHOOK_UPDATED", owner.user_id, None, hook, {}),
        ("WEBHOOK_DELETED", owner.user_id, None, hook, {}),
        ("RECORD_DELETED", owner.user_id, record.id, None, {}),
        ("PROJECT_DELETED", owner.user_id, None, doomed.id, {"records": 1}),
    ]  # fmt: skip


@pytest.mark.parametrize("role", [Role.supervisor, Role.agent])
async def test_only_owners_and_admins_read_the_audit(
    client: httpx.AsyncClient, tenant: Tenant, role: Role
) -> None:
    member = await tenant.add(role, agent_name="John Smith")
    admin = await tenant.add(Role.admin)

    refused = await gql(client, EVENTS, {"orgId": tenant.org_id}, member.headers)
    allowed = await gql(client, EVENTS, {"orgId": tenant.org_id}, admin.headers)

    assert error_code(refused) == "FORBIDDEN"
    assert "errors" not in allowed


async def test_another_orgs_events_are_invisible(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    await audit.write(other_tenant.org_id, other_tenant.owner.user_id, AuditAction.budget_changed)
    await audit.write(tenant.org_id, tenant.owner.user_id, AuditAction.webhook_created)

    own = await events(client, tenant)
    theirs = await gql(client, EVENTS, {"orgId": other_tenant.org_id}, tenant.headers)
    filtered = await events(client, tenant, filter={"actorId": other_tenant.owner.user_id})

    assert [e["action"] for e in own] == ["WEBHOOK_CREATED"]
    assert error_code(theirs) == "NOT_FOUND"
    assert filtered == []


async def test_filters_and_cursor_pages(client: httpx.AsyncClient, tenant: Tenant) -> None:
    # Given: five rows an hour apart, of two actions, two actors, two records
    org, owner = tenant.org_id, tenant.owner.user_id
    start = datetime.now(UTC) - timedelta(hours=10)
    plan = [
        (AuditAction.audio_listened, owner, "rec_a"),
        (AuditAction.audio_downloaded, owner, "rec_a"),
        (AuditAction.audio_listened, "usr_other", "rec_b"),
        (AuditAction.audio_listened, owner, "rec_b"),
        (AuditAction.record_deleted, owner, "rec_a"),
    ]
    made = []
    for hour, (action, actor, record) in enumerate(plan):
        row = await audit.write(org, actor, action, record_id=record)
        await AuditEvent.filter(pk=row.id).update(created_at=start + timedelta(hours=hour))
        made.append(row.id)

    async def ids(**variables: Any) -> list[str]:
        return [e["id"] for e in await events(client, tenant, **variables)]

    newest_first = made[::-1]
    assert await ids() == newest_first
    assert await ids(filter={"action": "AUDIO_LISTENED"}) == [made[3], made[2], made[0]]
    assert await ids(filter={"actorId": "usr_other"}) == [made[2]]
    assert await ids(filter={"recordId": "rec_a"}) == [made[4], made[1], made[0]]
    window = {"since": (start + timedelta(hours=1)).isoformat(),
              "until": (start + timedelta(hours=3)).isoformat()}  # fmt: skip
    assert await ids(filter=window) == [made[3], made[2], made[1]]

    # pages of two, by cursor, end to end
    seen: list[str] = []
    after = None
    while True:
        body = await gql(client, EVENTS, {"orgId": org, "first": 2, "after": after}, tenant.headers)
        page = body["data"]["auditEvents"]
        seen += [e["id"] for e in page["items"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == newest_first

    bad = await gql(client, EVENTS, {"orgId": org, "after": "nonsense"}, tenant.headers)
    backwards = await gql(
        client,
        EVENTS,
        {"orgId": org, "filter": {"since": window["until"], "until": window["since"]}},
        tenant.headers,
    )
    too_many = await gql(client, EVENTS, {"orgId": org, "first": 1000}, tenant.headers)
    assert error_code(bad) == error_code(backwards) == error_code(too_many) == "BAD_USER_INPUT"


async def test_rows_past_their_keeping_time_are_purged_by_the_retention_run(
    tenant: Tenant,
) -> None:
    settings = make_settings(audit_retention_days=30)
    old = await audit.write(tenant.org_id, None, AuditAction.budget_changed)
    await AuditEvent.filter(pk=old.id).update(created_at=datetime.now(UTC) - timedelta(days=31))
    young = await audit.write(tenant.org_id, None, AuditAction.budget_changed)

    dry = await retention.purge(settings, storage(), dry_run=True)
    assert dry.audit_rows >= 1 and await AuditEvent.exists(pk=old.id)
    await retention.purge(settings, storage())

    assert not await AuditEvent.exists(pk=old.id)
    assert await AuditEvent.exists(pk=young.id)
