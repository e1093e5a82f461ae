"""Authentication and org selection over GraphQL: tokens, login, invitations (DESIGN.md §3)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import httpx

from aica.models import Role, TokenKind, User
from aica.services import auth, orgs
from tests.conftest import Tenant, error_code, gql

PROJECTS = "query { projects { total items { id name } } }"
ORGS = "query { orgs { id name } }"
API_TOKENS = "query { apiTokens { id name kind orgId } }"
CREATE_API_TOKEN = """
mutation CreateApiToken($name: String!, $kind: CreatableTokenKind!, $orgId: ID, $days: Int) {
  createApiToken(name: $name, kind: $kind, orgId: $orgId, expiresInDays: $days) {
    token
    apiToken { id name kind orgId expiresAt revokedAt }
  }
}
"""
REVOKE_API_TOKEN = "mutation Revoke($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token userId }
}
"""
INVITE_USER = """
mutation Invite($input: InviteUserInput!) {
  inviteUser(input: $input) { user { id email role } inviteToken }
}
"""
ACCEPT_INVITE = """
mutation Accept($password: String!, $name: String) {
  acceptInvite(password: $password, name: $name)
}
"""
USER = "query User($id: ID!) { user(id: $id) { id email name role } }"
REMOVE_USER = "mutation RemoveUser($id: ID!) { removeUser(id: $id) { id } }"


