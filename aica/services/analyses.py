"""Analyses: made by the pipeline, listed, re-made with another profile."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from aica.analysis.analyzer import AnalysisResult, analyze
from aica.analysis.profiles import Profile
from aica.errors import NotFound
from aica.models import Analysis, ComplianceStatus, Record
from aica.services import profiles, transcripts
from aica.services.access import Actor
from aica.services.pagination import Page, PageRequest, paginate
from aica.services.records import within
from aica.services.timerange import DateBound


@dataclass(frozen=True, slots=True)
class AnalysisFilter:
    project_id: str | None = None
    record_id: str | None = None
    compliance_status: ComplianceStatus | None = None
    min_score: float | None = None
    max_score: float | None = None
    created_from: DateBound | None = None
    created_to: DateBound | None = None


def visible_analyses(actor: Actor) -> QuerySet[Analysis]:
    """An org's analyses (not of records being deleted); an agent's, only those of their own
    calls."""
    query = Analysis.filter(org_id=actor.org_id, record__deleting_at__isnull=True)
    if actor.is_agent:
        query = query.filter(actor.own_records(via="record__"))
    return query


async def list_analyses(actor: Actor, flt: AnalysisFilter, request: PageRequest) -> Page[Analysis]:
    query = within(
        visible_analyses(actor), flt.created_from, flt.created_to, flt.min_score, flt.max_score
    )
    if flt.project_id is not None:
        query = query.filter(record__project_id=flt.project_id)
    if flt.record_id is not None:
        query = query.filter(record_id=flt.record_id)
    if flt.compliance_status is not None:
        query = query.filter(compliance_status=flt.compliance_status)
    return await paginate(query.order_by("-created_at", "-id"), request)


async def get_analysis(actor: Actor, analysis_id: str) -> Analysis:
    analysis = await visible_analyses(actor).get_or_none(pk=analysis_id)
    if analysis is None:
        raise NotFound.of("Analysis")
    return analysis


async def score_record(record: Record, profile_key: str) -> tuple[Profile, AnalysisResult]:
    """Run the analysis engine on the record's stored transcript (no writes)."""
    spoken = await transcripts.load(record)
    if spoken is None:
        raise NotFound("The record has no transcript to analyze")
    profile = await profiles.resolve(record.org_id, profile_key)
    result = await asyncio.to_thread(analyze, spoken, profile)
    return profile, result


async def save_analysis(record: Record, profile: Profile, result: AnalysisResult) -> Analysis:
    """Store the result as the record's current analysis (in the caller's transaction)."""
    analysis = await Analysis.create(
        org_id=record.org_id,
        record_id=record.id,
        profile_key=profile.key,
        quality_score=result.quality_score,
        categories=result.categories,
        compliance_status=ComplianceStatus(result.compliance_status),
        improvements=result.improvements,
        summary=result.summary,
        result=result.to_json(),
    )
    await Record.filter(pk=record.id).update(
        analysis_id=analysis.id, quality_score=analysis.quality_score
    )
    record.analysis_id, record.quality_score = analysis.id, analysis.quality_score
    return analysis


async def analyze_record(record: Record, profile_key: str) -> Analysis:
    """Score the record's transcript and make the result its current analysis."""
    profile, result = await score_record(record, profile_key)
    async with in_transaction():
        return await save_analysis(record, profile, result)


def analysis_event(analysis: Analysis) -> dict[str, Any]:
    """What webhooks receive about a new analysis."""
    return {
        "id": analysis.id,
        "recordId": analysis.record_id,
        "profile": analysis.profile_key,
        "qualityScore": analysis.quality_score,
        "complianceStatus": str(analysis.compliance_status),
        "categories": analysis.categories,
        "summary": analysis.summary,
        "improvements": analysis.improvements,
    }
