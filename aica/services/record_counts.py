"""Exact record totals from the counters the database keeps per org, project, status and UTC
day (``record_counts``, kept by statement triggers on ``records``: migration 0016).

A total is the sum of the whole days' counters inside the range plus the rows of the partial
days at its ends, so a list of a million records is counted by reading a few hundred counters
and at most two days of rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise import Tortoise

from aica.models import RecordStatus
from aica.services.rows import Rows

_DAY = timedelta(days=1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _first_whole_day(start: datetime) -> date:
    day = start.astimezone(UTC).date()
    return day if start == _midnight(day) else day + _DAY


def _last_whole_day(end: datetime) -> date:
    """``end`` is inclusive: the day counts whole when ``end`` is its last microsecond."""
    day = end.astimezone(UTC).date()
    return day if end == _midnight(day + _DAY) - timedelta(microseconds=1) else day - _DAY


async def count(
    org_id: str,
    project_id: str | None,
    status: RecordStatus | None,
    start: datetime | None,
    end: datetime | None,
) -> int:
    """Records of the org created in ``[start, end]`` (each end optional), exactly."""
    rows = Rows("records", ("id",)).where("org_id = {}", org_id).where("deleting_at IS NULL")
    if project_id is not None:
        rows = rows.where("project_id = {}", project_id)
    if status is not None:
        rows = rows.where("status = {}", str(status))
    first = None if start is None else _first_whole_day(start)
    last = None if end is None else _last_whole_day(end)
    if first is not None and last is not None and first > last:
        # No whole day inside: the rows of at most two days.
        return await rows.where("created_at >= {} AND created_at <= {}", start, end).count()
    total = await _counted(org_id, project_id, status, first, last)
    if start is not None and first is not None and start < _midnight(first):
        head = rows.where("created_at >= {} AND created_at < {}", start, _midnight(first))
        total += await head.count()
    if end is not None and last is not None and end >= _midnight(last + _DAY):
        tail = rows.where("created_at >= {} AND created_at <= {}", _midnight(last + _DAY), end)
        total += await tail.count()
    return total


async def _counted(
    org_id: str,
    project_id: str | None,
    status: RecordStatus | None,
    first: date | None,
    last: date | None,
) -> int:
    conditions = ["org_id = $1"]
    args: list[Any] = [org_id]
    for column, operator, value in (
        ("project_id", "=", project_id),
        ("status", "=", None if status is None else str(status)),
        ("day", ">=", first),
        ("day", "<=", last),
    ):
        if value is not None:
            args.append(value)
            conditions.append(f"{column} {operator} ${len(args)}")
    sql = f"SELECT coalesce(sum(n), 0) AS n FROM record_counts WHERE {' AND '.join(conditions)}"
    rows = await Tortoise.get_connection("default").execute_query_dict(sql, args)
    return int(rows[0]["n"])
