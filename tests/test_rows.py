"""The SQL builder behind list pages: conditions and their arguments numbered in order, pages,
ids kept in the order asked, counts capped, JSON columns decoded as Tortoise decodes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aica.models import Record
from aica.services.rows import Rows, stored_json
from tests.conftest import Tenant, make_project, make_record

START = datetime(2026, 3, 1, tzinfo=UTC)


async def test_conditions_pages_and_counts_read_the_rows_they_describe(tenant: Tenant) -> None:
    project, other = await make_project(tenant.org_id), await make_project(tenant.org_id, "B")
    made = [
        await make_record(project, created_at=START + timedelta(hours=i), agent_name=f"A{i % 2}")
        for i in range(5)
    ]
    await make_record(other, created_at=START)
    rows = (
        Rows("records", ("id", "agent_name", "metadata"))
        .where("org_id = {}", tenant.org_id)
        .where("project_id = {} AND created_at >= {}", project.id, START)
        .where("agent_name = {}", "A0")
    )

    page = await rows.fetch("created_at DESC, id DESC", limit=2, offset=1)

    assert [r["id"] for r in page] == [made[2].id, made[0].id]
    assert await rows.count() == 3
    assert await rows.count(up_to=2) == 2
    assert await rows.ids("created_at ASC, id ASC", limit=5, offset=2) == [made[4].id]
    assert stored_json(page[0]["metadata"]) == {}


async def test_rows_by_id_come_in_the_order_asked_without_the_missing(tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    a, b = await make_record(project), await make_record(project)

    found = await Rows("records", ("id",)).by_ids([b.id, "rec_gone", a.id])

    assert [r["id"] for r in found] == [b.id, a.id]


async def test_stored_json_decodes_text_and_keeps_what_is_decoded() -> None:
    record = Record(metadata={"k": [1, 2]})

    assert stored_json('{"k": [1, 2]}') == record.metadata
    assert stored_json(b"[]") == []
    assert stored_json(record.metadata) is record.metadata
    assert stored_json(None) is None
