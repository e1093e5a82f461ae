"""The access audit: who listened to, downloaded, erased or changed what, and when."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from aica.models.base import id_field, new_id
from aica.models.orgs import Org


def new_aud_id() -> str:
    return new_id("aud")


class AuditAction(StrEnum):
    audio_listened = "audio.listened"
    audio_downloaded = "audio.downloaded"
    audio_original = "audio.original"
    """The unredacted audio of a call whose copy has its personal data silenced."""
    record_deleted = "record.deleted"
    project_deleted = "project.deleted"
    retention_purged = "retention.purged"
    customer_erased = "customer.erased"
    member_role_changed = "member.role_changed"
    token_created = "token.created"
    token_revoked = "token.revoked"
    budget_changed = "budget.changed"
    webhook_created = "webhook.created"
    webhook_updated = "webhook.updated"
    webhook_deleted = "webhook.deleted"


class AuditEvent(Model):
    """Kept ``AICA_AUDIT_RETENTION_DAYS``; never holds what was erased (a phone, an id), only
    that it happened. Not a foreign key to the record: the row outlives it."""

    id = id_field(new_aud_id)
    org: fields.ForeignKeyNullableRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="audit_events", on_delete=fields.CASCADE, null=True
    )
    """Null for what belongs to no org (a personal token)."""
    actor_id = fields.CharField(max_length=32, null=True)
    """The user who acted; null for the service itself (the retention job)."""
    action = fields.CharEnumField(AuditAction, max_length=32)
    record_id = fields.CharField(max_length=32, null=True)
    target_id = fields.CharField(max_length=32, null=True)
    """What else it was about: a project, member, token or webhook endpoint."""
    detail: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    org_id: str | None

    class Meta:
        table = "audit_events"
        indexes = (("org_id", "created_at", "id"), ("created_at",))
