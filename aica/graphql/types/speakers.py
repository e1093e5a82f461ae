"""A reviewer's swap of agent and customer (how they were told apart: ``SpeakerSeparation``)."""

from __future__ import annotations

import strawberry

from aica.graphql.context import Info
from aica.graphql.types.records import Record
from aica.services import pipeline


@strawberry.type
class SpeakerMutations:
    @strawberry.mutation(
        description="Swap agent and customer in a call (supervisors and above) and score it "
        "again with its current profile."
    )
    async def swap_speakers(self, info: Info, record_id: strawberry.ID) -> Record:
        actor = await info.context.actor()
        record = await pipeline.swap_speakers(actor, info.context.runtime, record_id)
        return Record.from_model(record, mask_phone=False)
