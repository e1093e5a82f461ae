"""Validation remembered by document text: a document's errors come back every time it is
sent, and a valid document keeps being answered, however often it was validated before."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant, gql

UNKNOWN_FIELD = "{ records { items { id noSuchField } } }"
VALID = "{ records { items { id } } }"


async def test_a_document_with_errors_is_refused_the_same_way_every_time(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = await gql(client, UNKNOWN_FIELD, headers=tenant.headers)
    again = await gql(client, UNKNOWN_FIELD, headers=tenant.headers)

    assert "data" not in first or first["data"] is None
    assert first["errors"] == again["errors"]
    assert "noSuchField" in first["errors"][0]["message"]


async def test_a_valid_document_is_answered_every_time(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    answers = [await gql(client, VALID, headers=tenant.headers) for _ in range(3)]

    assert all(a == {"data": {"records": {"items": []}}} for a in answers)
