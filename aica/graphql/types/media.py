"""Links to a record's audio for players that cannot send headers."""

from __future__ import annotations

from urllib.parse import quote

import strawberry

from aica.graphql.context import Info
from aica.services import media


@strawberry.type
class MediaQueries:
    @strawberry.field(
        description="A link (relative to the service's address) to the record's audio for an "
        "<audio> element, which cannot send headers: Range requests work; it is good for this "
        "record, 15 minutes and as long as the caller's token and membership are."
    )
    async def record_audio_url(self, info: Info, id: strawberry.ID) -> str:
        context = info.context
        ticket = await media.audio_ticket(
            await context.actor(), await context.principal(), context.bearer_token(), id
        )
        return f"/api/v1/records/{quote(id, safe='')}/audio?ticket={ticket}"
