"""PII redaction of a record: the redacted transcript, its spans, the silenced audio copy.

Only the redacted transcript is ever stored: the pipeline hands the clear one from the
transcribing stage to the redacting stage in memory, and both stages checkpoint together
with the redacted result, so a crash in between transcribes again rather than leave the clear
text in the database. The original audio stays (it is the evidence of the call) and is
served only to owners and admins who ask for it.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from aica import redaction
from aica.errors import NotFound
from aica.models import AuditAction, Record, RedactionMode, Role
from aica.services import audit, transcripts
from aica.services.access import Actor
from aica.services.records import get_record
from aica.speech import audio
from aica.storage import Storage
from aica.transcript import Transcript as Spoken

REDACTED_TAG = "redacted"


@dataclass(frozen=True, slots=True)
class Prepared:
    transcript: Spoken
    spans: list[redaction.Span]
    audio_key: str | None
    """The silenced copy, already in storage (``text+audio`` with something to silence)."""


async def prepare(
    record: Record,
    spoken: Spoken,
    mode: RedactionMode,
    storage: Storage,
    audio: Callable[[], Awaitable[Path]],
    *,
    tone: bool = False,
) -> Prepared:
    """Find and replace the personal data; with ``text+audio`` write the silenced copy.

    No database writes: ``store`` makes them in the stage's transaction. The copy's key is
    fixed per record, so a stage run again replaces it.
    """
    redacted = await asyncio.to_thread(redaction.redact, spoken)
    key = None
    if mode is RedactionMode.text_and_audio and redacted.spans and record.audio_key:
        key = storage.derived_key(record.audio_key, REDACTED_TAG)
        scratch = storage.scratch()
        try:
            original = await audio()
            await asyncio.to_thread(write_silenced, original, scratch, redacted.spans, tone)
            await storage.put(scratch, key)
        finally:
            scratch.unlink(missing_ok=True)
    return Prepared(redacted.transcript, redacted.spans, key)


async def store(record: Record, prepared: Prepared) -> str | None:
    """Save the redacted transcript and the spans (inside the caller's transaction); returns
    the key of a copy an earlier run made that is no longer wanted, to delete once committed."""
    stale = record.redacted_audio_key if record.redacted_audio_key != prepared.audio_key else None
    await transcripts.save_transcript(record, prepared.transcript)
    fields = {
        "redactions": [span.to_json() for span in prepared.spans],
        "redacted_audio_key": prepared.audio_key,
    }
    record.update_from_dict(fields)
    await record.save(update_fields=list(fields))
    return stale


async def stored_transcript(record: Record) -> Spoken:
    """The record's transcript as stored (a job resumed after transcribing without redaction,
    the project's setting turned on since)."""
    found = await transcripts.load(record)
    if found is None:
        raise NotFound("The record has no transcript to redact")
    return found


def write_silenced(
    source: Path, target: Path, spans: list[redaction.Span], tone: bool = False
) -> None:
    channels = audio.decode(source, split_channels=True)
    covered = redaction.silence(channels, audio.SAMPLE_RATE, spans, tone=tone)
    _write_wav(target, covered, audio.SAMPLE_RATE)


def _write_wav(path: Path, channels: list[npt.NDArray[np.float32]], rate: int) -> None:
    """16-bit PCM: every player and browser plays it, and nothing of the silence is lost."""
    frames = np.stack(channels, axis=1)
    pcm = (np.clip(frames, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


@dataclass(frozen=True, slots=True)
class AudioToServe:
    key: str
    redacted: bool


async def audio_to_serve(
    actor: Actor, record_id: str, original: bool, download: bool = False
) -> tuple[Record, AudioToServe]:
    """Which file of the record ``actor`` hears: the redacted copy when there is one, the
    original only for owners and admins who ask (``original``) and for calls with nothing
    redacted. Audited: listened, downloaded, or the original heard (once a half hour)."""
    record = await get_record(actor, record_id)
    if record.audio_key is None or record.format is None:
        raise NotFound("The record has no audio yet")
    if original:
        actor.require(Role.admin, "hear the original audio of a redacted call")
        served = AudioToServe(record.audio_key, redacted=False)
        action = AuditAction.audio_original
    else:
        key = record.redacted_audio_key or record.audio_key
        served = AudioToServe(key, redacted=record.redacted_audio_key is not None)
        action = AuditAction.audio_downloaded if download else AuditAction.audio_listened
    await audit.listened(actor, action, record.id)
    return record, served
