"""Tortoise models, one module per aggregate."""

from aica.models.integrations import Bitrix24Connection, MissedCalls
from aica.models.orgs import Membership, Org, Role, Token, TokenKind, User
from aica.models.projects import Project
from aica.models.records import Record, RecordSource, RecordStatus, Stage
from aica.models.transcripts import Transcript

__all__ = [
    "Bitrix24Connection",
    "Membership",
    "MissedCalls",
    "Org",
    "Project",
    "Record",
    "RecordSource",
    "RecordStatus",
    "Role",
    "Stage",
    "Token",
    "TokenKind",
    "Transcript",
    "User",
]
