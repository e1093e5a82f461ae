"""Tenancy and authentication on every REST route: other orgs' objects do not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from aica.models import Membership, Project, Record, Role, TokenKind
from aica.services import auth
from rest_compat.routes import ROUTES
from tests.conftest import Tenant, assert_rest_error, make_project, make_record, new_tenant

API = "/api/v1"


@dataclass
class World:
    """Org A's objects, the ids that routes are called with."""

    tenant: Tenant
    project: Project
    record: Record
    admin_id: str

    def path(self, template: str) -> str:
        if template.startswith("/projects/"):
            return template.replace("{id}", self.project.id)
        if template.startswith("/records/"):
            return template.replace("{id}", self.record.id)
        return template.replace("{id}", self.admin_id)

    async def snapshot(self) -> dict[str, Any]:
        """Everything a stray request could change in org A."""
        projects = await Project.filter(org_id=self.tenant.org_id).order_by("id").values()
        records = await Record.filter(org_id=self.tenant.org_id).order_by("id").values()
        members = (
            await Membership.filter(org_id=self.tenant.org_id)
            .order_by("id")
            .values("user_id", "role", "agent_name", "agent_external_id")
        )
        return {"projects": projects, "records": records, "members": members}


# A body that would succeed for the route's own org; the failures below are not about input.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/projects"): {"name": "Intruder"},
    ("PATCH", "/projects/{id}"): {"name": "Renamed by intruder"},
    ("POST", "/users/invite"): {"email": "intruder-invite@example.com", "role": "agent"},
    ("PATCH", "/users/{id}"): {"role": "agent"},
}
# The core platform's routes (upload, audio and the rest have tests of their own).
ALL_ROUTES = [
    ("GET", "/projects"),
    ("POST", "/projects"),
    ("GET", "/projects/{id}"),
    ("PATCH", "/projects/{id}"),
    ("DELETE", "/projects/{id}"),
    ("GET", "/records"),
    ("GET", "/records/{id}"),
    ("DELETE", "/records/{id}"),
    ("GET", "/users"),
    ("POST", "/users/invite"),
    ("PATCH", "/users/{id}"),
    ("DELETE", "/users/{id}"),
]
ID_ROUTES = [(m, p) for m, p in ALL_ROUTES if "{id}" in p]
LIST_ROUTES = [("GET", "/projects"), ("GET", "/records"), ("GET", "/users")]


def route_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


async def call(
    client: httpx.AsyncClient, world: World, route: tuple[str, str], headers: dict[str, str]
) -> httpx.Response:
    method, template = route
    body = BODIES.get(route)
    return await client.request(method, API + world.path(template), json=body, headers=headers)


@pytest.fixture
async def world(tenant: Tenant) -> World:
    project = await make_project(tenant.org_id, name="A's project")
    record = await make_record(project, agent_name="A's agent")
    admin = await tenant.add(Role.admin)
    return World(tenant, project, record, admin.user_id)


def test_the_route_matrix_matches_the_route_table() -> None:
    table = {(r.method, r.path): r for r in ROUTES}
    assert set(ALL_ROUTES) <= set(table)
    assert {route for route in ALL_ROUTES if table[route].body_variable} == set(BODIES)


@pytest.mark.parametrize("route", ID_ROUTES, ids=route_id)
async def test_another_orgs_object_is_not_found_and_left_unchanged(
    client: httpx.AsyncClient, world: World, other_tenant: Tenant, route: tuple[str, str]
) -> None:
    before = await world.snapshot()

    response = await call(client, world, route, other_tenant.headers)

    assert_rest_error(response, 404, "NOT_FOUND")
    assert await world.snapshot() == before


