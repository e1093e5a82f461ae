from __future__ import annotations

from aica.models import Review
from aica.services import reviews

Key = str
Result = Review | None


async def load_current_reviews(keys: list[Key]) -> list[Result]:
    """Callers pass analysis ids of objects the caller was already allowed to read."""
    found = await reviews.current_reviews(keys)
    return [found.get(key) for key in keys]
