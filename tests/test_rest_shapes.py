"""REST responses compared field by field with the seed (``seed/aica-api-endpoints.txt``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from aica.models import Membership, Project, Record, RecordStatus, Role
from tests.conftest import Tenant, assert_rest_error, make_project, make_record

API = "/api/v1"
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
RECORD_ID = re.compile(r"^rec_[0-9a-z]+$")
PROJECT_ID = re.compile(r"^proj_[0-9a-z]+$")
USER_ID = re.compile(r"^usr_[0-9a-z]+$")

# The seed's list item for GET /records, with the JSON type of each field (None: may be null).
SEED_RECORD_LIST_ITEM: dict[str, tuple[type | None, ...]] = {
    "id": (str,),
    "projectId": (str,),
    "type": (str,),
    "status": (str,),
    "duration": (int, None),
    "qualityScore": (int, None),
    "agentName": (str, None),
    "customerPhone": (str, None),
    "createdAt": (str,),
    "completedAt": (str, None),
}
SEED_META = {"page", "pageSize", "total"}


def json_type_ok(value: Any, allowed: tuple[type | None, ...]) -> bool:
    if value is None:
        return None in allowed
    if isinstance(value, bool):  # bool is an int in Python, never in JSON
        return bool in allowed
    return any(t is not None and isinstance(value, t) for t in allowed)


def assert_meta(meta: dict[str, Any], *, page: int, page_size: int, total: int) -> None:
    assert set(meta) == SEED_META, meta
    assert meta == {"page": page, "pageSize": page_size, "total": total}
    assert all(type(v) is int for v in meta.values())


async def test_record_list_item_has_exactly_the_seed_fields_and_json_types(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    record = await make_record(
        project,
        status=RecordStatus.completed,
        duration=342.4,
        quality_score=86.6,
        completed_at=datetime(2026, 3, 5, 10, 18, 42, tzinfo=UTC),
        created_at=datetime(2026, 3, 5, 10, 15, tzinfo=UTC),
    )

    response = await client.get(f"{API}/records", headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"data", "meta"}
    assert_meta(body["meta"], page=1, page_size=20, total=1)
    [item] = body["data"]
    assert set(item) == set(SEED_RECORD_LIST_ITEM)
    for key, allowed in SEED_RECORD_LIST_ITEM.items():
        assert json_type_ok(item[key], allowed), (key, item[key])
    assert item == {
        "id": record.id,
        "projectId": project.id,
        "type": "call",
        "status": "completed",
        "duration": 342,
        "qualityScore": 87,
        "agentName": "John Smith",
        "customerPhone": "+1***4567",
        "createdAt": "2026-03-05T10:15:00Z",
        "completedAt": "2026-03-05T10:18:42Z",
    }


async def test_record_list_uses_prefixed_ids_z_timestamps_and_null_for_missing_values(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    await make_record(project, duration=None, agent_name=None, customer_phone=None)

    body = (await client.get(f"{API}/records", headers=tenant.headers)).json()

    [item] = body["data"]
    assert RECORD_ID.match(item["id"]), item["id"]
    assert PROJECT_ID.match(item["projectId"]), item["projectId"]
    assert UTC_Z.match(item["createdAt"]), item["createdAt"]
    assert item["status"] == "pending"
    for key in ("duration", "qualityScore", "agentName", "customerPhone", "completedAt"):
        assert key in item and item[key] is None, key


async def test_record_list_masks_customer_phone_but_owner_reads_it_whole_on_the_record(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    record = await make_record(await make_project(tenant.org_id), customer_phone="+15551234567")

    listed = (await client.get(f"{API}/records", headers=tenant.headers)).json()["data"]
    single = (await client.get(f"{API}/records/{record.id}", headers=tenant.headers)).json()

    assert listed[0]["customerPhone"] == "+1***4567"
    assert single["data"]["customerPhone"] == "+15551234567"
    assert "5551234567" not in str(listed)


async def test_record_list_page_size_defaults_to_20_and_pages_through_the_rest(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    for minute in range(23):
        await make_record(project, created_at=datetime(2026, 3, 5, 9, minute, tzinfo=UTC))

    first = (await client.get(f"{API}/records", headers=tenant.headers)).json()
    second = (await client.get(f"{API}/records?page=2", headers=tenant.headers)).json()
    small = (await client.get(f"{API}/records?page=3&pageSize=5", headers=tenant.headers)).json()

    assert len(first["data"]) == 20
    assert_meta(first["meta"], page=1, page_size=20, total=23)
    assert len(second["data"]) == 3
    assert_meta(second["meta"], page=2, page_size=20, total=23)
    ids = [r["id"] for r in first["data"] + second["data"]]
    assert len(set(ids)) == 23
    assert_meta(small["meta"], page=3, page_size=5, total=23)
    assert [r["id"] for r in small["data"]] == ids[10:15]  # newest first, stable pages


async def test_record_detail_is_wrapped_in_data_with_the_seed_fields(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    record = await make_record(project, created_at=datetime(2026, 3, 5, 10, 15, tzinfo=UTC))

    response = await client.get(f"{API}/records/{record.id}", headers=tenant.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data"}
    data = body["data"]
    assert set(SEED_RECORD_LIST_ITEM) <= set(data)
    assert data["id"] == record.id
    assert data["projectId"] == project.id
    assert data["createdAt"] == "2026-03-05T10:15:00Z"
    assert data["duration"] == 342
    assert isinstance(data["metadata"], dict)


async def test_record_detail_shows_the_stage_a_polling_client_displays(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    busy = await make_record(project, status=RecordStatus.processing, stage="transcribing")
    idle = await make_record(project)

    shown = (await client.get(f"{API}/records/{busy.id}", headers=tenant.headers)).json()
    unstarted = (await client.get(f"{API}/records/{idle.id}", headers=tenant.headers)).json()

    assert shown["data"]["status"] == "processing"
    assert shown["data"]["stage"] == "transcribing"
    assert unstarted["data"]["stage"] is None


async def test_project_list_and_detail_have_the_data_and_meta_shape(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id, name="Billing", description="Inbound")

    listed = await client.get(f"{API}/projects", headers=tenant.headers)
    single = await client.get(f"{API}/projects/{project.id}", headers=tenant.headers)

    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert set(body) == {"data", "meta"}
    assert_meta(body["meta"], page=1, page_size=20, total=1)
    assert single.status_code == 200, single.text
    assert set(single.json()) == {"data"}
    data = single.json()["data"]
    assert body["data"] == [data]
    assert PROJECT_ID.match(data["id"])
    assert data["name"] == "Billing"
    assert data["description"] == "Inbound"
    assert data["settings"] == {
        "profile": "general",
        "language": "auto",
        "languages": [],
        "agentChannel": 0,
        "redaction": "OFF",
        "retentionDays": None,
    }
    assert UTC_Z.match(data["createdAt"]) and UTC_Z.match(data["updatedAt"])


async def test_user_list_has_the_data_and_meta_shape_with_camel_case_fields(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Ann Agent")

    response = await client.get(f"{API}/users", headers=tenant.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "meta"}
    assert_meta(body["meta"], page=1, page_size=20, total=2)
    by_id = {u["id"]: u for u in body["data"]}
    assert set(by_id) == {tenant.owner.user_id, agent.user_id}
    for user in body["data"]:
        assert USER_ID.match(user["id"])
        assert UTC_Z.match(user["createdAt"])
        assert "agent_name" not in user
    assert by_id[tenant.owner.user_id]["role"] == "owner"
    assert by_id[agent.user_id]["role"] == "agent"
    assert by_id[agent.user_id]["agentName"] == "Ann Agent"


async def test_create_project_returns_201_with_the_new_project(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        f"{API}/projects",
        json={
            "name": "Sales",
            "settings": {"profile": "sales", "language": "en", "retentionDays": 30},
        },
        headers=tenant.headers,
    )

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert PROJECT_ID.match(data["id"])
    assert data["name"] == "Sales"
    assert data["settings"] == {
        "profile": "sales",
        "language": "en",
        "languages": [],
        "agentChannel": 0,
        "redaction": "OFF",
        "retentionDays": 30,
    }
    stored = await Project.get(pk=data["id"])
    assert stored.org_id == tenant.org_id and stored.profile == "sales"
    assert stored.retention_days == 30


async def test_update_project_changes_only_the_given_fields(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id, name="Old", description="keep me")

    response = await client.patch(
        f"{API}/projects/{project.id}", json={"name": "New"}, headers=tenant.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["name"] == "New"
    assert response.json()["data"]["description"] == "keep me"
    stored = await Project.get(pk=project.id)
    assert (stored.name, stored.description) == ("New", "keep me")


async def test_invite_user_returns_201_and_the_member(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        f"{API}/users/invite",
        json={"email": "new.agent@example.com", "role": "agent", "agentName": "Neo"},
        headers=tenant.headers,
    )

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["user"]["email"] == "new.agent@example.com"
    assert data["user"]["role"] == "agent"
    assert USER_ID.match(data["user"]["id"])
    assert await Membership.exists(org_id=tenant.org_id, user_id=data["user"]["id"])


async def test_delete_project_is_204_without_body_and_then_404(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)

    response = await client.delete(f"{API}/projects/{project.id}", headers=tenant.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
    after = await client.get(f"{API}/projects/{project.id}", headers=tenant.headers)
    assert_rest_error(after, 404, "NOT_FOUND")
    assert not await Project.exists(pk=project.id)


async def test_delete_record_is_204_without_body_and_then_404(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    record = await make_record(await make_project(tenant.org_id))

    response = await client.delete(f"{API}/records/{record.id}", headers=tenant.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
    after = await client.get(f"{API}/records/{record.id}", headers=tenant.headers)
    assert_rest_error(after, 404, "NOT_FOUND")
    assert not await Record.exists(pk=record.id)


async def test_delete_user_is_204_and_the_member_is_gone(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent)

    response = await client.delete(f"{API}/users/{agent.user_id}", headers=tenant.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert not await Membership.exists(org_id=tenant.org_id, user_id=agent.user_id)
    again = await client.delete(f"{API}/users/{agent.user_id}", headers=tenant.headers)
    assert_rest_error(again, 404, "NOT_FOUND")
    users = (await client.get(f"{API}/users", headers=tenant.headers)).json()["data"]
    assert agent.user_id not in {u["id"] for u in users}
