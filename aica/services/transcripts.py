"""Reading transcripts, with the record's visibility rules."""

from __future__ import annotations

from aica.errors import NotFound
from aica.models import Record, Transcript
from aica.services.access import Actor
from aica.services.records import get_record


async def get_transcript(actor: Actor, record_id: str) -> tuple[Record, Transcript]:
    """The record (its warnings and language confidence describe the transcript) and its
    transcript."""
    record = await get_record(actor, record_id)
    transcript = await Transcript.get_or_none(record_id=record.id)
    if transcript is None:
        raise NotFound("Transcript not found: the record has not been transcribed yet")
    return record, transcript