def bearer(token: str, org_id: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if org_id is not None:
        headers["X-Selected-Org-ID"] = org_id
    return headers


def unique_email(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


# --- bearer tokens ------------------------------------------------------------------------


async def test_request_without_token_is_unauthenticated(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, PROJECTS, headers={"X-Selected-Org-ID": tenant.org_id})
    assert error_code(body) == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_non_bearer_authorization_scheme_is_unauthenticated(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = {"Authorization": f"Basic {tenant.owner.token}", "X-Selected-Org-ID": tenant.org_id}
    body = await gql(client, PROJECTS, headers=headers)
    assert error_code(body) == "UNAUTHENTICATED"


async def test_unknown_token_is_unauthenticated(client: httpx.AsyncClient, tenant: Tenant) -> None:
    forged = "aica_pt_" + secrets.token_urlsafe(32)
    body = await gql(client, PROJECTS, headers=bearer(forged, tenant.org_id))
    assert error_code(body) == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_expired_token_is_unauthenticated(client: httpx.AsyncClient, tenant: Tenant) -> None:
    raw, token = await auth.issue_token(
        tenant.owner.user_id, TokenKind.personal, ttl=timedelta(seconds=3)
    )
    before = await gql(client, PROJECTS, headers=bearer(raw, tenant.org_id))
    assert "errors" not in before

    # Expiry is honoured when it comes, also while the process still remembers the token.
    assert token.expires_at is not None
    await asyncio.sleep((token.expires_at - datetime.now(UTC)).total_seconds() + 0.1)

    after = await gql(client, PROJECTS, headers=bearer(raw, tenant.org_id))
    assert error_code(after) == "UNAUTHENTICATED"
    assert "expired" in after["errors"][0]["message"].lower()


async def test_revoked_token_is_unauthenticated_and_leaves_the_token_list(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await gql(
        client, CREATE_API_TOKEN, {"name": "ci", "kind": "personal"}, tenant.headers
    )
    raw = created["data"]["createApiToken"]["token"]
    token_id = created["data"]["createApiToken"]["apiToken"]["id"]
    assert raw.startswith("aica_pt_")
    assert "errors" not in await gql(client, PROJECTS, headers=bearer(raw, tenant.org_id))

    revoked = await gql(client, REVOKE_API_TOKEN, {"id": token_id}, tenant.headers)
    assert revoked["data"]["revokeApiToken"]["revokedAt"] is not None

    body = await gql(client, PROJECTS, headers=bearer(raw, tenant.org_id))
    assert error_code(body) == "UNAUTHENTICATED"
    listed = await gql(client, API_TOKENS, headers=tenant.headers)
    assert token_id not in {t["id"] for t in listed["data"]["apiTokens"]}


async def test_api_token_with_expiry_reports_it(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await gql(
        client, CREATE_API_TOKEN, {"name": "week", "kind": "personal", "days": 7}, tenant.headers
    )
    expires_at = datetime.fromisoformat(created["data"]["createApiToken"]["apiToken"]["expiresAt"])
    assert timedelta(days=6) < expires_at - datetime.now(UTC) <= timedelta(days=7)


# --- org selection ------------------------------------------------------------------------


async def test_org_scoped_query_without_selected_org_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, PROJECTS, headers=bearer(tenant.owner.token))
    assert error_code(body) == "BAD_USER_INPUT"
    assert "X-Selected-Org-ID" in body["errors"][0]["message"]


async def test_account_level_query_needs_no_selected_org(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, ORGS, headers=bearer(tenant.owner.token))
    assert [o["id"] for o in body["data"]["orgs"]] == [tenant.org_id]


async def test_selecting_an_org_the_user_is_not_a_member_of_is_forbidden(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    body = await gql(client, PROJECTS, headers=bearer(tenant.owner.token, other_tenant.org_id))
    assert error_code(body) == "FORBIDDEN"
    assert body["data"] is None


async def test_selecting_an_org_that_does_not_exist_is_forbidden(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, PROJECTS, headers=bearer(tenant.owner.token, "org_doesnotexist"))
    assert error_code(body) == "FORBIDDEN"


# --- service tokens -----------------------------------------------------------------------


async def test_service_token_works_only_in_its_org(client: httpx.AsyncClient) -> None:
    # One owner of two orgs: a personal token reaches both, a service token only its own.
    email = unique_email("two-orgs")
    first = await orgs.bootstrap("First", email)
    second = await orgs.bootstrap("Second", email)
    assert first.user.id == second.user.id
    created = await gql(
        client,
        CREATE_API_TOKEN,
        {"name": "crm", "kind": "service", "orgId": first.org.id},
        bearer(first.token),
    )
    service = created["data"]["createApiToken"]
    assert service["token"].startswith("aica_sk_")
    assert service["apiToken"]["orgId"] == first.org.id

    own = await gql(client, PROJECTS, headers=bearer(service["token"], first.org.id))
    assert "errors" not in own
    bound = await gql(client, PROJECTS, headers=bearer(service["token"]))
    assert "errors" not in bound, "a service token implies its org when none is selected"
    elsewhere = await gql(client, PROJECTS, headers=bearer(service["token"], second.org.id))
    assert error_code(elsewhere) == "FORBIDDEN"
    personal = await gql(client, PROJECTS, headers=bearer(first.token, second.org.id))
    assert "errors" not in personal


async def test_service_token_needs_an_org(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await gql(client, CREATE_API_TOKEN, {"name": "x", "kind": "service"}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"


async def test_agent_cannot_create_a_service_token(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Alice")
    body = await gql(
        client,
        CREATE_API_TOKEN,
        {"name": "x", "kind": "service", "orgId": tenant.org_id},
        agent.headers,
    )
    assert error_code(body) == "FORBIDDEN"
    listed = await gql(client, API_TOKENS, headers=agent.headers)
    assert all(t["kind"] != "service" for t in listed["data"]["apiTokens"])


async def test_service_token_stops_working_when_its_creator_leaves_the_org(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = await tenant.add(Role.admin)
    created = await gql(
        client,
        CREATE_API_TOKEN,
        {"name": "crm", "kind": "service", "orgId": tenant.org_id},
        admin.headers,
    )
    raw = created["data"]["createApiToken"]["token"]
    assert "errors" not in await gql(client, PROJECTS, headers=bearer(raw))

    removed = await gql(
        client,
        REMOVE_USER,
        {"id": admin.user_id},
        tenant.headers,
    )
    assert "errors" not in removed

    assert error_code(await gql(client, PROJECTS, headers=bearer(raw))) == "FORBIDDEN"


# --- login and invitations ----------------------------------------------------------------


async def test_login_returns_a_working_session_token(client: httpx.AsyncClient) -> None:
    email = unique_email("login")
    created = await orgs.bootstrap("Login Co", email, password="correct horse battery")

    body = await gql(client, LOGIN, {"email": email.upper(), "password": "correct horse battery"})

    session = body["data"]["login"]
    assert session["userId"] == created.user.id
    assert session["token"].startswith("aica_st_")
    me = await gql(client, USER, {"id": created.user.id}, bearer(session["token"], created.org.id))
    assert me["data"]["user"]["role"] == "owner"


async def test_login_with_a_wrong_password_is_unauthenticated(client: httpx.AsyncClient) -> None:
    email = unique_email("login")
    await orgs.bootstrap("Login Co", email, password="correct horse battery")

    body = await gql(client, LOGIN, {"email": email, "password": "wrong horse battery"})

    assert error_code(body) == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_login_of_an_unknown_email_is_unauthenticated(client: httpx.AsyncClient) -> None:
    body = await gql(client, LOGIN, {"email": unique_email("nobody"), "password": "whatever1"})
    assert error_code(body) == "UNAUTHENTICATED"


async def test_login_without_a_password_set_is_unauthenticated(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    invited = await gql(
        client, INVITE_USER, {"input": {"email": unique_email("nopw")}}, tenant.headers
    )
    email = invited["data"]["inviteUser"]["user"]["email"]
    body = await gql(client, LOGIN, {"email": email, "password": ""})
    assert error_code(body) == "UNAUTHENTICATED"


async def test_accepting_an_invite_sets_a_password_that_logs_in(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    email = unique_email("invitee")
    invited = await gql(
        client,
        INVITE_USER,
        {"input": {"email": email, "role": "supervisor", "name": "Ivy"}},
        tenant.headers,
    )
    invitation = invited["data"]["inviteUser"]
    assert invitation["user"]["role"] == "supervisor"
    invite_token = invitation["inviteToken"]
    assert invite_token

    accepted = await gql(
        client,
        ACCEPT_INVITE,
        {"password": "s3cret-passphrase", "name": "Ivy Invitee"},
        bearer(invite_token),
    )
    assert accepted["data"] == {"acceptInvite": True}

    login = await gql(client, LOGIN, {"email": email, "password": "s3cret-passphrase"})
    session = login["data"]["login"]
    assert session["userId"] == invitation["user"]["id"]
    me = await gql(client, USER, {"id": session["userId"]}, bearer(session["token"], tenant.org_id))
    assert me["data"]["user"] == {
        "id": session["userId"],
        "email": email,
        "name": "Ivy Invitee",
        "role": "supervisor",
    }


async def test_invite_token_is_good_only_for_accepting_the_invite(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """The admin who invited sees the token: it must not let them act as the invitee."""
    invited = await gql(
        client, INVITE_USER, {"input": {"email": unique_email("scoped")}}, tenant.headers
    )
    invite_token = invited["data"]["inviteUser"]["inviteToken"]

    read = await gql(client, PROJECTS, headers=bearer(invite_token, tenant.org_id))
    minted = await gql(
        client, CREATE_API_TOKEN, {"name": "keep", "kind": "personal"}, bearer(invite_token)
    )

    assert error_code(read) == "UNAUTHENTICATED"
    assert error_code(minted) == "UNAUTHENTICATED"
    accepted = await gql(client, ACCEPT_INVITE, {"password": "good-password"}, bearer(invite_token))
    assert accepted["data"] == {"acceptInvite": True}


async def test_an_invite_cannot_be_accepted_twice(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    invited = await gql(
        client, INVITE_USER, {"input": {"email": unique_email("twice")}}, tenant.headers
    )
    invite_token = invited["data"]["inviteUser"]["inviteToken"]
    first = await gql(client, ACCEPT_INVITE, {"password": "first-password"}, bearer(invite_token))
    assert first["data"] == {"acceptInvite": True}

    second = await gql(client, ACCEPT_INVITE, {"password": "second-password"}, bearer(invite_token))

    # Spent token (UNAUTHENTICATED) or a password already set (CONFLICT): either way refused.
    assert error_code(second) in {"UNAUTHENTICATED", "CONFLICT"}
    email = invited["data"]["inviteUser"]["user"]["email"]
    still = await gql(client, LOGIN, {"email": email, "password": "first-password"})
    assert still["data"]["login"]["token"]
    hijacked = await gql(client, LOGIN, {"email": email, "password": "second-password"})
    assert error_code(hijacked) == "UNAUTHENTICATED"


async def test_accepting_an_invite_with_a_short_password_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    invited = await gql(
        client, INVITE_USER, {"input": {"email": unique_email("short")}}, tenant.headers
    )
    invite_token = invited["data"]["inviteUser"]["inviteToken"]
    body = await gql(client, ACCEPT_INVITE, {"password": "short"}, bearer(invite_token))
    assert error_code(body) == "BAD_USER_INPUT"


async def test_accepting_an_invite_needs_a_token(client: httpx.AsyncClient) -> None:
    body = await gql(client, ACCEPT_INVITE, {"password": "long-enough-password"})
    assert error_code(body) == "UNAUTHENTICATED"


async def test_inviting_answers_alike_whether_or_not_the_address_has_an_account(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    known = unique_email("haspw")
    await orgs.bootstrap("Elsewhere", known, password="already-set-password")
    await User.filter(email=known).update(name="Private Name")
    query = INVITE_USER.replace("{ id email role }", "{ email name role }")

    answers = [
        (await gql(client, query, {"input": {"email": email}}, tenant.headers))["data"]
        for email in (known, unique_email("fresh"))
    ]

    for answer in answers:
        invitation = answer["inviteUser"]
        assert invitation["inviteToken"].startswith("aica_it_")
        assert (invitation["user"]["name"], invitation["user"]["role"]) == ("", "agent")


async def test_an_account_joins_another_org_only_by_accepting_its_invitation(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    email = unique_email("member-elsewhere")
    elsewhere = await orgs.bootstrap("Elsewhere", email, password="their-own-password")
    invited = await gql(client, INVITE_USER, {"input": {"email": email}}, tenant.headers)
    invite_token = invited["data"]["inviteUser"]["inviteToken"]

    before = await gql(client, PROJECTS, headers=bearer(elsewhere.token, tenant.org_id))
    by_token_alone = await gql(
        client, ACCEPT_INVITE, {"password": "chosen-by-the-admin"}, bearer(invite_token)
    )
    with_their_password = await gql(
        client, ACCEPT_INVITE, {"password": "their-own-password"}, bearer(invite_token)
    )
    after = await gql(client, PROJECTS, headers=bearer(elsewhere.token, tenant.org_id))

    assert error_code(before) == "FORBIDDEN", "a pending invitation grants nothing"
    assert error_code(by_token_alone) == "UNAUTHENTICATED"
    assert with_their_password["data"] == {"acceptInvite": True}
    assert "errors" not in after
    hijack = await gql(client, LOGIN, {"email": email, "password": "chosen-by-the-admin"})
    assert error_code(hijack) == "UNAUTHENTICATED"


async def test_another_orgs_invitation_leaves_a_pending_one_usable_and_grants_nothing(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    """B invites first and keeps its token; A inviting the same address must neither spend
    B's invitation nor let B's token holder act in A."""
    email = unique_email("shared")
    by_b = await gql(client, INVITE_USER, {"input": {"email": email}}, other_tenant.headers)
    b_token = by_b["data"]["inviteUser"]["inviteToken"]
    by_a = await gql(client, INVITE_USER, {"input": {"email": email}}, tenant.headers)
    assert by_a["data"]["inviteUser"]["inviteToken"] not in (None, b_token)

    accepted = await gql(client, ACCEPT_INVITE, {"password": "b-admin-pass"}, bearer(b_token))
    session = await gql(client, LOGIN, {"email": email, "password": "b-admin-pass"})

    assert accepted["data"] == {"acceptInvite": True}
    token = session["data"]["login"]["token"]
    in_b = await gql(client, PROJECTS, headers=bearer(token, other_tenant.org_id))
    in_a = await gql(client, PROJECTS, headers=bearer(token, tenant.org_id))
    assert "errors" not in in_b
    assert error_code(in_a) == "FORBIDDEN"
