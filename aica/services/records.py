"""Listing and reading records, with org and agent visibility applied."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from aica.errors import BadInput, NotFound
from aica.events import Broadcaster, Message, project_channel, publish_safely
from aica.models import Record, RecordStatus
from aica.services import keyset, record_counts
from aica.services.access import Actor
from aica.services.keyset import SortKey
from aica.services.pagination import (
    CursorRequest,
    PageRequest,
    Slice,
    Total,
    count,
)
from aica.services.rows import Row, Rows
from aica.services.timerange import DateBound, check_range

M = TypeVar("M", bound=Model)


"""Record ids are at most this long (``id_field``)."""


class RecordSort(StrEnum):
    createdAt = "created_at"
    duration = "duration"
    qualityScore = "quality_score"


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


@dataclass(frozen=True, slots=True)
class RecordFilter:
    project_id: str | None = None
    status: RecordStatus | None = None
    created_from: DateBound | None = None
    created_to: DateBound | None = None
    min_score: float | None = None
    max_score: float | None = None


COLUMNS = (
    "id", "project_id", "type", "status", "progress", "stage", "error", "duration",
    "quality_score", "agent_name", "agent_external_id", "customer_phone", "source",
    "external_id", "file_name", "format", "size", "sha256", "channels", "language",
    "language_probability", "warnings", "redactions", "speaker_separation", "metadata",
    "created_at", "completed_at", "analysis_id",
)  # fmt: skip
"""What the API shows of a record: the columns of a listed row."""


def visible_records(actor: Actor) -> QuerySet[Record]:
    """The actor's org's records, without those being deleted (``services.deletion``)."""
    query = Record.filter(org_id=actor.org_id, deleting_at__isnull=True)
    if actor.is_agent:
        query = query.filter(actor.own_records())
    return query


def filtered(actor: Actor, flt: RecordFilter) -> Rows:
    """The rows a list shows, in SQL: :func:`visible_records` with the filter applied."""
    check_range(flt.created_from, flt.created_to)
    check_scores(flt.min_score, flt.max_score)
    rows = Rows("records", COLUMNS).where("org_id = {}", actor.org_id)
    rows = rows.where("deleting_at IS NULL")  # being deleted: hidden already
    if actor.is_agent:  # as ``Actor.own_records``: by name or external id, else nothing
        own = {"agent_name": actor.agent_name, "agent_external_id": actor.agent_external_id}
        linked = {column: value for column, value in own.items() if value}
        either = " OR ".join(f"{column} = {{}}" for column in linked) or "FALSE"
        rows = rows.where(f"({either})", *linked.values())
    return rows.where_given(
        ("project_id = {}", flt.project_id),
        ("status = {}", None if flt.status is None else str(flt.status)),
        ("created_at >= {}", None if flt.created_from is None else flt.created_from.start),
        ("created_at <= {}", None if flt.created_to is None else flt.created_to.end),
        ("quality_score >= {}", flt.min_score),
        ("quality_score <= {}", flt.max_score),
    )


async def list_records(
    actor: Actor,
    flt: RecordFilter,
    request: PageRequest | CursorRequest,
    sort: RecordSort = RecordSort.createdAt,
    order: SortOrder = SortOrder.desc,
) -> Slice[Row]:
    """Records without a duration or score sort last either way; ties go by id. The page
    form and the cursor form list the same order."""
    rows = filtered(actor, flt)
    key = SortKey(sort.value, order is SortOrder.desc, nullable=sort is not RecordSort.createdAt)
    if isinstance(request, CursorRequest):
        size = request.first
        start = None
        if request.after is not None:
            timestamp = sort is RecordSort.createdAt
            start = keyset.position(request.after, sort.value, order.value, timestamp=timestamp)
        items = await keyset.after(rows, key, start, size + 1)
    else:
        size = request.page_size
        # Past page 1, read from the nearer end when the counters tell the total.
        total = await _from_counters(actor, flt) if request.offset else None
        items = await keyset.at_offset(rows, key, request.offset, size + 1, total)
    page = items[:size]
    end = keyset.cursor(page[-1], key, sort.value, order.value) if page else None
    return Slice(page, has_next=len(items) > size, end_cursor=end)


async def count_records(actor: Actor, flt: RecordFilter, *, exact: bool) -> Total:
    """Exact from the counters when they keep the filter; otherwise (score bounds, an agent's
    own calls) a count of the rows, capped unless ``exact``."""
    rows = filtered(actor, flt)  # checks the filter, as listing does
    counted = await _from_counters(actor, flt)
    return Total(counted, True) if counted is not None else await count(rows, exact=exact)


async def _from_counters(actor: Actor, flt: RecordFilter) -> int | None:
    """The exact total when the counters keep this filter (org, project, status, dates)."""
    if actor.is_agent or flt.min_score is not None or flt.max_score is not None:
        return None
    start = flt.created_from.start if flt.created_from else None
    end = flt.created_to.end if flt.created_to else None
    return await record_counts.count(actor.org_id, flt.project_id, flt.status, start, end)


async def get_record(actor: Actor, record_id: str) -> Record:
    record = await visible_records(actor).get_or_none(pk=record_id)
    if record is None:
        raise NotFound.of("Record")
    return record


def within(
    query: QuerySet[M],
    created_from: DateBound | None,
    created_to: DateBound | None,
    min_score: float | None,
    max_score: float | None,
) -> QuerySet[M]:
    """The date and quality-score bounds analyses and alerts are filtered by, checked (the
    records list writes the same bounds in SQL: :func:`filtered`)."""
    check_range(created_from, created_to)
    check_scores(min_score, max_score)
    if created_from is not None:
        query = query.filter(created_at__gte=created_from.start)
    if created_to is not None:
        query = query.filter(created_at__lte=created_to.end)
    if min_score is not None:
        query = query.filter(quality_score__gte=min_score)
    if max_score is not None:
        query = query.filter(quality_score__lte=max_score)
    return query


def check_scores(low: float | None, high: float | None) -> None:
    for name, score in (("minScore", low), ("maxScore", high)):
        if score is not None and not 0 <= score <= 100:
            raise BadInput(f"{name} must be between 0 and 100", field=name)
    if low is not None and high is not None and low > high:
        raise BadInput("minScore must not be above maxScore", field="minScore")


def mask_phone(phone: str | None) -> str | None:
    """``+15551234567`` -> ``+1***4567``: country code and last four digits stay readable."""
    if not phone:
        return phone
    plain = phone[1:] if phone[0] == "+" else phone  # as stored, nearly always: no char loop
    digits = plain if plain.isdigit() else "".join([c for c in phone if c.isdigit()])
    if len(digits) < 6:
        return "***"
    lead = "+" if phone.strip().startswith("+") else ""
    return f"{lead}{digits[0]}***{digits[-4:]}"


async def announce(events: Broadcaster, record: Record) -> None:
    """Tell the project's subscribers that the record changed (its status says how)."""
    await publish_safely(
        events,
        project_channel(record.project_id),
        {
            "recordId": record.id,
            "orgId": record.org_id,
            "status": str(record.status),
            "progress": record.progress,
            "stage": record.stage,
        },
    )


def apply_announced(record: Record, message: Message) -> None:
    """Set the fields an :func:`announce` message carried (the state it announced); a field
    the message lacks (an older process's message) keeps the row's value."""
    if "status" in message:
        record.status = RecordStatus(message["status"])
    if "progress" in message:
        record.progress = int(message["progress"])
    if "stage" in message:
        record.stage = message["stage"]
