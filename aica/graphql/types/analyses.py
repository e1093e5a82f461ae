"""Analyses, scorecard profiles, annotations, QA reviews and disputes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from aica import models
from aica.analysis.profiles import profile_to_json
from aica.graphql.context import Info
from aica.graphql.scalars import JSON, DateFilter
from aica.graphql.types.pages import Paginated
from aica.services import analyses, pipeline, profiles, reviews
from aica.services.pagination import PageRequest

strawberry.enum(models.ComplianceStatus, name="ComplianceStatus")
strawberry.enum(models.ReviewStatus, name="ReviewStatus")


@strawberry.type
class Evidence:
    start: float
    end: float
    speaker: str
    text: str


@strawberry.type
class CriterionResult:
    id: strawberry.ID = strawberry.field(description="The analysis id and the criterion key.")
    key: str
    category: str
    passed: bool | None = strawberry.field(description="Null when not applicable to this call.")
    score: float
    detail: str
    evidence: list[Evidence]


@strawberry.type
class CallMetrics:
    duration: float | None
    talk_ratio: float | None = strawberry.field(description="The agent's share of talk time.")
    silence: float | None
    longest_silence: float | None
    overtalk: float | None
    agent_wpm: float | None
    customer_wpm: float | None


def _metrics(data: dict[str, Any]) -> CallMetrics:
    return CallMetrics(**{name: data.get(_camel(name)) for name in CallMetrics.__annotations__})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@strawberry.type
class Analysis:
    id: strawberry.ID
    record_id: strawberry.ID
    profile_key: str
    quality_score: int | None
    categories: JSON
    compliance_status: models.ComplianceStatus
    improvements: list[str]
    summary: str
    created_at: datetime
    criteria: list[CriterionResult]
    metrics: CallMetrics

    @classmethod
    def from_model(cls, analysis: models.Analysis) -> Analysis:
        result = analysis.result
        return cls(
            id=strawberry.ID(analysis.id),
            record_id=strawberry.ID(analysis.record_id),
            profile_key=analysis.profile_key,
            quality_score=(
                None if analysis.quality_score is None else round(analysis.quality_score)
            ),
            categories=JSON(dict(analysis.categories)),
            compliance_status=models.ComplianceStatus(analysis.compliance_status),
            improvements=list(analysis.improvements),
            summary=analysis.summary,
            created_at=analysis.created_at,
            criteria=[
                CriterionResult(
                    id=strawberry.ID(f"{analysis.id}:{c['key']}"),
                    key=c["key"],
                    category=c["category"],
                    passed=c.get("passed"),
                    score=c.get("score", 0.0),
                    detail=c.get("detail", ""),
                    evidence=[Evidence(**e) for e in c.get("evidence", [])],
                )
                for c in result.get("criteria", [])
            ],
            metrics=_metrics(result.get("metrics", {})),
        )

    # An Analysis is only built from a row the caller may read, so its parts are batched
    # across the list it came in (one query each, whatever the page size).
    @strawberry.field(description="The current QA review, if any.")
    async def review(self, info: Info) -> Review | None:
        review = await info.context.loaders.current_review_by_analysis.load(self.id)
        return Review.from_model(review) if review else None

    @strawberry.field(description="Every review, newest first (the AI's scores stay above).")
    async def review_history(self, info: Info) -> list[Review]:
        rows = await info.context.loaders.review_history_by_analysis.load(self.id)
        return [Review.from_model(r) for r in rows]

    @strawberry.field
    async def annotations(self, info: Info) -> list[Annotation]:
        rows = await info.context.loaders.annotations_by_analysis.load(self.id)
        return [Annotation.from_model(a) for a in rows]


@strawberry.type
class Annotation:
    id: strawberry.ID
    analysis_id: strawberry.ID
    author_id: strawberry.ID | None
    text: str
    start: float | None
    end: float | None
    category: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, annotation: models.Annotation) -> Annotation:
        return cls(
            id=strawberry.ID(annotation.id),
            analysis_id=strawberry.ID(annotation.analysis_id),
            author_id=strawberry.ID(annotation.author_id) if annotation.author_id else None,
            text=annotation.text,
            start=annotation.start,
            end=annotation.end,
            category=annotation.category,
            created_at=annotation.created_at,
        )


@strawberry.type
class Dispute:
    id: strawberry.ID
    agent_id: strawberry.ID | None
    reason: str
    created_at: datetime


@strawberry.type
class Review:
    id: strawberry.ID
    analysis_id: strawberry.ID
    reviewer_id: strawberry.ID | None
    status: models.ReviewStatus
    score: float | None = strawberry.field(description="The reviewer's override, if any.")
    categories: JSON | None
    comment: str
    is_current: bool
    created_at: datetime

    @classmethod
    def from_model(cls, review: models.Review) -> Review:
        return cls(
            id=strawberry.ID(review.id),
            analysis_id=strawberry.ID(review.analysis_id),
            reviewer_id=strawberry.ID(review.reviewer_id) if review.reviewer_id else None,
            status=models.ReviewStatus(review.status),
            score=review.score,
            categories=JSON(dict(review.categories)) if review.categories else None,
            comment=review.comment,
            is_current=review.is_current,
            created_at=review.created_at,
        )

    @strawberry.field
    async def disputes(self, info: Info) -> list[Dispute]:
        rows = await info.context.loaders.disputes_by_review.load(self.id)
        return [
            Dispute(
                id=strawberry.ID(d.id),
                agent_id=strawberry.ID(d.agent_id) if d.agent_id else None,
                reason=d.reason,
                created_at=d.created_at,
            )
            for d in rows
        ]


@strawberry.type
class AnalysisProfile:
    id: strawberry.ID = strawberry.field(
        description="builtin:<key> for built-in profiles (the same in every organization)."
    )
    key: str
    name: str
    builtin: bool
    definition: JSON

    @classmethod
    def from_stored(cls, stored: profiles.StoredProfile) -> AnalysisProfile:
        return cls(
            id=strawberry.ID(stored.id),
            key=stored.profile.key,
            name=stored.profile.name,
            builtin=stored.builtin,
            definition=JSON(profile_to_json(stored.profile)),
        )


@strawberry.input
class ReanalyzeInput:
    profile_id: str = strawberry.field(description="A profile key (built-in or your own).")


@strawberry.input
class AnnotationInput:
    text: str
    start: float | None = None
    end: float | None = None
    category: str | None = None


@strawberry.input
class ReviewInput:
    status: models.ReviewStatus
    comment: str = ""
    score: float | None = None
    categories: JSON | None = None


@strawberry.type
class AnalysisQueries:
    @strawberry.field(description="Analyses of the selected org (agents: their own calls').")
    async def analyses(
        self,
        info: Info,
        project_id: strawberry.ID | None = None,
        record_id: strawberry.ID | None = None,
        compliance_status: models.ComplianceStatus | None = None,
        min_score: float | None = None,
        max_score: float | None = None,
        from_: Annotated[DateFilter | None, strawberry.argument(name="from")] = None,
        to: DateFilter | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> Paginated[Analysis]:
        actor = await info.context.actor()
        flt = analyses.AnalysisFilter(
            project_id=project_id,
            record_id=record_id,
            compliance_status=compliance_status,
            min_score=min_score,
            max_score=max_score,
            created_from=from_,
            created_to=to,
        )
        result = await analyses.list_analyses(actor, flt, PageRequest(page, page_size))
        return Paginated.of(result, Analysis.from_model)

    @strawberry.field
    async def analysis(self, info: Info, id: strawberry.ID) -> Analysis:
        actor = await info.context.actor()
        return Analysis.from_model(await analyses.get_analysis(actor, id))

    @strawberry.field(description="Built-in scorecards and the organization's own.")
    async def analysis_profiles(self, info: Info) -> list[AnalysisProfile]:
        actor = await info.context.actor()
        return [AnalysisProfile.from_stored(p) for p in await profiles.list_profiles(actor)]


@strawberry.type
class AnalysisMutations:
    @strawberry.mutation(description="Score the call again with another profile.")
    async def reanalyze(self, info: Info, id: strawberry.ID, input: ReanalyzeInput) -> Analysis:
        actor = await info.context.actor()
        analysis = await pipeline.reanalyze(actor, info.context.runtime, id, input.profile_id)
        return Analysis.from_model(analysis)

    @strawberry.mutation
    async def create_analysis_profile(self, info: Info, definition: JSON) -> AnalysisProfile:
        actor = await info.context.actor()
        return AnalysisProfile.from_stored(await profiles.create_profile(actor, definition))

    @strawberry.mutation
    async def update_analysis_profile(
        self, info: Info, id: strawberry.ID, definition: JSON
    ) -> AnalysisProfile:
        actor = await info.context.actor()
        return AnalysisProfile.from_stored(await profiles.update_profile(actor, id, definition))

    @strawberry.mutation
    async def delete_analysis_profile(self, info: Info, id: strawberry.ID) -> AnalysisProfile:
        actor = await info.context.actor()
        return AnalysisProfile.from_stored(await profiles.delete_profile(actor, id))

    @strawberry.mutation
    async def add_annotation(
        self, info: Info, analysis_id: strawberry.ID, input: AnnotationInput
    ) -> Annotation:
        actor = await info.context.actor()
        annotation = await reviews.add_annotation(
            actor,
            analysis_id,
            text=input.text,
            start=input.start,
            end=input.end,
            category=input.category,
        )
        return Annotation.from_model(annotation)

    @strawberry.mutation(description="A reviewer's verdict; it supersedes the current one.")
    async def submit_review(
        self, info: Info, analysis_id: strawberry.ID, input: ReviewInput
    ) -> Review:
        actor = await info.context.actor()
        review = await reviews.submit_review(
            actor,
            analysis_id,
            reviews.ReviewInput(
                status=models.ReviewStatus(input.status),
                comment=input.comment,
                score=input.score,
                categories=reviews.parse_categories(input.categories),
            ),
        )
        return Review.from_model(review)

    @strawberry.mutation(description="The call's agent contests its current review.")
    async def dispute_review(self, info: Info, analysis_id: strawberry.ID, reason: str) -> Dispute:
        actor = await info.context.actor()
        dispute = await reviews.dispute_review(actor, analysis_id, reason)
        return Dispute(
            id=strawberry.ID(dispute.id),
            agent_id=strawberry.ID(actor.user_id),
            reason=dispute.reason,
            created_at=dispute.created_at,
        )
