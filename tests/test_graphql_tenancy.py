"""Tenant isolation: org B's members never read, change or delete org A's objects.

Every query and mutation of the schema is covered: object ids of another org are NOT_FOUND
(never FORBIDDEN, which would confirm they exist), lists never include them, and each attempt
is followed by a check through org A that the object is unchanged.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from aica.models import Project, Record, Role, TokenKind
from aica.services import auth
from tests.conftest import Member, Tenant, error_code, gql, new_tenant

ORGS = "query { orgs { id name } }"
USERS = "query { users(pageSize: 100) { total items { id email } } }"
USER = "query User($id: ID!) { user(id: $id) { id email role agentName } }"
API_TOKENS = "query { apiTokens { id name } }"
PROJECTS = "query { projects(pageSize: 100) { total items { id name } } }"
PROJECT = "query Project($id: ID!) { project(id: $id) { id name description } }"
RECORDS = """
query Records($projectId: ID) {
  records(projectId: $projectId, pageSize: 100) { total items { id } }
}
"""
RECORD = "query Record($id: ID!) { record(id: $id) { id customerPhone } }"
RECORD_PROJECT = "query RecordProject($id: ID!) { record(id: $id) { project { id } } }"

CREATE_ORG = "mutation CreateOrg($name: String!) { createOrg(name: $name) { id name } }"
INVITE_USER = """
mutation Invite($input: InviteUserInput!) {
  inviteUser(input: $input) { user { id email role agentName } inviteToken }
}
"""
UPDATE_USER = """
mutation UpdateUser($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { id role agentName }
}
"""
ACCEPT_INVITE = "mutation Accept($password: String!) { acceptInvite(password: $password) }"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token }
}
"""
REMOVE_USER = "mutation RemoveUser($id: ID!) { removeUser(id: $id) { id } }"
CREATE_API_TOKEN = """
mutation CreateApiToken($orgId: ID) {
  createApiToken(name: "intruder", kind: service, orgId: $orgId) { token }
}
"""
CREATE_PERSONAL_TOKEN = """
mutation CreatePersonalToken($name: String!) {
  createApiToken(name: $name) { token apiToken { id } }
}
"""
REVOKE_API_TOKEN = "mutation Revoke($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }"
CREATE_PROJECT = """
mutation CreateProject($input: ProjectInput!) { createProject(input: $input) { id name } }
"""
UPDATE_PROJECT = """
mutation UpdateProject($id: ID!, $input: ProjectInput!) {
  updateProject(id: $id, input: $input) { id name }
}
"""
DELETE_PROJECT = "mutation DeleteProject($id: ID!) { deleteProject(id: $id) { id } }"
DELETE_RECORD = "mutation DeleteRecord($id: ID!) { deleteRecord(id: $id) { id } }"


@dataclass
class OrgA:
    """Org A with one of everything, seen from org B's owner."""

    tenant: Tenant
    agent: Member
    project: Project
    record: Record
    token_id: str
    token: str


@pytest.fixture
async def org_a(client: httpx.AsyncClient, tenant: Tenant) -> OrgA:
    agent = await tenant.add(Role.agent, agent_name="Alice Agent")
    project = await Project.create(org_id=tenant.org_id, name="A support", description="a")
    record = await Record.create(
        org_id=tenant.org_id,
        project_id=project.id,
        agent_name="Alice Agent",
        customer_phone="+15551234567",
    )
    created = await gql(
        client,
        CREATE_PERSONAL_TOKEN,
        {"name": "a-ci"},
        tenant.headers,
    )
    new = created["data"]["createApiToken"]
    return OrgA(tenant, agent, project, record, new["apiToken"]["id"], new["token"])


@pytest.fixture
async def org_b(other_tenant: Tenant) -> Tenant:
    await Project.create(org_id=other_tenant.org_id, name="B project")
    return other_tenant


