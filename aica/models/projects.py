"""Projects group records and carry their analysis settings."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.fields.db_defaults import SqlDefault
from tortoise.models import Model

from aica.models.base import id_field, new_id
from aica.models.orgs import Org


def new_proj_id() -> str:
    return new_id("proj")


class RedactionMode(StrEnum):
    off = "off"
    text = "text"
    """Personal data is replaced in the transcript, the analysis and the search index."""
    text_and_audio = "text+audio"
    """Also a copy of the audio with those spans silenced, served to all but owners and
    admins asking for the original."""


class Project(Model):
    id = id_field(new_proj_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="projects", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    profile = fields.CharField(max_length=64, default="general")
    """Analysis profile key (scorecard)."""
    language = fields.CharField(max_length=8, default="auto")
    languages: fields.JSONField[list[str]] = fields.JSONField(
        default=list, db_default=SqlDefault("'[]'::jsonb")
    )
    """With ``language`` auto: the languages detection may choose from (empty: any)."""
    agent_channel = fields.SmallIntField(default=0)
    """Stereo calls: which channel (0 left, 1 right) carries the agent."""
    redaction = fields.CharEnumField(
        RedactionMode, max_length=16, default=RedactionMode.off, db_default="off"
    )
    retention_days = fields.IntField(null=True)
    """Records older than this many days are purged (``services.retention``); null keeps them."""
    deleting_at = fields.DatetimeField(null=True)
    """Set when deletion began: the project is hidden, and goes once its records have."""
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    org_id: str

    class Meta:
        table = "projects"
        indexes = (("org_id", "created_at"),)
