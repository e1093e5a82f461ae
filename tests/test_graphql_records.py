"""Records over GraphQL: filters, sorting, pagination, agent visibility, phone masking, loaders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from aica.models import Project, Record, RecordStatus, Role
from tests.conftest import QueryCounter, Tenant, error_code, gql

RECORDS = """
query Records(
  $projectId: ID
  $status: RecordStatus
  $from: DateFilter
  $to: DateFilter
  $sort: RecordSort! = createdAt
  $order: SortOrder! = desc
  $page: Int! = 1
  $pageSize: Int! = 20
) {
  records(
    projectId: $projectId
    status: $status
    from: $from
    to: $to
    sort: $sort
    order: $order
    page: $page
    pageSize: $pageSize
  ) {
    total
    page
    pageSize
    items { id agentName customerPhone duration qualityScore createdAt }
  }
}
"""
RECORDS_LITERAL_TO = '{ records(to: "yesterday") { total items { id } } }'
RECORDS_LITERAL_SORT = "{ records(sort: loudness) { total items { id } } }"
RECORDS_WITH_PROJECTS = """
query RecordsWithProjects($pageSize: Int!) {
  records(pageSize: $pageSize) { total items { id projectId project { id name } } }
}
"""
RECORD = "query Record($id: ID!) { record(id: $id) { id customerPhone agentName } }"
DELETE_RECORD = "mutation DeleteRecord($id: ID!) { deleteRecord(id: $id) { id customerPhone } }"
UPDATE_USER = """
mutation UpdateUser($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { id agentName agentExternalId }
}
"""
PHONE = "+15551234567"
MASKED = "+1***4567"


async def make_project(tenant: Tenant, name: str = "Support") -> Project:
    return await Project.create(org_id=tenant.org_id, name=name)


async def make_record(project: Project, **fields: Any) -> Record:
    fields.setdefault("customer_phone", PHONE)
    return await Record.create(org_id=project.org_id, project_id=project.id, **fields)


async def list_records(
    client: httpx.AsyncClient, headers: dict[str, str], **variables: Any
) -> dict[str, Any]:
    body = await gql(client, RECORDS, variables, headers)
    assert "errors" not in body, body
    records: dict[str, Any] = body["data"]["records"]
    return records


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- filters ------------------------------------------------------------------------------


async def test_filter_by_project(client: httpx.AsyncClient, tenant: Tenant) -> None:
    sales, support = await make_project(tenant, "Sales"), await make_project(tenant, "Support")
    sale = await make_record(sales)
    await make_record(support)

    page = await list_records(client, tenant.headers, projectId=sales.id)

    assert ids(page) == [sale.id]
    assert page["total"] == 1


async def test_filter_by_status(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await make_project(tenant)
    done = await make_record(project, status=RecordStatus.completed)
    await make_record(project, status=RecordStatus.pending)
    await make_record(project, status=RecordStatus.failed, error="no audio")

    page = await list_records(client, tenant.headers, status="completed")

    assert ids(page) == [done.id]


async def test_date_only_to_covers_the_whole_day(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await make_project(tenant)
    day_before = await make_record(project, created_at=at("2026-03-04T23:59:59"))
    midnight = await make_record(project, created_at=at("2026-03-05T00:00:00"))
    last_second = await make_record(project, created_at=at("2026-03-05T23:59:59.999"))
    next_day = await make_record(project, created_at=at("2026-03-06T00:00:00"))

    same_day = await list_records(client, tenant.headers, to="2026-03-05", order="asc")
    assert ids(same_day) == [day_before.id, midnight.id, last_second.id]

    one_day = await list_records(
        client, tenant.headers, **{"from": "2026-03-05", "to": "2026-03-05"}, order="asc"
    )
    assert ids(one_day) == [midnight.id, last_second.id]

    since = await list_records(client, tenant.headers, **{"from": "2026-03-05"}, order="asc")
    assert ids(since) == [midnight.id, last_second.id, next_day.id]


async def test_date_time_to_is_an_exact_bound(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await make_project(tenant)
    morning = await make_record(project, created_at=at("2026-03-05T09:00:00"))
    await make_record(project, created_at=at("2026-03-05T11:00:00"))

    page = await list_records(client, tenant.headers, to="2026-03-05T10:00:00Z")
    assert ids(page) == [morning.id]

    # 13:00 at +03:00 is 10:00 UTC.
    offset = await list_records(client, tenant.headers, to="2026-03-05T13:00:00+03:00")
    assert ids(offset) == [morning.id]


async def test_from_after_to_is_bad_user_input(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await gql(client, RECORDS, {"from": "2026-03-06", "to": "2026-03-05"}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"


@pytest.mark.parametrize("bad", ["2026-13-45", "yesterday", "05/03/2026", ""])
async def test_bad_iso_date_variable_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant, bad: str
) -> None:
    body = await gql(client, RECORDS, {"to": bad}, tenant.headers)

    assert body.get("data") is None
    assert error_code(body) == "BAD_USER_INPUT"
    assert "ISO 8601" in body["errors"][0]["message"]


async def test_bad_iso_date_literal_is_an_error(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await gql(client, RECORDS_LITERAL_TO, headers=tenant.headers)
    assert body.get("data") is None
    assert error_code(body) == "BAD_USER_INPUT"


async def test_unknown_sort_variable_is_an_input_error(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, RECORDS, {"sort": "loudness"}, tenant.headers)

    assert body.get("data") is None
    assert "RecordSort" in body["errors"][0]["message"]
    assert error_code(body) != "INTERNAL_SERVER_ERROR", "a caller's typo is not a server fault"


async def test_unknown_sort_literal_is_a_validation_error(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, RECORDS_LITERAL_SORT, headers=tenant.headers)
    assert body.get("data") is None
    assert "RecordSort" in body["errors"][0]["message"]


# --- sorting ------------------------------------------------------------------------------


@pytest.fixture
async def sortable(tenant: Tenant) -> dict[str, Record]:
    """Four records with distinct createdAt, some without duration or score."""
    project = await make_project(tenant)
    base = at("2026-02-01T12:00:00")
    spec = {
        "a": (30.0, None),
        "b": (None, 80.0),
        "c": (10.0, 50.0),
        "d": (20.4, 90.0),
    }
    return {
        key: await make_record(
            project,
            duration=duration,
            quality_score=score,
            created_at=base + timedelta(minutes=i),
        )
        for i, (key, (duration, score)) in enumerate(spec.items())
    }


@pytest.mark.parametrize(
    ("sort", "order", "expected"),
    [
        ("createdAt", "asc", "abcd"),
        ("createdAt", "desc", "dcba"),
        ("duration", "asc", "cdab"),
        ("duration", "desc", "adcb"),  # no duration (b) last
        ("qualityScore", "asc", "cbda"),
        ("qualityScore", "desc", "dbca"),  # unscored (a) last
    ],
)
async def test_sort_orders_with_nulls_last(
    client: httpx.AsyncClient,
    tenant: Tenant,
    sortable: dict[str, Record],
    sort: str,
    order: str,
    expected: str,
) -> None:
    page = await list_records(client, tenant.headers, sort=sort, order=order)
    assert ids(page) == [sortable[key].id for key in expected]


async def test_default_order_is_newest_first(
    client: httpx.AsyncClient, tenant: Tenant, sortable: dict[str, Record]
) -> None:
    page = await list_records(client, tenant.headers)
    assert ids(page) == [sortable[key].id for key in "dcba"]


async def test_duration_and_score_are_rounded_seconds_and_points(
    client: httpx.AsyncClient, tenant: Tenant, sortable: dict[str, Record]
) -> None:
    page = await list_records(client, tenant.headers, sort="duration", order="asc")
    assert [(r["duration"], r["qualityScore"]) for r in page["items"]] == [
        (10, 50),
        (20, 90),
        (30, None),
        (None, 80),
    ]


# --- pagination ---------------------------------------------------------------------------


async def test_pages_partition_the_list(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await make_project(tenant)
    base = at("2026-01-01T00:00:00")
    made = [await make_record(project, created_at=base + timedelta(hours=i)) for i in range(5)]

    pages = [
        await list_records(client, tenant.headers, page=n, pageSize=2, order="asc")
        for n in (1, 2, 3, 4)
    ]

    assert [(p["page"], p["pageSize"], p["total"]) for p in pages] == [
        (1, 2, 5),
        (2, 2, 5),
        (3, 2, 5),
        (4, 2, 5),
    ]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert [i for p in pages for i in ids(p)] == [r.id for r in made]


@pytest.mark.parametrize(("page", "page_size"), [(1, 0), (1, 101), (0, 20), (-1, 20)])
async def test_page_out_of_range_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant, page: int, page_size: int
) -> None:
    body = await gql(client, RECORDS, {"page": page, "pageSize": page_size}, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["data"] is None


async def test_page_size_100_is_allowed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    page = await list_records(client, tenant.headers, pageSize=100)
    assert page["pageSize"] == 100


# --- phone masking ------------------------------------------------------------------------


async def test_lists_mask_the_customer_phone(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await make_project(tenant)
    await make_record(project, customer_phone=PHONE)
    await make_record(project, customer_phone=None)

    page = await list_records(client, tenant.headers, sort="createdAt", order="asc")

    assert [r["customerPhone"] for r in page["items"]] == [MASKED, None]
    assert PHONE not in str(page)


@pytest.mark.parametrize("role", [Role.owner, Role.admin, Role.supervisor])
async def test_record_shows_the_whole_phone_to_non_agents(
    client: httpx.AsyncClient, tenant: Tenant, role: Role
) -> None:
    record = await make_record(await make_project(tenant))
    headers = tenant.headers if role is Role.owner else (await tenant.add(role)).headers

    body = await gql(client, RECORD, {"id": record.id}, headers)

    assert body["data"]["record"]["customerPhone"] == PHONE


async def test_agent_sees_the_phone_masked_even_on_a_single_record(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Alice")
    record = await make_record(await make_project(tenant), agent_name="Alice")

    body = await gql(client, RECORD, {"id": record.id}, agent.headers)

    assert body["data"]["record"] == {
        "id": record.id,
        "customerPhone": MASKED,
        "agentName": "Alice",
    }


# --- agent visibility ---------------------------------------------------------------------


async def test_agent_sees_only_records_with_their_agent_name(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Alice")
    project = await make_project(tenant)
    own = await make_record(project, agent_name="Alice")
    others = await make_record(project, agent_name="Bob")
    await make_record(project, agent_name=None)

    page = await list_records(client, agent.headers)

    assert ids(page) == [own.id]
    assert page["total"] == 1
    hidden = await gql(client, RECORD, {"id": others.id}, agent.headers)
    assert error_code(hidden) == "NOT_FOUND"


async def test_agent_sees_records_matching_their_external_id(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent)
    linked = await gql(
        client,
        UPDATE_USER,
        {"id": agent.user_id, "input": {"agentExternalId": "b24-17"}},
        tenant.headers,
    )
    assert linked["data"]["updateUser"]["agentExternalId"] == "b24-17"
    project = await make_project(tenant)
    own = await make_record(project, agent_name="Somebody", agent_external_id="b24-17")
    await make_record(project, agent_name="Somebody", agent_external_id="b24-18")

    page = await list_records(client, agent.headers)

    assert ids(page) == [own.id]
    single = await gql(client, RECORD, {"id": own.id}, agent.headers)
    assert single["data"]["record"]["customerPhone"] == MASKED


async def test_agent_sees_records_matching_name_or_external_id(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Alice")
    await gql(
        client,
        UPDATE_USER,
        {"id": agent.user_id, "input": {"agentExternalId": "7"}},
        tenant.headers,
    )
    project = await make_project(tenant)
    by_name = await make_record(project, agent_name="Alice", created_at=at("2026-01-01T00:00:00"))
    by_id = await make_record(project, agent_external_id="7", created_at=at("2026-01-02T00:00:00"))
    await make_record(project, agent_name="Bob", agent_external_id="8")

    page = await list_records(client, agent.headers, order="asc")

    assert ids(page) == [by_name.id, by_id.id]


async def test_unlinked_agent_sees_no_records(client: httpx.AsyncClient, tenant: Tenant) -> None:
    agent = await tenant.add(Role.agent)
    project = await make_project(tenant)
    record = await make_record(project, agent_name=None, agent_external_id=None)
    await make_record(project, agent_name="Bob")

    page = await list_records(client, agent.headers)

    assert page == {"total": 0, "page": 1, "pageSize": 20, "items": []}
    hidden = await gql(client, RECORD, {"id": record.id}, agent.headers)
    assert error_code(hidden) == "NOT_FOUND"


async def test_supervisor_sees_every_record(client: httpx.AsyncClient, tenant: Tenant) -> None:
    supervisor = await tenant.add(Role.supervisor, agent_name="Alice")
    project = await make_project(tenant)
    await make_record(project, agent_name="Alice")
    await make_record(project, agent_name="Bob")

    page = await list_records(client, supervisor.headers)

    assert page["total"] == 2


# --- deleting -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
async def test_below_admin_cannot_delete_records(
    client: httpx.AsyncClient, tenant: Tenant, role: Role
) -> None:
    member = await tenant.add(role, agent_name="Alice")
    record = await make_record(await make_project(tenant), agent_name="Alice")

    body = await gql(client, DELETE_RECORD, {"id": record.id}, member.headers)

    assert error_code(body) == "FORBIDDEN"
    still = await gql(client, RECORD, {"id": record.id}, tenant.headers)
    assert still["data"]["record"]["id"] == record.id


async def test_admin_deletes_a_record(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add(Role.admin)
    record = await make_record(await make_project(tenant))

    body = await gql(client, DELETE_RECORD, {"id": record.id}, admin.headers)

    assert body["data"]["deleteRecord"]["id"] == record.id
    gone = await gql(client, RECORD, {"id": record.id}, tenant.headers)
    assert error_code(gone) == "NOT_FOUND"
    again = await gql(client, DELETE_RECORD, {"id": record.id}, admin.headers)
    assert error_code(again) == "NOT_FOUND"


# --- DataLoaders --------------------------------------------------------------------------


async def statements_to_list(
    client: httpx.AsyncClient, tenant: Tenant, counter: QueryCounter, page_size: int
) -> int:
    counter.statements.clear()
    body = await gql(client, RECORDS_WITH_PROJECTS, {"pageSize": page_size}, tenant.headers)
    count = len(counter.statements)
    items = body["data"]["records"]["items"]
    assert len(items) == page_size
    assert all(item["project"]["id"] == item["projectId"] for item in items)
    return count


async def test_record_projects_load_in_one_batch(
    client: httpx.AsyncClient, tenant: Tenant, sql_counter: QueryCounter
) -> None:
    projects = [await make_project(tenant, f"Project {i}") for i in range(7)]
    await Record.bulk_create(
        [
            Record(org_id=tenant.org_id, project_id=projects[i % len(projects)].id)
            for i in range(100)
        ]
    )
    await gql(client, RECORDS_WITH_PROJECTS, {"pageSize": 1}, tenant.headers)  # token last-used

    ten = await statements_to_list(client, tenant, sql_counter, 10)
    hundred = await statements_to_list(client, tenant, sql_counter, 100)

    assert ten == hundred, sql_counter.statements
    # token, membership, count, page of records, projects in one batch
    assert hundred <= 6, sql_counter.statements
    project_queries = [s for s in sql_counter.statements if 'FROM "projects"' in s]
    assert len(project_queries) <= 1, project_queries
