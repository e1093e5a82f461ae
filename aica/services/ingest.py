"""Records that arrive by webhook: the audio is fetched later by the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from aica.errors import BadInput, Conflict, NotFound
from aica.events import Broadcaster
from aica.models import Project, Record, RecordSource, RecordStatus, Role
from aica.queue import enqueue_record
from aica.services import billing, deletion
from aica.services.access import Actor
from aica.services.projects import get_project
from aica.services.record_fields import check_lengths
from aica.services.records import announce
from aica.services.uploads import split_columns


@dataclass(frozen=True, slots=True)
class Ingest:
    project_id: str
    audio_url: str
    external_id: str
    agent_name: str | None = None
    agent_external_id: str | None = None
    customer_phone: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def check_http_url(url: str, field: str) -> None:
    """An http(s) URL with a host and a valid port, at most 4000 characters."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises on a port out of range
    except ValueError:
        raise BadInput(f"{field} is not a valid URL", field=field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"{field} must be an http(s) URL", field=field)
    if len(url) > 4000:
        raise BadInput(f"{field} is longer than 4000 characters", field=field)


def _validate(ingest: Ingest) -> None:
    check_http_url(ingest.audio_url, "audioUrl")
    if not ingest.external_id.strip() or len(ingest.external_id) > 200:
        raise BadInput("externalId must be 1-200 characters", field="externalId")
    check_lengths(
        {
            "agentName": ingest.agent_name,
            "agentExternalId": ingest.agent_external_id,
            "customerPhone": ingest.customer_phone,
        }
    )


async def ingest_record(actor: Actor, events: Broadcaster, ingest: Ingest) -> Record:
    """Create the record and queue its download; a repeated delivery returns the first one."""
    actor.require(Role.admin, "ingest recordings")
    _validate(ingest)
    await get_project(actor, ingest.project_id)
    # The input's own fields win over the same keys in metadata, which leave it (as on upload).
    columns, extra = split_columns(ingest.metadata)
    return await create_once(
        events,
        Record(
            org_id=actor.org_id,
            source=RecordSource.ingest,
            external_id=ingest.external_id,
            project_id=ingest.project_id,
            audio_url=ingest.audio_url,
            agent_name=ingest.agent_name or columns["agent_name"],
            agent_external_id=ingest.agent_external_id or columns["agent_external_id"],
            customer_phone=ingest.customer_phone or columns["customer_phone"],
            metadata=extra,
        ),
    )


async def create_once(events: Broadcaster, record: Record) -> Record:
    """Save ``record`` (queueing it unless it is already finished), or return the record that
    holds its (org, source, externalId): webhook senders deliver at least once."""

    async def existing() -> Record | None:
        found = await Record.get_or_none(
            org_id=record.org_id, source=record.source, external_id=record.external_id
        )
        if found is not None and found.deleting_at is not None:
            raise Conflict("This call is being deleted; deliver it again later")
        return found

    found = await existing()
    if found is not None:
        return found
    await billing.check_can_spend(record.org_id)
    try:
        async with in_transaction() as connection:
            if not await deletion.hold_live(Project, record.project_id, connection):
                raise NotFound.of("Project")
            await record.save(using_db=connection)
            if record.status == RecordStatus.pending:
                await enqueue_record(record.id, connection)
    except IntegrityError:  # the same delivery, concurrently (or the project just went)
        found = await existing()
        if found is None:
            raise NotFound.of("Project") from None
        return found
    await announce(events, record)
    return record
