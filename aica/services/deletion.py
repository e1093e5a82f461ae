"""The one way records leave: deleting a record or a project, retention and erasure all come here.

Deletion is two steps, so that a crash or a storage failure never leaves half a record
visible. ``mark`` runs in the caller's transaction: it sets ``records.deleting_at`` and drops
the records' search documents, and from that commit on the record is hidden everywhere (lists,
reads, counts, stats, analyses, search, audio) and uncounted (the counting trigger skips
marked rows). ``finish`` then deletes the audio and the redacted copy through ``Storage`` and,
for each record whose files are gone, the rows (transcript, analyses, reviews, firings go by
cascade; metered usage is not tied to the record and stays). A record whose files could not be
deleted stays marked and hidden; ``sweep`` (run by the retention job and when a worker starts)
finishes it later. A project being deleted is marked the same way and goes with its last record.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from aica.config import Settings
from aica.models import AuditAction, Project, Record, Role
from aica.queue import enqueue_indexing
from aica.services import audit, search
from aica.services.access import Actor
from aica.services.projects import get_project
from aica.services.records import get_record
from aica.services.redaction import REDACTED_TAG
from aica.storage import Storage

log = logging.getLogger("aica.deletion")

BATCH = 500
"""Records marked or finished per statement."""


async def hold_live(
    model: type[Model], pk: str, connection: BaseDBAsyncClient | None = None
) -> bool:
    """Inside a transaction that writes for a project or a record: False when it is being
    deleted (or gone); else its row stays locked until the commit, so a deletion marking it
    waits, then takes along what this transaction wrote."""
    live = model.select_for_update(no_key=True).filter(pk=pk, deleting_at__isnull=True)
    if connection is not None:
        live = live.using_db(connection)
    return bool(await live.only("id"))  # (values_list would drop FOR UPDATE)


async def mark(settings: Settings, record_ids: Sequence[str]) -> list[str]:
    """Hide these records from now on (inside the caller's transaction); the ids newly marked."""
    if not record_ids:
        return []
    marked: list[str] = []
    connection = Tortoise.get_connection("default")
    for start in range(0, len(record_ids), BATCH):
        rows = await connection.execute_query_dict(
            "UPDATE records SET deleting_at = $2 WHERE id = ANY($1::text[])"
            " AND deleting_at IS NULL RETURNING id",
            [list(record_ids[start : start + BATCH]), datetime.now(UTC)],
        )
        batch = sorted(str(row["id"]) for row in rows)
        if batch:
            # The index jobs run after the commit and find the records marked, so documents an
            # indexing job wrote meanwhile go too; the drop hides them from search at once.
            await enqueue_indexing(batch)
            await search.backend_for(settings).drop(batch)
        marked += batch
    return marked


async def finish(storage: Storage, record_ids: Sequence[str]) -> list[str]:
    """Delete the files, then the rows, of these marked records; the ids that are gone. A
    record whose files could not be deleted stays marked for ``sweep``."""
    gone: list[str] = []
    for start in range(0, len(record_ids), BATCH):
        rows = await Record.filter(
            id__in=list(record_ids[start : start + BATCH]), deleting_at__isnull=False
        ).values_list("id", "audio_key", "redacted_audio_key")
        deleted = [str(record_id) for record_id, *keys in rows if await _files_gone(storage, keys)]
        if deleted:
            await Record.filter(id__in=deleted, deleting_at__isnull=False).delete()
        gone += deleted
    return gone


async def _files_gone(storage: Storage, keys: list[str | None]) -> bool:
    audio_key, redacted_key = keys
    files = {redacted_key}
    if audio_key:
        files |= {audio_key, storage.derived_key(audio_key, REDACTED_TAG)}
    try:
        for key in sorted(k for k in files if k):
            await storage.delete(key)
    except Exception:  # whatever the backend raises: the next sweep tries again
        log.warning("could not delete the audio of a record being deleted", exc_info=True)
        return False
    return True


async def sweep(storage: Storage) -> list[str]:
    """Finish every deletion that was interrupted, and drop projects whose records have all
    gone; the record ids finished."""
    marked = await Record.filter(deleting_at__isnull=False).values_list("id", flat=True)
    gone = await finish(storage, [str(i) for i in marked])
    await _drop_emptied_projects()
    return gone


async def _drop_emptied_projects(project_id: str | None = None) -> None:
    """Projects being deleted whose records have all gone (``project_id``: that one only)."""
    one = " AND p.id = $1" if project_id is not None else ""
    await Tortoise.get_connection("default").execute_query(
        "DELETE FROM projects p WHERE p.deleting_at IS NOT NULL"
        f" AND NOT EXISTS (SELECT 1 FROM records r WHERE r.project_id = p.id){one}",
        [project_id] if project_id is not None else None,
    )


async def delete_record(
    actor: Actor, settings: Settings, storage: Storage, record_id: str
) -> Record:
    actor.require(Role.admin, "delete records")
    record = await get_record(actor, record_id)
    async with in_transaction():
        await mark(settings, [record.id])
        await audit.by(actor, AuditAction.record_deleted, record_id=record.id)
    await finish(storage, [record.id])
    return record


async def delete_project(
    actor: Actor, settings: Settings, storage: Storage, project_id: str
) -> Project:
    """The project and all its records, hidden at once and gone once their files are."""
    actor.require(Role.admin, "delete projects")
    project = await get_project(actor, project_id)
    async with in_transaction():
        await Project.filter(pk=project.id).update(deleting_at=datetime.now(UTC))
        # Complete: an upload or ingest into the project holds its row until it commits.
        found = await Record.filter(project_id=project.id).values_list("id", flat=True)
        ids = [str(i) for i in found]
        await mark(settings, ids)
        await audit.by(
            actor, AuditAction.project_deleted, target_id=project.id, detail={"records": len(ids)}
        )
    await finish(storage, ids)
    await _drop_emptied_projects(project.id)
    return project
