"""Tortoise models, one module per aggregate."""

from aica.models.orgs import Membership, Org, Role, Token, TokenKind, User
from aica.models.projects import Project
from aica.models.records import Record, RecordSource, RecordStatus

__all__ = [
    "Membership",
    "Org",
    "Project",
    "Record",
    "RecordSource",
    "RecordStatus",
    "Role",
    "Token",
    "TokenKind",
    "User",
]
