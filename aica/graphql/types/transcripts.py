"""Speaker-separated transcripts with word timings."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from aica import models
from aica.graphql.context import Info
from aica.services import transcripts


@strawberry.enum
class Speaker(Enum):
    agent = "agent"
    customer = "customer"
    unknown = "unknown"


@strawberry.type
class Word:
    start: float
    end: float
    word: str
    probability: float


@strawberry.type
class Segment:
    start: float
    end: float
    speaker: Speaker
    channel: int
    text: str
    words: list[Word]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        return cls(
            start=data["start"],
            end=data["end"],
            speaker=Speaker(data["speaker"]),
            channel=data["channel"],
            text=data["text"],
            words=[Word(**w) for w in data.get("words", [])],
        )


@strawberry.type
class Transcript:
    id: strawberry.ID = strawberry.field(description="The record's id (one transcript each).")
    record_id: strawberry.ID
    language: str
    text: str
    segments: list[Segment]

    @classmethod
    def from_model(cls, transcript: models.Transcript) -> Transcript:
        return cls(
            id=strawberry.ID(transcript.record_id),
            record_id=strawberry.ID(transcript.record_id),
            language=transcript.language,
            text=transcript.text,
            segments=[Segment.from_json(s) for s in transcript.segments],
        )


@strawberry.type
class TranscriptQueries:
    @strawberry.field(description="The record's transcript (NOT_FOUND until it is transcribed).")
    async def transcript(self, info: Info, record_id: strawberry.ID) -> Transcript:
        actor = await info.context.actor()
        return Transcript.from_model(await transcripts.get_transcript(actor, record_id))
