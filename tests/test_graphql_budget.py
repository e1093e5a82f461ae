"""Work refused before validation: callers without a token run only tiny login-type documents,
and nobody sends a document whose validation alone costs seconds (issue 8, item 4)."""

from __future__ import annotations

import httpx
from graphql import get_introspection_query

from tests.conftest import Tenant, error_code, gql

INVALID = "notAField"
"""Added to a document: an answer other than the validation error proves nothing validated."""


def repeated(count: int) -> str:
    return "{ " + " ".join("orgs { id }" + " " * (i % 7) for i in range(count)) + f" {INVALID} }}"


def doubling_fragments(levels: int) -> str:
    """Each fragment spreads the next one twice: 2**levels copies of the last one's fields."""
    parts = [f"fragment F{levels} on Org {{ id name }}"]
    for i in range(levels):
        twice = f"... on Org {{ ...F{i + 1} }} " * 2
        parts.append(f"fragment F{i} on Org {{ {twice}}}")
    return "{ orgs { ...F0 } " + INVALID + " } " + " ".join(parts)


async def test_without_a_token_only_login_type_fields_are_refused_before_validation(
    client: httpx.AsyncClient,
) -> None:
    for headers in ({}, {"Authorization": "Bearer made-up"}):
        body = await gql(client, "{ orgs { id } " + INVALID + " }", headers=headers)
        assert error_code(body) == "UNAUTHENTICATED", body


async def test_without_a_token_introspection_is_refused(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ __schema { types { name } } }")
    assert error_code(body) == "UNAUTHENTICATED", body


async def test_without_a_token_a_long_document_is_refused(client: httpx.AsyncClient) -> None:
    document = 'mutation { login(email: "a@b.c", password: "x") { token } }' + " " * 2000
    body = await gql(client, document)
    assert error_code(body) == "QUERY_TOO_COMPLEX", body


async def test_without_a_token_login_still_runs(client: httpx.AsyncClient) -> None:
    document = 'mutation { login(email: "nobody@example.com", password: "wrong") { token } }'
    body = await gql(client, document)
    assert error_code(body) == "UNAUTHENTICATED", body
    assert "Missing bearer token" not in body["errors"][0]["message"]


async def test_one_field_repeated_hundreds_of_times_is_refused_before_validation(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, repeated(495), headers=tenant.headers)
    assert error_code(body) == "QUERY_TOO_COMPLEX", body
    assert "'orgs' is selected 495 times" in body["errors"][0]["message"]


async def test_fragments_that_expand_exponentially_are_refused_before_validation(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    document = doubling_fragments(20)
    body = await gql(client, document, headers=tenant.headers)
    assert error_code(body) == "QUERY_TOO_COMPLEX", body
    assert "fragments expanded" in body["errors"][0]["message"]


async def test_the_full_introspection_query_still_runs_with_a_token(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, get_introspection_query(), headers=tenant.headers)
    assert "errors" not in body, body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
