"""Project statistics over a period."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from aica.graphql.context import Info
from aica.graphql.scalars import JSON, DateFilter
from aica.services import stats


@strawberry.type
class Period:
    from_: datetime | None = strawberry.field(name="from")
    to: datetime | None


@strawberry.type
class AgentStats:
    agent_name: str | None
    records: int
    average_quality_score: float | None
    average_duration: int | None


@strawberry.type
class DayStats:
    date: date
    records: int
    average_quality_score: float | None


@strawberry.type
class ProjectStats:
    id: strawberry.ID = strawberry.field(
        description="The project id and the period: the same figures have the same id."
    )
    project_id: strawberry.ID
    period: Period
    total_records: int
    completed_records: int
    failed_records: int
    average_quality_score: float | None
    average_duration: int | None = strawberry.field(description="Seconds, completed calls.")
    compliance_failure_rate: float | None = strawberry.field(
        description="Share (0-1) of compliance-checked calls that failed."
    )
    category_averages: JSON
    agents: list[AgentStats]
    daily: list[DayStats]
    reviewed_records: int
    reviewer_agreement: float | None = strawberry.field(
        description="Mean absolute difference between AI and reviewer scores (0 = agree)."
    )

    @classmethod
    def of(cls, s: stats.ProjectStats) -> ProjectStats:
        return cls(
            id=strawberry.ID(f"{s.project_id}:{_stamp(s.period_from)}:{_stamp(s.period_to)}"),
            project_id=strawberry.ID(s.project_id),
            period=Period(from_=s.period_from, to=s.period_to),
            total_records=s.total_records,
            completed_records=s.completed_records,
            failed_records=s.failed_records,
            average_quality_score=s.average_quality_score,
            average_duration=_seconds(s.average_duration),
            compliance_failure_rate=s.compliance_failure_rate,
            category_averages=JSON(dict(s.category_averages)),
            agents=[
                AgentStats(
                    agent_name=a.agent_name,
                    records=a.records,
                    average_quality_score=a.average_quality_score,
                    average_duration=_seconds(a.average_duration),
                )
                for a in s.agents
            ],
            daily=[
                DayStats(
                    date=d.day, records=d.records, average_quality_score=d.average_quality_score
                )
                for d in s.daily
            ],
            reviewed_records=s.reviewed,
            reviewer_agreement=s.reviewer_agreement,
        )


def _stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


@strawberry.type
class StatsQueries:
    @strawberry.field(description="A project's figures for calls created in [from, to].")
    async def project_stats(
        self,
        info: Info,
        project_id: strawberry.ID,
        from_: Annotated[DateFilter | None, strawberry.argument(name="from")] = None,
        to: DateFilter | None = None,
    ) -> ProjectStats:
        actor = await info.context.actor()
        return ProjectStats.of(await stats.project_stats(actor, project_id, from_, to))
