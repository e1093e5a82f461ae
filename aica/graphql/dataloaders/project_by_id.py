from __future__ import annotations

from aica.services import projects
from aica.services.rows import Row

Key = str
Result = Row | None


async def load_projects(keys: list[Key]) -> list[Result]:
    """Callers pass project ids taken from rows already scoped to their org."""
    by_id = {row["id"]: row for row in await projects.rows_by_ids(keys)}
    return [by_id.get(key) for key in keys]
