"""Tokens and memberships are remembered a few seconds per process (``AICA_AUTH_CACHE_SECONDS``),
and losing access still counts from the very next request: in the process that made the change
at once, in every other process as soon as the event reaches it.

The servers here remember for a minute, so a refusal within the test can only come from the
change being heard, never from the memory running out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from aica.app import create_app
from aica.models import Role, User
from aica.services import auth
from tests import conftest
from tests.conftest import Member, Tenant, error_code, gql, running_server
from tests.test_cli import aica, cli_env  # noqa: F401 - cli_env: the fixture

PROJECTS = "query { projects { total } }"
USERS = "query { users { total } }"
CREATE_API_TOKEN = """
mutation { createApiToken(name: "ci", kind: personal) { token apiToken { id } } }
"""
REVOKE = "mutation Revoke($id: ID!) { revokeApiToken(id: $id) { id } }"
UPDATE_ROLE = "mutation Role($id: ID!) { updateUser(id: $id, input: {role: agent}) { id role } }"
REMOVE = "mutation Remove($id: ID!) { removeUser(id: $id) { id } }"
REMEMBER = 60.0


@pytest.fixture
async def server(base_url: str, database_url: str) -> AsyncIterator[str]:
    settings = conftest.make_settings(auth_cache_seconds=REMEMBER)
    async with running_server(settings, database_url, lifespan="off") as url:
        yield url


@pytest.fixture
async def api(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as c:
        yield c


async def rest_status(client: httpx.AsyncClient, member: Member) -> int:
    return (await client.get("/api/v1/projects", headers=member.headers)).status_code


async def test_a_revoked_token_is_refused_on_the_very_next_request(
    api: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await gql(api, CREATE_API_TOKEN, headers=tenant.headers)
    token = created["data"]["createApiToken"]
    holder = Member(tenant.owner.user_id, token["token"], tenant.org_id, Role.owner)
    assert "errors" not in await gql(api, PROJECTS, headers=holder.headers)  # remembered now

    await gql(api, REVOKE, {"id": token["apiToken"]["id"]}, tenant.headers)

    refused = await gql(api, PROJECTS, headers=holder.headers)
    assert error_code(refused) == "UNAUTHENTICATED"
    assert "revoked" in refused["errors"][0]["message"]
    assert await rest_status(api, holder) == 401
    assert "errors" not in await gql(api, PROJECTS, headers=tenant.headers)  # others unharmed


async def test_a_lowered_role_applies_to_the_very_next_request(
    api: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = await tenant.add(Role.admin)
    assert "errors" not in await gql(api, USERS, headers=admin.headers)

    lowered = await gql(api, UPDATE_ROLE, {"id": admin.user_id}, tenant.headers)
    assert lowered["data"]["updateUser"]["role"] == "agent"

    assert error_code(await gql(api, USERS, headers=admin.headers)) == "FORBIDDEN"
    assert (await api.get("/api/v1/users", headers=admin.headers)).status_code == 403


async def test_a_removed_member_is_refused_on_the_very_next_request(
    api: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    supervisor = await tenant.add(Role.supervisor)
    assert "errors" not in await gql(api, PROJECTS, headers=supervisor.headers)

    await gql(api, REMOVE, {"id": supervisor.user_id}, tenant.headers)

    refused = await gql(api, PROJECTS, headers=supervisor.headers)
    assert error_code(refused) == "FORBIDDEN"
    assert await rest_status(api, supervisor) == 403
    # Another org's owner is no member here either, remembered or not.
    stranger = {**other_tenant.headers, "X-Selected-Org-ID": tenant.org_id}
    assert error_code(await gql(api, PROJECTS, headers=stranger)) == "FORBIDDEN"


async def refused_by_another_process(
    database_url: str, tenant: Tenant, lose: Callable[[httpx.AsyncClient, Member], Awaitable[None]]
) -> None:
    """Two API processes sharing Redis: the second remembers a token for a minute; ``lose``
    ends its access through the first (or the CLI); the second must refuse it as soon as the
    event arrives, well before it would have forgotten the token by itself."""
    settings = conftest.make_settings(redis_url=conftest.REDIS_URL, auth_cache_seconds=REMEMBER)
    changing, checking = create_app(settings, database_url), create_app(settings, database_url)
    runtime = checking.state.runtime
    listener = asyncio.create_task(auth.forget_when_told(runtime.events, runtime.grants))
    try:
        async with (
            running_server(settings, database_url, lifespan="off", app=changing) as one,
            running_server(settings, database_url, lifespan="off", app=checking) as two,
            httpx.AsyncClient(base_url=one, timeout=30) as first,
            httpx.AsyncClient(base_url=two, timeout=30) as second,
        ):
            created = await gql(first, CREATE_API_TOKEN, headers=tenant.headers)
            token = created["data"]["createApiToken"]
            holder = Member(tenant.owner.user_id, token["token"], tenant.org_id, Role.owner)
            holder_token_id = token["apiToken"]["id"]
            assert "errors" not in await gql(second, PROJECTS, headers=holder.headers)
            await asyncio.sleep(0.2)  # the listener has subscribed by now

            await lose(first, Member(holder.user_id, holder_token_id, tenant.org_id, Role.owner))
            lost_at = time.monotonic()

            while error_code(await gql(second, PROJECTS, headers=holder.headers)) is None:
                assert time.monotonic() - lost_at < 5, "the other process never heard it"
                await asyncio.sleep(0.05)
            assert await rest_status(second, holder) == 401
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await runtime.events.close()
        await changing.state.runtime.events.close()


async def test_another_process_refuses_a_revoked_token_once_it_hears_the_event(
    database_url: str, tenant: Tenant
) -> None:
    async def revoke(first: httpx.AsyncClient, token: Member) -> None:
        await gql(first, REVOKE, {"id": token.token}, tenant.headers)

    await refused_by_another_process(database_url, tenant, revoke)


async def test_api_processes_hear_the_cli_reset_a_password(
    database_url: str,
    cli_env: dict[str, str],  # noqa: F811 - the fixture imported above
    tenant: Tenant,
) -> None:
    owner = await User.get(pk=tenant.owner.user_id)

    async def reset(_: httpx.AsyncClient, __: Member) -> None:
        env = {**cli_env, "AICA_REDIS_URL": conftest.REDIS_URL}
        ran = await aica(env, "user", "set-password", "--email", owner.email, stdin="n3w-pass\n")
        assert ran.returncode == 0, ran.stderr

    await refused_by_another_process(database_url, tenant, reset)
