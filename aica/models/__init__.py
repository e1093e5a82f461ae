"""Tortoise models, one module per aggregate."""

from aica.models.alerts import AlertFiring, AlertRule
from aica.models.analyses import (
    Analysis,
    AnalysisProfile,
    Annotation,
    ComplianceStatus,
    Dispute,
    Review,
    ReviewStatus,
)
from aica.models.audit import AuditAction, AuditEvent
from aica.models.billing import (
    BillingSettings,
    BudgetNotice,
    CreditDraw,
    CreditGrant,
    CreditSource,
    UsageEvent,
    UsageKind,
)
from aica.models.integrations import Bitrix24Connection, MissedCalls
from aica.models.orgs import Invitation, Membership, Org, Role, Token, TokenKind, User
from aica.models.projects import Project, RedactionMode
from aica.models.records import Record, RecordSource, RecordStatus, Stage
from aica.models.transcripts import Transcript
from aica.models.webhooks import Delivery, DeliveryKind, DeliveryStatus, WebhookEndpoint

__all__ = [
    "AlertFiring",
    "AlertRule",
    "Analysis",
    "AnalysisProfile",
    "Annotation",
    "AuditAction",
    "AuditEvent",
    "BillingSettings",
    "Bitrix24Connection",
    "BudgetNotice",
    "ComplianceStatus",
    "CreditDraw",
    "CreditGrant",
    "CreditSource",
    "Delivery",
    "DeliveryKind",
    "DeliveryStatus",
    "Dispute",
    "Invitation",
    "Membership",
    "MissedCalls",
    "Org",
    "Project",
    "Record",
    "RecordSource",
    "RecordStatus",
    "RedactionMode",
    "Review",
    "ReviewStatus",
    "Role",
    "Stage",
    "Token",
    "TokenKind",
    "Transcript",
    "UsageEvent",
    "UsageKind",
    "User",
    "WebhookEndpoint",
]
