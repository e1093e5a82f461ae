from __future__ import annotations

from aica.models import Analysis

Key = str
Result = Analysis | None


async def load_analyses(keys: list[Key]) -> list[Result]:
    """Callers pass a record's current analysis id, taken from a row already in their org."""
    by_id = {a.id: a for a in await Analysis.filter(pk__in=keys)}
    return [by_id.get(key) for key in keys]
