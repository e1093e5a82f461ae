"""The records list by cursor (first/after): every record once, in the page form's order, with
ties and missing values; cursors refused when they are not this list's; counted totals."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from aica.models import Project, Record, RecordStatus, Role
from aica.search.base import COUNTED
from tests.conftest import QueryCounter, Tenant, error_code, gql, make_project

WALK = """
query Walk($projectId: ID, $status: RecordStatus, $from: DateFilter, $to: DateFilter,
  $minScore: Float, $maxScore: Float, $sort: RecordSort! = createdAt,
  $order: SortOrder! = desc, $first: Int, $after: String, $page: Int! = 1,
  $pageSize: Int! = 20) {
  records(projectId: $projectId, status: $status, from: $from, to: $to, minScore: $minScore,
          maxScore: $maxScore, sort: $sort, order: $order, first: $first, after: $after,
          page: $page, pageSize: $pageSize) {
    items { id }
    pageInfo { hasNextPage endCursor }
  }
}
"""
COUNTED_TOTAL = """
query Counted($exact: Boolean! = false, $first: Int, $minScore: Float) {
  records(exactTotal: $exact, first: $first, minScore: $minScore) {
    total totalIsExact items { id }
  }
}
"""
DAY = datetime(2026, 2, 1, 12, tzinfo=UTC)
SORTS = [
    (sort, order) for sort in ("createdAt", "duration", "qualityScore") for order in ("asc", "desc")
]


async def add(project: Project, n: int, **fields: Any) -> list[Record]:
    """``n`` records with ``fields``; ``created_at`` is written after creation (auto_now_add)."""
    created_at = fields.pop("created_at", None)
    made = [
        await Record.create(org_id=project.org_id, project_id=project.id, **fields)
        for _ in range(n)
    ]
    if created_at is not None:
        await Record.filter(id__in=[r.id for r in made]).update(created_at=created_at)
    return made


@pytest.fixture
async def tied(tenant: Tenant) -> Project:
    """Records that tie on every sort key, and some with no duration or score."""
    project = await make_project(tenant.org_id)
    await add(project, 4, created_at=DAY, duration=60.0, quality_score=70.0)
    await add(project, 3, created_at=DAY + timedelta(hours=1), duration=60.0, quality_score=None)
    await add(project, 3, created_at=DAY - timedelta(hours=1), duration=None, quality_score=70.0)
    await add(project, 2, created_at=DAY, duration=None, quality_score=None)
    await add(project, 2, created_at=DAY + timedelta(days=1), duration=15.5, quality_score=99.5)
    return project


async def walk(
    client: httpx.AsyncClient, headers: dict[str, str], first: int, **variables: Any
) -> list[str]:
    """Every page by cursor, from the first; each page but the last says there is another."""
    seen: list[str] = []
    after = None
    for _ in range(100):
        body = await gql(client, WALK, {**variables, "first": first, "after": after}, headers)
        assert "errors" not in body, body
        page = body["data"]["records"]
        seen += [item["id"] for item in page["items"]]
        info = page["pageInfo"]
        if not info["hasNextPage"]:
            assert len(page["items"]) <= first
            return seen
        assert len(page["items"]) == first
        after = info["endCursor"]
    raise AssertionError("the walk did not end")


async def whole(client: httpx.AsyncClient, headers: dict[str, str], **variables: Any) -> list[str]:
    """The list in one page of the page form."""
    body = await gql(client, WALK, {**variables, "pageSize": 100}, headers)
    assert "errors" not in body, body
    return [item["id"] for item in body["data"]["records"]["items"]]


def expected(records: list[Record], sort: str, order: str) -> list[str]:
    """Nulls last in either order; ties by id in the list's direction."""
    field = {"createdAt": "created_at", "duration": "duration", "qualityScore": "quality_score"}
    keyed = [r for r in records if getattr(r, field[sort]) is not None]
    keyless = [r for r in records if getattr(r, field[sort]) is None]
    desc = order == "desc"
    keyed.sort(key=lambda r: (getattr(r, field[sort]), r.id), reverse=desc)
    keyless.sort(key=lambda r: r.id, reverse=desc)
    return [r.id for r in keyed + keyless]


@pytest.mark.parametrize(("sort", "order"), SORTS)
@pytest.mark.parametrize("first", [1, 3, 5])
async def test_walking_by_cursor_lists_every_record_once_in_the_page_forms_order(
    client: httpx.AsyncClient, tenant: Tenant, tied: Project, sort: str, order: str, first: int
) -> None:
    records = await Record.filter(org_id=tenant.org_id)
    # Ids sort the same in Python as in the database (ASCII letters and digits, C-like).
    assert all(r.id.isascii() and r.id.islower() for r in records)

    walked = await walk(client, tenant.headers, first, sort=sort, order=order)

    assert walked == await whole(client, tenant.headers, sort=sort, order=order)
    assert walked == expected(records, sort, order)
    assert len(walked) == len(set(walked)) == 14


