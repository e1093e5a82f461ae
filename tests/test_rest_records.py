"""GET /records filters and sorting as the seed documents them (from/to, status, projectId)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from aica.models import Record, RecordStatus
from tests.conftest import Tenant, make_project, make_record

API = "/api/v1"


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.fixture
async def around_march_5(tenant: Tenant) -> dict[str, Record]:
    """Records on both sides of each edge of 2026-03-05 (UTC)."""
    project = await make_project(tenant.org_id)
    moments = {
        "mar4_last_second": at(4, 23, 59, 59),
        "mar5_midnight": at(5),
        "mar5_noon": at(5, 12),
        "mar5_last_second": at(5, 23, 59, 59),
        "mar5_last_micro": at(5, 23, 59, 59, 999_999),
        "mar6_midnight": at(6),
    }
    return {name: await make_record(project, created_at=moment) for name, moment in moments.items()}


async def listed(client: httpx.AsyncClient, tenant: Tenant, query: str) -> set[str]:
    response = await client.get(f"{API}/records?pageSize=100&{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["total"] == len(body["data"])
    return {r["id"] for r in body["data"]}


def ids(records: dict[str, Record], *names: str) -> set[str]:
    return {records[n].id for n in names}


async def test_date_only_to_covers_the_whole_day(
    client: httpx.AsyncClient, tenant: Tenant, around_march_5: dict[str, Record]
) -> None:
    got = await listed(client, tenant, "to=2026-03-05")

    assert got == ids(
        around_march_5,
        "mar4_last_second",
        "mar5_midnight",
        "mar5_noon",
        "mar5_last_second",
        "mar5_last_micro",
    )


async def test_date_only_from_starts_at_midnight_utc(
    client: httpx.AsyncClient, tenant: Tenant, around_march_5: dict[str, Record]
) -> None:
    got = await listed(client, tenant, "from=2026-03-05")

    assert got == ids(
        around_march_5,
        "mar5_midnight",
        "mar5_noon",
        "mar5_last_second",
        "mar5_last_micro",
        "mar6_midnight",
    )


async def test_same_day_from_and_to_select_exactly_that_day(
    client: httpx.AsyncClient, tenant: Tenant, around_march_5: dict[str, Record]
) -> None:
    got = await listed(client, tenant, "from=2026-03-05&to=2026-03-05")

    assert got == ids(
        around_march_5, "mar5_midnight", "mar5_noon", "mar5_last_second", "mar5_last_micro"
    )


async def test_date_time_bounds_are_inclusive_instants(
    client: httpx.AsyncClient, tenant: Tenant, around_march_5: dict[str, Record]
) -> None:
    got = await listed(client, tenant, "from=2026-03-05T00:00:00Z&to=2026-03-05T12:00:00Z")

    assert got == ids(around_march_5, "mar5_midnight", "mar5_noon")


async def test_date_time_bounds_with_an_offset_are_converted_to_utc(
    client: httpx.AsyncClient, tenant: Tenant, around_march_5: dict[str, Record]
) -> None:
    # 14:00+02:00 is 12:00Z; '+' must be percent-encoded in a query string.
    got = await listed(client, tenant, "from=2026-03-05T14:00:00%2B02:00&to=2026-03-05T12:00:00Z")

    assert got == ids(around_march_5, "mar5_noon")


async def test_created_at_is_written_back_in_utc_with_z(
    client: httpx.AsyncClient, tenant: Tenant, around_march_5: dict[str, Record]
) -> None:
    response = await client.get(
        f"{API}/records?from=2026-03-05T23:00:00Z&to=2026-03-05&sort=createdAt&order=asc",
        headers=tenant.headers,
    )

    assert [r["createdAt"] for r in response.json()["data"]] == [
        "2026-03-05T23:59:59Z",
        "2026-03-05T23:59:59Z",
    ]


async def test_filters_by_status_and_project(client: httpx.AsyncClient, tenant: Tenant) -> None:
    sales, support = await make_project(tenant.org_id, "Sales"), await make_project(tenant.org_id)
    done = await make_record(sales, status=RecordStatus.completed)
    await make_record(sales, status=RecordStatus.failed)
    other = await make_record(support, status=RecordStatus.completed)

    by_status = await listed(client, tenant, "status=completed")
    by_both = await listed(client, tenant, f"status=completed&projectId={sales.id}")
    by_project = await listed(client, tenant, f"projectId={support.id}")

    assert by_status == {done.id, other.id}
    assert by_both == {done.id}
    assert by_project == {other.id}


async def test_default_order_is_newest_first(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    old = await make_record(project, created_at=at(1))
    new = await make_record(project, created_at=at(3))
    mid = await make_record(project, created_at=at(2))

    response = await client.get(f"{API}/records", headers=tenant.headers)

    assert [r["id"] for r in response.json()["data"]] == [new.id, mid.id, old.id]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=duration&order=asc", ["short", "long", "unknown"]),
        ("sort=duration&order=desc", ["long", "short", "unknown"]),
        ("sort=qualityScore&order=desc", ["long", "short", "unknown"]),
        ("sort=qualityScore&order=asc", ["short", "long", "unknown"]),
        ("sort=createdAt&order=asc", ["long", "short", "unknown"]),
        ("sort=createdAt", ["unknown", "short", "long"]),
    ],
)
async def test_sort_fields_and_orders_of_the_seed(
    client: httpx.AsyncClient, tenant: Tenant, query: str, expected: list[str]
) -> None:
    project = await make_project(tenant.org_id)
    records = {
        "long": await make_record(project, duration=600, quality_score=90, created_at=at(1)),
        "short": await make_record(project, duration=30, quality_score=40, created_at=at(2)),
        "unknown": await make_record(project, duration=None, quality_score=None, created_at=at(3)),
    }
    names = {r.id: name for name, r in records.items()}

    response = await client.get(f"{API}/records?{query}", headers=tenant.headers)

    assert response.status_code == 200, response.text
    # records without a value sort last in either order
    assert [names[r["id"]] for r in response.json()["data"]] == expected
