"""Turning a staged audio file into a record with a queued pipeline job."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from aica.config import Settings
from aica.errors import BadInput, Conflict, NotFound
from aica.events import Broadcaster
from aica.models import Project, Record, RecordSource, Role
from aica.nesting import loads
from aica.queue import enqueue_record
from aica.services import billing, deletion
from aica.services.access import Actor
from aica.services.projects import get_project
from aica.services.record_fields import check_lengths
from aica.services.records import announce
from aica.speech.audio import Limits, probe
from aica.storage import StagedFile, Storage

# Metadata keys that become record columns; everything else stays in ``metadata``.
_COLUMNS = {
    "agentName": "agent_name",
    "agentExternalId": "agent_external_id",
    "customerPhone": "customer_phone",
    "externalId": "external_id",
}


@dataclass(frozen=True, slots=True)
class Upload:
    project_id: str
    staged: StagedFile
    file_name: str
    metadata: dict[str, Any]


def parse_metadata(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = loads(raw, field="metadata")
        except ValueError:
            raise BadInput("metadata is not valid JSON", field="metadata") from None
    if not isinstance(raw, dict):
        raise BadInput("metadata must be a JSON object", field="metadata")
    for key in _COLUMNS:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise BadInput(f"metadata.{key} must be a string", field=f"metadata.{key}")
    check_lengths(raw, prefix="metadata.")
    return raw


def split_columns(metadata: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record columns ``metadata`` names, and the rest. The columns must leave metadata:
    the phone is masked from its column for lists and agents, never from metadata."""
    columns = {col: metadata.get(key) for key, col in _COLUMNS.items()}
    return columns, {k: v for k, v in metadata.items() if k not in _COLUMNS}


def audio_limits(settings: Settings) -> Limits:
    return Limits(max_seconds=settings.max_audio_seconds, max_channels=settings.max_audio_channels)


def require_uploader(actor: Actor) -> None:
    actor.require(Role.admin, "upload recordings")


async def check_can_upload(actor: Actor, project_id: str) -> None:
    """Cheap checks before any byte is stored."""
    require_uploader(actor)
    await get_project(actor, project_id)
    await billing.check_can_spend(actor.org_id)


async def create_from_upload(
    actor: Actor, storage: Storage, events: Broadcaster, upload: Upload, limits: Limits
) -> Record:
    """Probe, move into storage, create the record and its job; on any failure keep nothing."""
    try:
        await check_can_upload(actor, upload.project_id)
        info = await asyncio.to_thread(probe, upload.staged.path, limits)
    except BaseException:
        await storage.discard(upload.staged.id)
        raise
    columns, extra = split_columns(upload.metadata)
    record = Record(
        org_id=actor.org_id,
        project_id=upload.project_id,
        source=RecordSource.upload,
        file_name=upload.file_name[:400] or None,
        format=info.format,
        size=upload.staged.size,
        sha256=upload.staged.sha256,
        duration=info.duration,
        channels=info.channels,
        metadata=extra,
        **columns,
    )
    record.audio_key = await storage.commit(upload.staged, actor.org_id, record.id, info.format)
    try:
        async with in_transaction() as connection:
            if not await deletion.hold_live(Project, upload.project_id, connection):
                raise NotFound.of("Project")
            await record.save(using_db=connection)
            await enqueue_record(record.id, connection)
    except IntegrityError:
        await storage.delete(record.audio_key)
        raise Conflict(
            f"A record with externalId {record.external_id!r} already exists",
            field="metadata.externalId",
        ) from None
    except BaseException:
        await storage.delete(record.audio_key)
        raise
    await announce(events, record)
    return record
