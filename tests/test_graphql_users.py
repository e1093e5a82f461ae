"""Members and roles (DESIGN.md §3): owner > admin > supervisor > agent; the last owner stays."""

from __future__ import annotations

import secrets

import httpx
import pytest

from aica.models import Role
from tests.conftest import Tenant, error_code, gql

USERS = """
query Users($page: Int! = 1, $pageSize: Int! = 20) {
  users(page: $page, pageSize: $pageSize) { total page pageSize items { id email role } }
}
"""
USER = "query User($id: ID!) { user(id: $id) { id role agentName agentExternalId } }"
INVITE_USER = """
mutation Invite($input: InviteUserInput!) {
  inviteUser(input: $input) { user { id email role agentName agentExternalId } inviteToken }
}
"""
UPDATE_USER = """
mutation UpdateUser($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { id role agentName agentExternalId }
}
"""
REMOVE_USER = "mutation RemoveUser($id: ID!) { removeUser(id: $id) { id email } }"
PROJECTS = "query { projects { total } }"


def new_email() -> str:
    return f"member-{secrets.token_hex(4)}@example.com"


async def role_of(client: httpx.AsyncClient, tenant: Tenant, user_id: str) -> str | None:
    body = await gql(client, USER, {"id": user_id}, tenant.headers)
    if error_code(body) == "NOT_FOUND":
        return None
    role: str = body["data"]["user"]["role"]
    return role


# --- listing and reading ------------------------------------------------------------------


async def test_supervisor_can_list_users(client: httpx.AsyncClient, tenant: Tenant) -> None:
    supervisor = await tenant.add(Role.supervisor)
    agent = await tenant.add(Role.agent, agent_name="Alice")

    body = await gql(client, USERS, headers=supervisor.headers)

    users = body["data"]["users"]
    assert users["total"] == 3
    roles = {u["id"]: u["role"] for u in users["items"]}
    assert roles == {
        tenant.owner.user_id: "owner",
        supervisor.user_id: "supervisor",
        agent.user_id: "agent",
    }


async def test_agent_cannot_list_users(client: httpx.AsyncClient, tenant: Tenant) -> None:
    agent = await tenant.add(Role.agent, agent_name="Alice")
    body = await gql(client, USERS, headers=agent.headers)
    assert error_code(body) == "FORBIDDEN"
    assert body["data"] is None


