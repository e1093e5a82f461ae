"""Usage metering, credits and budgets: what an org's calls cost and what pays for them."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from aica.models.base import id_field, new_id
from aica.models.orgs import Org


def new_use_id() -> str:
    return new_id("use")


def new_crd_id() -> str:
    return new_id("crd")


class UsageKind(StrEnum):
    processing = "processing"
    reanalysis = "reanalysis"


class CreditSource(StrEnum):
    purchase = "purchase"
    promo = "promo"
    manual = "manual"


class BillingSettings(Model):
    """An org's rates and budget; absent until changed (the defaults apply)."""

    org: fields.OneToOneRelation[Org] = fields.OneToOneField(
        "models.Org", related_name="billing", on_delete=fields.CASCADE, primary_key=True
    )
    rate_per_minute = fields.DecimalField(max_digits=18, decimal_places=10)
    reanalysis_rate_per_minute = fields.DecimalField(max_digits=18, decimal_places=10)
    budget_limit: Decimal | None = fields.DecimalField(max_digits=18, decimal_places=2, null=True)
    """Per calendar month (UTC); null: no limit."""
    updated_at = fields.DatetimeField(auto_now=True)

    org_id: str

    class Meta:
        table = "billing_settings"


class UsageEvent(Model):
    """One metered thing, once: the unique ``key`` makes a re-run or a race meter nothing."""

    id = id_field(new_use_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="usage", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=80)
    """``<record id>:processing`` or ``<analysis id>:reanalysis``."""
    kind = fields.CharEnumField(UsageKind, max_length=16)
    project_id = fields.CharField(max_length=32)
    record_id = fields.CharField(max_length=32)
    """Not a foreign key: usage stays when the record is deleted."""
    seconds = fields.DecimalField(max_digits=14, decimal_places=3)
    rate_per_minute = fields.DecimalField(max_digits=18, decimal_places=10)
    cost = fields.DecimalField(max_digits=18, decimal_places=6)
    period = fields.CharField(max_length=7)
    """``YYYY-MM`` (UTC) of ``created_at``."""
    created_at = fields.DatetimeField(auto_now_add=True)

    org_id: str

    class Meta:
        table = "usage_events"
        unique_together = (("org", "key"),)
        indexes = (("org_id", "period"), ("org_id", "created_at"))


class CreditGrant(Model):
    id = id_field(new_crd_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="credit_grants", on_delete=fields.CASCADE
    )
    amount = fields.DecimalField(max_digits=18, decimal_places=6)
    remaining = fields.DecimalField(max_digits=18, decimal_places=6)
    source = fields.CharEnumField(CreditSource, max_length=16, default=CreditSource.manual)
    note = fields.CharField(max_length=500, default="")
    expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    org_id: str

    class Meta:
        table = "credit_grants"
        indexes = (("org_id", "expires_at"),)


class CreditDraw(Model):
    """How much of a grant one usage event drew."""

    id = fields.BigIntField(primary_key=True)
    usage: fields.ForeignKeyRelation[UsageEvent] = fields.ForeignKeyField(
        "models.UsageEvent", related_name="draws", on_delete=fields.CASCADE
    )
    grant: fields.ForeignKeyRelation[CreditGrant] = fields.ForeignKeyField(
        "models.CreditGrant", related_name="draws", on_delete=fields.CASCADE
    )
    amount = fields.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        table = "credit_draws"


class BudgetNotice(Model):
    """A budget threshold (80, 100 percent) announced for a month: once."""

    id = fields.BigIntField(primary_key=True)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="budget_notices", on_delete=fields.CASCADE
    )
    period = fields.CharField(max_length=7)
    threshold = fields.SmallIntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "budget_notices"
        unique_together = (("org", "period", "threshold"),)