async def as_a(client: httpx.AsyncClient, a: OrgA, query: str, **variables: Any) -> Any:
    body = await gql(client, query, variables, a.tenant.headers)
    assert "errors" not in body, body
    return body["data"]


# --- queries ------------------------------------------------------------------------------


async def test_orgs_lists_only_the_callers_orgs(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, ORGS, headers=org_b.headers)
    assert [o["id"] for o in body["data"]["orgs"]] == [org_b.org_id]


async def test_users_lists_only_members_of_the_selected_org(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, USERS, headers=org_b.headers)
    ids = {u["id"] for u in body["data"]["users"]["items"]}
    assert ids == {org_b.owner.user_id}
    assert body["data"]["users"]["total"] == 1


@pytest.mark.parametrize("whom", ["agent", "owner"])
async def test_user_of_another_org_is_not_found(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant, whom: str
) -> None:
    user_id = org_a.agent.user_id if whom == "agent" else org_a.tenant.owner.user_id
    body = await gql(client, USER, {"id": user_id}, org_b.headers)
    assert error_code(body) == "NOT_FOUND"
    assert body["data"] is None


async def test_api_tokens_lists_only_the_callers_tokens(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, API_TOKENS, headers=org_b.headers)
    assert org_a.token_id not in {t["id"] for t in body["data"]["apiTokens"]}
    assert body["data"]["apiTokens"], "org B's owner has their own bootstrap token"


async def test_projects_lists_only_the_selected_orgs_projects(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, PROJECTS, headers=org_b.headers)
    assert [p["name"] for p in body["data"]["projects"]["items"]] == ["B project"]
    assert body["data"]["projects"]["total"] == 1


async def test_project_of_another_org_is_not_found(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, PROJECT, {"id": org_a.project.id}, org_b.headers)
    assert error_code(body) == "NOT_FOUND"
    assert body["data"] is None
    assert "A support" not in str(body)


