"""Privacy: erasure of a customer's data and the access audit (owners and admins)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from aica import models
from aica.graphql.context import Info
from aica.graphql.scalars import JSON
from aica.graphql.types.records import PageInfo
from aica.services import audit, erasure
from aica.services.pagination import DEFAULT_PAGE_SIZE, CursorRequest
from aica.services.rows import Row, stored_json


@strawberry.enum(description="What an audit row records.")
class AuditAction(Enum):
    AUDIO_LISTENED = models.AuditAction.audio_listened.value
    AUDIO_DOWNLOADED = models.AuditAction.audio_downloaded.value
    AUDIO_ORIGINAL = models.AuditAction.audio_original.value
    RECORD_DELETED = models.AuditAction.record_deleted.value
    PROJECT_DELETED = models.AuditAction.project_deleted.value
    RETENTION_PURGED = models.AuditAction.retention_purged.value
    CUSTOMER_ERASED = models.AuditAction.customer_erased.value
    MEMBER_ROLE_CHANGED = models.AuditAction.member_role_changed.value
    TOKEN_CREATED = models.AuditAction.token_created.value
    TOKEN_REVOKED = models.AuditAction.token_revoked.value
    BUDGET_CHANGED = models.AuditAction.budget_changed.value
    WEBHOOK_CREATED = models.AuditAction.webhook_created.value
    WEBHOOK_UPDATED = models.AuditAction.webhook_updated.value
    WEBHOOK_DELETED = models.AuditAction.webhook_deleted.value


@strawberry.type
class ErasureResult:
    count: int = strawberry.field(description="Records removed.")
    record_ids: list[strawberry.ID]


@strawberry.type
class AuditEvent:
    id: strawberry.ID
    action: AuditAction
    actor_id: strawberry.ID | None = strawberry.field(
        description="The user who acted; null for the service itself (retention)."
    )
    record_id: strawberry.ID | None
    target_id: strawberry.ID | None = strawberry.field(
        description="The project, member, token or webhook endpoint it was about."
    )
    detail: JSON
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> AuditEvent:
        """A row of :data:`audit.COLUMNS`."""

        def as_id(value: str | None) -> strawberry.ID | None:
            return None if value is None else strawberry.ID(value)

        return cls(
            id=strawberry.ID(row["id"]),
            action=AuditAction(str(row["action"])),
            actor_id=as_id(row["actor_id"]),
            record_id=as_id(row["record_id"]),
            target_id=as_id(row["target_id"]),
            detail=JSON(stored_json(row["detail"])),
            created_at=row["created_at"],
        )


@strawberry.type
class AuditEventPage:
    items: list[AuditEvent]
    page_info: PageInfo


@strawberry.input
class AuditEventFilter:
    action: AuditAction | None = None
    actor_id: strawberry.ID | None = None
    record_id: strawberry.ID | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_service(self) -> audit.AuditFilter:
        return audit.AuditFilter(
            action=models.AuditAction(self.action.value) if self.action else None,
            actor_id=self.actor_id,
            record_id=self.record_id,
            since=self.since,
            until=self.until,
        )


@strawberry.type
class PrivacyQueries:
    @strawberry.field(
        description="The org's access audit, newest first (owners and admins): who listened "
        "to or downloaded which audio, erased, deleted or purged what, changed roles, tokens, "
        "budget or webhooks. Page with `first` and `after` the previous `pageInfo.endCursor`."
    )
    async def audit_events(
        self,
        info: Info,
        org_id: strawberry.ID,
        filter: AuditEventFilter | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> AuditEventPage:
        actor = await info.context.actor()
        flt = (filter or AuditEventFilter()).to_service()
        result = await audit.list_events(actor, org_id, flt, CursorRequest(first, after))
        return AuditEventPage(
            items=[AuditEvent.from_row(e) for e in result.items],
            page_info=PageInfo(has_next_page=result.has_next, end_cursor=result.end_cursor),
        )


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        description="Remove every record of one customer, by phone number (any spelling, "
        "compared in E.164) or external id: rows, audio, redacted copies, search entries and "
        "the deliveries that mention them (owners and admins). The audit keeps that it "
        "happened and how many records went, not the phone or id."
    )
    async def erase_customer_data(
        self,
        info: Info,
        org_id: strawberry.ID,
        phone: str | None = None,
        external_id: str | None = None,
    ) -> ErasureResult:
        actor = await info.context.actor()
        runtime = info.context.runtime
        erased = await erasure.erase(
            actor,
            runtime.settings,
            runtime.storage,
            org_id,
            phone=phone,
            external_id=external_id,
        )
        ids = [strawberry.ID(i) for i in erased.record_ids]
        return ErasureResult(count=len(ids), record_ids=ids)
