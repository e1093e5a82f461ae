"""Transcripts: one per record, replaced whole when the pipeline runs again."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from aica.models.records import Record


class Transcript(Model):
    record: fields.OneToOneRelation[Record] = fields.OneToOneField(
        "models.Record", related_name="transcript", on_delete=fields.CASCADE, primary_key=True
    )
    language = fields.CharField(max_length=8)
    text = fields.TextField()
    segments: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()
    """``[{start, end, speaker, channel, text, words: [{start, end, word, probability}]}]``"""
    created_at = fields.DatetimeField(auto_now_add=True)

    record_id: str

    class Meta:
        table = "transcripts"