@pytest.mark.parametrize(("sort", "order"), SORTS)
@pytest.mark.parametrize("size", [1, 3, 4])
async def test_page_form_pages_from_either_end_partition_the_list(
    client: httpx.AsyncClient, tenant: Tenant, tied: Project, sort: str, order: str, size: int
) -> None:
    """Pages past the middle are read from the far end: the same items as reading on."""
    records = await Record.filter(org_id=tenant.org_id)
    pages = []
    for page in range(1, 14 // size + 3):
        body = await gql(
            client, WALK, {"sort": sort, "order": order, "page": page, "pageSize": size},
            tenant.headers,
        )  # fmt: skip
        pages.append([item["id"] for item in body["data"]["records"]["items"]])
        assert body["data"]["records"]["pageInfo"]["hasNextPage"] is (page * size < 14)

    assert [i for page in pages for i in page] == expected(records, sort, order)
    assert pages[-1] == []


@pytest.mark.parametrize(
    "flt",
    [
        {"status": "failed"},
        {"from": "2026-02-01", "to": "2026-02-01"},
        {"minScore": 70, "maxScore": 80},
        {"to": "2026-02-01T12:00:00Z"},
    ],
)
@pytest.mark.parametrize(("sort", "order"), [("createdAt", "desc"), ("qualityScore", "asc")])
async def test_filters_apply_to_every_cursor_page(
    client: httpx.AsyncClient,
    tenant: Tenant,
    tied: Project,
    flt: dict[str, Any],
    sort: str,
    order: str,
) -> None:
    await Record.filter(org_id=tenant.org_id, duration__isnull=True).update(
        status=RecordStatus.failed
    )
    other = await make_project(tenant.org_id, "Other")
    await add(other, 3, created_at=DAY, quality_score=75.0)

    for variables in (flt, {**flt, "projectId": tied.id}):
        walked = await walk(client, tenant.headers, 2, sort=sort, order=order, **variables)
        listed = await whole(client, tenant.headers, sort=sort, order=order, **variables)
        assert walked == listed
        assert 0 < len(walked) < 17


async def test_an_agent_walks_only_their_own_calls(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="Alice")
    project = await make_project(tenant.org_id)
    own = await add(project, 5, agent_name="Alice", created_at=DAY, quality_score=50.0)
    await add(project, 5, agent_name="Bob", created_at=DAY, quality_score=50.0)

    walked = await walk(client, agent.headers, 2, sort="qualityScore", order="desc")

    assert sorted(walked) == sorted(r.id for r in own)


async def test_a_cursor_shows_another_org_nothing_of_the_org_it_came_from(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, tied: Project
) -> None:
    body = await gql(client, WALK, {"first": 2}, tenant.headers)
    cursor = body["data"]["records"]["pageInfo"]["endCursor"]
    theirs = await add(await make_project(other_tenant.org_id), 2, created_at=DAY)

    seen = await gql(client, WALK, {"first": 100, "after": cursor}, other_tenant.headers)

    page = seen["data"]["records"]
    assert {item["id"] for item in page["items"]} <= {r.id for r in theirs}
    assert await walk(client, other_tenant.headers, 1) == await whole(client, other_tenant.headers)
    mine = {r.id for r in await Record.filter(org_id=tenant.org_id)}
    assert not mine & set(await walk(client, other_tenant.headers, 1))


def forged(parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


CREATED = ["created_at", "desc"]


@pytest.mark.parametrize(
    ("sort", "after"),
    [
        ("createdAt", ""),
        ("createdAt", "not a cursor"),
        ("createdAt", "%%%"),
        ("createdAt", "ZZZZ"),
        ("createdAt", base64.urlsafe_b64encode(b"\xff\xfe").decode()),
        ("createdAt", forged({"sort": "created_at"})),
        ("createdAt", forged([*CREATED, "2026-02-01T12:00:00+00:00"])),
        ("createdAt", forged([*CREATED, "yesterday", "rec_x"])),
        ("createdAt", forged([*CREATED, "2026-02-01T12:00:00", "rec_x"])),  # no time zone
        ("createdAt", forged([*CREATED, 12, "rec_x"])),
        ("createdAt", forged([*CREATED, "2026-02-01T12:00:00+00:00", 7])),
        ("qualityScore", forged(["quality_score", "desc", "high", "rec_x"])),
        ("qualityScore", forged(["quality_score", "desc", True, "rec_x"])),
        ("qualityScore", forged(["quality_score", "desc", 10**400, "rec_x"])),
        ("createdAt", forged([*CREATED, "2026-02-01T12:00:00+00:00", "rec_" + "x" * 5000])),
    ],
)
async def test_a_garbled_cursor_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant, sort: str, after: str
) -> None:
    body = await gql(client, WALK, {"first": 5, "after": after, "sort": sort}, tenant.headers)

    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["data"] is None


@pytest.mark.parametrize(
    ("sort", "order"), [("qualityScore", "desc"), ("createdAt", "asc"), ("duration", "desc")]
)
async def test_a_cursor_of_another_sort_or_order_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant, tied: Project, sort: str, order: str
) -> None:
    body = await gql(client, WALK, {"first": 2}, tenant.headers)  # createdAt, desc
    cursor = body["data"]["records"]["pageInfo"]["endCursor"]

    refused = await gql(
        client, WALK, {"first": 2, "after": cursor, "sort": sort, "order": order}, tenant.headers
    )

    assert error_code(refused) == "BAD_USER_INPUT"
    assert "another sort" in refused["errors"][0]["message"]


