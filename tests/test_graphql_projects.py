"""Projects: admins and owners manage them; everyone in the org reads them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aica.models import Project, Record, Role
from tests import conftest
from tests.conftest import Tenant, error_code, gql

PROJECTS = """
query Projects($page: Int! = 1, $pageSize: Int! = 20) {
  projects(page: $page, pageSize: $pageSize) { total page pageSize items { id name } }
}
"""
PROJECT = """
query Project($id: ID!) {
  project(id: $id) { id name description settings { profile language agentChannel } }
}
"""
CREATE_PROJECT = """
mutation CreateProject($input: ProjectInput!) {
  createProject(input: $input) {
    id name description settings { profile language agentChannel } createdAt updatedAt
  }
}
"""
UPDATE_PROJECT = """
mutation UpdateProject($id: ID!, $input: ProjectInput!) {
  updateProject(id: $id, input: $input) {
    id name description settings { profile language agentChannel }
  }
}
"""
DELETE_PROJECT = "mutation DeleteProject($id: ID!) { deleteProject(id: $id) { id name } }"
RECORD = "query Record($id: ID!) { record(id: $id) { id } }"


async def project_of(client: httpx.AsyncClient, tenant: Tenant, project_id: str) -> Any:
    body = await gql(client, PROJECT, {"id": project_id}, tenant.headers)
    return body["data"]["project"] if body["data"] else None


async def test_owner_creates_a_project_with_default_settings(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, CREATE_PROJECT, {"input": {"name": "  Sales  "}}, tenant.headers)

    project = body["data"]["createProject"]
    assert project["id"].startswith("proj_")
    assert project["name"] == "Sales"
    assert project["description"] == ""
    assert project["settings"] == {"profile": "general", "language": "auto", "agentChannel": 0}
    assert project["createdAt"].endswith("Z")
    assert (await project_of(client, tenant, project["id"]))["name"] == "Sales"


async def test_admin_creates_updates_and_deletes_a_project(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = await tenant.add(Role.admin)
    created = await gql(
        client,
        CREATE_PROJECT,
        {"input": {"name": "Support", "settings": {"language": "en", "agentChannel": 1}}},
        admin.headers,
    )
    project_id = created["data"]["createProject"]["id"]

    updated = await gql(
        client,
        UPDATE_PROJECT,
        {"id": project_id, "input": {"description": "Inbound", "settings": {"profile": "sales"}}},
        admin.headers,
    )
    assert updated["data"]["updateProject"] == {
        "id": project_id,
        "name": "Support",
        "description": "Inbound",
        "settings": {"profile": "sales", "language": "en", "agentChannel": 1},
    }

    deleted = await gql(client, DELETE_PROJECT, {"id": project_id}, admin.headers)
    assert deleted["data"]["deleteProject"]["id"] == project_id
    assert await project_of(client, tenant, project_id) is None


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
async def test_below_admin_cannot_create_projects(
    client: httpx.AsyncClient, tenant: Tenant, role: Role
) -> None:
    member = await tenant.add(role, agent_name="Alice")

    body = await gql(client, CREATE_PROJECT, {"input": {"name": "Mine"}}, member.headers)

    assert error_code(body) == "FORBIDDEN"
    listed = await gql(client, PROJECTS, headers=tenant.headers)
    assert listed["data"]["projects"]["total"] == 0


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
async def test_below_admin_cannot_update_projects(
    client: httpx.AsyncClient, tenant: Tenant, role: Role
) -> None:
    member = await tenant.add(role, agent_name="Alice")
    project = await Project.create(org_id=tenant.org_id, name="Original")

    body = await gql(
        client, UPDATE_PROJECT, {"id": project.id, "input": {"name": "Changed"}}, member.headers
    )

    assert error_code(body) == "FORBIDDEN"
    assert (await project_of(client, tenant, project.id))["name"] == "Original"


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
async def test_below_admin_cannot_delete_projects(
    client: httpx.AsyncClient, tenant: Tenant, role: Role
) -> None:
    member = await tenant.add(role, agent_name="Alice")
    project = await Project.create(org_id=tenant.org_id, name="Keep me")

    body = await gql(client, DELETE_PROJECT, {"id": project.id}, member.headers)

    assert error_code(body) == "FORBIDDEN"
    assert (await project_of(client, tenant, project.id))["name"] == "Keep me"


async def test_deleting_a_project_deletes_its_records(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    doomed = await Project.create(org_id=tenant.org_id, name="Doomed")
    kept = await Project.create(org_id=tenant.org_id, name="Kept")
    gone = await Record.create(org_id=tenant.org_id, project_id=doomed.id)
    stays = await Record.create(org_id=tenant.org_id, project_id=kept.id)

    body = await gql(client, DELETE_PROJECT, {"id": doomed.id}, tenant.headers)

    assert body["data"]["deleteProject"] == {"id": doomed.id, "name": "Doomed"}
    missing = await gql(client, RECORD, {"id": gone.id}, tenant.headers)
    assert error_code(missing) == "NOT_FOUND"
    present = await gql(client, RECORD, {"id": stays.id}, tenant.headers)
    assert present["data"]["record"]["id"] == stays.id


@pytest.mark.parametrize(
    ("project_input", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "settings": {"profile": "nonsense"}}, "settings.profile"),
        ({"name": "ok", "settings": {"language": "klingon"}}, "settings.language"),
        ({"name": "ok", "settings": {"agentChannel": 2}}, "settings.agentChannel"),
        ({"description": "no name"}, "name"),
    ],
)
async def test_invalid_project_input_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant, project_input: dict[str, Any], field: str
) -> None:
    body = await gql(client, CREATE_PROJECT, {"input": project_input}, tenant.headers)

    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == field
    listed = await gql(client, PROJECTS, headers=tenant.headers)
    assert listed["data"]["projects"]["total"] == 0


async def test_invalid_update_changes_nothing(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await Project.create(org_id=tenant.org_id, name="Stable", profile="sales")

    body = await gql(
        client,
        UPDATE_PROJECT,
        {"id": project.id, "input": {"name": "Renamed", "settings": {"profile": "nonsense"}}},
        tenant.headers,
    )

    assert error_code(body) == "BAD_USER_INPUT"
    after = await project_of(client, tenant, project.id)
    assert (after["name"], after["settings"]["profile"]) == ("Stable", "sales")


@pytest.mark.parametrize("document", [PROJECT, UPDATE_PROJECT, DELETE_PROJECT])
async def test_unknown_project_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, document: str
) -> None:
    variables: dict[str, Any] = {"id": "proj_doesnotexist"}
    if document is UPDATE_PROJECT:
        variables["input"] = {"name": "x"}
    body = await gql(client, document, variables, tenant.headers)
    assert error_code(body) == "NOT_FOUND"


async def test_projects_are_paginated_newest_first(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for name in ("first", "second", "third"):
        await gql(client, CREATE_PROJECT, {"input": {"name": name}}, tenant.headers)

    page1 = await gql(client, PROJECTS, {"page": 1, "pageSize": 2}, tenant.headers)
    page2 = await gql(client, PROJECTS, {"page": 2, "pageSize": 2}, tenant.headers)

    assert page1["data"]["projects"]["total"] == 3
    assert page1["data"]["projects"]["pageSize"] == 2
    names = [p["name"] for p in page1["data"]["projects"]["items"]]
    names += [p["name"] for p in page2["data"]["projects"]["items"]]
    assert names == ["third", "second", "first"]


@pytest.mark.parametrize(("page", "page_size"), [(1, 0), (1, 101), (0, 20)])
async def test_projects_page_out_of_range_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant, page: int, page_size: int
) -> None:
    body = await gql(client, PROJECTS, {"page": page, "pageSize": page_size}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"


async def test_a_language_the_model_cannot_transcribe_is_refused_when_the_project_is_saved(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """tiny.en (the default model) and a Russian project: the error comes now, not per call."""
    body = await gql(
        client,
        CREATE_PROJECT,
        {"input": {"name": "Moscow desk", "settings": {"language": "ru"}}},
        tenant.headers,
    )
    assert error_code(body) == "BAD_USER_INPUT"
    error = body["errors"][0]
    assert error["extensions"]["field"] == "settings.language"
    assert "AICA_WHISPER_MODEL=base" in error["message"]
    listed = await gql(client, PROJECTS, headers=tenant.headers)
    assert listed["data"]["projects"]["total"] == 0


async def test_a_multilingual_model_accepts_a_russian_project(
    database_url: str, tenant: Tenant
) -> None:
    settings = conftest.make_settings(whisper_model="base")
    async with (
        conftest.running_server(settings, database_url, lifespan="off") as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        body = await gql(
            client,
            CREATE_PROJECT,
            {"input": {"name": "Moscow desk", "settings": {"language": "ru-RU"}}},
            tenant.headers,
        )
    assert body["data"]["createProject"]["settings"]["language"] == "ru"
