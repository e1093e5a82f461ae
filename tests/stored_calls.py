"""Records as the pipeline leaves them, without running it: real audio committed to storage
(with a redacted copy), a transcript and an analysis, search documents built by the indexer.
For the tests of what deletion, retention and erasure remove."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiofiles
from tortoise import Tortoise

from aica.config import Settings
from aica.models import Analysis, ComplianceStatus, Project, Record, RecordStatus, Transcript
from aica.runtime import Runtime
from aica.services import search
from aica.services.redaction import REDACTED_TAG
from aica.storage import Storage
from tests.audio import AudioFactory
from tests.conftest import make_record, make_settings

SAYING = "Hello, thank you for calling. Your refund was approved today."


def settings() -> Settings:
    """The session server's settings: the same data directory and search backend."""
    return make_settings()


def storage() -> Storage:
    return Runtime.from_settings(settings()).storage


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    async with aiofiles.open(path, "rb") as source:
        while chunk := await source.read(1 << 16):
            yield chunk


async def stored_call(
    project: Project,
    audio: AudioFactory,
    *,
    created_at: datetime | None = None,
    word: str = "zanzibar",
    **fields: Any,
) -> Record:
    """A completed call with its audio and redacted copy on disk, a transcript saying
    ``word``, an analysis and its search documents."""
    record = await make_record(
        project, created_at=created_at, status=RecordStatus.completed, **fields
    )
    files = storage()
    wav = audio.speech(SAYING)
    staged = await files.stage(_chunks(wav), 50 * 1024 * 1024)
    key = await files.commit(staged, record.org_id, record.id, "wav")
    redacted = files.derived_key(key, REDACTED_TAG)
    copy = files.scratch()
    shutil.copyfile(wav, copy)
    await files.put(copy, redacted)
    text = f"{SAYING} {word}"
    await Transcript.create(
        record=record,
        language="en",
        text=text,
        segments=[{"start": 0.0, "end": 3.0, "speaker": "agent", "text": text}],
    )
    analysis = await Analysis.create(
        org_id=record.org_id,
        record=record,
        profile_key="general",
        quality_score=80,
        categories={},
        compliance_status=ComplianceStatus.passed,
        improvements=[],
        summary=f"The customer asked about {word}.",
        result={},
    )
    await Record.filter(pk=record.id).update(
        audio_key=key,
        redacted_audio_key=redacted,
        format="wav",
        analysis_id=analysis.id,
        quality_score=80,
    )
    await search.index_record(settings(), record.id)
    return await Record.get(pk=record.id)


def files_of(record: Record) -> list[Path]:
    """Where the record's audio and its redacted copy are on disk."""
    files = storage()
    assert record.audio_key and record.redacted_audio_key
    return [files.path(record.audio_key), files.path(record.redacted_audio_key)]


async def search_documents(*record_ids: str) -> int:
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT count(*) AS n FROM search_documents WHERE record_id = ANY($1::text[])",
        [list(record_ids)],
    )
    return int(rows[0]["n"])


async def rows_left(*record_ids: str) -> dict[str, int]:
    """The record's own rows and those hanging on it."""
    return {
        "records": await Record.filter(id__in=record_ids).count(),
        "transcripts": await Transcript.filter(record_id__in=record_ids).count(),
        "analyses": await Analysis.filter(record_id__in=record_ids).count(),
    }
