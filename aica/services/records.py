"""Listing, reading and deleting records, with org and agent visibility applied."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from tortoise.functions import Coalesce
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from aica.errors import BadInput, NotFound
from aica.events import Broadcaster, Message, project_channel, publish_safely
from aica.models import Record, RecordStatus, Role
from aica.queue import enqueue_indexing
from aica.services.access import Actor
from aica.services.pagination import Page, PageRequest, paginate_rows
from aica.services.timerange import DateBound, check_range
from aica.storage import Storage

M = TypeVar("M", bound=Model)


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


ROW_FIELDS = (
    "id", "project_id", "type", "status", "progress", "stage", "error", "duration",
    "quality_score", "agent_name", "agent_external_id", "customer_phone", "source",
    "external_id", "file_name", "format", "size", "sha256", "channels", "language",
    "language_probability", "warnings", "metadata", "created_at", "completed_at", "analysis_id",
)  # fmt: skip
"""What the API shows of a record: the columns of a listed row."""


def visible_records(actor: Actor) -> QuerySet[Record]:
    query = Record.filter(org_id=actor.org_id)
    if actor.is_agent:
        query = query.filter(actor.own_records())
    return query


async def list_records(
    actor: Actor,
    flt: RecordFilter,
    request: PageRequest,
    sort: RecordSort = RecordSort.createdAt,
    order: SortOrder = SortOrder.desc,
) -> Page[dict[str, Any]]:
    """The page's rows (:data:`ROW_FIELDS`), read without building models."""
    query = within(
        visible_records(actor), flt.created_from, flt.created_to, flt.min_score, flt.max_score
    )
    if flt.project_id is not None:
        query = query.filter(project_id=flt.project_id)
    if flt.status is not None:
        query = query.filter(status=flt.status)
    key = sort.value
    if order is SortOrder.desc and sort is not RecordSort.createdAt:
        # Unscored records sort last either way (PostgreSQL puts NULLs first on DESC).
        query = query.annotate(sort_key=Coalesce(sort.value, -1))
        key = "sort_key"
    prefix = "-" if order is SortOrder.desc else ""
    query = query.order_by(f"{prefix}{key}", f"{prefix}id")
    return await paginate_rows(query, request, ROW_FIELDS)


async def get_record(actor: Actor, record_id: str) -> Record:
    record = await visible_records(actor).get_or_none(pk=record_id)
    if record is None:
        raise NotFound.of("Record")
    return record


async def delete_record(actor: Actor, record_id: str, storage: Storage) -> Record:
    """Rows first, then the file: a crash in between leaves an orphan file, never a record
    pointing at nothing."""
    actor.require(Role.admin, "delete records")
    record = await get_record(actor, record_id)
    async with in_transaction():
        await record.delete()
        await enqueue_indexing([record.id])  # drops its documents from any search backend
    await storage.delete(record.audio_key)
    return record


def within(
    query: QuerySet[M],
    created_from: DateBound | None,
    created_to: DateBound | None,
    min_score: float | None,
    max_score: float | None,
) -> QuerySet[M]:
    """The date and quality-score bounds records and analyses are both filtered by, checked."""
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
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 6:
        return "***"
    lead = "+" if phone.strip().startswith("+") else ""
    return f"{lead}{digits[0]}***{''.join(digits[-4:])}"


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
