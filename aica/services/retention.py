"""Retention: records older than their project's ``retention_days`` are purged.

Run by the scheduled ``retention`` job (``AICA_RETENTION_SCHEDULE``) and ``aica retention``.
Each run marks the expired records of one org in one transaction with an audit row saying how
many went (``deletion.mark``), then finishes every marked record (``deletion.sweep``, which
also completes deletions an earlier crash or storage failure interrupted), then drops audit
rows older than ``AICA_AUDIT_RETENTION_DAYS``. Metered usage is not tied to records and stays.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from aica.config import Settings
from aica.models import AuditAction, AuditEvent, Record
from aica.services import audit, deletion
from aica.storage import Storage

_EXPIRED = """
    SELECT r.id, r.org_id, r.project_id FROM records r JOIN projects p ON p.id = r.project_id
    WHERE p.retention_days IS NOT NULL AND r.deleting_at IS NULL
      AND r.created_at < $1::timestamptz - make_interval(days => p.retention_days)
    ORDER BY r.org_id, r.project_id, r.id"""


@dataclass(slots=True)
class Purge:
    """What a run removed (or, dry, would remove)."""

    expired: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Org -> project -> ids of records past retention."""
    finished: list[str] = field(default_factory=list)
    """Records whose files and rows are gone (earlier interrupted deletions included)."""
    pending: list[str] = field(default_factory=list)
    """Records still marked: their files could not be deleted; the next run tries again."""
    audit_rows: int = 0
    """Audit rows past ``AICA_AUDIT_RETENTION_DAYS`` (dropped, or would be)."""

    @property
    def expired_ids(self) -> list[str]:
        return [i for projects in self.expired.values() for ids in projects.values() for i in ids]


async def expired(now: datetime) -> dict[str, dict[str, list[str]]]:
    rows = await Tortoise.get_connection("default").execute_query_dict(_EXPIRED, [now])
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        found[row["org_id"]][row["project_id"]].append(row["id"])
    return {org: dict(projects) for org, projects in found.items()}


async def purge(
    settings: Settings, storage: Storage, *, dry_run: bool = False, now: datetime | None = None
) -> Purge:
    now = now or datetime.now(UTC)
    result = Purge(expired=await expired(now))
    audit_cutoff = now - timedelta(days=settings.audit_retention_days)
    if dry_run:
        marked = await Record.filter(deleting_at__isnull=False).values_list("id", flat=True)
        result.pending = [str(i) for i in marked]
        result.audit_rows = await AuditEvent.filter(created_at__lt=audit_cutoff).count()
        return result
    for org_id, projects in result.expired.items():
        async with in_transaction():
            ids = await deletion.mark(settings, [i for ids in projects.values() for i in ids])
            await audit.write(
                org_id,
                None,
                AuditAction.retention_purged,
                detail={"records": len(ids), "projects": {p: len(v) for p, v in projects.items()}},
            )
    result.finished = await deletion.sweep(storage)
    left = await Record.filter(deleting_at__isnull=False).values_list("id", flat=True)
    result.pending = [str(i) for i in left]
    result.audit_rows = await audit.purge(audit_cutoff)
    return result
