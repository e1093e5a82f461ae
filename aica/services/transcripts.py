"""Transcripts: stored by the pipeline, read with the record's visibility rules."""

from __future__ import annotations

from aica.errors import NotFound
from aica.models import Record, Transcript
from aica.services.access import Actor
from aica.services.records import get_record
from aica.transcript import Transcript as Spoken


async def get_transcript(actor: Actor, record_id: str) -> tuple[Record, Transcript]:
    """The record (its warnings and language confidence describe the transcript) and its
    transcript."""
    record = await get_record(actor, record_id)
    transcript = await Transcript.get_or_none(record_id=record.id)
    if transcript is None:
        raise NotFound("Transcript not found: the record has not been transcribed yet")
    return record, transcript


async def load(record: Record) -> Spoken | None:
    """The record's stored transcript as the engines take it, or None before transcription."""
    transcript = await Transcript.get_or_none(record_id=record.id)
    if transcript is None:
        return None
    return Spoken.from_json(
        {
            "language": transcript.language,
            "duration": record.duration or 0.0,
            "channels": record.channels or 1,
            "text": transcript.text,
            "segments": transcript.segments,
            "warnings": record.warnings,
        }
    )


async def save_transcript(record: Record, spoken: Spoken) -> None:
    """Replace the record's transcript (one per record) and what it tells about the audio."""
    await Transcript.filter(record_id=record.id).delete()
    await Transcript.create(
        record_id=record.id,
        language=spoken.language,
        text=spoken.text,
        segments=spoken.to_json()["segments"],
    )
    fields = {
        "duration": spoken.duration,
        "channels": spoken.channels,
        "language": spoken.language,
        "language_probability": spoken.language_probability,
        "warnings": spoken.to_json()["warnings"],
    }
    record.update_from_dict(fields)
    await record.save(update_fields=list(fields))
