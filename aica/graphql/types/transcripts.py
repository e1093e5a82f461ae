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
    low_confidence: bool = strawberry.field(
        description="Whisper was unsure of these words (see the record's warnings)."
    )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        return cls(
            start=data["start"],
            end=data["end"],
            speaker=Speaker(data["speaker"]),
            channel=data["channel"],
            text=data["text"],
            words=[Word(**w) for w in data.get("words", [])],
            low_confidence=bool(data.get("low_confidence", False)),
        )


@strawberry.type(
    description="Something to know about a span of the call: untranscribed_speech, "
    "low_confidence, repetition_collapsed, language_not_allowed or language_mismatch."
)
class TranscriptWarning:
    code: str
    message: str
    start: float = strawberry.field(description="Seconds; 0 with end 0 for the whole call.")
    end: float
    channel: int | None

    @classmethod
    def many(cls, stored: list[dict[str, Any]] | None) -> list[TranscriptWarning]:
        return [cls(**w) for w in stored or []]


@strawberry.type(description="How agent and customer were told apart in this call.")
class SpeakerSeparation:
    method: str = strawberry.field(
        description="channels (stereo), diarization (mono, by voice) or none: the sides are "
        "unknown, and talk ratio, overtalk and agent-only criteria cannot rely on them."
    )
    confidence: float | None = strawberry.field(
        description="Diarization: share of the call's voice prints clearly of one voice (0..1)."
    )
    named_by: str | None = strawberry.field(
        description="How the agent was picked: channel, greeting (said the profile's opening "
        "lines) or first_speaker."
    )
    naming_confidence: float | None
    swapped: bool = strawberry.field(description="A reviewer swapped agent and customer.")
    detail: str

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> SpeakerSeparation | None:
        if not stored:
            return None
        return cls(
            method=str(stored["method"]),
            confidence=stored.get("confidence"),
            named_by=stored.get("namedBy"),
            naming_confidence=stored.get("namingConfidence"),
            swapped=bool(stored.get("swapped", False)),
            detail=str(stored.get("detail", "")),
        )


@strawberry.type
class Transcript:
    id: strawberry.ID = strawberry.field(description="The record's id (one transcript each).")
    record_id: strawberry.ID
    language: str
    language_probability: float | None = strawberry.field(
        description="How sure language detection was (0..1); null when not detected."
    )
    text: str
    segments: list[Segment]
    warnings: list[TranscriptWarning]

    @classmethod
    def from_model(cls, record: models.Record, transcript: models.Transcript) -> Transcript:
        return cls(
            id=strawberry.ID(transcript.record_id),
            record_id=strawberry.ID(transcript.record_id),
            language=transcript.language,
            language_probability=record.language_probability,
            text=transcript.text,
            segments=[Segment.from_json(s) for s in transcript.segments],
            warnings=TranscriptWarning.many(record.warnings),
        )


@strawberry.type
class TranscriptQueries:
    @strawberry.field(description="The record's transcript (NOT_FOUND until it is transcribed).")
    async def transcript(self, info: Info, record_id: strawberry.ID) -> Transcript:
        actor = await info.context.actor()
        return Transcript.from_model(*await transcripts.get_transcript(actor, record_id))
