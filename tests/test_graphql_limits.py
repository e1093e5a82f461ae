"""Query limits (depth, aliases, tokens) and the masking of unexpected errors."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from aica.models import Project, Record
from aica.services import orgs
from tests import conftest
from tests.conftest import Tenant, error_code, gql, running_server

DEEP = "{ records { items { project { settings { profile } } } } }"
"""Depth 5: the deepest path the schema has (it has no cycles)."""


def aliased(count: int) -> str:
    fields = " ".join(f"r{i}: records {{ items {{ id customerPhone }} }}" for i in range(count))
    return "{ " + fields + " }"


def operations(count: int) -> str:
    """``count`` named operations of 10 tokens each; the request runs only ``Q0``."""
    return " ".join(f"query Q{i} {{ records {{ items {{ id }} }} }}" for i in range(count))


ALIASES_AT_LIMIT = aliased(30)
ALIASES_OVER_LIMIT = aliased(31)
TOKENS_UNDER_LIMIT = operations(150)
TOKENS_OVER_LIMIT = operations(210)
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token userId }
}
"""


@pytest.fixture
async def record(tenant: Tenant) -> Record:
    project = await Project.create(org_id=tenant.org_id, name="Limits")
    return await Record.create(
        org_id=tenant.org_id, project_id=project.id, customer_phone="+15551234567"
    )


@asynccontextmanager
async def server_with(
    database_url: str, base_url: str, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A second server with other settings, sharing the session server's database."""
    del base_url  # requested so that the session server has initialised Tortoise
    url_settings = conftest.make_settings(**settings)
    async with (
        running_server(url_settings, database_url, lifespan="off") as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


async def post(
    client: httpx.AsyncClient, query: str, headers: dict[str, str], operation: str | None = None
) -> httpx.Response:
    payload = {"query": query, "operationName": operation}
    return await client.post("/graphql", json=payload, headers=headers)


def assert_refused_without_data(response: httpx.Response, record: Record) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    assert record.id not in response.text
    assert "4567" not in response.text
    return body


async def test_depth_over_the_limit_is_refused(
    client: httpx.AsyncClient, database_url: str, base_url: str, tenant: Tenant, record: Record
) -> None:
    allowed = await post(client, DEEP, tenant.headers)
    assert allowed.json()["data"]["records"]["items"][0]["project"]["settings"]["profile"]

    async with server_with(database_url, base_url, max_query_depth=3) as shallow:
        response = await post(shallow, DEEP, tenant.headers)

    body = assert_refused_without_data(response, record)
    assert "depth" in body["errors"][0]["message"].lower()


async def test_too_many_aliases_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, record: Record
) -> None:
    at_limit = await post(client, ALIASES_AT_LIMIT, tenant.headers)
    assert "errors" not in at_limit.json()
    assert at_limit.json()["data"]["r29"]["items"][0]["id"] == record.id

    response = await post(client, ALIASES_OVER_LIMIT, tenant.headers)

    body = assert_refused_without_data(response, record)
    assert "alias" in body["errors"][0]["message"].lower()


async def test_too_many_tokens_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, record: Record
) -> None:
    under = await post(client, TOKENS_UNDER_LIMIT, tenant.headers, "Q0")
    assert under.json()["data"]["records"]["items"] == [{"id": record.id}]

    response = await post(client, TOKENS_OVER_LIMIT, tenant.headers, "Q0")

    body = assert_refused_without_data(response, record)
    assert "token" in body["errors"][0]["message"].lower()


async def test_unexpected_errors_are_masked_as_internal_server_error(
    database_url: str, base_url: str
) -> None:
    """A real failure: a session lifetime too long for a timestamp (now + 11,000 years)
    overflows while the token is issued; the caller learns nothing about it."""
    email = f"masked-{secrets.token_hex(4)}@example.com"
    await orgs.bootstrap("Masked", email, password="correct horse battery")
    variables = {"email": email, "password": "correct horse battery"}

    async with server_with(database_url, base_url, session_token_ttl_hours=10**8) as broken:
        response = await broken.post("/graphql", json={"query": LOGIN, "variables": variables})

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert error_code(body) == "INTERNAL_SERVER_ERROR"
    assert body["errors"][0]["message"] == "Internal server error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    for leak in ("Overflow", "out of range", "Traceback", "timedelta", "aica"):
        assert leak not in response.text


async def test_expected_errors_are_not_masked(client: httpx.AsyncClient) -> None:
    body = await gql(client, LOGIN, {"email": "nobody@example.com", "password": "whatever1"})
    assert error_code(body) == "UNAUTHENTICATED"
    assert body["errors"][0]["message"] != "Internal server error"
