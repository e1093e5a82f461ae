"""Health, readiness, request ids and Prometheus metrics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from aica.config import Settings
from tests.conftest import REDIS_URL, Tenant, free_port, make_project, make_record, running_server
from tests.conftest import make_settings as settings_with

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@asynccontextmanager
async def server_with(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        running_server(settings, database_url, lifespan="off") as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


def counter_value(metrics: str, method: str, route: str, status: int) -> float:
    pattern = re.compile(r"^aica_http_requests_total\{(?P<labels>.*)\} (?P<value>\S+)$", re.M)
    wanted = {"method": method, "route": route, "status": str(status)}
    for match in pattern.finditer(metrics):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group("labels")))
        if labels == wanted:
            return float(match.group("value"))
    return 0.0


# --- health and readiness ----------------------------------------------------------------------


async def test_healthz_is_200_without_auth(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_database_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok"}  # no redis configured on the suite's server


async def test_readyz_checks_redis_when_configured(base_url: str, database_url: str) -> None:
    async with server_with(settings_with(redis_url=REDIS_URL), database_url) as client:
        response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_is_503_and_names_redis_when_redis_is_down(
    base_url: str, database_url: str
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    async with server_with(settings_with(redis_url=closed), database_url) as client:
        response = await client.get("/readyz")
        health = await client.get("/healthz")

    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] != "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] != "ok"
    assert "redis" in body["checks"]
    assert health.status_code == 200  # liveness does not depend on Redis


# --- request ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        ("GET", "/healthz", False),
        ("GET", "/readyz", False),
        ("GET", "/metrics", False),
        ("GET", "/api/v1/records", True),
        ("GET", "/api/v1/records", False),
        ("GET", "/api/v1/records/rec_nope", True),
        ("GET", "/api/v1/nope", True),
        ("PUT", "/api/v1/records", True),
        ("GET", "/api/v1/openapi.json", False),
        ("POST", "/graphql", True),
        ("GET", "/no-such-page", False),
    ],
)
async def test_every_response_carries_a_request_id(
    client: httpx.AsyncClient, tenant: Tenant, method: str, path: str, auth: bool
) -> None:
    body = {"query": "{ __typename }"} if path == "/graphql" else None

    response = await client.request(method, path, json=body, headers=tenant.headers if auth else {})

    request_id = response.headers.get("x-request-id")
    assert request_id and REQUEST_ID.match(request_id), response.headers


async def test_request_ids_are_unique_per_request(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(5)}

    assert len(ids) == 5


@pytest.mark.parametrize("given", ["abc-123", "req.2026_03_05", "A" * 64])
async def test_a_sane_request_id_is_echoed_back(
    client: httpx.AsyncClient, tenant: Tenant, given: str
) -> None:
    response = await client.get(
        "/api/v1/records", headers={**tenant.headers, "X-Request-ID": given}
    )

    assert response.headers["x-request-id"] == given


@pytest.mark.parametrize("given", ["has spaces", "A" * 65, "semi;colon", "<script>", "ünïcode"])
async def test_an_unsafe_request_id_is_replaced(client: httpx.AsyncClient, given: str) -> None:
    response = await client.get("/healthz", headers={b"X-Request-ID": given.encode()})

    echoed = response.headers["x-request-id"]
    assert echoed != given
    assert REQUEST_ID.match(echoed)


async def test_error_responses_carry_the_request_id_header(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(
        "/api/v1/records/rec_nope", headers={**tenant.headers, "X-Request-ID": "trace-404"}
    )

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "trace-404"


# --- metrics -----------------------------------------------------------------------------------


async def test_metrics_count_requests_by_route_template_not_raw_path(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    record = await make_record(await make_project(tenant.org_id))
    before = counter_value((await client.get("/metrics")).text, "GET", "/api/v1/records/{id}", 200)

    for _ in range(2):
        response = await client.get(f"/api/v1/records/{record.id}", headers=tenant.headers)
        assert response.status_code == 200
    metrics = await client.get("/metrics")

    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE aica_http_requests_total counter" in metrics.text
    after = counter_value(metrics.text, "GET", "/api/v1/records/{id}", 200)
    assert after - before == 2
    assert record.id not in metrics.text


async def test_metrics_label_errors_and_unknown_paths_without_raw_ids(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    secret_looking = "rec_unguessable0000"
    await client.get(f"/api/v1/records/{secret_looking}", headers=tenant.headers)
    await client.get(f"/api/v1/{secret_looking}", headers=tenant.headers)
    await client.get(f"/{secret_looking}")

    metrics = (await client.get("/metrics")).text

    assert counter_value(metrics, "GET", "/api/v1/records/{id}", 404) >= 1
    assert counter_value(metrics, "GET", "unmatched", 404) >= 2
    assert secret_looking not in metrics


async def test_metrics_label_list_routes_and_graphql(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await client.get("/api/v1/records", headers=tenant.headers)
    await client.post("/graphql", json={"query": "{ __typename }"}, headers=tenant.headers)

    metrics = (await client.get("/metrics")).text

    assert counter_value(metrics, "GET", "/api/v1/records", 200) >= 1
    assert counter_value(metrics, "POST", "/graphql", 200) >= 1
    assert "aica_http_request_duration_seconds_bucket" in metrics