@pytest.mark.parametrize("route", LIST_ROUTES, ids=route_id)
async def test_lists_never_show_another_orgs_objects(
    client: httpx.AsyncClient, world: World, other_tenant: Tenant, route: tuple[str, str]
) -> None:
    own_project = await make_project(other_tenant.org_id, name="B's project")
    own_record = await make_record(own_project)

    response = await call(client, world, route, other_tenant.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    ids = {item["id"] for item in body["data"]}
    expected = {
        "/projects": {own_project.id},
        "/records": {own_record.id},
        "/users": {other_tenant.owner.user_id},
    }[route[1]]
    assert ids == expected
    assert body["meta"]["total"] == len(expected)
    foreign = {world.project.id, world.record.id, world.admin_id, world.tenant.owner.user_id}
    assert not foreign & ids
    assert world.project.name not in response.text


@pytest.mark.parametrize("route", [("POST", "/projects"), ("POST", "/users/invite")], ids=route_id)
async def test_creating_in_another_org_lands_in_the_callers_org_only(
    client: httpx.AsyncClient, world: World, other_tenant: Tenant, route: tuple[str, str]
) -> None:
    before = await world.snapshot()

    response = await call(client, world, route, other_tenant.headers)

    assert response.status_code == 201, response.text
    assert await world.snapshot() == before
    if route[1] == "/projects":
        created = await Project.get(pk=response.json()["data"]["id"])
        assert created.org_id == other_tenant.org_id
    else:
        user_id = response.json()["data"]["user"]["id"]
        assert await Membership.exists(org_id=other_tenant.org_id, user_id=user_id)
        assert not await Membership.exists(org_id=world.tenant.org_id, user_id=user_id)


@pytest.mark.parametrize("route", ALL_ROUTES, ids=route_id)
async def test_selecting_an_org_the_caller_is_not_a_member_of_is_refused(
    client: httpx.AsyncClient, world: World, other_tenant: Tenant, route: tuple[str, str]
) -> None:
    before = await world.snapshot()
    headers = {**other_tenant.headers, "X-Selected-Org-ID": world.tenant.org_id}

    response = await call(client, world, route, headers)

    assert response.status_code in (403, 404), response.text
    assert_rest_error(
        response, response.status_code, {403: "FORBIDDEN", 404: "NOT_FOUND"}[response.status_code]
    )
    assert world.project.name not in response.text
    assert await world.snapshot() == before


async def bad_credentials(world: World) -> dict[str, dict[str, str]]:
    """Authorization headers that must all be refused with 401."""
    owner = world.tenant.owner
    expired, _ = await auth.issue_token(
        owner.user_id, TokenKind.personal, ttl=timedelta(seconds=-1)
    )
    revoked, row = await auth.issue_token(owner.user_id, TokenKind.personal)
    principal = auth.Principal(owner.user_id, row.id, TokenKind.personal, None)
    await auth.revoke_token(principal, row.id)
    return {
        "missing token": {},
        "invalid token": {"Authorization": "Bearer aica_pt_not-a-real-token"},
        "expired token": {"Authorization": f"Bearer {expired}"},
        "revoked token": {"Authorization": f"Bearer {revoked}"},
        "not a bearer scheme": {"Authorization": f"Basic {owner.token}"},
        "empty bearer": {"Authorization": "Bearer"},
    }


@pytest.mark.parametrize("route", ALL_ROUTES, ids=route_id)
async def test_missing_invalid_expired_or_revoked_tokens_are_401(
    client: httpx.AsyncClient, world: World, route: tuple[str, str]
) -> None:
    before = await world.snapshot()
    org = {"X-Selected-Org-ID": world.tenant.org_id}

    for label, credentials in (await bad_credentials(world)).items():
        response = await call(client, world, route, {**org, **credentials})
        assert response.status_code == 401, (label, response.text)
        assert_rest_error(response, 401, "UNAUTHENTICATED")

    assert await world.snapshot() == before


@pytest.mark.parametrize("route", ALL_ROUTES, ids=route_id)
async def test_missing_selected_org_header_is_400(
    client: httpx.AsyncClient, world: World, route: tuple[str, str]
) -> None:
    before = await world.snapshot()
    headers = {"Authorization": f"Bearer {world.tenant.owner.token}"}

    response = await call(client, world, route, headers)

    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert "X-Selected-Org-ID" in error["message"]
    assert await world.snapshot() == before


async def test_a_user_in_two_orgs_sees_each_orgs_data_by_the_selected_org(
    client: httpx.AsyncClient, world: World
) -> None:
    """The same token, another X-Selected-Org-ID: the other org's records only."""
    second = await new_tenant("Second")
    token = world.tenant.owner.token
    # make A's owner also an owner of the second org
    await Membership.create(org_id=second.org_id, user_id=world.tenant.owner.user_id, role="owner")
    record_b = await make_record(await make_project(second.org_id))

    in_a = await client.get(
        f"{API}/records",
        headers={"Authorization": f"Bearer {token}", "X-Selected-Org-ID": world.tenant.org_id},
    )
    in_b = await client.get(
        f"{API}/records",
        headers={"Authorization": f"Bearer {token}", "X-Selected-Org-ID": second.org_id},
    )
    cross = await client.get(
        f"{API}/records/{world.record.id}",
        headers={"Authorization": f"Bearer {token}", "X-Selected-Org-ID": second.org_id},
    )

    assert [r["id"] for r in in_a.json()["data"]] == [world.record.id]
    assert [r["id"] for r in in_b.json()["data"]] == [record_b.id]
    assert_rest_error(cross, 404, "NOT_FOUND")
