"""Page/pageSize and first/after validation, cursors, counts and the page objects lists return."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.queryset import QuerySet

from aica.errors import BadInput
from aica.search.base import COUNTED
from aica.services.rows import Rows

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.page < 1:
            raise BadInput("page must be 1 or more", field="page")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise BadInput(f"pageSize must be between 1 and {MAX_PAGE_SIZE}", field="pageSize")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class CursorRequest:
    """The keyset form: ``first`` items after the cursor ``after`` (from the start if None)."""

    first: int = DEFAULT_PAGE_SIZE
    after: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.first <= MAX_PAGE_SIZE:
            raise BadInput(f"first must be between 1 and {MAX_PAGE_SIZE}", field="first")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


async def paginate(query: QuerySet[T], request: PageRequest) -> Page[T]:  # type: ignore[type-var]
    total = await query.count()
    items = await query.offset(request.offset).limit(request.page_size)
    return Page(list(items), total, request.page, request.page_size)


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """A page without its count (counting is asked for apart, see :func:`count`)."""

    items: list[T]
    has_next: bool
    end_cursor: str | None
    """Where the next page starts; None when the page is empty."""


@dataclass(frozen=True, slots=True)
class Total:
    count: int
    exact: bool
    """False when there were more than ``COUNTED`` and only that many were counted."""


async def count(rows: Rows, *, exact: bool) -> Total:
    """Every row when ``exact``; otherwise up to ``COUNTED`` of them, as search counts, so
    that a list of a million rows is not counted on every page."""
    if exact:
        return Total(await rows.count(), True)
    seen = await rows.count(up_to=COUNTED + 1)
    return Total(min(seen, COUNTED), seen <= COUNTED)


def encode_cursor(parts: list[Any]) -> str:
    """Opaque to clients, not secret: the query it is used in is what scopes it to an org."""
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (binascii.Error, ValueError):
        parts = None
    if not isinstance(parts, list):
        raise BadInput("after is not a cursor this list gave", field="after")
    return parts
