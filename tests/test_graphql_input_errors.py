"""Values PostgreSQL or our bounds refuse are the caller's input (BAD_USER_INPUT), never a 500."""

from __future__ import annotations

import httpx
import pytest

from aica.models import Project
from tests.conftest import Tenant, error_code, gql

RECORD = "query Record($id: ID!) { record(id: $id) { id } }"
CREATE_PROJECT = "mutation Create($name: String!) { createProject(input: {name: $name}) { id } }"
CREATE_TOKEN = """
mutation Token($name: String!, $days: Int) {
  createApiToken(name: $name, expiresInDays: $days) { token }
}
"""


async def test_a_nul_character_in_an_id_is_bad_input(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, RECORD, {"id": "rec_\x00"}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"
    assert "Internal" not in body["errors"][0]["message"]


async def test_a_nul_character_in_a_name_is_bad_input_and_stores_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, CREATE_PROJECT, {"name": "Sup\x00port"}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"
    assert not await Project.filter(org_id=tenant.org_id).exists()


@pytest.mark.parametrize(
    ("name", "days"),
    [("x" * 201, None), ("", None), ("ok", 0), ("ok", -1), ("ok", 10**9), ("ok", 3651)],
)
async def test_token_names_and_lifetimes_out_of_bounds_are_bad_input(
    client: httpx.AsyncClient, tenant: Tenant, name: str, days: int | None
) -> None:
    body = await gql(client, CREATE_TOKEN, {"name": name, "days": days}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT", body


async def test_a_token_with_a_lifetime_in_bounds_is_created(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, CREATE_TOKEN, {"name": "ci", "days": 3650}, tenant.headers)
    assert body["data"]["createApiToken"]["token"].startswith("aica_pt_")
