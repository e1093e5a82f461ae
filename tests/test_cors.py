"""CORS for browser front ends on other origins: the AICA_ALLOWED_ORIGINS list (the same one
the WebSocket checks), off by default."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import Tenant, make_settings, running_server

DASHBOARD = "https://dash.example.com"
PREFLIGHT = {
    "Origin": DASHBOARD,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-selected-org-id",
}


@pytest.fixture
async def allowing(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(allowed_origins=[DASHBOARD])
    async with (
        running_server(settings, database_url, lifespan="off") as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


@pytest.mark.parametrize("path", ["/graphql", "/api/v1/records/upload"])
async def test_a_preflight_from_an_allowed_origin_is_answered(
    allowing: httpx.AsyncClient, path: str
) -> None:
    response = await allowing.options(path, headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-selected-org-id"} <= {
        h.strip() for h in allowed.split(",")
    }


async def test_answers_to_an_allowed_origin_carry_the_headers_it_may_read(
    allowing: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await allowing.get(
        "/api/v1/projects", headers={**tenant.headers, "Origin": DASHBOARD}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    # A refusal too, or the page could not tell a bad token from a network failure.
    refused = await allowing.post(
        "/graphql", json={"query": "{ orgs { id } }"}, headers={"Origin": DASHBOARD}
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert refused.headers["access-control-allow-origin"] == DASHBOARD


async def test_another_origin_gets_no_cors_headers(
    allowing: httpx.AsyncClient, tenant: Tenant
) -> None:
    preflight = await allowing.options(
        "/graphql", headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    response = await allowing.get(
        "/api/v1/projects", headers={**tenant.headers, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_cors_is_off_by_default(client: httpx.AsyncClient, tenant: Tenant) -> None:
    preflight = await client.options("/graphql", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    response = await client.get("/api/v1/projects", headers={**tenant.headers, "Origin": DASHBOARD})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
