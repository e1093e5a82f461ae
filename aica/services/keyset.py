"""Pages of a list ordered by one key and the id, nulls last in either direction.

Both forms read an index in order instead of sorting the whole list: a keyset page starts
right after the last item seen (the cursor), however deep; an offset page skips ids on an
index-only scan (from the nearer end when the total is known) and then reads only its own
rows. "Nulls last" both ways is not one order an index can be read in either direction, so
a nullable key is read as two runs: the rows that have it, then those that do not (by id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool
    nullable: bool

    @property
    def _direction(self) -> str:
        return "-" if self.descending else ""

    @property
    def _beyond(self) -> str:
        return "lt" if self.descending else "gt"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: its last item's key value and id."""

    value: Any
    id: str


def _run(query: QuerySet[M], key: SortKey, *, with_key: bool) -> QuerySet[M]:
    d = key._direction
    if not with_key:
        return query.filter(**{f"{key.field}__isnull": True}).order_by(f"{d}id")
    if key.nullable:
        query = query.filter(**{f"{key.field}__isnull": False})
    return query.order_by(f"{d}{key.field}", f"{d}id")


def _past(key: SortKey, position: Position) -> Q:
    """``(key, id)`` beyond the position; the redundant bound lets the index range-scan."""
    bound = "lte" if key.descending else "gte"
    return Q(**{f"{key.field}__{bound}": position.value}) & (
        Q(**{f"{key.field}__{key._beyond}": position.value})
        | Q(**{f"id__{key._beyond}": position.id})
    )


async def after(query: QuerySet[M], key: SortKey, position: Position | None, limit: int) -> list[M]:
    """Up to ``limit`` items after ``position`` (from the start when None)."""
    items: list[M] = []
    if position is None or position.value is not None:
        head = _run(query, key, with_key=True)
        if position is not None:
            head = head.filter(_past(key, position))
        items = await _slice(head, 0, limit, keyless=False)
    if key.nullable and len(items) < limit:
        tail = _run(query, key, with_key=False)
        if position is not None and position.value is None:
            tail = tail.filter(**{f"id__{key._beyond}": position.id})
        items += await _slice(tail, 0, limit - len(items), keyless=True)
    return items


async def at_offset(
    query: QuerySet[M], key: SortKey, offset: int, limit: int, total: int | None = None
) -> list[M]:
    """Up to ``limit`` items from ``offset`` on (the page form). Given the list's ``total``,
    a page in the second half is read from the other end: the last page costs what the
    first does, and no page more than the middle one."""
    if total is None or offset <= total // 2:
        return await _across(_runs(query, key), offset, limit)
    end = min(offset + limit, total)
    if end <= offset:
        return []
    back = SortKey(key.field, not key.descending, key.nullable)
    return (await _across(_runs(query, back)[::-1], total - end, end - offset))[::-1]


def _runs(query: QuerySet[M], key: SortKey) -> list[tuple[QuerySet[M], bool]]:
    """The list's runs in order, each with whether it is the rows without the key."""
    keyed = (_run(query, key, with_key=True), False)
    return [keyed, (_run(query, key, with_key=False), True)] if key.nullable else [keyed]


async def _across(runs: list[tuple[QuerySet[M], bool]], offset: int, limit: int) -> list[M]:
    """The runs one after the other, as one list."""
    items: list[M] = []
    for run, keyless in runs:
        got = await _slice(run, offset, limit - len(items), keyless=keyless)
        items += got
        if len(items) >= limit:
            break
        # The next run starts the page, or the page starts somewhere inside it.
        offset = 0 if got or not offset else offset - await run.count()
    return items


async def _slice(query: QuerySet[M], offset: int, limit: int, *, keyless: bool) -> list[M]:
    """Deep pages and rows without the key: find the ids alone first (an index-only scan where
    the index covers the filter and order, so skipping is cheap and a small org's keyless rows
    are sorted from the index rather than looked for along the primary key), then load just
    those rows. Otherwise the page in one query."""
    if not offset and not keyless:
        return list(await query.limit(limit))
    ids = list(await query.offset(offset).limit(limit).values_list("id", flat=True))
    if not ids:
        return []
    rows = {row.pk: row for row in await query.model.filter(id__in=ids)}
    return [rows[i] for i in ids if i in rows]
