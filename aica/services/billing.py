"""Billing: metering each processed record once, credits drawn in expiry order, monthly budgets.

Money is ``Decimal`` throughout (six places stored, rounded to cents only when shown). A
period is a calendar month in UTC. Metering is exactly-once per record (and per re-analysis)
because each usage event has a unique key derived from what it meters, never a fresh id:
a job re-run after a crash, or two workers racing, insert it once and draw credits once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from aica.config import Settings
from aica.errors import BadInput, NotFound, PaymentRequired
from aica.models import (
    AuditAction,
    BillingSettings,
    BudgetNotice,
    CreditDraw,
    CreditGrant,
    CreditSource,
    Org,
    Record,
    Role,
    UsageEvent,
    UsageKind,
)
from aica.services import audit, outbox, users
from aica.services.access import Actor

THRESHOLDS = (80, 100)
_CENT = Decimal("0.01")
_MICRO = Decimal("0.000001")
_MAX_BUDGET = Decimal("1000000000")


def period_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def check_period(text: str) -> str:
    try:
        datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise BadInput("period must be YYYY-MM", field="period") from None
    return text


def percent(part: Decimal, whole: Decimal | None) -> float | None:
    return float((part * 100 / whole).quantize(Decimal("0.1"))) if whole else None


def money(value: Decimal) -> float:
    """How amounts are shown: rounded to the cent."""
    return float(value.quantize(_CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Summary:
    org_id: str
    period: str
    total_records: int
    total_minutes: float
    total_cost: float
    budget_limit: float | None
    budget_used_percent: float | None
    credits_available: float
    credits_used: float


@dataclass(frozen=True, slots=True)
class UsageRow:
    key: str
    """The day (YYYY-MM-DD) or the project id."""
    records: int
    minutes: float
    cost: float


@dataclass(frozen=True, slots=True)
class Usage:
    org_id: str
    start: date
    end: date
    total_cost: float
    daily: list[UsageRow]
    projects: list[UsageRow]


@dataclass(frozen=True, slots=True)
class Credits:
    org_id: str
    available: float
    grants: list[CreditGrant]


@dataclass(frozen=True, slots=True)
class Rates:
    per_minute: Decimal
    reanalysis_per_minute: Decimal
    budget_limit: Decimal | None


async def rates(org_id: str, settings: Settings) -> Rates:
    own = await BillingSettings.get_or_none(org_id=org_id)
    if own is None:
        return Rates(
            settings.billing_rate_per_minute, settings.billing_reanalysis_rate_per_minute, None
        )
    return Rates(own.rate_per_minute, own.reanalysis_rate_per_minute, own.budget_limit)


def billed_seconds(seconds: float, settings: Settings) -> Decimal:
    exact = Decimal(str(round(seconds, 3)))
    if settings.billing_rounding == "minute":
        return Decimal(math.ceil(exact / 60) * 60)
    return exact


# --- metering (called inside the pipeline stage's transaction) --------------------------------


async def meter(settings: Settings, record: Record, kind: UsageKind, key: str) -> UsageEvent | None:
    """Meter ``record``'s audio once for ``key``; None when it was metered already."""
    org_rates = await rates(record.org_id, settings)
    rate = org_rates.per_minute if kind is UsageKind.processing else org_rates.reanalysis_per_minute
    seconds = billed_seconds(record.duration or 0.0, settings)
    cost = (seconds / 60 * rate).quantize(_MICRO, rounding=ROUND_HALF_UP)
    now = datetime.now(UTC)
    try:
        async with in_transaction():  # a savepoint: a duplicate key leaves the outer one usable
            event = await UsageEvent.create(
                org_id=record.org_id,
                key=key,
                kind=kind,
                project_id=record.project_id,
                record_id=record.id,
                seconds=seconds,
                rate_per_minute=rate,
                cost=cost,
                period=period_of(now),
            )
    except IntegrityError:
        return None
    await _draw(event)
    await _announce_thresholds(record.org_id, org_rates.budget_limit, event.period)
    return event


