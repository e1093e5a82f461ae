"""Speakers: which side of a call is the agent, how that was found, and a reviewer's swap.

Stereo calls have it from their channels (the project's ``agent_channel``). Mono calls are
separated by voice (:mod:`aica.speech.diarization`) and the voice that says the profile's
opening lines is named agent (:mod:`aica.analysis.sides`). The record keeps how
(``speaker_separation``), so a reader knows whether talk ratio and agent-only criteria rest
on channels, on a voice match (with its confidence) or on nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from tortoise.transactions import in_transaction

from aica.analysis.metrics import is_mono, one_channel
from aica.analysis.sides import name_sides
from aica.config import Settings
from aica.errors import Conflict
from aica.models import Record, Role, Transcript
from aica.services import profiles
from aica.services.access import Actor
from aica.services.records import get_record
from aica.speech import audio, speaker_model
from aica.speech.diarization import Diarization, diarize, split_segments, swap_sides
from aica.transcript import Segment, segment_from_json

Method = Literal["channels", "diarization", "none"]


def separation(
    method: Method,
    confidence: float | None,
    *,
    detail: str,
    named_by: str | None = None,
    naming_confidence: float | None = None,
) -> dict[str, Any]:
    """What ``Record.speaker_separation`` holds."""
    return {
        "method": method,
        "confidence": confidence,
        "namedBy": named_by,
        "namingConfidence": naming_confidence,
        "swapped": False,
        "detail": detail,
    }


async def separate(
    record: Record, profile_key: str, settings: Settings, audio: Callable[[], Awaitable[Path]]
) -> tuple[list[Segment] | None, dict[str, Any]]:
    """The record's transcript segments labelled by side (None: leave them as they are) and
    how the sides were found. CPU work runs in a thread; ``audio()`` (the recording as a
    local file) is asked for only when voices must be told apart."""
    row = await Transcript.get(record_id=record.id)
    segments = [segment_from_json(s) for s in row.segments]
    if one_channel(segments) and record.speaker_separation:
        return None, record.speaker_separation  # separated by voice already: a re-run
    if not is_mono(segments):
        return None, separation(
            "channels", 1.0, detail="stereo: one side per channel", named_by="channel"
        )
    if not settings.speaker_separation:
        return None, separation("none", None, detail="turned off (AICA_SPEAKER_SEPARATION)")
    if not speaker_model.installed(settings.data_dir):
        return None, separation(
            "none",
            None,
            detail=f"the speakers model is not installed; {speaker_model.INSTALL_HINT}",
        )
    if not segments:
        return None, separation("none", None, detail="nobody speaks in this call")
    if record.audio_key is None:  # a transcript stored without its recording (imported, tests)
        return None, separation("none", None, detail="no recording stored to listen to")
    found = await asyncio.to_thread(_diarize, await audio(), settings.data_dir)
    if found.speakers < 2:
        return None, separation("none", None, detail="one voice heard: nothing to separate")
    labelled = split_segments(segments, found.turns)
    profile = await profiles.resolve(record.org_id, profile_key)
    naming = await asyncio.to_thread(name_sides, labelled, profile, row.language)
    if naming.swap:
        labelled = swap_sides(labelled)
    detail = (
        "the agent said the profile's opening lines"
        if naming.by == "greeting"
        else "no opening lines heard: the first voice is taken as the agent"
    )
    return labelled, separation(
        "diarization",
        round(found.confidence, 2),
        detail=detail,
        named_by=naming.by,
        naming_confidence=naming.confidence,
    )


def _diarize(path: Path, data_dir: Path) -> Diarization:
    encoder = speaker_model.load_encoder(data_dir)
    samples = audio.decode(path, split_channels=False)[0]
    return diarize(samples, encoder)


async def save_separation(
    record: Record, segments: list[Segment] | None, found: dict[str, Any]
) -> None:
    """Store the labelled segments (if any) and how they were found; call in a transaction."""
    if segments is not None:
        await Transcript.filter(record_id=record.id).update(
            segments=[_segment_json(s) for s in segments]
        )
    record.speaker_separation = found
    await record.save(update_fields=["speaker_separation"])


async def swap(actor: Actor, record_id: str) -> Record:
    """Exchange agent and customer in the record's transcript (a reviewer heard them the
    wrong way round); the caller re-runs the analysis."""
    actor.require(Role.supervisor, "swap a call's speakers")
    record = await get_record(actor, record_id)
    found = dict(record.speaker_separation or {})
    if found.get("method") not in ("channels", "diarization"):
        raise Conflict(
            "This call's speakers are not separated, so there is nothing to swap",
            reason="speakers_not_separated",
        )
    async with in_transaction():
        row = await Transcript.select_for_update().get(record_id=record.id)
        flipped = swap_sides([segment_from_json(s) for s in row.segments])
        row.segments = [_segment_json(s) for s in flipped]
        await row.save(update_fields=["segments"])
        found["swapped"] = not found.get("swapped", False)
        record.speaker_separation = found
        await record.save(update_fields=["speaker_separation"])
    return record


def _segment_json(segment: Segment) -> dict[str, Any]:
    return asdict(segment)
