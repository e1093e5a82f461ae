"""Invitations are consented to (issue 8, item 1): one org's invitation never gives it a hold
on an account another org invites, and never adds an existing account without acceptance."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.conftest import Tenant, error_code, gql

INVITE_USER = """
mutation Invite($input: InviteUserInput!) {
  inviteUser(input: $input) { user { id email name role } inviteToken }
}
"""
ACCEPT_INVITE = "mutation Accept($password: String!) { acceptInvite(password: $password) }"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token }
}
"""
REMOVE_USER = "mutation RemoveUser($id: ID!) { removeUser(id: $id) { id } }"
USERS = "query { users { items { id email role } } }"
PROJECTS = "query { projects { total } }"


def bearer(token: str, org_id: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    return headers | ({"X-Selected-Org-ID": org_id} if org_id else {})


async def invite(client: httpx.AsyncClient, tenant: Tenant, email: str, role: str) -> str:
    body = await gql(client, INVITE_USER, {"input": {"email": email, "role": role}}, tenant.headers)
    token: str = body["data"]["inviteUser"]["inviteToken"]
    return token


async def member_id(client: httpx.AsyncClient, tenant: Tenant, email: str) -> str:
    listed = await gql(client, USERS, headers=tenant.headers)
    return next(str(u["id"]) for u in listed["data"]["users"]["items"] if u["email"] == email)


async def login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    return await gql(client, LOGIN, {"email": email, "password": password})


async def test_an_org_that_accepted_its_own_invitation_gains_nothing_from_another_orgs(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    """The audit's takeover: A invites an outside address, accepts with a password it chose,
    removes the member; B then invites the address as admin."""
    email = f"cfo-{secrets.token_hex(4)}@bcorp.test"
    a_token = await invite(client, tenant, email, "agent")
    await gql(client, ACCEPT_INVITE, {"password": "chosen-by-org-a"}, bearer(a_token))
    a_session = (await login(client, email, "chosen-by-org-a"))["data"]["login"]["token"]
    await gql(client, REMOVE_USER, {"id": await member_id(client, tenant, email)}, tenant.headers)

    b_token = await invite(client, other_tenant, email, "admin")
    before = await gql(client, PROJECTS, headers=bearer(a_session, other_tenant.org_id))
    accepted = await gql(client, ACCEPT_INVITE, {"password": "the-real-cfo"}, bearer(b_token))
    after = await gql(client, PROJECTS, headers=bearer(a_session, other_tenant.org_id))

    assert error_code(before) == "FORBIDDEN", (
        "A's session acts in B before B's invitation is accepted"
    )
    assert accepted["data"] == {"acceptInvite": True}
    assert error_code(after) == "UNAUTHENTICATED", "A's session outlived the owner taking over"
    assert error_code(await login(client, email, "chosen-by-org-a")) == "UNAUTHENTICATED"
    cfo = (await login(client, email, "the-real-cfo"))["data"]["login"]["token"]
    assert "errors" not in await gql(client, PROJECTS, headers=bearer(cfo, other_tenant.org_id))


async def test_a_pending_member_is_listed_but_cannot_act_until_accepting(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    email = f"pending-{secrets.token_hex(4)}@example.com"
    token = await invite(client, tenant, email, "supervisor")

    listed = await gql(client, USERS, headers=tenant.headers)
    early = await login(client, email, "whatever-password")
    await gql(client, ACCEPT_INVITE, {"password": "now-accepted"}, bearer(token))
    session = (await login(client, email, "now-accepted"))["data"]["login"]["token"]

    assert (email, "supervisor") in {
        (u["email"], u["role"]) for u in listed["data"]["users"]["items"]
    }
    assert error_code(early) == "UNAUTHENTICATED"
    assert "errors" not in await gql(client, PROJECTS, headers=bearer(session, tenant.org_id))


async def test_removing_a_pending_member_withdraws_the_invitation(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    email = f"withdrawn-{secrets.token_hex(4)}@example.com"
    token = await invite(client, tenant, email, "agent")
    await gql(client, REMOVE_USER, {"id": await member_id(client, tenant, email)}, tenant.headers)
    accepted = await gql(client, ACCEPT_INVITE, {"password": "too-late-now"}, bearer(token))

    assert error_code(accepted) == "UNAUTHENTICATED"
    assert error_code(await login(client, email, "too-late-now")) == "UNAUTHENTICATED"


async def test_an_invited_owner_does_not_count_as_an_owner_until_accepting(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await invite(client, tenant, f"owner-{secrets.token_hex(4)}@example.com", "owner")

    body = await gql(client, REMOVE_USER, {"id": tenant.owner.user_id}, tenant.headers)

    assert error_code(body) == "CONFLICT"
