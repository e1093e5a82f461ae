"""Tortoise models, one module per aggregate."""

from aica.models.analyses import (
    Analysis,
    AnalysisProfile,
    Annotation,
    ComplianceStatus,
    Dispute,
    Review,
    ReviewStatus,
)
from aica.models.integrations import Bitrix24Connection, MissedCalls
from aica.models.orgs import Invitation, Membership, Org, Role, Token, TokenKind, User
from aica.models.projects import Project
from aica.models.records import Record, RecordSource, RecordStatus, Stage
from aica.models.transcripts import Transcript

__all__ = [
    "Analysis",
    "AnalysisProfile",
    "Annotation",
    "Bitrix24Connection",
    "ComplianceStatus",
    "Dispute",
    "Invitation",
    "Membership",
    "MissedCalls",
    "Org",
    "Project",
    "Record",
    "RecordSource",
    "RecordStatus",
    "Review",
    "ReviewStatus",
    "Role",
    "Stage",
    "Token",
    "TokenKind",
    "Transcript",
    "User",
]
