"""Record totals read from the database's per-day counters stay equal to the rows they count,
whatever changes the rows (inserts, COPY-like bulk inserts, status updates, moves, deletes,
cascades) and whatever date range cuts days in part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from aica.models import Project, Record, RecordStatus
from tests.conftest import Tenant, gql, make_project

TOTAL = """
query Total($projectId: ID, $status: RecordStatus, $from: DateFilter, $to: DateFilter) {
  records(projectId: $projectId, status: $status, from: $from, to: $to, pageSize: 100) {
    total totalIsExact items { id }
  }
}
"""
START = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
RANGES: list[dict[str, str]] = [
    {},
    {"from": "2026-02-02"},
    {"to": "2026-02-03"},
    {"from": "2026-02-02", "to": "2026-02-04"},
    {"from": "2026-02-02T05:00:00Z", "to": "2026-02-04T13:30:00Z"},
    {"from": "2026-02-02T05:00:00Z", "to": "2026-02-02T20:00:00Z"},  # inside one day
    {"from": "2026-02-02T20:00:00Z", "to": "2026-02-03T05:00:00Z"},  # two part days only
    {"from": "2026-02-02T00:00:00+03:00", "to": "2026-02-03T23:59:59.999999Z"},
    {"to": "2026-02-01T23:59:59.999999Z"},
]


async def spread(project: Project, statuses: list[RecordStatus]) -> None:
    """A record every 7 hours from START, statuses in turn (one multi-row INSERT)."""
    await Record.bulk_create(
        [Record(org_id=project.org_id, project_id=project.id, status=status) for status in statuses]
    )
    ids = [r.id for r in await Record.filter(project_id=project.id).order_by("id")]
    for i, record_id in enumerate(ids):
        await Record.filter(pk=record_id).update(created_at=START + timedelta(hours=7 * i))


async def assert_totals_are_the_rows(
    client: httpx.AsyncClient, tenant: Tenant, projects: list[Project]
) -> None:
    for project_id in [None, *(p.id for p in projects)]:
        for status in (None, "completed", "failed"):
            for dates in RANGES:
                variables: dict[str, Any] = {**dates, "projectId": project_id, "status": status}
                body = await gql(client, TOTAL, variables, tenant.headers)
                page = body["data"]["records"]
                assert page["totalIsExact"] is True
                assert page["total"] == len(page["items"]), variables


async def test_totals_equal_the_rows_through_every_kind_of_change(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    support, sales = await make_project(tenant.org_id), await make_project(tenant.org_id, "Sales")
    cycle = [RecordStatus.completed, RecordStatus.failed, RecordStatus.pending]
    await spread(support, cycle * 6)
    await spread(sales, cycle * 3)
    await spread(await make_project(other_tenant.org_id), cycle * 4)
    await assert_totals_are_the_rows(client, tenant, [support, sales])

    pending = Record.filter(project_id=support.id, status=RecordStatus.pending)
    await pending.update(status=RecordStatus.completed)
    await Record.filter(project_id=sales.id, status=RecordStatus.failed).update(
        project_id=support.id, created_at=START + timedelta(days=3, hours=2)
    )
    first = await Record.filter(project_id=support.id).first()
    assert first is not None
    await first.delete()
    await assert_totals_are_the_rows(client, tenant, [support, sales])

    await sales.delete()  # its records go by cascade
    body = await gql(client, TOTAL, {}, tenant.headers)
    assert body["data"]["records"]["total"] == await Record.filter(org_id=tenant.org_id).count()
    theirs = await gql(client, TOTAL, {}, other_tenant.headers)
    assert theirs["data"]["records"]["total"] == 12
