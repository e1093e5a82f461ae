"""Project statistics over a period, computed in SQL (one pass per figure, no row loading)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tortoise import Tortoise

from aica.models import Role
from aica.services.access import Actor
from aica.services.projects import get_project
from aica.services.timerange import DateBound, check_range

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FAR = datetime(9999, 12, 31, tzinfo=UTC)

# Records of one project in the period; $1 org, $2 project, $3 from, $4 to.
_SCOPE = (
    "r.org_id = $1 AND r.project_id = $2 AND r.created_at BETWEEN $3 AND $4"
    " AND r.deleting_at IS NULL"
)
# Score averages are over the whole-point scores records show (round(): half to even, as
# Python's round() on a record), so one call of 84.6 points averages 85, as its record says.


@dataclass(frozen=True, slots=True)
class AgentStats:
    agent_name: str | None
    records: int
    average_quality_score: float | None
    average_duration: float | None


@dataclass(frozen=True, slots=True)
class DayStats:
    day: date
    records: int
    average_quality_score: float | None


@dataclass(frozen=True, slots=True)
class ProjectStats:
    project_id: str
    period_from: datetime | None
    period_to: datetime | None
    total_records: int
    completed_records: int
    failed_records: int
    average_quality_score: float | None
    average_duration: float | None
    compliance_failure_rate: float | None
    """Share of checked calls that failed compliance; None when none was checked."""
    category_averages: dict[str, float] = field(default_factory=dict)
    agents: list[AgentStats] = field(default_factory=list)
    daily: list[DayStats] = field(default_factory=list)
    reviewed: int = 0
    reviewer_agreement: float | None = None
    """Mean absolute difference between AI and reviewer scores (lower: closer)."""


def _round(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


async def project_stats(
    actor: Actor, project_id: str, start: DateBound | None, end: DateBound | None
) -> ProjectStats:
    actor.require(Role.supervisor, "see project statistics")
    check_range(start, end)
    project = await get_project(actor, project_id)
    args = [
        actor.org_id,
        project.id,
        start.start if start else _EPOCH,
        end.end if end else _FAR,
    ]
    db = Tortoise.get_connection("default")

    async def rows(sql: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await db.execute_query_dict(sql, args)
        return result

    totals = (
        await rows(
            f"""
            SELECT count(*) AS total,
                   count(*) FILTER (WHERE r.status = 'completed') AS completed,
                   count(*) FILTER (WHERE r.status = 'failed') AS failed,
                   avg(round(r.quality_score)) FILTER (WHERE r.status = 'completed') AS score,
                   avg(r.duration) FILTER (WHERE r.status = 'completed') AS duration
            FROM records r WHERE {_SCOPE}"""
        )
    )[0]
    compliance = (
        await rows(
            f"""
            SELECT count(*) FILTER (WHERE a.compliance_status = 'failed') AS failed,
                   count(*) FILTER (WHERE a.compliance_status <> 'not_checked') AS checked
            FROM records r JOIN analyses a ON a.id = r.analysis_id WHERE {_SCOPE}"""
        )
    )[0]
    categories = await rows(
        f"""
        SELECT c.key AS key, avg(c.value::numeric) AS average
        FROM records r JOIN analyses a ON a.id = r.analysis_id,
             jsonb_each_text(a.categories::jsonb) AS c(key, value)
        WHERE {_SCOPE} GROUP BY c.key ORDER BY c.key"""
    )
    agents = await rows(
        f"""
        SELECT r.agent_name AS agent, count(*) AS records,
               avg(round(r.quality_score)) FILTER (WHERE r.status = 'completed') AS score,
               avg(r.duration) FILTER (WHERE r.status = 'completed') AS duration
        FROM records r WHERE {_SCOPE}
        GROUP BY r.agent_name ORDER BY r.agent_name NULLS LAST"""
    )
    daily = await rows(
        f"""
        SELECT (r.created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS records,
               avg(round(r.quality_score)) FILTER (WHERE r.status = 'completed') AS score
        FROM records r WHERE {_SCOPE} GROUP BY day ORDER BY day"""
    )
    agreement = (
        await rows(
            f"""
            SELECT count(*) AS reviewed, avg(abs(v.score - a.quality_score)) AS difference
            FROM records r JOIN analyses a ON a.id = r.analysis_id
                 JOIN reviews v ON v.analysis_id = a.id AND v.is_current AND v.score IS NOT NULL
            WHERE {_SCOPE}"""
        )
    )[0]
    checked = compliance["checked"]
    return ProjectStats(
        project_id=project.id,
        period_from=start.start if start else None,
        period_to=end.end.replace(microsecond=0) if end else None,
        total_records=totals["total"],
        completed_records=totals["completed"],
        failed_records=totals["failed"],
        average_quality_score=_round(totals["score"]),
        average_duration=_round(totals["duration"], 0),
        compliance_failure_rate=round(compliance["failed"] / checked, 4) if checked else None,
        category_averages={row["key"]: _round(row["average"]) or 0.0 for row in categories},
        agents=[
            AgentStats(
                row["agent"], row["records"], _round(row["score"]), _round(row["duration"], 0)
            )
            for row in agents
        ],
        daily=[DayStats(row["day"], row["records"], _round(row["score"])) for row in daily],
        reviewed=agreement["reviewed"],
        reviewer_agreement=_round(agreement["difference"], 2),
    )
