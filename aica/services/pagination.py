"""Page/pageSize validation and the page object every list returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.queryset import QuerySet

from aica.errors import BadInput

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
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


async def paginate(query: QuerySet[T], request: PageRequest) -> Page[T]:  # type: ignore[type-var]
    total = await query.count()
    items = await query.offset(request.offset).limit(request.page_size)
    return Page(list(items), total, request.page, request.page_size)


async def paginate_rows(
    query: QuerySet[T],  # type: ignore[type-var]
    request: PageRequest,
    fields: tuple[str, ...],
) -> Page[dict[str, Any]]:
    """:func:`paginate` for what is only read: the page's ``fields`` as dicts, no model objects
    (a hundred models cost the API more CPU than the query itself)."""
    total = await query.count()
    rows = await query.offset(request.offset).limit(request.page_size).values(*fields)
    return Page(list(rows), total, request.page, request.page_size)
