"""Live record updates over graphql-transport-ws, fed by ``aica.events``."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from aica.errors import Forbidden, NotFound, Unauthenticated
from aica.events import ACCESS_CHANGED, Message, access_channel, project_channel
from aica.graphql.context import Info
from aica.graphql.dataloaders import Loaders
from aica.graphql.types.records import Record
from aica.services import projects, records
from aica.services.access import Actor


async def watch(info: Info, channel: str) -> AsyncGenerator[tuple[Actor, Message], None]:
    """Messages on ``channel``, each with the caller as the database knows them now.

    The connection lives for hours: each event reads through new loaders, and a caller whose
    access ended (token revoked, member removed) has the socket closed; the user's access
    channel says when to look again between events."""
    actor = await info.context.actor()
    channels = channel, access_channel(actor.user_id)
    async for message in info.context.runtime.events.subscribe(*channels):
        info.context.loaders = Loaders()
        try:
            actor = await info.context.actor_now()
        except (Unauthenticated, Forbidden) as exc:
            await info.context.close_socket(exc)
            return
        if message != ACCESS_CHANGED:
            yield actor, message


_FINISHED = frozenset({"completed", "failed"})
"""The statuses a record ends in; each is announced once per record."""


async def _record_events(
    info: Info, project_id: str, *, statuses: frozenset[str] | None = None
) -> AsyncGenerator[Record, None]:
    """The project's record changes; with ``statuses``, only changes to one of them."""
    actor = await info.context.actor()
    await projects.get_project(actor, project_id)  # another org's project: NOT_FOUND
    async for actor, message in watch(info, project_channel(project_id)):
        if statuses is not None and message.get("status") not in statuses:
            continue
        try:
            record = await records.get_record(actor, str(message.get("recordId")))
        except NotFound:
            continue  # deleted since, or not this agent's call
        # The row may have moved on while the event waited: show the change it announced,
        # so every change arrives once and in order (never "completed" twice).
        records.apply_announced(record, message)
        yield Record.from_model(record, mask_phone=actor.is_agent)


@strawberry.type
class RecordSubscriptions:
    @strawberry.subscription(description="Status and progress changes of the project's records.")
    async def record_updated(
        self, info: Info, project_id: strawberry.ID
    ) -> AsyncGenerator[Record, None]:
        async for record in _record_events(info, project_id):
            yield record

    @strawberry.subscription(description="Records of the project as they complete.")
    async def record_completed(
        self, info: Info, project_id: strawberry.ID
    ) -> AsyncGenerator[Record, None]:
        async for record in _record_events(info, project_id, statuses=frozenset({"completed"})):
            yield record

    @strawberry.subscription(
        description="Records of the project as they end, completed or failed (see status and "
        "error): the one event a dashboard needs for every outcome."
    )
    async def record_finished(
        self, info: Info, project_id: strawberry.ID
    ) -> AsyncGenerator[Record, None]:
        async for record in _record_events(info, project_id, statuses=_FINISHED):
            yield record
