"""Records that arrive by webhook (the pipeline downloads their audio)."""

from __future__ import annotations

import strawberry

from aica.graphql.context import Info
from aica.graphql.scalars import JSON
from aica.graphql.types.records import Record
from aica.services import ingest, uploads


@strawberry.input
class IngestRecordInput:
    project_id: strawberry.ID
    audio_url: str
    external_id: str = strawberry.field(description="Your id for the call; repeats are ignored.")
    agent_name: str | None = None
    agent_external_id: str | None = None
    customer_phone: str | None = None
    metadata: JSON | None = None


@strawberry.type
class IngestMutations:
    @strawberry.mutation(
        description="Queue a recording by URL; a repeated externalId returns the first record."
    )
    async def ingest_record(self, info: Info, input: IngestRecordInput) -> Record:
        actor = await info.context.actor()
        record = await ingest.ingest_record(
            actor,
            info.context.runtime.events,
            ingest.Ingest(
                project_id=input.project_id,
                audio_url=input.audio_url,
                external_id=input.external_id,
                agent_name=input.agent_name,
                agent_external_id=input.agent_external_id,
                customer_phone=input.customer_phone,
                metadata=uploads.parse_metadata(input.metadata),
            ),
        )
        return Record.from_model(record, mask_phone=False)
