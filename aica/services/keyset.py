"""Pages of a list ordered by one key and the id, nulls last in either direction.

Both forms read an index in order instead of sorting the whole list: a keyset page starts
right after the last item seen (the cursor), however deep; an offset page skips ids on an
index-only scan (from the nearer end when the total is known) and then reads only its own
rows. "Nulls last" both ways is not one order an index can be read in either direction, so
a nullable key is read as two runs: the rows that have it, then those that do not (by id).

Lists are the API's hottest reads, so the statements are written with :class:`Rows` and
their rows come back as asyncpg records, not ORM models.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aica.errors import BadInput
from aica.services.pagination import decode_cursor, encode_cursor
from aica.services.rows import Row, Rows

_ID_LENGTH = 32


@dataclass(frozen=True, slots=True)
class SortKey:
    column: str
    descending: bool
    nullable: bool

    @property
    def _direction(self) -> str:
        return "DESC" if self.descending else "ASC"

    @property
    def _beyond(self) -> str:
        return "<" if self.descending else ">"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: its last item's key value and id."""

    value: Any
    id: str


def cursor(row: Row, key: SortKey, *label: str) -> str:
    """The cursor just past ``row``; ``label`` (say, a sort and an order) tells lists apart."""
    value = row[key.column]
    if isinstance(value, datetime):
        value = value.isoformat()
    return encode_cursor([*label, value, row["id"]])


def position(cursor: str, *label: str, timestamp: bool) -> Position:
    """Where a cursor of this list points: a timestamp with its zone (``timestamp``) or else
    a number or null, and an id; anything else is ``BAD_USER_INPUT`` on ``after``."""
    parts = decode_cursor(cursor)
    if len(parts) != len(label) + 2 or parts[: len(label)] != list(label):
        raise BadInput("after is a cursor of another sort or order", field="after")
    value, row_id = parts[-2:]
    try:
        if timestamp:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("no time zone")
        elif value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError("not a number")
            value = float(value)
        if not isinstance(row_id, str) or len(row_id) > _ID_LENGTH:
            raise ValueError("not an id")
    except (TypeError, ValueError, OverflowError):
        raise BadInput("after is not a cursor this list gave", field="after") from None
    return Position(value, row_id)


@dataclass(frozen=True, slots=True)
class _Run:
    """One stretch of the list in its order: the rows with the key, or those without."""

    rows: Rows
    order: str
    keyless: bool


def _run(rows: Rows, key: SortKey, *, with_key: bool) -> _Run:
    d = key._direction
    if not with_key:
        return _Run(rows.where(f"{key.column} IS NULL"), f"id {d}", keyless=True)
    if key.nullable:
        rows = rows.where(f"{key.column} IS NOT NULL")
    return _Run(rows, f"{key.column} {d}, id {d}", keyless=False)


def _past(rows: Rows, key: SortKey, position: Position) -> Rows:
    """``(key, id)`` beyond the position; the redundant bound lets the index range-scan."""
    bound = "<=" if key.descending else ">="
    k, beyond = key.column, key._beyond
    return rows.where(
        f"{k} {bound} {{}} AND ({k} {beyond} {{}} OR id {beyond} {{}})",
        position.value,
        position.value,
        position.id,
    )


async def after(rows: Rows, key: SortKey, position: Position | None, limit: int) -> list[Row]:
    """Up to ``limit`` rows after ``position`` (from the start when None)."""
    items: list[Row] = []
    if position is None or position.value is not None:
        head = _run(rows, key, with_key=True)
        if position is not None:
            head = replace(head, rows=_past(head.rows, key, position))
        items = await _slice(head, 0, limit)
    if key.nullable and len(items) < limit:
        tail = _run(rows, key, with_key=False)
        if position is not None and position.value is None:
            tail = replace(tail, rows=tail.rows.where(f"id {key._beyond} {{}}", position.id))
        items += await _slice(tail, 0, limit - len(items))
    return items


async def at_offset(
    rows: Rows, key: SortKey, offset: int, limit: int, total: int | None = None
) -> list[Row]:
    """Up to ``limit`` rows from ``offset`` on (the page form). Given the list's ``total``,
    a page in the second half is read from the other end: the last page costs what the
    first does, and no page more than the middle one."""
    if total is None or offset <= total // 2:
        return await _across(_runs(rows, key), offset, limit)
    end = min(offset + limit, total)
    if end <= offset:
        return []
    back = SortKey(key.column, not key.descending, key.nullable)
    return (await _across(_runs(rows, back)[::-1], total - end, end - offset))[::-1]


def _runs(rows: Rows, key: SortKey) -> list[_Run]:
    """The list's runs in order."""
    keyed = _run(rows, key, with_key=True)
    return [keyed, _run(rows, key, with_key=False)] if key.nullable else [keyed]


async def _across(runs: list[_Run], offset: int, limit: int) -> list[Row]:
    """The runs one after the other, as one list."""
    items: list[Row] = []
    for run in runs:
        got = await _slice(run, offset, limit - len(items))
        items += got
        if len(items) >= limit:
            break
        # The next run starts the page, or the page starts somewhere inside it.
        offset = 0 if got or not offset else offset - await run.rows.count()
    return items


async def _slice(run: _Run, offset: int, limit: int) -> list[Row]:
    """Deep pages and rows without the key: find the ids alone first (an index-only scan where
    the index covers the filter and order, so skipping is cheap and a small org's keyless rows
    are sorted from the index rather than looked for along the primary key), then load just
    those rows. Otherwise the page in one query."""
    if not offset and not run.keyless:
        return await run.rows.fetch(run.order, limit)
    ids = await run.rows.ids(run.order, limit, offset)
    return await run.rows.by_ids(ids) if ids else []
