"""The access audit: rows written where the audited thing happens, read by owners and admins.

What an audit row keeps is that something happened, by whom, to which record or object, never
the personal data itself (an erasure keeps how many records went, not the phone number).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from aica.errors import BadInput, NotFound
from aica.models import AuditAction, AuditEvent, Role
from aica.services import keyset
from aica.services.access import Actor
from aica.services.keyset import SortKey
from aica.services.pagination import CursorRequest, Slice
from aica.services.rows import Row, Rows

LISTENING_WINDOW = timedelta(minutes=30)
"""Listening, downloading and original-audio rows are written once per user, record and action
within it: a player's Range requests come in dozens for one listen."""
PURGE_BATCH = 5_000
_ORDER = SortKey("created_at", descending=True, nullable=False)
COLUMNS = ("id", "action", "actor_id", "record_id", "target_id", "detail", "created_at")
"""What the audit log shows of an event."""


async def write(
    org_id: str | None,
    actor_id: str | None,
    action: AuditAction,
    *,
    record_id: str | None = None,
    target_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """One row, in the caller's transaction when there is one (it stands or falls with it)."""
    return await AuditEvent.create(
        org_id=org_id,
        actor_id=actor_id,
        action=action,
        record_id=record_id,
        target_id=target_id,
        detail=detail or {},
    )


async def by(actor: Actor, action: AuditAction, **about: Any) -> AuditEvent:
    """A row for what ``actor`` did in their org."""
    return await write(actor.org_id, actor.user_id, action, **about)


async def listened(actor: Actor, action: AuditAction, record_id: str) -> None:
    """A listening row unless the same user had one for the record within the window.
    Concurrent requests (a player's ranges) queue on a lock of their own key."""
    since = datetime.now(UTC) - LISTENING_WINDOW
    async with in_transaction() as connection:
        key = f"audit:{actor.user_id}:{record_id}:{action}"
        await connection.execute_query("SELECT pg_advisory_xact_lock(hashtext($1))", [key])
        seen = await AuditEvent.filter(
            org_id=actor.org_id,
            actor_id=actor.user_id,
            record_id=record_id,
            action=action,
            created_at__gte=since,
        ).exists()
        if not seen:
            await by(actor, action, record_id=record_id)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: AuditAction | None = None
    actor_id: str | None = None
    record_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_events(
    actor: Actor, org_id: str, flt: AuditFilter, request: CursorRequest
) -> Slice[Row]:
    """The org's audit, newest first, by cursor (owners and admins only)."""
    if org_id != actor.org_id:
        raise NotFound.of("Organization")
    actor.require(Role.admin, "read the audit log")
    if flt.since is not None and flt.until is not None and flt.since > flt.until:
        raise BadInput("since must not be after until", field="since")
    rows = Rows("audit_events", COLUMNS).where("org_id = {}", actor.org_id)
    rows = rows.where_given(
        ("action = {}", None if flt.action is None else str(flt.action)),
        ("actor_id = {}", flt.actor_id),
        ("record_id = {}", flt.record_id),
        ("created_at >= {}", flt.since),
        ("created_at <= {}", flt.until),
    )
    start = None if request.after is None else keyset.position(request.after, timestamp=True)
    items = await keyset.after(rows, _ORDER, start, request.first + 1)
    page = items[: request.first]
    end = keyset.cursor(page[-1], _ORDER) if page else None
    return Slice(page, has_next=len(items) > request.first, end_cursor=end)


async def purge(cutoff: datetime) -> int:
    """Drop audit rows older than ``cutoff``, in batches (no long lock on a big table)."""
    connection = Tortoise.get_connection("default")
    removed = 0
    while True:
        count, _ = await connection.execute_query(
            "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events"
            " WHERE created_at < $1 LIMIT $2)",
            [cutoff, PURGE_BATCH],
        )
        removed += count
        if count < PURGE_BATCH:
            return removed
