"""The paginated list shape every list query returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from aica.services.pagination import Page

T = TypeVar("T")
M = TypeVar("M")


@strawberry.type
class Paginated(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, page: Page[M], convert: Callable[[M], T]) -> Paginated[T]:
        return cls(
            items=[convert(item) for item in page.items],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
        )