async def test_agent_can_read_themselves_but_not_other_members(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Alice")

    me = await gql(client, USER, {"id": agent.user_id}, agent.headers)
    other = await gql(client, USER, {"id": tenant.owner.user_id}, agent.headers)

    assert me["data"]["user"]["agentName"] == "Alice"
    assert error_code(other) == "NOT_FOUND"


async def test_users_are_paginated(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for _ in range(2):
        await tenant.add(Role.agent)

    first = await gql(client, USERS, {"page": 1, "pageSize": 2}, tenant.headers)
    second = await gql(client, USERS, {"page": 2, "pageSize": 2}, tenant.headers)

    assert first["data"]["users"]["total"] == second["data"]["users"]["total"] == 3
    assert len(first["data"]["users"]["items"]) == 2
    assert len(second["data"]["users"]["items"]) == 1
    assert first["data"]["users"]["items"][0]["id"] == tenant.owner.user_id, "oldest first"
    ids = [u["id"] for u in first["data"]["users"]["items"] + second["data"]["users"]["items"]]
    assert len(set(ids)) == 3


@pytest.mark.parametrize("page_size", [0, 101])
async def test_users_page_size_out_of_range_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant, page_size: int
) -> None:
    body = await gql(client, USERS, {"pageSize": page_size}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"


# --- inviting -----------------------------------------------------------------------------


async def test_supervisor_cannot_invite(client: httpx.AsyncClient, tenant: Tenant) -> None:
    supervisor = await tenant.add(Role.supervisor)
    email = new_email()

    body = await gql(client, INVITE_USER, {"input": {"email": email}}, supervisor.headers)

    assert error_code(body) == "FORBIDDEN"
    listed = await gql(client, USERS, headers=tenant.headers)
    assert email not in {u["email"] for u in listed["data"]["users"]["items"]}


async def test_admin_can_invite_an_agent_linked_to_an_identity(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = await tenant.add(Role.admin)

    body = await gql(
        client,
        INVITE_USER,
        {"input": {"email": new_email(), "agentName": "Bob", "agentExternalId": "17"}},
        admin.headers,
    )

    user = body["data"]["inviteUser"]["user"]
    assert (user["role"], user["agentName"], user["agentExternalId"]) == ("agent", "Bob", "17")
    assert await role_of(client, tenant, user["id"]) == "agent"


async def test_admin_cannot_invite_an_owner(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add(Role.admin)
    email = new_email()

    body = await gql(
        client, INVITE_USER, {"input": {"email": email, "role": "owner"}}, admin.headers
    )

    assert error_code(body) == "FORBIDDEN"
    listed = await gql(client, USERS, headers=tenant.headers)
    assert email not in {u["email"] for u in listed["data"]["users"]["items"]}


async def test_owner_can_invite_an_owner(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await gql(
        client, INVITE_USER, {"input": {"email": new_email(), "role": "owner"}}, tenant.headers
    )
    assert body["data"]["inviteUser"]["user"]["role"] == "owner"


async def test_inviting_an_existing_member_is_a_conflict(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    email = new_email()
    first = await gql(client, INVITE_USER, {"input": {"email": email}}, tenant.headers)
    assert "errors" not in first

    again = await gql(
        client, INVITE_USER, {"input": {"email": email.upper(), "role": "admin"}}, tenant.headers
    )

    assert error_code(again) == "CONFLICT"
    assert await role_of(client, tenant, first["data"]["inviteUser"]["user"]["id"]) == "agent"


async def test_inviting_a_malformed_email_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, INVITE_USER, {"input": {"email": "not-an-email"}}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"


# --- changing roles and links -------------------------------------------------------------


async def test_admin_cannot_promote_to_owner(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add(Role.admin)
    agent = await tenant.add(Role.agent)

    body = await gql(
        client, UPDATE_USER, {"id": agent.user_id, "input": {"role": "owner"}}, admin.headers
    )

    assert error_code(body) == "FORBIDDEN"
    assert await role_of(client, tenant, agent.user_id) == "agent"


async def test_admin_cannot_promote_themselves_to_owner(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = await tenant.add(Role.admin)
    body = await gql(
        client, UPDATE_USER, {"id": admin.user_id, "input": {"role": "owner"}}, admin.headers
    )
    assert error_code(body) == "FORBIDDEN"
    assert await role_of(client, tenant, admin.user_id) == "admin"


async def test_admin_can_change_an_agents_role(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add(Role.admin)
    agent = await tenant.add(Role.agent)

    body = await gql(
        client, UPDATE_USER, {"id": agent.user_id, "input": {"role": "supervisor"}}, admin.headers
    )

    assert body["data"]["updateUser"]["role"] == "supervisor"
    assert await role_of(client, tenant, agent.user_id) == "supervisor"


async def test_admin_cannot_demote_or_remove_an_owner(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = await tenant.add(Role.admin)
    owner_id = tenant.owner.user_id

    demote = await gql(
        client, UPDATE_USER, {"id": owner_id, "input": {"role": "agent"}}, admin.headers
    )
    remove = await gql(client, REMOVE_USER, {"id": owner_id}, admin.headers)

    assert error_code(demote) == "FORBIDDEN"
    assert error_code(remove) == "FORBIDDEN"
    assert await role_of(client, tenant, owner_id) == "owner"


async def test_supervisor_cannot_change_roles(client: httpx.AsyncClient, tenant: Tenant) -> None:
    supervisor = await tenant.add(Role.supervisor)
    agent = await tenant.add(Role.agent)
    body = await gql(
        client, UPDATE_USER, {"id": agent.user_id, "input": {"role": "admin"}}, supervisor.headers
    )
    assert error_code(body) == "FORBIDDEN"
    assert await role_of(client, tenant, agent.user_id) == "agent"


async def test_agent_link_is_set_and_cleared_with_a_blank(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Alice")

    linked = await gql(
        client,
        UPDATE_USER,
        {"id": agent.user_id, "input": {"agentExternalId": " 42 "}},
        tenant.headers,
    )
    assert linked["data"]["updateUser"]["agentName"] == "Alice", "unset fields stay"
    assert linked["data"]["updateUser"]["agentExternalId"] == "42"

    cleared = await gql(
        client, UPDATE_USER, {"id": agent.user_id, "input": {"agentName": ""}}, tenant.headers
    )
    assert cleared["data"]["updateUser"]["agentName"] is None
    assert cleared["data"]["updateUser"]["agentExternalId"] == "42"


async def test_updating_an_unknown_user_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(
        client, UPDATE_USER, {"id": "usr_doesnotexist", "input": {"role": "admin"}}, tenant.headers
    )
    assert error_code(body) == "NOT_FOUND"


# --- owners -------------------------------------------------------------------------------


async def test_last_owner_cannot_be_demoted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await gql(
        client,
        UPDATE_USER,
        {"id": tenant.owner.user_id, "input": {"role": "admin"}},
        tenant.headers,
    )
    assert error_code(body) == "CONFLICT"
    assert await role_of(client, tenant, tenant.owner.user_id) == "owner"


async def test_last_owner_cannot_be_removed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await gql(client, REMOVE_USER, {"id": tenant.owner.user_id}, tenant.headers)
    assert error_code(body) == "CONFLICT"
    assert await role_of(client, tenant, tenant.owner.user_id) == "owner"


async def test_with_a_second_owner_the_first_can_be_demoted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    second = await tenant.add(Role.owner)

    body = await gql(
        client,
        UPDATE_USER,
        {"id": tenant.owner.user_id, "input": {"role": "admin"}},
        second.headers,
    )

    assert body["data"]["updateUser"]["role"] == "admin"
    assert await role_of(client, tenant, tenant.owner.user_id) == "admin"
    # Now `second` is the last owner again.
    again = await gql(
        client, UPDATE_USER, {"id": second.user_id, "input": {"role": "admin"}}, second.headers
    )
    assert error_code(again) == "CONFLICT"


async def test_with_a_second_owner_the_first_can_leave(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    second = await tenant.add(Role.owner)

    body = await gql(client, REMOVE_USER, {"id": tenant.owner.user_id}, tenant.headers)

    assert body["data"]["removeUser"]["id"] == tenant.owner.user_id
    assert error_code(await gql(client, PROJECTS, headers=tenant.headers)) == "FORBIDDEN"
    left = await gql(client, REMOVE_USER, {"id": second.user_id}, second.headers)
    assert error_code(left) == "CONFLICT"


# --- removing -----------------------------------------------------------------------------


async def test_a_member_can_remove_themselves(client: httpx.AsyncClient, tenant: Tenant) -> None:
    agent = await tenant.add(Role.agent, agent_name="Alice")

    body = await gql(client, REMOVE_USER, {"id": agent.user_id}, agent.headers)

    assert body["data"]["removeUser"]["id"] == agent.user_id
    assert error_code(await gql(client, PROJECTS, headers=agent.headers)) == "FORBIDDEN"
    assert await role_of(client, tenant, agent.user_id) is None


async def test_agent_cannot_remove_another_member(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent)
    other = await tenant.add(Role.agent)
    body = await gql(client, REMOVE_USER, {"id": other.user_id}, agent.headers)
    assert error_code(body) == "FORBIDDEN"
    assert await role_of(client, tenant, other.user_id) == "agent"


async def test_admin_can_remove_a_member(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add(Role.admin)
    agent = await tenant.add(Role.agent)

    body = await gql(client, REMOVE_USER, {"id": agent.user_id}, admin.headers)

    assert body["data"]["removeUser"]["id"] == agent.user_id
    assert await role_of(client, tenant, agent.user_id) is None
