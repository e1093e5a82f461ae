"""Billing: the month's usage and cost, the daily and per-project breakdown, credits, budget."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from aica import models
from aica.graphql.context import Info
from aica.services import billing


@strawberry.type
class CreditBalance:
    available: float = strawberry.field(description="What is left of unexpired grants.")
    used: float = strawberry.field(description="Drawn from grants in the period.")


@strawberry.type
class BillingSummary:
    org_id: strawberry.ID
    period: str = strawberry.field(description="YYYY-MM, a calendar month in UTC.")
    total_records: int
    total_minutes: float
    total_cost: float
    budget_limit: float | None
    budget_used_percent: float | None
    credits: CreditBalance

    @classmethod
    def of(cls, s: billing.Summary) -> BillingSummary:
        return cls(
            org_id=strawberry.ID(s.org_id),
            period=s.period,
            total_records=s.total_records,
            total_minutes=s.total_minutes,
            total_cost=s.total_cost,
            budget_limit=s.budget_limit,
            budget_used_percent=s.budget_used_percent,
            credits=CreditBalance(available=s.credits_available, used=s.credits_used),
        )


@strawberry.type
class UsageDay:
    date: str
    records: int
    minutes: float
    cost: float


@strawberry.type
class UsageProject:
    project_id: strawberry.ID
    records: int
    minutes: float
    cost: float


@strawberry.type
class BillingUsage:
    org_id: strawberry.ID
    from_: date = strawberry.field(name="from")
    to: date
    total_cost: float
    daily: list[UsageDay]
    projects: list[UsageProject]

    @classmethod
    def of(cls, u: billing.Usage) -> BillingUsage:
        return cls(
            org_id=strawberry.ID(u.org_id),
            from_=u.start,
            to=u.end,
            total_cost=u.total_cost,
            daily=[
                UsageDay(date=r.key, records=r.records, minutes=r.minutes, cost=r.cost)
                for r in u.daily
            ],
            projects=[
                UsageProject(
                    project_id=strawberry.ID(r.key),
                    records=r.records,
                    minutes=r.minutes,
                    cost=r.cost,
                )
                for r in u.projects
            ],
        )


@strawberry.type
class CreditGrant:
    id: strawberry.ID
    amount: float
    remaining: float
    source: models.CreditSource
    note: str
    expires_at: datetime | None
    expired: bool
    created_at: datetime

    @classmethod
    def from_model(cls, grant: models.CreditGrant) -> CreditGrant:
        return cls(
            id=strawberry.ID(grant.id),
            amount=billing.money(grant.amount),
            remaining=billing.money(grant.remaining),
            source=grant.source,
            note=grant.note,
            expires_at=grant.expires_at,
            expired=billing.expired(grant),
            created_at=grant.created_at,
        )


@strawberry.type
class BillingCredits:
    org_id: strawberry.ID
    available: float
    grants: list[CreditGrant]


@strawberry.type
class BillingQueries:
    @strawberry.field(description="Usage and cost of a month (default: the current one).")
    async def billing_summary(
        self, info: Info, org_id: strawberry.ID, period: str | None = None
    ) -> BillingSummary:
        actor = await info.context.actor()
        return BillingSummary.of(
            await billing.summary(actor, info.context.settings, org_id, period)
        )

    @strawberry.field(description="Daily and per-project usage between two dates (UTC).")
    async def billing_usage(
        self,
        info: Info,
        org_id: strawberry.ID,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> BillingUsage:
        actor = await info.context.actor()
        return BillingUsage.of(await billing.usage(actor, org_id, from_, to))

    @strawberry.field(description="Credit grants and what is left of them.")
    async def billing_credits(self, info: Info, org_id: strawberry.ID) -> BillingCredits:
        actor = await info.context.actor()
        found = await billing.credits(actor, org_id)
        return BillingCredits(
            org_id=strawberry.ID(found.org_id),
            available=found.available,
            grants=[CreditGrant.from_model(g) for g in found.grants],
        )


@strawberry.input
class BudgetInput:
    budget_limit: float | None = strawberry.field(
        description="The monthly budget in the billing currency; null removes the limit."
    )


@strawberry.type
class BillingMutations:
    @strawberry.mutation(description="Set the monthly budget (owners and admins).")
    async def update_budget(
        self, info: Info, org_id: strawberry.ID, input: BudgetInput
    ) -> BillingSummary:
        actor = await info.context.actor()
        settings = info.context.settings
        return BillingSummary.of(
            await billing.set_budget(actor, settings, org_id, input.budget_limit)
        )
