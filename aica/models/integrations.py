"""Connections to the systems that post calls to us (Bitrix24 telephony)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from aica.models.base import id_field, new_id
from aica.models.orgs import Org
from aica.models.projects import Project


def new_b24_id() -> str:
    return new_id("b24")


class MissedCalls(StrEnum):
    skip = "skip"
    record = "record"
    """Keep a record without audio (status failed, reason "missed call")."""


class Bitrix24Connection(Model):
    id = id_field(new_b24_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="bitrix24_connections", on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="bitrix24_connections", on_delete=fields.CASCADE
    )
    domain = fields.CharField(max_length=255, unique=True)
    """The portal (``company.bitrix24.com``); events name it in ``auth[domain]``."""
    application_token_hash = fields.CharField(max_length=64)
    """Bitrix24 does not sign events: they carry this app token, which we keep hashed."""
    rest_url = fields.TextField(null=True)
    """An inbound webhook (``https://company.bitrix24.com/rest/1/secret/``) for fetching
    recordings; without it the event's own short-lived OAuth token is used."""
    missed_calls = fields.CharEnumField(MissedCalls, max_length=8, default=MissedCalls.skip)
    created_at = fields.DatetimeField(auto_now_add=True)

    org_id: str
    project_id: str

    class Meta:
        table = "bitrix24_connections"
