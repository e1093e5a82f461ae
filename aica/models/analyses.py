"""Analyses of transcripts against scorecards, and what reviewers add to them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from aica.models.base import id_field, new_id
from aica.models.orgs import Org, User
from aica.models.records import Record


def new_prf_id() -> str:
    return new_id("prf")


def new_ana_id() -> str:
    return new_id("ana")


def new_ann_id() -> str:
    return new_id("ann")


def new_rev_id() -> str:
    return new_id("rev")


def new_dsp_id() -> str:
    return new_id("dsp")


class ComplianceStatus(StrEnum):
    passed = "passed"
    failed = "failed"
    not_checked = "not_checked"


class ReviewStatus(StrEnum):
    approved = "approved"
    needs_improvement = "needs_improvement"


class AnalysisProfile(Model):
    """An org's own scorecard; the built-in ones live in code (``aica.analysis.profiles``)."""

    id = id_field(new_prf_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="analysis_profiles", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    definition: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    org_id: str

    class Meta:
        table = "analysis_profiles"
        unique_together = (("org", "key"),)


class Analysis(Model):
    id = id_field(new_ana_id)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="analyses", on_delete=fields.CASCADE
    )
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="analyses", on_delete=fields.CASCADE
    )
    profile_key = fields.CharField(max_length=64)
    quality_score = fields.FloatField(null=True)
    """Null when nothing in the profile applied (a call where nobody spoke)."""
    categories: fields.JSONField[dict[str, int | None]] = fields.JSONField()
    compliance_status = fields.CharEnumField(ComplianceStatus, max_length=16)
    improvements: fields.JSONField[list[str]] = fields.JSONField()
    summary = fields.TextField()
    result: fields.JSONField[dict[str, Any]] = fields.JSONField()
    """The analyzer's whole output: per-criterion results with evidence, call metrics."""
    created_at = fields.DatetimeField(auto_now_add=True)

    org_id: str
    record_id: str

    class Meta:
        table = "analyses"
        indexes = (("org_id", "created_at"), ("record_id", "created_at"))


class Annotation(Model):
    id = id_field(new_ann_id)
    analysis: fields.ForeignKeyRelation[Analysis] = fields.ForeignKeyField(
        "models.Analysis", related_name="annotations", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="annotations", on_delete=fields.SET_NULL, null=True
    )
    text = fields.TextField()
    start = fields.FloatField(null=True)
    end = fields.FloatField(null=True)
    category = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    analysis_id: str
    author_id: str | None

    class Meta:
        table = "annotations"


class Review(Model):
    """A reviewer's verdict; a new one supersedes the current one, history is kept."""

    id = id_field(new_rev_id)
    analysis: fields.ForeignKeyRelation[Analysis] = fields.ForeignKeyField(
        "models.Analysis", related_name="reviews", on_delete=fields.CASCADE
    )
    reviewer: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reviews", on_delete=fields.SET_NULL, null=True
    )
    status = fields.CharEnumField(ReviewStatus, max_length=24)
    score = fields.FloatField(null=True)
    """The reviewer's score override (needs a comment); the AI's stays on the analysis."""
    categories: fields.JSONField[dict[str, int] | None] = fields.JSONField(null=True)
    comment = fields.TextField(default="")
    is_current = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    analysis_id: str
    reviewer_id: str | None

    class Meta:
        table = "reviews"


class Dispute(Model):
    """The call's agent contests a review."""

    id = id_field(new_dsp_id)
    review: fields.ForeignKeyRelation[Review] = fields.ForeignKeyField(
        "models.Review", related_name="disputes", on_delete=fields.CASCADE
    )
    agent: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="disputes", on_delete=fields.SET_NULL, null=True
    )
    reason = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    review_id: str
    agent_id: str | None

    class Meta:
        table = "disputes"
