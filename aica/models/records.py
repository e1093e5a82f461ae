"""Call records: one per recording, whatever its source."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.fields.db_defaults import SqlDefault
from tortoise.models import Model

from aica.models.base import id_field, new_id
from aica.models.orgs import Org
from aica.models.projects import Project


def new_rec_id() -> str:
    return new_id("rec")


class RecordStatus(StrEnum):
    pending = "pending"
    processing = "processing"
    completed = "completed"
    failed = "failed"


class RecordSource(StrEnum):
    upload = "upload"
    ingest = "ingest"
    bitrix24 = "bitrix24"
    """Bitrix24 telephony events: their CALL_IDs are a namespace of their own."""


class Stage(StrEnum):
    downloading = "downloading"
    transcribing = "transcribing"
    redacting = "redacting"
    separating = "separating"
    analyzing = "analyzing"
    metering = "metering"
    alerting = "alerting"
    indexing = "indexing"


class Record(Model):
    id = id_field(new_rec_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="records", on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="records", on_delete=fields.CASCADE
    )
    type = fields.CharField(max_length=16, default="call")
    status = fields.CharEnumField(RecordStatus, max_length=16, default=RecordStatus.pending)
    progress = fields.SmallIntField(default=0)
    stage = fields.CharField(max_length=16, null=True)
    """What the pipeline is doing now: a ``Stage`` (``services.pipeline.STAGES``)."""
    error = fields.TextField(null=True)
    attempts = fields.SmallIntField(default=0)
    """Pipeline runs started; counted by us so that crashes count too (poison files)."""
    stages_done: fields.JSONField[list[str]] = fields.JSONField(
        default=list, db_default=SqlDefault("'[]'::jsonb")
    )
    """The record job's checkpoints: stages finished, written with each stage's result, so a
    job re-run after a crash skips them."""
    duration = fields.FloatField(null=True)
    quality_score = fields.FloatField(null=True)
    """The current analysis's score (kept here for sorting and filtering lists)."""
    analysis_id = fields.CharField(max_length=32, null=True)
    """The current analysis: the newest one made for this record."""
    agent_name = fields.CharField(max_length=200, null=True)
    agent_external_id = fields.CharField(max_length=200, null=True)
    customer_phone = fields.CharField(max_length=64, null=True)
    source = fields.CharEnumField(RecordSource, max_length=16, default=RecordSource.upload)
    external_id = fields.CharField(max_length=200, null=True)
    file_name = fields.CharField(max_length=400, null=True)
    format = fields.CharField(max_length=16, null=True)
    size = fields.BigIntField(null=True)
    sha256 = fields.CharField(max_length=64, null=True)
    audio_key = fields.CharField(max_length=200, null=True)
    """Where storage keeps the audio; null until it arrives (ingest downloads it later)."""
    redacted_audio_key = fields.CharField(max_length=200, null=True)
    """The audio with its personal data silenced (project redaction ``text+audio``)."""
    redactions: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(
        default=list, db_default=SqlDefault("'[]'::jsonb")
    )
    """Personal data found in the transcript: ``[{kind, start, end, channel}]``, never what
    was said."""
    audio_url = fields.TextField(null=True)
    """Ingest: where the pipeline downloads the audio from."""
    source_auth: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    """Ingest: credentials for fetching the audio (a Bitrix24 event's OAuth token); never
    exposed through the API."""
    channels = fields.SmallIntField(null=True)
    language = fields.CharField(max_length=8, null=True)
    language_probability = fields.FloatField(null=True)
    """How sure language detection was (0..1); null when the language was not detected."""
    warnings: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(
        default=list, db_default=SqlDefault("'[]'::jsonb")
    )
    """What the listener should know about the transcript: ``[{code, message, start, end,
    channel}]`` (speech that could not be transcribed, unsure passages, another language)."""
    speaker_separation: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    """How agent and customer were told apart: ``{method: channels|diarization|none,
    confidence, namedBy, namingConfidence, swapped, detail}``; null before the ``separating``
    stage has run."""
    metadata: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    completed_at = fields.DatetimeField(null=True)
    deleting_at = fields.DatetimeField(null=True)
    """Set when deletion began (``services.deletion``): from then on the record is hidden
    everywhere and uncounted, until its files and rows are gone."""

    org_id: str
    project_id: str

    class Meta:
        table = "records"
        unique_together = (("org", "source", "external_id"),)
        # Every filter and sort the list offers reads one of these in order (ending in id,
        # the tiebreaker, so that cursors and offsets need no sort): docs/architecture.md.
        indexes = (
            ("org_id", "created_at", "id"),
            ("org_id", "project_id", "created_at", "id"),
            ("org_id", "status", "created_at", "id"),
            ("org_id", "agent_name", "created_at", "id"),
            ("org_id", "agent_external_id", "created_at", "id"),
            ("org_id", "quality_score", "id"),
            ("org_id", "project_id", "quality_score", "id"),
            ("org_id", "duration", "id"),
        )
