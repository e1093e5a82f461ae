"""Alert rules (the seed's ``/alerts``) and the firings they produce."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from aica.models.base import id_field, new_id
from aica.models.orgs import Org
from aica.models.projects import Project
from aica.models.records import Record


def new_alr_id() -> str:
    return new_id("alr")


def new_alf_id() -> str:
    return new_id("alf")


class AlertRule(Model):
    id = id_field(new_alr_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="alert_rules", on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="alert_rules", on_delete=fields.CASCADE, null=True
    )
    """Null: every project of the org."""
    name = fields.CharField(max_length=200)
    condition: fields.JSONField[dict[str, Any]] = fields.JSONField()
    """``{"field", "operator", "value"}``, validated on save (``aica.services.alerts``)."""
    actions: fields.JSONField[list[str]] = fields.JSONField(default=list)
    email_recipients: fields.JSONField[list[str] | None] = fields.JSONField(null=True)
    """Null: the org's owners, admins and supervisors at the time of firing."""
    cooldown_minutes = fields.IntField(null=True)
    """At most one firing per agent in this many minutes."""
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    org_id: str
    project_id: str | None

    class Meta:
        table = "alert_rules"
        indexes = (("org_id", "created_at"),)


class AlertFiring(Model):
    """One rule matched one record (an analysis of it, or its failure)."""

    id = id_field(new_alf_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="alert_firings", on_delete=fields.CASCADE
    )
    rule: fields.ForeignKeyRelation[AlertRule] = fields.ForeignKeyField(
        "models.AlertRule", related_name="firings", on_delete=fields.CASCADE
    )
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="alert_firings", on_delete=fields.CASCADE
    )
    project_id = fields.CharField(max_length=32)
    analysis_id = fields.CharField(max_length=32, null=True)
    trigger = fields.CharField(max_length=32)
    """What was judged: the analysis id, or ``failed`` for the record's failure; one firing
    per rule, record and trigger, however often the stage runs."""
    agent_name = fields.CharField(max_length=200, null=True)
    field = fields.CharField(max_length=100)
    operator = fields.CharField(max_length=8)
    matched: fields.JSONField[dict[str, Any]] = fields.JSONField()
    """``{"value": the record's value, "threshold": the rule's}`` (an object: a bare JSON
    string would be taken for encoded JSON)."""
    actions: fields.JSONField[dict[str, str]] = fields.JSONField(default=dict)
    """Each action and what became of it: ``queued``, ``no_endpoints``, ``not_configured``."""
    created_at = fields.DatetimeField(auto_now_add=True)

    org_id: str
    rule_id: str
    record_id: str

    class Meta:
        table = "alert_firings"
        unique_together = (("rule", "record", "trigger"),)
        indexes = (("org_id", "created_at"), ("rule_id", "agent_name", "created_at"))