@pytest.mark.parametrize(
    "variables", [{"first": 0}, {"first": 101}, {"first": 5, "page": 2}, {"after": "x", "page": 3}]
)
async def test_first_out_of_range_or_mixed_with_page_is_bad_user_input(
    client: httpx.AsyncClient, tenant: Tenant, variables: dict[str, Any]
) -> None:
    body = await gql(client, WALK, variables, tenant.headers)
    assert error_code(body) == "BAD_USER_INPUT"


async def test_the_page_forms_end_cursor_continues_by_cursor(
    client: httpx.AsyncClient, tenant: Tenant, tied: Project
) -> None:
    listed = await whole(client, tenant.headers, sort="qualityScore", order="desc")
    second = await gql(
        client, WALK, {"page": 2, "pageSize": 4, "sort": "qualityScore"}, tenant.headers
    )
    page = second["data"]["records"]
    assert [item["id"] for item in page["items"]] == listed[4:8]
    assert page["pageInfo"]["hasNextPage"] is True

    rest = await gql(
        client,
        WALK,
        {"first": 100, "after": page["pageInfo"]["endCursor"], "sort": "qualityScore"},
        tenant.headers,
    )

    assert [item["id"] for item in rest["data"]["records"]["items"]] == listed[8:]
    assert rest["data"]["records"]["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": rest["data"]["records"]["pageInfo"]["endCursor"],
    }
    last = await gql(client, WALK, {"page": 4, "pageSize": 4}, tenant.headers)
    assert last["data"]["records"]["pageInfo"]["hasNextPage"] is False
    beyond = await gql(client, WALK, {"page": 9, "pageSize": 4}, tenant.headers)
    assert beyond["data"]["records"]["pageInfo"] == {"hasNextPage": False, "endCursor": None}


async def test_a_score_filtered_total_is_counted_up_to_the_cap_unless_exact_is_asked_for(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    await Record.bulk_create(
        [
            Record(org_id=tenant.org_id, project_id=project.id, quality_score=50.0)
            for _ in range(COUNTED + 1)
        ]
    )

    capped = await gql(client, COUNTED_TOTAL, {"minScore": 10}, tenant.headers)
    exact = await gql(client, COUNTED_TOTAL, {"minScore": 10, "exact": True}, tenant.headers)
    unfiltered = await gql(client, COUNTED_TOTAL, {}, tenant.headers)
    rest = await client.get("/api/v1/records?minScore=10", headers=tenant.headers)

    assert capped["data"]["records"]["total"] == COUNTED
    assert capped["data"]["records"]["totalIsExact"] is False
    assert exact["data"]["records"]["total"] == COUNTED + 1
    assert exact["data"]["records"]["totalIsExact"] is True
    assert unfiltered["data"]["records"]["total"] == COUNTED + 1, "counted by the counters"
    assert unfiltered["data"]["records"]["totalIsExact"] is True
    assert rest.json()["meta"] == {"page": 1, "pageSize": 20, "total": COUNTED + 1}


async def test_a_small_list_is_counted_exactly(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await add(await make_project(tenant.org_id), 3)

    body = await gql(client, COUNTED_TOTAL, {"first": 2}, tenant.headers)

    assert body["data"]["records"]["total"] == 3
    assert body["data"]["records"]["totalIsExact"] is True


async def test_a_page_that_does_not_ask_for_the_total_does_not_count(
    client: httpx.AsyncClient, tenant: Tenant, tied: Project, sql_counter: QueryCounter
) -> None:
    await gql(client, WALK, {"first": 2}, tenant.headers)  # the token's first use is noted
    sql_counter.statements.clear()
    await gql(client, WALK, {"first": 2}, tenant.headers)
    without = list(sql_counter.statements)
    sql_counter.statements.clear()
    await gql(client, COUNTED_TOTAL, {"first": 2}, tenant.headers)
    with_total = list(sql_counter.statements)

    assert len(with_total) == len(without) + 1, "the total and totalIsExact share one count"
    assert not any("record_counts" in s for s in without)
    assert any("record_counts" in s for s in with_total)
