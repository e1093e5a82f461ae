"""Outgoing webhooks: endpoints, and the outbox of deliveries (webhooks and email)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from aica.models.base import id_field, new_id
from aica.models.orgs import Org
from aica.models.projects import Project


def new_whk_id() -> str:
    return new_id("whk")


def new_msg_id() -> str:
    return new_id("msg")


class DeliveryKind(StrEnum):
    webhook = "webhook"
    email = "email"


class DeliveryStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class WebhookEndpoint(Model):
    id = id_field(new_whk_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="webhook_endpoints", on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="webhook_endpoints", on_delete=fields.CASCADE, null=True
    )
    """Null: events of every project of the org."""
    url = fields.TextField()
    events: fields.JSONField[list[str]] = fields.JSONField()
    secret = fields.CharField(max_length=100)
    """``whsec_...`` (Standard Webhooks); signs every delivery."""
    enabled = fields.BooleanField(default=True)
    disabled_reason: str | None = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    org_id: str
    project_id: str | None

    class Meta:
        table = "webhook_endpoints"
        indexes = (("org_id", "created_at"),)


class Delivery(Model):
    """The outbox: written in the transaction of what caused it, sent by a job of its own.

    Its id is the ``webhook-id`` receivers de-duplicate on; it stays the same across retries.
    """

    id = id_field(new_msg_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="deliveries", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(DeliveryKind, max_length=16)
    endpoint: fields.ForeignKeyNullableRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE, null=True
    )
    event = fields.CharField(max_length=64)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField()
    """Webhooks: the body sent. Email: ``{"to", "subject", "text", "html"}``."""
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.pending)
    attempts = fields.SmallIntField(default=0)
    response_status = fields.SmallIntField(null=True)
    latency_ms = fields.IntField(null=True)
    last_error: str | None = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    org_id: str
    endpoint_id: str | None

    class Meta:
        table = "deliveries"
        indexes = (("org_id", "created_at"), ("endpoint_id", "created_at"))