async def _draw(event: UsageEvent) -> None:
    """Take the cost from the grants that expire first (no expiry last)."""
    due = event.cost
    if due <= 0:
        return
    now = datetime.now(UTC)
    grants = (
        await CreditGrant.filter(org_id=event.org_id, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("expires_at", "created_at")
        .select_for_update()
    )
    grants.sort(key=lambda g: (g.expires_at is None, g.expires_at or now, g.created_at))
    for grant in grants:
        if due <= 0:
            break
        take = min(due, grant.remaining)
        grant.remaining -= take
        await grant.save(update_fields=["remaining"])
        await CreditDraw.create(usage=event, grant=grant, amount=take)
        due -= take


async def _announce_thresholds(org_id: str, limit: Decimal | None, period: str) -> None:
    """``budget.threshold`` at 80% and 100% of the month's budget, once each per month."""
    if not limit:
        return
    spent = await month_cost(org_id, period)
    for threshold in THRESHOLDS:
        if spent * 100 < limit * threshold:
            continue
        try:
            async with in_transaction():
                await BudgetNotice.create(org_id=org_id, period=period, threshold=threshold)
        except IntegrityError:
            continue
        data = {
            "orgId": org_id,
            "period": period,
            "threshold": threshold,
            "budgetLimit": money(limit),
            "totalCost": money(spent),
        }
        await outbox.queue_webhooks(org_id, None, outbox.BUDGET_THRESHOLD, data)
        await _mail_admins(org_id, data)


async def _mail_admins(org_id: str, data: dict[str, Any]) -> None:
    to = await users.member_emails(org_id, Role.owner, Role.admin)
    if not to:
        return
    line = (
        f"This month's usage ({data['totalCost']}) has reached {data['threshold']}% of the "
        f"budget ({data['budgetLimit']}) for {data['period']}."
    )
    message = {
        "to": to,
        "subject": f"[AICA] Budget {data['threshold']}% reached for {data['period']}",
        "text": line,
        "html": f"<p>{line}</p>",
    }
    await outbox.queue_email(org_id, outbox.BUDGET_THRESHOLD, message)


# --- what an org has spent and has left ---------------------------------------------------------


async def month_cost(org_id: str, period: str) -> Decimal:
    row = (
        await UsageEvent.filter(org_id=org_id, period=period)
        .annotate(total=Sum("cost"))
        .values("total")
    )
    total = row[0]["total"] if row else None
    return Decimal(total or 0)


async def available_credit(org_id: str) -> tuple[bool, Decimal]:
    """(whether the org runs on credits at all, what is left of unexpired grants)."""
    grants = await CreditGrant.filter(org_id=org_id)
    now = datetime.now(UTC)
    live = [g.remaining for g in grants if g.expires_at is None or g.expires_at > now]
    return bool(grants), sum(live, Decimal(0))


async def check_can_spend(org_id: str) -> None:
    """402 before a new recording is accepted: the budget is reached, or no credit is left."""
    own = await BillingSettings.get_or_none(org_id=org_id)
    limit = own.budget_limit if own else None
    if limit is not None and await month_cost(org_id, period_of(datetime.now(UTC))) >= limit:
        raise PaymentRequired(
            f"This month's budget of {money(limit)} is reached: raise it "
            "(PATCH /billing/budget/:orgId) to accept more recordings"
        )
    on_credits, left = await available_credit(org_id)
    if on_credits and left <= 0:
        raise PaymentRequired("No credit is left: add credits to accept more recordings")


# --- the billing API ----------------------------------------------------------------------------


def _own_org(actor: Actor, org_id: str) -> None:
    """The path's org must be the selected one: any other id is unknown (404)."""
    if org_id != actor.org_id:
        raise NotFound.of("Organization")
    actor.require(Role.supervisor, "read billing")


async def summary(actor: Actor, settings: Settings, org_id: str, period: str | None) -> Summary:
    _own_org(actor, org_id)
    period = check_period(period) if period else period_of(datetime.now(UTC))
    [processed] = (
        await UsageEvent.filter(org_id=org_id, period=period, kind=UsageKind.processing)
        .annotate(seconds=Sum("seconds"), records=Count("record_id", distinct=True))
        .values("seconds", "records")
    )
    cost = await month_cost(org_id, period)
    limit = (await rates(org_id, settings)).budget_limit
    _, available = await available_credit(org_id)
    drawn = await CreditDraw.filter(usage__org_id=org_id, usage__period=period).values_list(
        "amount", flat=True
    )
    used = sum((Decimal(d) for d in drawn), Decimal(0))
    minutes = Decimal(processed["seconds"] or 0) / 60
    return Summary(
        org_id=org_id,
        period=period,
        total_records=int(processed["records"] or 0),
        total_minutes=money(minutes),
        total_cost=money(cost),
        budget_limit=money(limit) if limit is not None else None,
        budget_used_percent=percent(cost, limit),
        credits_available=money(available),
        credits_used=money(used),
    )


async def usage(actor: Actor, org_id: str, start: date | None, end: date | None) -> Usage:
    """Daily and per-project breakdown between two dates (UTC, inclusive; default: this month)."""
    _own_org(actor, org_id)
    today = datetime.now(UTC).date()
    start = start or today.replace(day=1)
    end = end or today
    if end < start or (end - start).days > 366:
        raise BadInput("from must be before to, at most a year apart", field="from")
    low = datetime.combine(start, time.min, UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, UTC)
    events = await UsageEvent.filter(org_id=org_id, created_at__gte=low, created_at__lt=high)
    daily: dict[str, list[Any]] = {}
    projects: dict[str, list[Any]] = {}
    for event in events:
        for bucket, key in (
            (daily, event.created_at.astimezone(UTC).date().isoformat()),
            (projects, event.project_id),
        ):
            entry = bucket.setdefault(key, [set(), Decimal(0), Decimal(0)])
            entry[0].add(event.record_id)
            entry[1] += event.seconds / 60 if event.kind is UsageKind.processing else 0
            entry[2] += event.cost

    def rows(bucket: dict[str, list[Any]]) -> list[UsageRow]:
        return [
            UsageRow(key, len(r), money(Decimal(m)), money(c))
            for key, (r, m, c) in sorted(bucket.items())
        ]

    total = sum((e.cost for e in events), Decimal(0))
    return Usage(org_id, start, end, money(total), rows(daily), rows(projects))


async def credits(actor: Actor, org_id: str) -> Credits:
    _own_org(actor, org_id)
    grants = await CreditGrant.filter(org_id=org_id).order_by("-created_at", "id")
    _, available = await available_credit(org_id)
    return Credits(org_id, money(available), list(grants))


async def list_grants(org_id: str) -> list[CreditGrant]:
    """Every grant of the org, oldest first (operators: ``aica credits list``)."""
    if not await Org.exists(pk=org_id):
        raise NotFound.of("Organization")
    return list(await CreditGrant.filter(org_id=org_id).order_by("created_at", "id"))


def expired(grant: CreditGrant) -> bool:
    return grant.expires_at is not None and grant.expires_at <= datetime.now(UTC)


async def set_budget(actor: Actor, settings: Settings, org_id: str, limit: float | None) -> Summary:
    _own_org(actor, org_id)
    actor.require(Role.admin, "change the budget")
    value = None
    if limit is not None:
        if not math.isfinite(limit) or limit < 0 or Decimal(str(limit)) > _MAX_BUDGET:
            raise BadInput(
                f"budgetLimit must be between 0 and {_MAX_BUDGET}, or null for none",
                field="budgetLimit",
            )
        value = Decimal(str(limit)).quantize(_CENT)
    current = await rates(org_id, settings)
    async with in_transaction():
        await BillingSettings.update_or_create(
            defaults={
                "budget_limit": value,
                "rate_per_minute": current.per_minute,
                "reanalysis_rate_per_minute": current.reanalysis_per_minute,
            },
            org_id=org_id,
        )
        limit_text = None if value is None else str(value)
        await audit.by(actor, AuditAction.budget_changed, detail={"budgetLimit": limit_text})
    return await summary(actor, settings, org_id, None)


async def grant(
    org_id: str,
    amount: Decimal,
    *,
    source: CreditSource = CreditSource.manual,
    note: str = "",
    expires: date | None = None,
) -> CreditGrant:
    """Operators (``aica credits grant``) and purchases add credit."""
    if not await Org.exists(pk=org_id):
        raise NotFound.of("Organization")
    if amount <= 0 or amount > _MAX_BUDGET:
        raise BadInput("The amount must be positive", field="amount")
    expires_at = datetime.combine(expires, time.min, UTC) if expires else None
    return await CreditGrant.create(
        org_id=org_id,
        amount=amount,
        remaining=amount,
        source=source,
        note=note[:500],
        expires_at=expires_at,
    )
