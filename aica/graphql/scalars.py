"""Scalars: UTC timestamps written with ``Z``, date filter bounds, free-form JSON.

Annotations use the plain Python types below; ``SCALARS`` (the schema's ``scalar_map``) says
how each one reads and writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from aica.services.timerange import DateBound, utc_iso

JSON = NewType("JSON", dict[str, Any])
DateFilter = NewType("DateFilter", DateBound)


def _parse_datetime(value: str) -> datetime:
    return DateBound.parse(value).start


SCALARS: dict[object, ScalarDefinition] = {
    datetime: strawberry.scalar(
        name="DateTime",
        description="ISO-8601 timestamp in UTC, e.g. 2026-03-05T10:15:00Z.",
        serialize=utc_iso,
        parse_value=_parse_datetime,
    ),
    DateFilter: strawberry.scalar(
        name="DateFilter",
        description=(
            "A date (2026-03-05) or date-time (2026-03-05T10:15:00Z) bound; "
            "as an upper bound a date covers the whole day."
        ),
        serialize=lambda bound: utc_iso(bound.value),
        parse_value=DateBound.parse,
    ),
    JSON: strawberry.scalar(
        name="JSON",
        description="A JSON object (each service checks the shape it needs, naming the field).",
        serialize=lambda value: value,
        parse_value=lambda value: value,
    ),
}
