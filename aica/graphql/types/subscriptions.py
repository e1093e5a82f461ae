"""Live record updates over graphql-transport-ws, fed by ``aica.events``."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from aica.errors import Forbidden, NotFound, Unauthenticated
from aica.events import ACCESS_CHANGED, access_channel, project_channel
from aica.graphql.context import Info
from aica.graphql.dataloaders import Loaders
from aica.graphql.types.records import Record
from aica.services import projects, records


async def _record_events(
    info: Info, project_id: str, *, completed_only: bool
) -> AsyncGenerator[Record, None]:
    actor = await info.context.actor()
    await projects.get_project(actor, project_id)  # another org's project: NOT_FOUND
    channels = project_channel(project_id), access_channel(actor.user_id)
    async for message in info.context.runtime.events.subscribe(*channels):
        about_access = message == ACCESS_CHANGED
        if completed_only and not about_access and message.get("status") != "completed":
            continue
        # The connection lives for hours: each event reads through new loaders, as the
        # caller the database knows now (revoked, removed: the socket closes).
        info.context.loaders = Loaders()
        try:
            actor = await info.context.actor_now()
        except (Unauthenticated, Forbidden) as exc:
            await info.context.close_socket(exc)
            return
        if about_access:
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
        async for record in _record_events(info, project_id, completed_only=False):
            yield record

    @strawberry.subscription(description="Records of the project as they complete.")
    async def record_completed(
        self, info: Info, project_id: strawberry.ID
    ) -> AsyncGenerator[Record, None]:
        async for record in _record_events(info, project_id, completed_only=True):
            yield record
