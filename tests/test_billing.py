"""Billing: exact metering, credits drawn in expiry order, budgets enforced and announced.

Usage is metered through the same service call the pipeline's ``metering`` stage makes, on
records made through the ORM; the API is read over REST and GraphQL like integrators do.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from tortoise.transactions import in_transaction

from aica.models import (
    BillingSettings,
    CreditGrant,
    Record,
    Role,
    Stage,
    UsageEvent,
    UsageKind,
)
from aica.runtime import Runtime
from aica.services import billing
from aica.services.pipeline import Speech, StageRun, run_stages
from tests.audio import AudioFactory
from tests.conftest import (
    Tenant,
    assert_rest_error,
    finished,
    make_project,
    make_record,
    make_settings,
    upload,
)
from tests.http_fixtures import Receiver, audio_host, serving
from tests.stage_runs import Crash, crashing_after, ingested

SETTINGS = make_settings()


async def meter(record: Record, key: str | None = None) -> UsageEvent | None:
    async with in_transaction():
        return await billing.meter(
            SETTINGS, record, UsageKind.processing, key or f"{record.id}:processing"
        )


async def summary(client: httpx.AsyncClient, tenant: Tenant, **params: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/billing/summary/{tenant.org_id}", params=params, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def per_minute(org_id: str, rate: str) -> None:
    await BillingSettings.create(
        org_id=org_id, rate_per_minute=Decimal(rate), reanalysis_rate_per_minute=Decimal(0)
    )


def test_periods_are_calendar_months_in_utc() -> None:
    last_second = datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)
    assert billing.period_of(last_second) == "2026-02"
    assert billing.period_of(last_second + timedelta(seconds=1)) == "2026-03"
    moscow_midnight = datetime(2026, 3, 1, 0, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Moscow"))
    assert billing.period_of(moscow_midnight) == "2026-03"


async def test_the_seeds_example_is_reproduced_to_the_cent(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    await CreditGrant.create(org_id=tenant.org_id, amount=Decimal(500), remaining=Decimal(500))
    budget = await client.patch(
        f"/api/v1/billing/budget/{tenant.org_id}",
        json={"budgetLimit": 500.0},
        headers=tenant.headers,
    )
    assert budget.status_code == 200, budget.text
    for _ in range(450):  # 450 calls of 8.5 minutes: 3825 minutes
        await meter(await make_record(project, duration=510.0))

    assert await summary(client, tenant) == {
        "orgId": tenant.org_id,
        "period": billing.period_of(datetime.now(UTC)),
        "totalRecords": 450,
        "totalMinutes": 3825.0,
        "totalCost": 127.5,
        "budgetLimit": 500.0,
        "budgetUsedPercent": 25.5,
        "credits": {"available": 372.5, "used": 127.5},
    }


async def test_a_month_counts_only_its_own_usage(client: httpx.AsyncClient, tenant: Tenant) -> None:
    project = await make_project(tenant.org_id)
    await per_minute(tenant.org_id, "1")
    for stamp in ("2026-02-28T23:59:59+00:00", "2026-03-01T00:00:00+00:00"):
        event = await meter(await make_record(project, duration=60.0))
        assert event is not None
        moment = datetime.fromisoformat(stamp)
        await UsageEvent.filter(pk=event.id).update(
            created_at=moment, period=billing.period_of(moment)
        )
    february = await summary(client, tenant, period="2026-02")
    march = await summary(client, tenant, period="2026-03")
    assert (february["totalRecords"], february["totalCost"]) == (1, 1.0)
    assert (march["totalRecords"], march["totalCost"]) == (1, 1.0)
    bad = await client.get(
        f"/api/v1/billing/summary/{tenant.org_id}",
        params={"period": "2026-13"},
        headers=tenant.headers,
    )
    assert assert_rest_error(bad, 400, "BAD_USER_INPUT")["field"] == "period"


async def test_credits_are_drawn_from_the_grant_that_expires_first_and_expired_ones_never(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    await per_minute(tenant.org_id, "1")
    now = datetime.now(UTC)
    later = await billing.grant(
        tenant.org_id, Decimal(1), expires=(now + timedelta(days=10)).date()
    )
    forever = await billing.grant(tenant.org_id, Decimal(5))
    sooner = await billing.grant(
        tenant.org_id, Decimal(1), expires=(now + timedelta(days=5)).date()
    )
    gone = await CreditGrant.create(
        org_id=tenant.org_id,
        amount=Decimal(10),
        remaining=Decimal(10),
        expires_at=now - timedelta(days=1),
    )

    await meter(await make_record(project, duration=180.0))  # 3 minutes at 1 a minute

    remaining = {g.id: g.remaining for g in await CreditGrant.filter(org_id=tenant.org_id)}
    assert remaining == {sooner.id: 0, later.id: 0, forever.id: 4, gone.id: 10}
    listed = await client.get(f"/api/v1/billing/credits/{tenant.org_id}", headers=tenant.headers)
    body = listed.json()["data"]
    assert body["available"] == 4.0
    assert {g["id"]: g["expired"] for g in body["grants"]}[gone.id] is True


async def test_metering_is_exactly_once_for_a_rerun_and_for_two_workers_at_once(
    tenant: Tenant,
) -> None:
    project = await make_project(tenant.org_id)
    await per_minute(tenant.org_id, "1")
    await billing.grant(tenant.org_id, Decimal(100))
    record = await make_record(project, duration=120.0)

    results = await asyncio.gather(meter(record), meter(record))
    assert sum(r is not None for r in results) == 1
    assert await meter(record) is None  # a job re-run after a crash
    assert await UsageEvent.filter(record_id=record.id).count() == 1
    [grant] = await CreditGrant.filter(org_id=tenant.org_id)
    assert grant.remaining == Decimal(98)


async def test_a_job_killed_after_metering_does_not_meter_again(
    tenant: Tenant, tmp_path_factory: pytest.TempPathFactory
) -> None:
    runtime = Runtime.from_settings(SETTINGS)
    audio = AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")
    stages = crashing_after(Stage.metering)
    async with serving(
        audio_host({"call.wav": audio.speech("Hello, how can I help you?")})
    ) as host:
        record, project = await ingested(tenant, f"{host}/files/call.wav")
        speech = Speech.for_settings(SETTINGS)
        with pytest.raises(Crash):
            await run_stages(
                StageRun(record, project, runtime, "general", speech=speech), stages=stages
            )
        stored = await Record.get(pk=record.id)
        await run_stages(StageRun(stored, project, runtime, "general"), stages=stages)
    assert await UsageEvent.filter(record_id=record.id).count() == 1
    assert "metering" in (await Record.get(pk=record.id)).stages_done


async def test_uploads_are_refused_at_the_budget_and_accepted_again_when_it_is_raised(
    client: httpx.AsyncClient, tenant: Tenant, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = await make_project(tenant.org_id)
    await per_minute(tenant.org_id, "1")
    audio = AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")
    call = audio.speech("Hello, how can I help you?")
    budget_url = f"/api/v1/billing/budget/{tenant.org_id}"
    await client.patch(budget_url, json={"budgetLimit": 2}, headers=tenant.headers)
    await meter(await make_record(project, duration=120.0))  # exactly the budget

    refused = await upload(client, tenant, project.id, call)
    assert "budget" in assert_rest_error(refused, 402, "PAYMENT_REQUIRED")["message"]
    ingest = await client.post(
        "/api/v1/records/ingest",
        json={"projectId": project.id, "audioUrl": "https://example.com/a.wav", "externalId": "x"},
        headers=tenant.headers,
    )
    assert_rest_error(ingest, 402, "PAYMENT_REQUIRED")

    raised = await client.patch(budget_url, json={"budgetLimit": 10}, headers=tenant.headers)
    assert raised.json()["data"]["budgetUsedPercent"] == 20.0
    accepted = await upload(client, tenant, project.id, call)
    assert accepted.status_code == 201, accepted.text
    record = await finished(client, tenant, accepted.json()["data"]["id"])
    assert record["status"] == "completed"
    assert (await summary(client, tenant))["totalRecords"] == 2  # the pipeline metered it

    removed = await client.patch(budget_url, json={"budgetLimit": None}, headers=tenant.headers)
    assert removed.json()["data"]["budgetLimit"] is None


async def test_an_org_on_credits_is_refused_when_none_is_left(
    client: httpx.AsyncClient, tenant: Tenant, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = await make_project(tenant.org_id)
    await per_minute(tenant.org_id, "1")
    await billing.grant(tenant.org_id, Decimal(1))
    await meter(await make_record(project, duration=90.0))  # costs 1.5: the grant is spent
    audio = AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")
    refused = await upload(client, tenant, project.id, audio.speech("Hello there."))
    assert "credit" in assert_rest_error(refused, 402, "PAYMENT_REQUIRED")["message"]


@pytest.mark.parametrize("limit", [-1, 1e12, "a lot"])
async def test_a_bad_budget_is_a_400_and_changes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, limit: Any
) -> None:
    url = f"/api/v1/billing/budget/{tenant.org_id}"
    response = await client.patch(url, json={"budgetLimit": limit}, headers=tenant.headers)
    assert response.status_code == 400, response.text
    assert (await summary(client, tenant))["budgetLimit"] is None


async def test_budget_thresholds_are_announced_once_each_per_month(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    await per_minute(tenant.org_id, "1")
    hook = Receiver()
    async with serving(hook.app()) as url:
        created = await client.post(
            "/api/v1/webhooks",
            json={"url": f"{url}/hook", "events": ["budget.threshold"]},
            headers=tenant.headers,
        )
        hook.secret = created.json()["data"]["secret"]
        budget_url = f"/api/v1/billing/budget/{tenant.org_id}"
        await client.patch(budget_url, json={"budgetLimit": 10}, headers=tenant.headers)
        for minutes in (5, 4, 1, 3):  # 50%, 90% (crosses 80), 100%, 130%
            await meter(await make_record(project, duration=minutes * 60.0))
        await hook.until(lambda: len(hook.answered) >= 2)
        await asyncio.sleep(1.0)  # a third would have arrived by now

    sent = [json.loads(r["body"])["data"]["threshold"] for r in hook.received]
    assert sorted(sent) == [80, 100]
    assert all(r["valid"] for r in hook.received)


READS: list[tuple[str, str]] = [
    ("GET", "/api/v1/billing/summary/{org}"),
    ("GET", "/api/v1/billing/usage/{org}"),
    ("GET", "/api/v1/billing/credits/{org}"),
]


async def test_supervisors_read_billing_agents_cannot_and_only_admins_set_budgets(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    supervisor = await tenant.add(Role.supervisor)
    for method, path in READS:
        url = path.format(org=tenant.org_id)
        assert (await client.request(method, url, headers=supervisor.headers)).status_code == 200
        assert_rest_error(
            await client.request(method, url, headers=agent.headers), 403, "FORBIDDEN"
        )
    budget_url = f"/api/v1/billing/budget/{tenant.org_id}"
    denied = await client.patch(budget_url, json={"budgetLimit": 5}, headers=supervisor.headers)
    assert_rest_error(denied, 403, "FORBIDDEN")
    admin = await tenant.add(Role.admin)
    allowed = await client.patch(budget_url, json={"budgetLimit": 5}, headers=admin.headers)
    assert allowed.json()["data"]["budgetLimit"] == 5.0


async def test_another_orgs_billing_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    calls: list[Callable[[], Awaitable[httpx.Response]]] = [
        *(
            (
                lambda m=m, p=p: client.request(
                    m, p.format(org=tenant.org_id), headers=other_tenant.headers
                )
            )
            for m, p in READS
        ),
        lambda: client.patch(
            f"/api/v1/billing/budget/{tenant.org_id}",
            json={"budgetLimit": 1},
            headers=other_tenant.headers,
        ),
    ]
    for call in calls:
        assert_rest_error(await call(), 404, "NOT_FOUND")
    assert (await BillingSettings.get_or_none(org_id=tenant.org_id)) is None


async def test_usage_is_broken_down_by_day_and_project(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await per_minute(tenant.org_id, "0.5")
    first, second = await make_project(tenant.org_id, "a"), await make_project(tenant.org_id, "b")
    for project, seconds in ((first, 60.0), (first, 120.0), (second, 600.0)):
        await meter(await make_record(project, duration=seconds))
    response = await client.get(f"/api/v1/billing/usage/{tenant.org_id}", headers=tenant.headers)
    body = response.json()["data"]
    assert body["totalCost"] == 6.5
    assert {p["projectId"]: (p["records"], p["minutes"], p["cost"]) for p in body["projects"]} == {
        first.id: (2, 3.0, 1.5),
        second.id: (1, 10.0, 5.0),
    }
    [day] = body["daily"]
    assert (day["date"], day["records"], day["cost"]) == (
        datetime.now(UTC).date().isoformat(),
        3,
        6.5,
    )
