"""Role checks through REST: owner > admin > supervisor > agent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aica.models import Membership, Project, Record, Role
from tests.conftest import Member, Tenant, assert_rest_error, make_project, make_record

API = "/api/v1"


async def org_state(org_id: str) -> dict[str, Any]:
    return {
        "projects": await Project.filter(org_id=org_id).order_by("id").values(),
        "records": await Record.filter(org_id=org_id).order_by("id").values_list("id", flat=True),
        "members": await Membership.filter(org_id=org_id)
        .order_by("id")
        .values_list("user_id", "role"),
    }


async def test_agent_cannot_create_a_project(client: httpx.AsyncClient, tenant: Tenant) -> None:
    agent = await tenant.add(Role.agent, agent_name="Ann")

    response = await client.post(f"{API}/projects", json={"name": "Mine"}, headers=agent.headers)

    assert_rest_error(response, 403, "FORBIDDEN")
    assert not await Project.exists(org_id=tenant.org_id, name="Mine")


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
async def test_below_admin_every_management_route_is_forbidden_and_changes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, role: Role
) -> None:
    member = await tenant.add(role, agent_name="Ann")
    victim = await tenant.add(Role.agent, agent_name="Bob")
    project = await make_project(tenant.org_id)
    record = await make_record(project, agent_name="Ann")
    before = await org_state(tenant.org_id)
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/projects", {"name": "New"}),
        ("PATCH", f"/projects/{project.id}", {"name": "Renamed"}),
        ("DELETE", f"/projects/{project.id}", None),
        ("DELETE", f"/records/{record.id}", None),
        ("POST", "/users/invite", {"email": "someone@example.com"}),
        ("PATCH", f"/users/{victim.user_id}", {"role": "admin"}),
        ("DELETE", f"/users/{victim.user_id}", None),
    ]

    for method, path, body in calls:
        response = await client.request(method, API + path, json=body, headers=member.headers)
        assert response.status_code == 403, (method, path, response.text)
        assert_rest_error(response, 403, "FORBIDDEN")

    assert await org_state(tenant.org_id) == before


async def test_admin_manages_projects_records_and_users(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = await tenant.add(Role.admin)
    agent = await tenant.add(Role.agent)
    record = await make_record(await make_project(tenant.org_id))
    h = admin.headers

    created = await client.post(f"{API}/projects", json={"name": "By admin"}, headers=h)
    project_id = created.json()["data"]["id"]
    renamed = await client.patch(f"{API}/projects/{project_id}", json={"name": "X"}, headers=h)
    promoted = await client.patch(
        f"{API}/users/{agent.user_id}", json={"role": "supervisor"}, headers=h
    )
    deleted_record = await client.delete(f"{API}/records/{record.id}", headers=h)
    deleted_project = await client.delete(f"{API}/projects/{project_id}", headers=h)

    assert [
        r.status_code for r in (created, renamed, promoted, deleted_record, deleted_project)
    ] == [201, 200, 200, 204, 204]
    assert promoted.json()["data"]["role"] == "supervisor"


async def test_admin_cannot_make_an_owner(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add(Role.admin)
    agent = await tenant.add(Role.agent)

    promote = await client.patch(
        f"{API}/users/{agent.user_id}", json={"role": "owner"}, headers=admin.headers
    )
    invite = await client.post(
        f"{API}/users/invite",
        json={"email": "boss@example.com", "role": "owner"},
        headers=admin.headers,
    )

    assert_rest_error(promote, 403, "FORBIDDEN")
    assert_rest_error(invite, 403, "FORBIDDEN")
    membership = await Membership.get(org_id=tenant.org_id, user_id=agent.user_id)
    assert membership.role == Role.agent


async def test_agent_lists_only_their_own_records(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Ann")
    project = await make_project(tenant.org_id)
    mine = [await make_record(project, agent_name="Ann") for _ in range(2)]
    await make_record(project, agent_name="Bob")
    await make_record(project, agent_name=None)

    response = await client.get(f"{API}/records", headers=agent.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert {r["id"] for r in body["data"]} == {r.id for r in mine}
    assert body["meta"]["total"] == 2
    assert {r["agentName"] for r in body["data"]} == {"Ann"}


async def test_agent_gets_404_for_someone_elses_record_and_a_masked_phone_on_their_own(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Ann")
    project = await make_project(tenant.org_id)
    mine = await make_record(project, agent_name="Ann", customer_phone="+15551234567")
    theirs = await make_record(project, agent_name="Bob")

    own = await client.get(f"{API}/records/{mine.id}", headers=agent.headers)
    other = await client.get(f"{API}/records/{theirs.id}", headers=agent.headers)

    assert own.status_code == 200, own.text
    assert own.json()["data"]["customerPhone"] == "+1***4567"
    assert_rest_error(other, 404, "NOT_FOUND")


async def test_agent_without_an_agent_identity_sees_no_records(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent)
    await make_record(await make_project(tenant.org_id), agent_name="Ann")

    response = await client.get(f"{API}/records", headers=agent.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"data": [], "meta": {"page": 1, "pageSize": 20, "total": 0}}


async def test_supervisor_reads_every_record_of_the_org(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    supervisor = await tenant.add(Role.supervisor)
    project = await make_project(tenant.org_id)
    records = [await make_record(project, agent_name=name) for name in ("Ann", "Bob")]

    response = await client.get(f"{API}/records", headers=supervisor.headers)

    assert {r["id"] for r in response.json()["data"]} == {r.id for r in records}


async def test_agent_cannot_list_users(client: httpx.AsyncClient, tenant: Tenant) -> None:
    agent = await tenant.add(Role.agent, agent_name="Ann")

    assert_rest_error(await client.get(f"{API}/users", headers=agent.headers), 403, "FORBIDDEN")


async def owner_role(tenant: Tenant, member: Member) -> str:
    membership = await Membership.get(org_id=tenant.org_id, user_id=member.user_id)
    return str(membership.role)


async def test_the_last_owner_cannot_be_removed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.delete(f"{API}/users/{tenant.owner.user_id}", headers=tenant.headers)

    assert_rest_error(response, 409, "CONFLICT")
    assert await owner_role(tenant, tenant.owner) == "owner"


async def test_the_last_owner_cannot_be_demoted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.patch(
        f"{API}/users/{tenant.owner.user_id}", json={"role": "admin"}, headers=tenant.headers
    )

    assert_rest_error(response, 409, "CONFLICT")
    assert await owner_role(tenant, tenant.owner) == "owner"


async def test_with_a_second_owner_one_owner_can_be_demoted_then_the_other_is_protected(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    second = await tenant.add(Role.owner)

    demoted = await client.patch(
        f"{API}/users/{tenant.owner.user_id}", json={"role": "admin"}, headers=second.headers
    )
    last = await client.delete(f"{API}/users/{second.user_id}", headers=second.headers)

    assert demoted.status_code == 200, demoted.text
    assert demoted.json()["data"]["role"] == "admin"
    assert_rest_error(last, 409, "CONFLICT")
    assert await owner_role(tenant, second) == "owner"
