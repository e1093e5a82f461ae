"""Scalars: UTC timestamps written with ``Z``, date filter bounds, free-form JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import strawberry

from aica.services.timerange import DateBound


def _serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_datetime(value: str) -> datetime:
    return DateBound.parse(value).start


DateTime = strawberry.scalar(
    datetime,
    name="DateTime",
    description="ISO-8601 timestamp in UTC, e.g. 2026-03-05T10:15:00Z.",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)

DateFilter = strawberry.scalar(
    NewType("DateFilter", DateBound),
    description=(
        "A date (2026-03-05) or date-time (2026-03-05T10:15:00Z) bound; "
        "as an upper bound a date covers the whole day."
    ),
    serialize=lambda bound: _serialize_datetime(bound.value),
    parse_value=DateBound.parse,
)

JSON = strawberry.scalar(
    NewType("JSON", dict[str, Any]),
    description="A JSON object.",
    serialize=lambda value: value,
    parse_value=lambda value: value,
)