async def test_records_never_include_another_orgs_records(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    unfiltered = await gql(client, RECORDS, {}, org_b.headers)
    assert unfiltered["data"]["records"] == {"total": 0, "items": []}
    by_a_project = await gql(client, RECORDS, {"projectId": org_a.project.id}, org_b.headers)
    assert by_a_project["data"]["records"] == {"total": 0, "items": []}
    seen_by_a = await as_a(client, org_a, RECORDS)
    assert [r["id"] for r in seen_by_a["records"]["items"]] == [org_a.record.id]


async def test_record_of_another_org_is_not_found(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, RECORD, {"id": org_a.record.id}, org_b.headers)
    assert error_code(body) == "NOT_FOUND"
    assert body["data"] is None
    assert "4567" not in str(body)


async def test_record_project_field_stays_inside_the_org(
    client: httpx.AsyncClient, org_a: OrgA
) -> None:
    body = await as_a(
        client,
        org_a,
        RECORD_PROJECT,
        id=org_a.record.id,
    )
    assert body["record"]["project"] == {"id": org_a.project.id}


# --- mutations ----------------------------------------------------------------------------


async def test_created_org_belongs_only_to_its_creator(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    created = await gql(client, CREATE_ORG, {"name": "B's second"}, org_b.headers)
    new_org_id = created["data"]["createOrg"]["id"]

    b_orgs = await gql(client, ORGS, headers=org_b.headers)
    assert {o["id"] for o in b_orgs["data"]["orgs"]} == {org_b.org_id, new_org_id}
    a_orgs = await as_a(client, org_a, ORGS)
    assert [o["id"] for o in a_orgs["orgs"]] == [org_a.tenant.org_id]
    a_users = await as_a(client, org_a, USERS)
    assert org_b.owner.user_id not in {u["id"] for u in a_users["users"]["items"]}


async def test_inviting_a_member_of_another_org_leaves_their_membership_there_unchanged(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    before = await as_a(client, org_a, USER, id=org_a.agent.user_id)
    email = before["user"]["email"]

    invited = await gql(
        client,
        INVITE_USER,
        {"input": {"email": email, "role": "admin", "agentName": "Someone Else"}},
        org_b.headers,
    )

    assert invited["data"]["inviteUser"]["user"]["role"] == "admin"
    after = await as_a(client, org_a, USER, id=org_a.agent.user_id)
    assert after == before
    assert after["user"]["role"] == "agent"


async def test_inviting_another_orgs_passwordless_user_gives_no_hold_on_their_account(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    """Org B's admin receives the invite token. For an account that already belongs to another
    org (here A's owner, who, like every owner made by `aica bootstrap` without --password,
    has no password yet) it must neither act in org A nor set a password B's admin then knows.
    """
    email = (await as_a(client, org_a, USER, id=org_a.tenant.owner.user_id))["user"]["email"]

    invited = await gql(client, INVITE_USER, {"input": {"email": email}}, org_b.headers)

    assert "errors" not in invited, invited
    invite_token = invited["data"]["inviteUser"]["inviteToken"]
    if invite_token is None:
        return  # nothing handed out, nothing to abuse
    headers = {"Authorization": f"Bearer {invite_token}", "X-Selected-Org-ID": org_a.tenant.org_id}
    body = await gql(client, PROJECTS, headers=headers)
    assert error_code(body) in {"UNAUTHENTICATED", "FORBIDDEN"}, "B's token acts in org A"
    await gql(client, ACCEPT_INVITE, {"password": "chosen-by-org-b"}, headers)
    login = await gql(client, LOGIN, {"email": email, "password": "chosen-by-org-b"})
    assert error_code(login) == "UNAUTHENTICATED", "org B's admin set the password of A's owner"


async def test_updating_a_user_of_another_org_is_not_found_and_changes_nothing(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    before = await as_a(client, org_a, USER, id=org_a.agent.user_id)

    body = await gql(
        client,
        UPDATE_USER,
        {"id": org_a.agent.user_id, "input": {"role": "admin", "agentName": "Hijacked"}},
        org_b.headers,
    )

    assert error_code(body) == "NOT_FOUND"
    assert await as_a(client, org_a, USER, id=org_a.agent.user_id) == before


async def test_removing_a_user_of_another_org_is_not_found_and_keeps_them(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, REMOVE_USER, {"id": org_a.agent.user_id}, org_b.headers)

    assert error_code(body) == "NOT_FOUND"
    a_users = await as_a(client, org_a, USERS)
    assert org_a.agent.user_id in {u["id"] for u in a_users["users"]["items"]}
    still = await gql(client, PROJECTS, headers=org_a.agent.headers)
    assert "errors" not in still


async def test_removing_another_orgs_owner_is_not_found(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, REMOVE_USER, {"id": org_a.tenant.owner.user_id}, org_b.headers)
    assert error_code(body) == "NOT_FOUND"
    owner = await as_a(client, org_a, USER, id=org_a.tenant.owner.user_id)
    assert owner["user"]["role"] == "owner"


async def test_service_token_for_another_org_is_refused(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, CREATE_API_TOKEN, {"orgId": org_a.tenant.org_id}, org_b.headers)

    # As with X-Selected-Org-ID: naming an org you do not belong to is FORBIDDEN.
    assert error_code(body) == "FORBIDDEN"
    assert body["data"] is None
    tokens = await gql(client, API_TOKENS, headers=org_b.headers)
    assert "intruder" not in {t["name"] for t in tokens["data"]["apiTokens"]}


async def test_revoking_another_users_token_is_not_found_and_it_keeps_working(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, REVOKE_API_TOKEN, {"id": org_a.token_id}, org_b.headers)

    assert error_code(body) == "NOT_FOUND"
    headers = {"Authorization": f"Bearer {org_a.token}", "X-Selected-Org-ID": org_a.tenant.org_id}
    assert "errors" not in await gql(client, PROJECTS, headers=headers)
    listed = await as_a(client, org_a, API_TOKENS)
    assert org_a.token_id in {t["id"] for t in listed["apiTokens"]}


async def test_created_project_is_invisible_to_other_orgs(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    created = await gql(client, CREATE_PROJECT, {"input": {"name": "B new"}}, org_b.headers)
    project_id = created["data"]["createProject"]["id"]

    a_projects = await as_a(client, org_a, PROJECTS)
    assert [p["id"] for p in a_projects["projects"]["items"]] == [org_a.project.id]
    body = await gql(client, PROJECT, {"id": project_id}, org_a.tenant.headers)
    assert error_code(body) == "NOT_FOUND"


async def test_updating_another_orgs_project_is_not_found_and_changes_nothing(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(
        client,
        UPDATE_PROJECT,
        {"id": org_a.project.id, "input": {"name": "pwned", "description": "pwned"}},
        org_b.headers,
    )

    assert error_code(body) == "NOT_FOUND"
    after = await as_a(client, org_a, PROJECT, id=org_a.project.id)
    assert after["project"] == {"id": org_a.project.id, "name": "A support", "description": "a"}


async def test_deleting_another_orgs_project_is_not_found_and_keeps_it(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, DELETE_PROJECT, {"id": org_a.project.id}, org_b.headers)

    assert error_code(body) == "NOT_FOUND"
    assert (await as_a(client, org_a, PROJECT, id=org_a.project.id))["project"]["name"]
    records = await as_a(client, org_a, RECORDS, projectId=org_a.project.id)
    assert records["records"]["total"] == 1


async def test_deleting_another_orgs_record_is_not_found_and_keeps_it(
    client: httpx.AsyncClient, org_a: OrgA, org_b: Tenant
) -> None:
    body = await gql(client, DELETE_RECORD, {"id": org_a.record.id}, org_b.headers)

    assert error_code(body) == "NOT_FOUND"
    after = await as_a(client, org_a, RECORD, id=org_a.record.id)
    assert after["record"] == {"id": org_a.record.id, "customerPhone": "+15551234567"}


async def test_a_member_of_both_orgs_acting_in_b_cannot_reach_as_objects(
    client: httpx.AsyncClient, org_a: OrgA
) -> None:
    """Membership in A does not leak into requests that select B."""
    b = await new_tenant("Both")
    email = f"both-{secrets.token_hex(4)}@example.com"
    invited = await gql(
        client, INVITE_USER, {"input": {"email": email, "role": "admin"}}, org_a.tenant.headers
    )
    user_id = invited["data"]["inviteUser"]["user"]["id"]
    in_b = await gql(client, INVITE_USER, {"input": {"email": email, "role": "admin"}}, b.headers)
    for invitation in (invited, in_b):
        invite_token = invitation["data"]["inviteUser"]["inviteToken"]
        accept = {"Authorization": f"Bearer {invite_token}"}
        await gql(client, ACCEPT_INVITE, {"password": "both-orgs-password"}, accept)
    token, _ = await auth.issue_token(user_id, TokenKind.personal)
    headers = {"Authorization": f"Bearer {token}", "X-Selected-Org-ID": b.org_id}

    for query, variables in [
        (PROJECT, {"id": org_a.project.id}),
        (RECORD, {"id": org_a.record.id}),
        (USER, {"id": org_a.agent.user_id}),
        (DELETE_RECORD, {"id": org_a.record.id}),
        (DELETE_PROJECT, {"id": org_a.project.id}),
    ]:
        body = await gql(client, query, variables, headers)
        assert error_code(body) == "NOT_FOUND", (query, body)
    assert (await gql(client, USER, {"id": user_id}, headers))["data"]["user"]["role"] == "admin"
    assert (await as_a(client, org_a, RECORD, id=org_a.record.id))["record"]["id"]
