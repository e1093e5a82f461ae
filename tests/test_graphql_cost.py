"""Per-item reviews, history, annotations and disputes are batched, and an operation's cost
(fields times the lists they sit in) is bounded (issue 8, item 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from graphql import parse

from aica.config import Settings
from aica.graphql.cost import operation_cost
from aica.graphql.schema import build_schema
from aica.models import Analysis, Annotation, Dispute, Review, ReviewStatus
from aica.services.analyses import analyze_record
from aica.services.pagination import MAX_PAGE_SIZE
from tests.conftest import Tenant, error_code, gql, make_project
from tests.test_analyses_api import transcribed_record

ITEMS = """analyses(pageSize: 100) {
  items { id review { id disputes { id reason } } reviewHistory { id } annotations { id text } }
}"""
OPERATIONS = Path(__file__).parent.parent / "rest_compat" / "operations"


def nested(aliases: int) -> str:
    return "{ " + " ".join(f"a{i}: {ITEMS}" for i in range(aliases)) + " }"


async def reviewed_analysis(tenant: Tenant, project_id: str, n: int) -> Analysis:
    """An analysis with two reviews (the second current, disputed) and an annotation."""
    record = await transcribed_record(project_id, tenant.org_id)
    analysis = await analyze_record(record, "general")
    await Review.create(analysis_id=analysis.id, status=ReviewStatus.approved, is_current=False)
    current = await Review.create(
        analysis_id=analysis.id, status=ReviewStatus.needs_improvement, comment=f"r{n}"
    )
    await Dispute.create(review_id=current.id, reason=f"dispute {n}")
    await Annotation.create(analysis_id=analysis.id, text=f"note {n}")
    return analysis


def by_id(body: dict[str, Any]) -> dict[str, Any]:
    return {item["id"]: item for item in body["data"]["a0"]["items"]}


async def test_reviews_history_annotations_and_disputes_cost_the_same_queries_for_any_page(
    client: httpx.AsyncClient, tenant: Tenant, sql_counter: Any
) -> None:
    project = await make_project(tenant.org_id)
    await gql(client, nested(1), headers=tenant.headers)  # the token's first use is noted
    counts = []
    made: list[Analysis] = []
    for size in (2, 6):
        while len(made) < size:
            made.append(await reviewed_analysis(tenant, project.id, len(made)))
        sql_counter.statements.clear()
        body = await gql(client, nested(1), headers=tenant.headers)
        counts.append(len(sql_counter.statements))
    assert counts[0] == counts[1], counts
    items = by_id(body)
    for n, analysis in enumerate(made):
        item = items[analysis.id]
        assert [d["reason"] for d in item["review"]["disputes"]] == [f"dispute {n}"]
        assert len(item["reviewHistory"]) == 2
        assert [a["text"] for a in item["annotations"]] == [f"note {n}"]


async def test_another_orgs_reviews_stay_invisible(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    analysis = await reviewed_analysis(tenant, project.id, 0)
    theirs = await gql(client, nested(1), headers=other_tenant.headers)
    assert analysis.id not in str(theirs)
    direct = "query A($id: ID!) { analysis(id: $id) { review { id } annotations { id } } }"
    body = await gql(client, direct, {"id": analysis.id}, other_tenant.headers)
    assert error_code(body) == "NOT_FOUND" and body["data"] is None


async def test_thirty_aliases_of_nested_lists_are_refused_as_too_complex(
    client: httpx.AsyncClient, tenant: Tenant, sql_counter: Any
) -> None:
    await gql(client, nested(1), headers=tenant.headers)
    sql_counter.statements.clear()
    body = await gql(client, nested(30), headers=tenant.headers)
    assert error_code(body) == "QUERY_TOO_COMPLEX", body
    assert body["data"] is None
    assert not any("analysis" in s for s in sql_counter.statements)


def test_every_stored_rest_operation_at_its_largest_page_is_well_within_the_limit() -> None:
    schema = build_schema()._schema
    shared = (OPERATIONS / "fragments.graphql").read_text()
    for path in sorted(OPERATIONS.glob("*.graphql")):
        document = parse(path.read_text() + "\n" + shared)
        cost = operation_cost(schema, document, None, {"pageSize": MAX_PAGE_SIZE})
        assert cost <= Settings().max_query_cost // 4, (path.name, cost)


def test_a_cursor_page_costs_its_first_items_as_a_page_costs_its_page_size() -> None:
    schema = build_schema()._schema

    def cost(arguments: str, variables: dict[str, Any] | None = None) -> int:
        query = f"query Q($n: Int) {{ records({arguments}) {{ items {{ id project {{ id }} }} }} }}"
        return operation_cost(schema, parse(query), None, variables or {})

    assert cost("first: 100") == cost("pageSize: 100") == cost("first: $n", {"n": 100})
    assert cost("first: 5") == cost("pageSize: 5") < cost("first: 100")
    assert cost("first: $n", {"n": None}) == cost("pageSize: 20")
